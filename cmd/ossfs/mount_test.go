package main

import (
	"bufio"
	"bytes"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"

	"github.com/ossfs/ossfs/ossclient/osstest"
)

// TestMountRefusesToStart: bad credentials, a missing bucket, a wrong
// region and an unreachable endpoint end the command non-zero with one
// sentence, in background mode (relayed by the parent) and in the
// foreground, and leave nothing mounted.
func TestMountRefusesToStart(t *testing.T) {
	requireFUSE(t)
	bin := buildBinary(t)
	s := startServer(t)
	mnt := t.TempDir()
	cases := []struct {
		name string
		env  []string
		args []string
		want string
	}{
		{"wrong secret", s.env(osstest.DefaultAccessKeyID, "wrong"), s.mountArgs(testBucket, mnt), "rejected the signature"},
		{"unknown key id", s.env("nobody", "x"), s.mountArgs(testBucket, mnt), "does not know the access key id"},
		{"missing bucket", s.goodEnv(), s.mountArgs("no-such-bucket", mnt), `bucket "no-such-bucket" does not exist`},
		{"wrong region", s.goodEnv(), []string{"mount", "--endpoint", s.srv.Endpoint(), "--region", "cn-beijing", testBucket, mnt}, "region"},
		{"unreachable endpoint", s.goodEnv(), []string{"mount", "--endpoint", "http://127.0.0.1:1", "--region", "cn-hangzhou", "--retries", "1", testBucket, mnt}, "cannot reach endpoint"},
	}
	for _, tc := range cases {
		for _, mode := range []string{"background", "foreground"} {
			t.Run(tc.name+"/"+mode, func(t *testing.T) {
				// The background log goes to a test file, not to the
				// default directory.
				args := append([]string{"mount", "--log-file", filepath.Join(t.TempDir(), "log")}, tc.args[1:]...)
				if mode == "foreground" {
					// Logs go to stderr; a failed start still says one line.
					args = append([]string{"mount", "--foreground"}, tc.args[1:]...)
				}
				out, err := runEnv(tc.env, bin, args...)
				if err == nil {
					unmount(t, mnt)
					t.Fatalf("succeeded: %s", out)
				}
				wantOneLine(t, out, tc.want)
				if isMounted(mnt) {
					t.Fatal("left a mount behind")
				}
			})
		}
	}
}

// TestMountpointBusy: a mountpoint that already carries a mount, or a dead
// FUSE mount, is refused with one sentence and the first mount is untouched.
func TestMountpointBusy(t *testing.T) {
	requireFUSE(t)
	bin := buildBinary(t)
	s := startServer(t)
	mnt := t.TempDir()
	mountBackground(t, s.goodEnv(), bin, s.mountArgs(testBucket, mnt)...)
	if err := os.WriteFile(filepath.Join(mnt, "f"), []byte("first"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, fg := range [][]string{nil, {"--foreground"}} {
		out, err := runEnv(s.goodEnv(), bin, s.mountArgs(testBucket, mnt, fg...)...)
		if err == nil {
			t.Fatalf("second mount %v succeeded: %s", fg, out)
		}
		wantOneLine(t, out, "is busy")
	}
	if n := mountCount(mnt); n != 1 {
		t.Errorf("%d mounts on %s, want 1", n, mnt)
	}
	if b, err := os.ReadFile(filepath.Join(mnt, "f")); err != nil || string(b) != "first" {
		t.Errorf("first mount after the refused one: %q %v", b, err)
	}

	// A mount whose process died: ENOTCONN, said as such.
	// It is killed only once it says it is ready (READY=1): killed while
	// go-fuse's start-up open of its own mountpoint is in flight, the
	// process can never exit, as its thread waits on itself for the answer.
	dead := t.TempDir()
	sock := filepath.Join(t.TempDir(), "notify")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	cmd := exec.Command(bin, s.mountArgs(testBucket, dead, "--foreground")...)
	cmd.Env = append(s.goodEnv(), "NOTIFY_SOCKET="+sock)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { exec.Command("umount", "-l", dead).Run() }()
	if msg := readNotify(t, conn); msg != "READY=1" {
		cmd.Process.Kill()
		t.Fatalf("first notification %q, want READY=1", msg)
	}
	cmd.Process.Kill()
	cmd.Wait()
	out, err := runEnv(s.goodEnv(), bin, s.mountArgs(testBucket, dead)...)
	if err == nil {
		t.Fatalf("mount on a dead mount succeeded: %s", out)
	}
	wantOneLine(t, out, "transport endpoint is not connected")
}

// TestMountWithoutFUSEDevice: with no usable /dev/fuse (hidden in a private
// mount namespace) the command says so in one sentence.
func TestMountWithoutFUSEDevice(t *testing.T) {
	requireFUSE(t)
	if os.Geteuid() != 0 {
		t.Skip("needs root to hide /dev/fuse in a private mount namespace")
	}
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Fatalf("unshare (util-linux) is needed: %v", err)
	}
	bin := buildBinary(t)
	mnt := t.TempDir()
	notDev := filepath.Join(t.TempDir(), "not-a-device")
	os.WriteFile(notDev, nil, 0o644)
	for name, setup := range map[string]string{
		"regular file": `mount --bind "$NOTDEV" /dev/fuse`,
		"missing":      `mount -t tmpfs none /dev`,
	} {
		t.Run(name, func(t *testing.T) {
			script := setup + ` && exec "$BIN" mount --local "$DATA" demo "$MNT"`
			cmd := exec.Command("unshare", "-m", "--propagation", "private", "sh", "-c", script)
			cmd.Env = append(os.Environ(), "NOTDEV="+notDev, "BIN="+bin, "DATA="+t.TempDir(), "MNT="+mnt)
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("mount without FUSE succeeded: %s", out)
			}
			wantOneLine(t, string(out), "FUSE is not available")
		})
	}
}

// TestSymlinkFlagsReachOSS: --symlink-acl and --symlink-storage-class are
// stored with the link (read back by the SDK), --symlink-forbid-overwrite
// makes OSS refuse ln -s onto a key that appeared behind the mount's back
// (EEXIST, object unchanged), and ln -sf still replaces a link.
func TestSymlinkFlagsReachOSS(t *testing.T) {
	requireFUSE(t)
	bin := buildBinary(t)
	s := startServer(t)
	mnt := t.TempDir()
	mountBackground(t, s.goodEnv(), bin, s.mountArgs(testBucket, mnt,
		"--symlink-acl", "public-read", "--symlink-storage-class", "ia", "--symlink-forbid-overwrite")...)
	s.put("target", "T")
	if out, err := run(t, "ln", "-s", "target", filepath.Join(mnt, "link")); err != nil {
		t.Fatalf("ln -s: %v %s", err, out)
	}
	acl, err := s.sdk.GetObjectAcl(s.ctx(), &oss.GetObjectAclRequest{Bucket: oss.Ptr(testBucket), Key: oss.Ptr("link")})
	if err != nil || oss.ToString(acl.ACL) != "public-read" {
		t.Errorf("ACL of the link = %v, %v; want public-read", acl, err)
	}
	if o := s.listed("link"); oss.ToString(o.StorageClass) != "IA" || oss.ToString(o.Type) != "Symlink" {
		t.Errorf("listing of the link: storage class %q type %q, want IA Symlink", oss.ToString(o.StorageClass), oss.ToString(o.Type))
	}
	if body, err := s.get("link"); err != nil || body != "T" {
		t.Errorf("GetObject through the link = %q, %v", body, err)
	}

	// The kernel and the mount learn "late" is missing; then another client
	// creates it. ln -s reaches OSS, which refuses to overwrite.
	if _, err := os.Lstat(filepath.Join(mnt, "late")); !os.IsNotExist(err) {
		t.Fatalf("lstat late: %v", err)
	}
	s.put("late", "theirs")
	before := s.srv.Count("PutSymlink")
	err = os.Symlink("target", filepath.Join(mnt, "late"))
	if !errors.Is(err, syscall.EEXIST) {
		t.Errorf("symlink onto a key created elsewhere: %v, want EEXIST", err)
	}
	if n := s.srv.Count("PutSymlink") - before; n != 1 {
		t.Errorf("%d PutSymlink requests for the refused ln -s, want 1 (refused by OSS, not by a cached lookup)", n)
	}
	if body, err := s.get("late"); err != nil || body != "theirs" {
		t.Errorf("the existing object changed: %q, %v", body, err)
	}
	if out, err := run(t, "ln", "-sfn", "other", filepath.Join(mnt, "link")); err != nil {
		t.Fatalf("ln -sf with forbid-overwrite: %v %s", err, out)
	}
	if got, err := os.Readlink(filepath.Join(mnt, "link")); err != nil || got != "other" {
		t.Errorf("readlink after ln -sf = %q, %v", got, err)
	}
}

// TestSignalWaitsForOpenFiles: SIGTERM while a file is open for writing
// detaches the mount at once, keeps serving the open file, and exits 0 only
// after the file is closed and uploaded (a slow upload included).
func TestSignalWaitsForOpenFiles(t *testing.T) {
	requireFUSE(t)
	bin := buildBinary(t)
	s := startServer(t)
	mnt := t.TempDir()
	s.srv.AddFault(osstest.Fault{Op: "PutObject", KeyPrefix: "f", Stall: 500 * time.Millisecond})
	var log bytes.Buffer
	fg := exec.Command(bin, s.mountArgs(testBucket, mnt, "--foreground")...)
	fg.Env, fg.Stdout, fg.Stderr = s.goodEnv(), &log, &log
	if err := fg.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- fg.Wait() }()
	t.Cleanup(func() { // after a failure: leave no mount and no process
		exec.Command("umount", "-l", mnt).Run()
		fg.Process.Kill()
	})
	waitMounted(t, mnt)

	// A writer holds a file open until told to close it.
	w := exec.Command("bash", "-c", `exec 3>"$F"; printf payload >&3; echo open; read -r; exec 3>&-; echo closed`)
	w.Env = append(os.Environ(), "F="+filepath.Join(mnt, "f"))
	stdin, _ := w.StdinPipe()
	stdout, _ := w.StdoutPipe()
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Process.Kill() })
	lines := bufio.NewScanner(stdout)
	if !lines.Scan() || lines.Text() != "open" {
		t.Fatalf("writer: %q", lines.Text())
	}
	fg.Process.Signal(syscall.SIGTERM)
	waitUnmounted(t, mnt) // detached from the namespace at once
	select {
	case err := <-exited:
		t.Fatalf("ossfs exited (%v) while a file was still open for writing\n%s", err, log.String())
	case <-time.After(500 * time.Millisecond):
	}
	stdin.Write([]byte("\n"))
	if !lines.Scan() || lines.Text() != "closed" {
		t.Errorf("writer after close: %q", lines.Text())
	}
	if err := w.Wait(); err != nil {
		t.Errorf("writer: %v (close failed after SIGTERM)", err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("ossfs exited with %v\n%s", err, log.String())
		}
	case <-time.After(20 * time.Second):
		fg.Process.Kill()
		t.Fatalf("ossfs did not exit after the last file was closed\n%s", log.String())
	}
	if body, err := s.get("f"); err != nil || body != "payload" {
		t.Errorf("object after exit = %q, %v", body, err)
	}
}

func waitMounted(t *testing.T, mnt string) {
	t.Helper()
	for i := 0; i < 200 && !isMounted(mnt); i++ {
		time.Sleep(50 * time.Millisecond)
	}
	if !isMounted(mnt) {
		t.Fatalf("%s did not get mounted", mnt)
	}
}

func mountCount(mnt string) int {
	data, _ := os.ReadFile("/proc/self/mounts")
	n := 0
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) > 1 && f[1] == mnt {
			n++
		}
	}
	return n
}

// TestPrefixMountLinks: BUCKET:/PREFIX mounts the prefix, and a link that
// climbs above it with ../ still names the right bucket key for OSS.
func TestPrefixMountLinks(t *testing.T) {
	requireFUSE(t)
	bin := buildBinary(t)
	s := startServer(t)
	mnt := t.TempDir()
	s.put("p/up", "UP")
	s.put("p/q/in", "IN")
	mountBackground(t, s.goodEnv(), bin, s.mountArgs(testBucket+":/p/q", mnt)...)
	if b, err := os.ReadFile(filepath.Join(mnt, "in")); err != nil || string(b) != "IN" {
		t.Fatalf("read p/q/in through the prefix mount: %q, %v", b, err)
	}
	if out, err := run(t, "ln", "-s", "../up", filepath.Join(mnt, "l")); err != nil {
		t.Fatalf("ln -s: %v %s", err, out)
	}
	res, err := s.sdk.GetSymlink(s.ctx(), &oss.GetSymlinkRequest{Bucket: oss.Ptr(testBucket), Key: oss.Ptr("p/q/l")})
	if err != nil || oss.ToString(res.Target) != "p/up" {
		t.Errorf("GetSymlink p/q/l = %v, %v; want target p/up", res, err)
	}
	if body, err := s.get("p/q/l"); err != nil || body != "UP" {
		t.Errorf("GetObject p/q/l = %q, %v", body, err)
	}
}
