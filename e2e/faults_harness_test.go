package e2e

import (
	"crypto/rand"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ossfs/ossfs/ossclient"
)

// The fault matrix (docs/semantics.md, "Faults"): each scenario runs a real
// workload on a mount of the local server with a fault injected, and checks
//
//	(a) nothing acknowledged is lost: every file whose close returned 0 is
//	    in OSS byte for byte;
//	(b) every failure reaches the program as an errno (never a silent short
//	    file): a Go writer gets a syscall.Errno, a tool exits non-zero with
//	    the errno's message;
//	(c) no partial object is ever visible: a key a failed write was for holds
//	    nothing, its old bytes, or all the new bytes;
//	(d) nothing is left open: no multipart upload (and the harness unmounts);
//
// and that the fault fired (the server's FaultCounts counter). The scenarios
// that kill a process live in faults_proc_test.go.

// faultPartSize makes files over 1 MiB multipart uploads, so that the
// multipart faults are reached with small files; files over the 8 MiB the
// write path keeps in memory stream for real.
const faultPartSize = 1 << 20

// written is one file a workload wrote and what the program was told.
type written struct {
	key  string
	data []byte
	err  error // first error of the writes and the close; nil: acknowledged
	old  []byte
}

// faultEnv is a mount made for fault injection: 1 MiB parts, retries that
// wait milliseconds (the SDK's attempts count stays the default 3).
type faultEnv struct {
	*env
	files []written
}

func newFaultEnv(t *testing.T, c config) *faultEnv {
	t.Helper()
	mod := c.client
	c.client = func(cfg *ossclient.Config) {
		cfg.PartSize = faultPartSize
		cfg.RetryBaseDelay = time.Millisecond
		if mod != nil {
			mod(cfg)
		}
	}
	return &faultEnv{env: newEnv(t, c)}
}

func randBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// goWrite writes data to key through the mount, in 256 KiB writes, and
// closes; it records the outcome. The file is closed even after a failed
// write, so nothing is left open on the mount.
func (e *faultEnv) goWrite(key string, data []byte) error {
	var old []byte
	if s, err := e.get(key); err == nil {
		old = []byte(s)
	}
	err := writeAndClose(e.p(key), data, 0, nil)
	e.files = append(e.files, written{key: key, data: data, err: err, old: old})
	return err
}

// writeAndClose writes data to path in 256 KiB writes and closes it; mid,
// when not nil, runs once when midAt bytes are written.
func writeAndClose(path string, data []byte, midAt int, mid func()) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	var werr error
	for off := 0; off < len(data) && werr == nil; off += 256 << 10 {
		if mid != nil && off >= midAt {
			mid()
			mid = nil
		}
		_, werr = f.Write(data[off:min(off+256<<10, len(data))])
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	return werr
}

// check asserts (a)-(d) for every file recorded, and that op's fault fired
// at least fired times. It unmounts: it is the scenario's last step.
func (e *faultEnv) check(t *testing.T, op string, fired int64) {
	t.Helper()
	if n := e.srv.FaultCounts()[op]; op != "" && n < fired {
		t.Errorf("the %s fault fired %d times, want at least %d: the scenario did not test it", op, n, fired)
	}
	for _, f := range e.files {
		got, err := e.get(f.key)
		switch {
		case f.err == nil && (err != nil || got != string(f.data)):
			t.Errorf("(a) %s: close returned 0 but OSS holds %d bytes (%v), want the %d written", f.key, len(got), err, len(f.data))
		case f.err != nil:
			var errno syscall.Errno
			if !errors.As(f.err, &errno) {
				t.Errorf("(b) %s: the failure is not an errno: %v", f.key, f.err)
			}
			absent := errors.Is(err, ossclient.ErrNotFound)
			if !absent && got != string(f.old) && got != string(f.data) {
				t.Errorf("(c) %s: a partial object is visible after a failed write: %d bytes", f.key, len(got))
			}
		}
	}
	e.checkNoUploads(t)
}

// checkNoUploads unmounts (which waits for the uploads of files released
// while dirty: a close that failed may be followed by one more attempt at
// release), checks the mount is gone, then that no upload is open.
func (e *faultEnv) checkNoUploads(t *testing.T) {
	t.Helper()
	if !e.gone {
		e.unmount()
		e.gone = true
	}
	if mounted(e.mnt) {
		t.Errorf("(d) %s is still mounted after the unmount", e.mnt)
	}
	if n := e.srv.OpenUploads(bucketName); n != 0 {
		t.Errorf("(d) %d multipart uploads left open", n)
	}
}

// wantToolFailure asserts a tool failed and said why with errno's message.
func wantToolFailure(t *testing.T, what, out string, err error, errno syscall.Errno) {
	t.Helper()
	if err == nil {
		t.Errorf("%s succeeded despite the fault:\n%s", what, out)
	} else if !strings.Contains(strings.ToLower(out), strings.ToLower(errno.Error())) {
		t.Errorf("%s failed (%v) without saying %q:\n%s", what, err, errno.Error(), out)
	}
}

// localTree makes a directory of files outside the mount (a source for cp
// and tar) and returns it with the files' contents by relative path.
func localTree(t *testing.T, sizes map[string]int) (string, map[string][]byte) {
	t.Helper()
	dir := t.TempDir()
	files := map[string][]byte{}
	for rel, n := range sizes {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		files[rel] = randBytes(n)
		if err := os.WriteFile(p, files[rel], 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir, files
}

// checkTree asserts that every file of files is under prefix in OSS, byte
// for byte (complete), or that none is visible partially (failed).
func (e *faultEnv) checkTree(t *testing.T, prefix string, files map[string][]byte, complete bool) {
	t.Helper()
	for rel, data := range files {
		got, err := e.get(prefix + rel)
		switch {
		case complete && (err != nil || got != string(data)):
			t.Errorf("(a) %s%s: the tool succeeded but OSS holds %d bytes (%v), want %d", prefix, rel, len(got), err, len(data))
		case !complete && err == nil && got != string(data):
			t.Errorf("(c) %s%s: a partial object is visible: %d of %d bytes", prefix, rel, len(got), len(data))
		}
	}
}

// mounted reports whether mnt is a mount point in this namespace.
func mounted(mnt string) bool {
	data, _ := os.ReadFile("/proc/self/mounts")
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) > 1 && f[1] == mnt {
			return true
		}
	}
	return false
}

// readDirect reads path with O_DIRECT in 1 MiB reads.
func readDirect(path string) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_DIRECT, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []byte
	buf := make([]byte, 1<<20)
	for {
		n, err := f.Read(buf)
		out = append(out, buf[:n]...)
		if err == io.EOF || (err == nil && n == 0) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
	}
}
