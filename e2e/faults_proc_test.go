package e2e

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	ossfs "github.com/ossfs/ossfs/fs"
	"github.com/ossfs/ossfs/ossclient"
	"github.com/ossfs/ossfs/ossclient/osstest"
)

// Fault scenarios that signal or kill the mount: the mount runs as the
// ossfs binary in a child process (ossfs mount --foreground), against the
// local server in this process.

// procMount is an ossfs mount in a child process.
type procMount struct {
	t    *testing.T
	bin  string
	srv  *osstest.Server
	mnt  string
	cmd  *exec.Cmd
	out  *bytes.Buffer
	done chan error // the process's exit
}

// buildOssfs builds the ossfs binary into a temp dir (the build cache makes
// the second one quick).
func buildOssfs(t *testing.T) string {
	t.Helper()
	// Skip (or fail, OSSFS_REQUIRE_FUSE=1) before the build where no mount
	// can work: the mount's own first check.
	if err := ossfs.CheckMountpoint(t.TempDir()); err != nil {
		requireFUSE(t, err)
	}
	bin := filepath.Join(t.TempDir(), "ossfs")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/ossfs").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// ossfsEnv is the child's environment: the server's key pair, no HOME
// credential file.
func ossfsEnv(t *testing.T) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "OSS_") && !strings.HasPrefix(kv, "HOME=") {
			env = append(env, kv)
		}
	}
	return append(env, "HOME="+t.TempDir(), "OSS_ACCESS_KEY_ID="+osstest.DefaultAccessKeyID,
		"OSS_ACCESS_KEY_SECRET="+osstest.DefaultAccessKeySecret)
}

// ossfsArgs are the endpoint flags for srv, then extra.
func ossfsArgs(srv *osstest.Server, extra ...string) []string {
	return append([]string{"--endpoint", srv.Endpoint(), "--region", srv.Region(), "--credentials", "env"}, extra...)
}

// startProcMount mounts bucketName on a new temp dir in a child process
// and waits until it is mounted.
func startProcMount(t *testing.T, bin string, srv *osstest.Server, flags ...string) *procMount {
	t.Helper()
	p := &procMount{t: t, bin: bin, srv: srv, mnt: t.TempDir(), out: new(bytes.Buffer), done: make(chan error, 1)}
	args := append([]string{"mount", "--foreground", "--part-size", "1048576"}, ossfsArgs(srv, flags...)...)
	p.cmd = exec.Command(bin, append(args, bucketName, p.mnt)...)
	p.cmd.Env = ossfsEnv(t)
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- p.cmd.Wait() }()
	t.Cleanup(p.cleanup)
	waitUntil(t, "the child mount to be ready", func() bool {
		select {
		case err := <-p.done:
			p.done <- err
			t.Fatalf("ossfs mount exited (%v):\n%s", err, p.out)
		default:
		}
		return mounted(p.mnt)
	})
	return p
}

// cleanup stops the child if it still runs and detaches what is left.
func (p *procMount) cleanup() {
	if p.cmd.ProcessState == nil {
		_ = p.cmd.Process.Kill()
		<-p.done
	}
	if mounted(p.mnt) {
		_ = lazyUnmount(p.mnt)
	}
}

// exited waits (30 s at most) for the child to exit and returns its error.
func (p *procMount) exited() error {
	p.t.Helper()
	select {
	case err := <-p.done:
		p.done <- err
		return err
	case <-time.After(30 * time.Second):
		p.t.Fatalf("ossfs did not exit:\n%s", p.out)
		return nil
	}
}

// tarball returns a tar of files (in the order given) and their bytes.
func tarball(t *testing.T, names []string, sizes []int) ([]byte, map[string][]byte) {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	files := map[string][]byte{}
	for i, name := range names {
		data := randBytes(sizes[i])
		files[name] = data
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		tw.Write(data)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), files
}

// TestFaultMountKilledMidTar: the mount is SIGKILLed while tar x streams a
// large file. tar fails with an errno; the files it had closed are in OSS
// whole; the file being written is not visible at all; the upload the kill
// left open is listed by "ossfs uploads abort" (a dry run) and aborted by
// the next mount with --abort-stale-uploads.
func TestFaultMountKilledMidTar(t *testing.T) {
	need(t, "tar")
	srv, err := osstest.Start(osstest.Options{Buckets: []string{bucketName}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	bin := buildOssfs(t)
	p := startProcMount(t, bin, srv)
	tb, files := tarball(t, []string{"a", "b", "big", "c"}, []int{1000, 3 << 20, 12 << 20, 10})
	tarFile := filepath.Join(t.TempDir(), "x.tar")
	if err := os.WriteFile(tarFile, tb, 0o644); err != nil {
		t.Fatal(err)
	}
	hold := make(chan struct{})
	defer close(hold)
	srv.AddFault(osstest.Fault{Op: "UploadPart", KeyPrefix: "big", Hold: hold, Times: 1})
	tarCmd := exec.Command("tar", "-xf", tarFile, "-C", p.mnt)
	var tarOut bytes.Buffer
	tarCmd.Stdout, tarCmd.Stderr = &tarOut, &tarOut
	if err := tarCmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitFault(t, srv, "UploadPart", 1) // big is streaming, a part held
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	p.exited()
	tarErr := tarCmd.Wait()
	if tarErr == nil {
		t.Errorf("tar x succeeded on a mount killed under it:\n%s", tarOut.String())
	} else if !strings.Contains(tarOut.String(), "endpoint is not connected") && !strings.Contains(tarOut.String(), "connection abort") {
		t.Errorf("tar failed (%v) without the errno of a dead mount:\n%s", tarErr, tarOut.String())
	}
	if err := lazyUnmount(p.mnt); err != nil {
		t.Errorf("detaching the dead mount: %v", err)
	}

	raw := rawClient(t, srv)
	for _, name := range []string{"a", "b"} {
		if got := readKey(t, raw, name); !bytes.Equal(got, files[name]) {
			t.Errorf("(a) %s, closed before the kill: %d bytes in OSS, want %d", name, len(got), len(files[name]))
		}
	}
	for _, name := range []string{"big", "c"} {
		if exists(t, raw, name) {
			t.Errorf("(c) %s is visible after the kill", name)
		}
	}
	if n := srv.OpenUploads(bucketName); n != 1 {
		t.Fatalf("%d uploads open after the kill, want big's one", n)
	}

	// The cleanup from issue 10 point 4: a dry run names it...
	cmd := exec.Command(bin, append([]string{"uploads", "abort"}, ossfsArgs(srv, "--older-than", "0s", bucketName)...)...)
	cmd.Env = ossfsEnv(t)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "would abort") || !strings.Contains(string(out), "\tbig\n") {
		t.Errorf("ossfs uploads abort (dry run): %v\n%s", err, out)
	}
	if n := srv.OpenUploads(bucketName); n != 1 {
		t.Errorf("the dry run aborted an upload (%d open)", n)
	}
	// ...and the next mount with --abort-stale-uploads aborts it.
	p2 := startProcMount(t, bin, srv, "--abort-stale-uploads", "1ms")
	if n := srv.OpenUploads(bucketName); n != 0 {
		t.Errorf("(d) %d uploads open after a mount with --abort-stale-uploads:\n%s", n, p2.out)
	}
	if err := p2.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := p2.exited(); err != nil {
		t.Errorf("the second mount's SIGTERM exit: %v\n%s", err, p2.out)
	}
}

// TestFaultSigtermDuringUpload: SIGTERM while a file is being streamed:
// the busy mount is detached, the writer finishes and its close uploads the
// whole file, then ossfs exits 0 with no upload left open.
func TestFaultSigtermDuringUpload(t *testing.T) {
	srv, err := osstest.Start(osstest.Options{Buckets: []string{bucketName}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	p := startProcMount(t, buildOssfs(t), srv)
	hold := make(chan struct{})
	srv.AddFault(osstest.Fault{Op: "UploadPart", Hold: hold, Times: 1})
	data := randBytes(10 << 20)
	err = writeAndClose(filepath.Join(p.mnt, "big"), data, 4<<20, func() {
		waitFault(t, srv, "UploadPart", 1)
		if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		waitUntil(t, "the busy mount to be detached", func() bool { return !mounted(p.mnt) })
		close(hold)
	})
	if err != nil {
		t.Errorf("writer across SIGTERM: %v", err)
	}
	if err := p.exited(); err != nil {
		t.Errorf("ossfs exit after SIGTERM and the last close: %v\n%s", err, p.out)
	}
	if got := readKey(t, rawClient(t, srv), "big"); !bytes.Equal(got, data) {
		t.Errorf("(a) big: %d bytes in OSS, want the %d written", len(got), len(data))
	}
	if n := srv.OpenUploads(bucketName); n != 0 {
		t.Errorf("(d) %d uploads open", n)
	}
}

// rawClient is another OSS client of srv's bucket (no cache, no mount).
func rawClient(t *testing.T, srv *osstest.Server) ossclient.Bucket {
	t.Helper()
	c, err := ossclient.New(ossclient.Config{Endpoint: srv.Endpoint(), Region: srv.Region(), Bucket: bucketName,
		Logger:      slog.New(slog.DiscardHandler),
		Credentials: ossclient.Credentials{Source: ossclient.SourceStatic, AccessKeyID: osstest.DefaultAccessKeyID, AccessKeySecret: osstest.DefaultAccessKeySecret}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func readKey(t *testing.T, b ossclient.Bucket, key string) []byte {
	t.Helper()
	r, err := b.Read(context.Background(), key, 0, -1)
	if err != nil {
		t.Errorf("read %s: %v", key, err)
		return nil
	}
	defer r.Close()
	data, err := io.ReadAll(r)
	if err != nil {
		t.Errorf("read %s: %v", key, err)
	}
	return data
}

func exists(t *testing.T, b ossclient.Bucket, key string) bool {
	t.Helper()
	_, err := b.Stat(context.Background(), key)
	if err != nil && !errors.Is(err, ossclient.ErrNotFound) {
		t.Errorf("stat %s: %v", key, err)
	}
	return err == nil
}
