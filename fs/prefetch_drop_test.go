package fs

import (
	"bytes"
	"context"
	"testing"

	"github.com/ossfs/ossfs/ossclient/osstest"
)

// TestPrefetchDroppedConnection: a GET whose connection drops mid-body is
// an error (or is retried), never a short read that looks like the end of
// the object; the same for a direct (random) read.
func TestPrefetchDroppedConnection(t *testing.T) {
	const size = 4 << 20
	srv, b, data := prefetchFixture(t, size)
	srv.AddFault(osstest.Fault{Op: "GetObject", DropAfter: 100 << 10, Times: 1})
	r := newPrefetcher(b, size, 64<<20, &readBudget{limit: 1 << 30})
	defer r.Close()
	p := make([]byte, 128<<10)
	for off := int64(0); off < size; off += int64(len(p)) {
		n, err := r.ReadAt(context.Background(), "obj", p, off)
		if err != nil {
			continue // reported: fine
		}
		if n != len(p) || !bytes.Equal(p[:n], data[off:off+int64(n)]) {
			t.Fatalf("read at %d: %d bytes, no error: a dropped connection looks like the end of the object", off, n)
		}
	}
	srv.AddFault(osstest.Fault{Op: "GetObject", DropAfter: 1000, Times: 1})
	r2 := newPrefetcher(b, size, 64<<20, &readBudget{limit: 1 << 30})
	defer r2.Close()
	n, err := r2.ReadAt(context.Background(), "obj", p, 3<<20+12345) // a first read far from 0: direct
	if err == nil && (n != len(p) || !bytes.Equal(p, data[3<<20+12345:3<<20+12345+len(p)])) {
		t.Fatalf("direct read: %d bytes, no error", n)
	}
}
