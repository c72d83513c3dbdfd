package e2e

import (
	"bytes"
	"crypto/rand"
	"os"
	"testing"
	"time"
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
