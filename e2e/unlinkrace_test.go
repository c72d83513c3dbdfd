package e2e

import (
	"bytes"
	"crypto/rand"
	"os"
	"testing"

	"github.com/ossfs/ossfs/ossclient/osstest"
)

// TestUnlinkWhileStreaming: a file streamed past its in-memory head and
// unlinked keeps working for its descriptor, and a new file that takes its
// name is not overwritten (or deleted) when the old descriptor is closed.
func TestUnlinkWhileStreaming(t *testing.T) {
	e := newEnv(t, config{})
	data := make([]byte, 12<<20)
	rand.Read(data)
	old, err := os.OpenFile(e.p("f"), os.O_CREATE|os.O_RDWR|os.O_TRUNC, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	if _, err := old.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(e.p("f")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(e.p("f"), []byte("new"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := old.Write([]byte("tail")); err != nil {
		t.Fatalf("write to the unlinked file: %v", err)
	}
	got := make([]byte, 1<<20)
	if _, err := old.ReadAt(got, 5<<20); err != nil || !bytes.Equal(got, data[5<<20:6<<20]) {
		t.Fatalf("read of the unlinked file: %v", err)
	}
	if err := old.Close(); err != nil {
		t.Fatalf("close of the unlinked file: %v", err)
	}
	if got := e.mustGet("f"); got != "new" {
		t.Errorf("the new file f holds %d bytes after the old one was closed, want \"new\"", len(got))
	}
	if n := e.srv.OpenUploads(bucketName); n != 0 {
		t.Errorf("%d multipart uploads left open", n)
	}
}

// TestUnlinkWhileClosing: an unlink issued while the close of the file is
// still uploading leaves no object behind.
func TestUnlinkWhileClosing(t *testing.T) {
	e := newEnv(t, config{})
	hold := make(chan struct{})
	e.srv.AddFault(osstest.Fault{Op: "PutObject", KeyPrefix: "slow", Hold: hold, Times: 1})
	f, err := os.Create(e.p("slow"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte("payload")); err != nil {
		t.Fatal(err)
	}
	closed := make(chan error, 1)
	go func() { closed <- f.Close() }()
	waitFault(t, e.srv, "PutObject", 1) // the close's upload is held at the server
	// The unlink is issued while the upload is held (ossfs makes it wait
	// for the upload, so it cannot complete before the release). Either
	// way there is one right result: no object.
	removed := make(chan error, 1)
	go func() { removed <- os.Remove(e.p("slow")) }()
	close(hold)
	if err := <-removed; err != nil {
		t.Fatal(err)
	}
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	if e.exists("slow") {
		t.Error("the object came back after the unlink")
	}
	if n := e.srv.Count("PutObject"); n != 1 {
		t.Errorf("%d PutObject, want the close's one", n)
	}
}

// TestRenameDirWhileStreaming: a directory renamed while a file below it
// is being written takes the file's data; nothing stays at the old name.
func TestRenameDirWhileStreaming(t *testing.T) {
	e := newEnv(t, config{})
	data := make([]byte, 12<<20)
	rand.Read(data)
	if err := os.Mkdir(e.p("d"), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(e.p("d/f"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(data[:10<<20]); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(e.p("d"), e.p("e")); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(data[10<<20:]); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if got := e.mustGet("e/f"); !bytes.Equal([]byte(got), data) {
		t.Errorf("e/f holds %d bytes, want the %d written", len(got), len(data))
	}
	if e.exists("d/f") {
		t.Error("d/f still exists after the rename")
	}
	if n := e.srv.OpenUploads(bucketName); n != 0 {
		t.Errorf("%d multipart uploads left open", n)
	}
}

// TestRenameOverFileBeingWritten: mv onto a file that is still being
// written (streamed past its in-memory head) replaces it; the old
// descriptor's reads, writes and close do not land on the moved file.
func TestRenameOverFileBeingWritten(t *testing.T) {
	e := newEnv(t, config{})
	data := make([]byte, 12<<20)
	rand.Read(data)
	old, err := os.OpenFile(e.p("target"), os.O_CREATE|os.O_RDWR|os.O_TRUNC, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	if _, err := old.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(e.p("new"), []byte("moved"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(e.p("new"), e.p("target")); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, 1<<20)
	if _, err := old.ReadAt(got, 3<<20); err != nil || !bytes.Equal(got, data[3<<20:4<<20]) {
		t.Fatalf("read of the replaced file: %v", err)
	}
	if _, err := old.Write([]byte(" more")); err != nil {
		t.Fatalf("write to the replaced file: %v", err)
	}
	if err := old.Close(); err != nil {
		t.Fatalf("close of the replaced file: %v", err)
	}
	if got := e.mustGet("target"); got != "moved" {
		t.Errorf("target holds %d bytes after the replaced file was read and closed, want \"moved\"", len(got))
	}
}
