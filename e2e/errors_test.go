package e2e

import (
	"errors"
	"os"
	"strings"
	"syscall"
	"testing"

	ossfs "github.com/ossfs/ossfs/fs"
	"github.com/ossfs/ossfs/ossclient/osstest"
)

func wantErrno(t *testing.T, what string, err error, want syscall.Errno) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Errorf("%s: %v, want %v", what, err, want)
	}
}

// TestBadInput: every bad request gets a clear errno and leaves the bucket
// as it was.
func TestBadInput(t *testing.T) {
	e := newEnv(t, config{})
	e.sh(`mkdir -p d/sub && echo x > d/f && echo y > g`)
	before := e.keys()

	wantErrno(t, "rmdir non-empty", syscall.Rmdir(e.p("d")), syscall.ENOTEMPTY)
	wantErrno(t, "hard link", os.Link(e.p("g"), e.p("h")), syscall.EPERM)
	wantErrno(t, "mkfifo onto an existing name", syscall.Mkfifo(e.p("g"), 0o644), syscall.EEXIST)
	wantErrno(t, "mkdir existing", os.Mkdir(e.p("d"), 0o755), syscall.EEXIST)
	e.sh(`mkdir e2 && echo z > e2/z`)
	// (os.Rename answers EEXIST itself when the target is a directory.)
	wantErrno(t, "rename dir onto non-empty dir", renameat2(e.p("d"), e.p("e2"), 0), syscall.ENOTEMPTY)
	e.sh(`rm -r e2`)
	wantErrno(t, "symlink empty text", syscall.Symlink("", e.p("empty")), syscall.ENOENT)
	wantErrno(t, "readlink of a file", func() error { _, err := os.Readlink(e.p("g")); return err }(), syscall.EINVAL)
	wantErrno(t, "open missing", func() error { _, err := os.Open(e.p("nope")); return err }(), syscall.ENOENT)
	wantErrno(t, "name of 256 bytes", os.WriteFile(e.p(strings.Repeat("n", 256)), nil, 0o644), syscall.ENAMETOOLONG)
	wantErrno(t, "name not UTF-8", os.WriteFile(e.p("bad\xff"), nil, 0o644), syscall.EINVAL)
	// Keys over 1023 bytes: a deep path of valid names.
	deep := strings.Repeat(strings.Repeat("k", 250)+"/", 4)
	if err := os.MkdirAll(e.p(deep), 0o755); err != nil {
		t.Fatalf("mkdir of a 1004-byte path: %v", err)
	}
	wantErrno(t, "key over 1023 bytes", os.WriteFile(e.p(deep+strings.Repeat("f", 30)), nil, 0o644), syscall.ENAMETOOLONG)
	wantErrno(t, "dir key over 1023 bytes", os.Mkdir(e.p(deep+strings.Repeat("f", 19)), 0o755), syscall.ENAMETOOLONG)
	if err := os.WriteFile(e.p(deep+strings.Repeat("f", 19)), []byte("ok"), 0o644); err != nil {
		t.Errorf("file key of exactly 1023 bytes: %v", err)
	}
	e.sh(`rm -r kkkk*`)
	wantErrno(t, "renameat2 RENAME_EXCHANGE", renameat2(e.p("g"), e.p("d/f"), 2), syscall.EINVAL)
	wantErrno(t, "renameat2 RENAME_NOREPLACE onto existing", renameat2(e.p("g"), e.p("d/f"), 1), syscall.EEXIST)

	if after := e.keys(); after != before {
		t.Errorf("bucket changed by failed operations:\nbefore %s\nafter  %s", before, after)
	}
	if err := renameat2(e.p("g"), e.p("g2"), 1); err != nil {
		t.Errorf("RENAME_NOREPLACE onto a free name: %v", err)
	}
}

func renameat2(from, to string, flags uint) error {
	return unixRenameat2(from, to, flags)
}

// keys lists every key in the bucket, for before/after comparisons.
func (e *env) keys() string {
	e.t.Helper()
	l, err := e.raw.List(e.ctx(), "", ossclientListRecursive)
	if err != nil {
		e.t.Fatal(err)
	}
	var b strings.Builder
	for _, o := range l.Objects {
		b.WriteString(o.Key + " ")
	}
	return b.String()
}

// TestReadOnly: a read-only mount reads and refuses every change with EROFS.
func TestReadOnly(t *testing.T) {
	e := newEnv(t, config{fs: func(o *ossfs.Options) { o.ReadOnly = true }})
	e.put("d/f", "data")
	if got := e.sh(`cat d/f`); got != "data" {
		t.Errorf("read = %q", got)
	}
	wantErrno(t, "create", os.WriteFile(e.p("new"), nil, 0o644), syscall.EROFS)
	wantErrno(t, "write", os.WriteFile(e.p("d/f"), nil, 0o644), syscall.EROFS)
	wantErrno(t, "mkdir", os.Mkdir(e.p("x"), 0o755), syscall.EROFS)
	wantErrno(t, "symlink", os.Symlink("t", e.p("l")), syscall.EROFS)
	wantErrno(t, "unlink", os.Remove(e.p("d/f")), syscall.EROFS)
	wantErrno(t, "rename", os.Rename(e.p("d/f"), e.p("d/g")), syscall.EROFS)
	wantErrno(t, "chmod", os.Chmod(e.p("d/f"), 0o600), syscall.EROFS)
	if got := e.mustGet("d/f"); got != "data" {
		t.Errorf("object changed: %q", got)
	}
}

// TestUploadFailureIsReported: when the upload fails, close(2) returns an
// error (EIO), never 0, and nothing half-written is in the bucket; the next
// close after the fault clears succeeds.
func TestUploadFailureIsReported(t *testing.T) {
	e := newEnv(t, config{})
	remove := e.srv.AddFault(osstest.Fault{Op: "PutObject", KeyPrefix: "f", Status: 500})
	f, err := os.Create(e.p("f"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte("payload")); err != nil {
		t.Fatal(err)
	}
	wantErrno(t, "fsync with failing upload", f.Sync(), syscall.EIO)
	remove()
	if _, err := f.Write([]byte("+more")); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Errorf("close after the fault cleared: %v", err)
	}
	if got := e.mustGet("f"); got != "payload+more" {
		t.Errorf("object = %q", got)
	}
	// close(2) itself reports the failure.
	e.srv.AddFault(osstest.Fault{Op: "PutObject", KeyPrefix: "g", Status: 503})
	f, err = os.Create(e.p("g"))
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("lost"))
	wantErrno(t, "close with failing upload", f.Close(), syscall.EIO)
	if e.exists("g") {
		t.Error("a failed upload left an object")
	}
}
