package e2e

import (
	"bytes"
	"crypto/rand"
	"os"
	"testing"
	"time"

	"github.com/ossfs/ossfs/ossclient/osstest"
)

// TestAppendAfterFlushKeepsHead: data streamed and flushed (fsync, or the
// close of a dup'd descriptor as in `{ cat a; cat b; } > f`) stays when
// more is appended: the later upload must not replace it with zeros.
func TestAppendAfterFlushKeepsHead(t *testing.T) {
	e := newEnv(t, config{})
	f, err := os.Create(e.p("log"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte("first line\n")); err != nil {
		t.Fatal(err)
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte("second line\n")); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if got := e.mustGet("log"); got != "first line\nsecond line\n" {
		t.Errorf("after fsync and append: %q", got)
	}
	e.sh(`printf 'aaa\n' > a; printf 'bbb\n' > b; { cat a; cat b; } > ab`)
	if got := e.mustGet("ab"); got != "aaa\nbbb\n" {
		t.Errorf("{ cat a; cat b; } > ab: %q", got)
	}
	b, _ := os.ReadFile(e.p("ab"))
	if !bytes.Equal(b, []byte("aaa\nbbb\n")) {
		t.Errorf("read back %q", b)
	}

	// A chmod after an fsync, nothing written since: close uploads it.
	f, err = os.Create(e.p("mode"))
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("x"))
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	if err := f.Chmod(0o600); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Errorf("close after fsync and chmod: %v", err)
	}
	if o, err := e.raw.Stat(e.ctx(), "mode"); err != nil || o.Meta["mode"] != "33152" {
		t.Errorf("mode after fsync, chmod, close: %v %v", o, err)
	}

	// Past the in-memory head, read from a second descriptor after the
	// fsync, and a chmod after it: close must succeed and carry both.
	big := make([]byte, 9<<20)
	rand.Read(big)
	f, err = os.Create(e.p("big"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(big); err != nil {
		t.Fatal(err)
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(e.p("big")); err != nil || !bytes.Equal(got, big) {
		t.Errorf("read after fsync: %d bytes, %v", len(got), err)
	}
	if err := f.Chmod(0o600); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatalf("close after fsync and chmod: %v", err)
	}
	if got := e.mustGet("big"); !bytes.Equal([]byte(got), big) {
		t.Error("big differs")
	}
	if o, err := e.raw.Stat(e.ctx(), "big"); err != nil || o.Meta["mode"] != "33152" {
		t.Errorf("mode after fsync, chmod, close: %v %v", o, err)
	}
}

// TestChmodWhileStreamingThenRead: a chmod of a file being streamed past
// its in-memory head, then a read of it (which reads the upload back into
// a staged copy), still reaches OSS at close.
func TestChmodWhileStreamingThenRead(t *testing.T) {
	e := newEnv(t, config{})
	big := make([]byte, 9<<20)
	rand.Read(big)
	f, err := os.OpenFile(e.p("big"), os.O_CREATE|os.O_RDWR|os.O_TRUNC, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(big); err != nil {
		t.Fatal(err)
	}
	if err := f.Chmod(0o600); err != nil {
		t.Fatal(err)
	}
	// Another descriptor: its open drops the page cache, so the read
	// reaches ossfs.
	if got, err := os.ReadFile(e.p("big")); err != nil || !bytes.Equal(got, big) {
		t.Fatalf("read while open: %d bytes, %v", len(got), err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if got := e.mustGet("big"); !bytes.Equal([]byte(got), big) {
		t.Error("big differs")
	}
	if o, err := e.raw.Stat(e.ctx(), "big"); err != nil || o.Meta["mode"] != "33152" {
		t.Errorf("mode in OSS after write, chmod, read, close: %v %v", o, err)
	}
}

// TestTruncWhileReadingBack: an O_TRUNC open while a streamed file is
// being read back into its staged copy (for a write elsewhere) must win
// over that copy: none of the bytes from before the truncation may come
// back. The read-back GET is held at the server until the truncating open
// has been issued. Whichever of the write at 100 and the truncation ossfs
// orders first, the second descriptor then writes 200 bytes over both, so
// there is exactly one right result: those 200 bytes.
func TestTruncWhileReadingBack(t *testing.T) {
	e := newEnv(t, config{})
	big := make([]byte, 9<<20)
	rand.Read(big)
	w1, err := os.Create(e.p("f"))
	if err != nil {
		t.Fatal(err)
	}
	defer w1.Close()
	if _, err := w1.Write(big); err != nil {
		t.Fatal(err)
	}
	hold := make(chan struct{})
	e.srv.AddFault(osstest.Fault{Op: "GetObject", KeyPrefix: "f", Hold: hold, Times: 1})
	wrote := make(chan error, 1)
	go func() {
		_, err := w1.WriteAt([]byte("X"), 100) // not an append: read back first
		wrote <- err
	}()
	waitFault(t, e.srv, "GetObject", 1) // the read-back is at the server
	type openResult struct {
		f   *os.File
		err error
	}
	opened := make(chan openResult, 1)
	go func() {
		f, err := os.OpenFile(e.p("f"), os.O_WRONLY|os.O_TRUNC, 0)
		opened <- openResult{f, err}
	}()
	close(hold)
	o := <-opened
	if o.err != nil {
		t.Fatal(o.err)
	}
	w2 := o.f
	if err := <-wrote; err != nil {
		t.Fatal(err)
	}
	want := bytes.Repeat([]byte("new"), 67)[:200]
	if _, err := w2.Write(want); err != nil {
		t.Fatal(err)
	}
	if err := w2.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w1.Close(); err != nil {
		t.Fatal(err)
	}
	if got := e.mustGet("f"); got != string(want) {
		t.Errorf("object after a truncation during the read-back: %d bytes %q..., want the 200 bytes written after it", len(got), got[:min(len(got), 16)])
	}
}

// TestUnmountWhileStreaming: Unmount with a file open and streaming fails
// at once (EBUSY, so the signal handler detaches the mount), rather than
// waiting for that file to be closed; the file still completes.
func TestUnmountWhileStreaming(t *testing.T) {
	e := newEnv(t, config{})
	f, err := os.Create(e.p("s"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte("payload")); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- e.m.Unmount() }()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("Unmount succeeded with a file open")
		}
	case <-time.After(5 * time.Second):
		t.Error("Unmount hangs while a file is open and streaming")
		f.Close()
		<-done
		return
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if got := e.mustGet("s"); got != "payload" {
		t.Errorf("s = %q", got)
	}
}
