package writeback

import (
	"bytes"
	"errors"
	"io"
	"math/rand"
	"testing"
)

// TestFillPipeBytes: writes of every size come out of the pipe as the
// same bytes through reads of other sizes, each read full until the end.
func TestFillPipeBytes(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	data := make([]byte, 5<<20+333)
	r.Read(data)
	p := newFillPipe()
	go func() {
		for rest := data; len(rest) > 0; {
			n := min(len(rest), 1+r.Intn(200<<10))
			if _, err := p.Write(rest[:n]); err != nil {
				p.CloseWithError(err)
				return
			}
			rest = rest[n:]
		}
		p.Close()
	}()
	var got []byte
	buf := make([]byte, 1<<20+17)
	for {
		n, err := p.Read(buf)
		got = append(got, buf[:n]...)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if n != len(buf) && len(got) != len(data) {
			t.Fatalf("a read returned %d bytes of %d before the end", n, len(buf))
		}
	}
	if !bytes.Equal(got, data) {
		t.Fatalf("read %d bytes, not the %d written", len(got), len(data))
	}
}

// TestFillPipeReadWaitsForFullBuffer: one Read takes 32 writes that fill
// its buffer exactly: the reader wakes once per buffer (an io.Pipe returns
// every write to it).
func TestFillPipeReadWaitsForFullBuffer(t *testing.T) {
	p := newFillPipe()
	chunk := bytes.Repeat([]byte{7}, 100)
	go func() {
		for range 32 {
			if _, err := p.Write(chunk); err != nil {
				return
			}
		}
	}()
	buf := make([]byte, 32*len(chunk))
	n, err := p.Read(buf)
	p.CloseRead(nil) // a writer still waiting (a failed test) ends
	if n != len(buf) || err != nil {
		t.Fatalf("Read = %d, %v; want the %d bytes of 32 writes at once", n, err, len(buf))
	}
}

// TestFillPipeCloses: the writer's error reaches the reader after the
// bytes; the reader's close fails a waiting and a later write.
func TestFillPipeCloses(t *testing.T) {
	boom := errors.New("boom")
	p := newFillPipe()
	go func() {
		p.Write([]byte("abc"))
		p.CloseWithError(boom)
	}()
	buf := make([]byte, 10)
	if n, err := p.Read(buf); n != 3 || err != nil || string(buf[:3]) != "abc" {
		t.Fatalf("Read = %d %q, %v; want the 3 bytes written", n, buf[:n], err)
	}
	if n, err := p.Read(buf); n != 0 || err != boom {
		t.Fatalf("Read after the close = %d, %v; want 0, boom", n, err)
	}

	p = newFillPipe()
	werr := make(chan error, 1)
	go func() {
		_, err := p.Write([]byte("no reader yet")) // waits for a Read
		werr <- err
	}()
	p.CloseRead(boom)
	if err := <-werr; err != boom {
		t.Fatalf("waiting Write after CloseRead: %v, want boom", err)
	}
	if _, err := p.Write([]byte("x")); err != boom {
		t.Fatalf("Write after CloseRead: %v, want boom", err)
	}
	if _, err := p.Read(buf); err != io.ErrClosedPipe {
		t.Fatalf("Read after CloseRead: %v, want io.ErrClosedPipe", err)
	}
}
