package e2e

import (
	"bytes"
	"crypto/rand"
	"errors"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ossfs/ossfs/ossclient/osstest"
)

// TestSequentialWriteStreams: a new file written sequentially is uploaded
// while it is written (parts reach the server before close), and close
// completes it; writes out of order fall back to the staged copy, with the
// same bytes in the end.
func TestSequentialWriteStreams(t *testing.T) {
	e := newEnv(t, config{})
	data := make([]byte, 30<<20)
	rand.Read(data)

	e.srv.ResetCounts()
	f, err := os.Create(e.p("seq"))
	if err != nil {
		t.Fatal(err)
	}
	for off := 0; off < len(data); off += 1 << 20 {
		if _, err := f.Write(data[off : off+1<<20]); err != nil {
			t.Fatal(err)
		}
	}
	// Parts are on their way before close: poll (bounded) for the first.
	deadline := time.Now().Add(10 * time.Second)
	for e.srv.Count("UploadPart") == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if e.srv.Count("UploadPart") == 0 {
		t.Error("no part was uploaded before close: the write did not stream")
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if got := e.mustGet("seq"); !bytes.Equal([]byte(got), data) {
		t.Error("streamed object differs")
	}
	if c := e.srv.Counts(); c["InitiateMultipartUpload"] != 1 || c["CompleteMultipartUpload"] != 1 || c["PutObject"] != 0 {
		t.Errorf("requests for one streamed file: %v", c)
	}

	// Out of order: the tail first, then the head. Same bytes, no upload
	// left open.
	e.srv.ResetCounts()
	f, err = os.Create(e.p("random"))
	if err != nil {
		t.Fatal(err)
	}
	half := len(data) / 2
	if _, err := f.WriteAt(data[:1<<20], 0); err != nil { // starts a stream
		t.Fatal(err)
	}
	if _, err := f.WriteAt(data[half:], int64(half)); err != nil { // abandons it
		t.Fatal(err)
	}
	if _, err := f.WriteAt(data[1<<20:half], 1<<20); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if got := e.mustGet("random"); !bytes.Equal([]byte(got), data) {
		t.Error("object written out of order differs")
	}
	if n := e.srv.OpenUploads(bucketName); n != 0 {
		t.Errorf("%d multipart uploads left open", n)
	}
	// A small file streamed and closed is one PutObject.
	e.srv.ResetCounts()
	if err := os.WriteFile(e.p("small"), []byte("tiny"), 0o644); err != nil {
		t.Fatal(err)
	}
	if c := e.srv.Counts(); c["PutObject"] != 1 || c["InitiateMultipartUpload"] != 0 {
		t.Errorf("requests for a small file: %v", c)
	}
	if got := e.mustGet("small"); got != "tiny" {
		t.Errorf("small = %q", got)
	}
}

// stagedFiles counts this process's open staging temp files (the mount
// runs in the test process; they are unlinked, so /proc shows them).
func stagedFiles(t *testing.T) int {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, fd := range fds {
		if target, err := os.Readlink("/proc/self/fd/" + fd.Name()); err == nil && strings.Contains(target, "ossfs-stage-") {
			n++
		}
	}
	return n
}

// TestStreamNeedsNoTempFile: a sequential write of a new file keeps no
// local copy, and a large one streamed then patched at the start, read back
// while open, and truncated, ends with the right bytes.
func TestStreamNeedsNoTempFile(t *testing.T) {
	e := newEnv(t, config{})
	data := make([]byte, 20<<20)
	rand.Read(data)
	f, err := os.Create(e.p("big"))
	if err != nil {
		t.Fatal(err)
	}
	for off := 0; off < len(data); off += 1 << 20 {
		if _, err := f.Write(data[off : off+1<<20]); err != nil {
			t.Fatal(err)
		}
	}
	if n := stagedFiles(t); n != 0 {
		t.Errorf("%d staging temp files open during a sequential write", n)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if got := e.mustGet("big"); !bytes.Equal([]byte(got), data) {
		t.Fatal("streamed object differs")
	}

	// Past the in-memory head: a write back at 0 completes what was
	// streamed, reads it back into a staged copy, and goes on from there.
	f, err = os.OpenFile(e.p("patched"), os.O_CREATE|os.O_RDWR|os.O_TRUNC, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(data); err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte("HEADER"), 0); err != nil {
		t.Fatal(err)
	}
	want := append([]byte("HEADER"), data[6:]...)
	got := make([]byte, 1<<20)
	if _, err := f.ReadAt(got, 10<<20); err != nil || !bytes.Equal(got, want[10<<20:11<<20]) {
		t.Fatalf("read back while open: %v", err)
	}
	if err := f.Truncate(15 << 20); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if got := e.mustGet("patched"); !bytes.Equal([]byte(got), want[:15<<20]) {
		t.Fatal("patched object differs")
	}
	if n := e.srv.OpenUploads(bucketName); n != 0 {
		t.Errorf("%d multipart uploads left open", n)
	}
}

// TestStreamFailureIsReported: when a streamed upload past the in-memory
// head fails for good, the writer gets EIO (from a write or at the latest
// from close), no object appears and no upload stays open.
func TestStreamFailureIsReported(t *testing.T) {
	e := newEnv(t, config{})
	e.srv.AddFault(osstest.Fault{Op: "UploadPart", KeyPrefix: "doomed", Status: 500})
	f, err := os.Create(e.p("doomed"))
	if err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 1<<20)
	var werr error
	for i := 0; i < 40 && werr == nil; i++ {
		_, werr = f.Write(chunk)
	}
	cerr := f.Close()
	if werr == nil && cerr == nil {
		t.Fatal("every write and close succeeded although every part upload failed")
	}
	for _, err := range []error{werr, cerr} {
		if err != nil && !errors.Is(err, syscall.EIO) {
			t.Errorf("error %v, want EIO", err)
		}
	}
	if e.exists("doomed") {
		t.Error("a failed upload left an object")
	}
	if n := e.srv.OpenUploads(bucketName); n != 0 {
		t.Errorf("%d multipart uploads left open", n)
	}
}
