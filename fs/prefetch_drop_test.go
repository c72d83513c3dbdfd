package fs

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"sync"
	"syscall"
	"testing"

	"github.com/ossfs/ossfs/ossclient"
	"github.com/ossfs/ossfs/ossclient/osstest"
)

// dropFixture stores a random object and returns the version a handle
// would pin.
func dropFixture(t *testing.T, size int, mod func(*ossclient.Config)) (*osstest.Server, ossclient.Bucket, []byte, version) {
	t.Helper()
	srv, b := testBucketWith(t, mod)
	data := make([]byte, size)
	rand.Read(data)
	o, err := b.Put(context.Background(), "obj", bytes.NewReader(data), ossclient.PutOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return srv, b, data, version{etag: o.ETag, size: int64(size)}
}

// readSequential reads the object from 0 in 128 KiB reads (read-ahead
// chunks) and checks every byte.
func readSequential(r *prefetcher, data []byte) error {
	p := make([]byte, 128<<10)
	for off := int64(0); off < int64(len(data)); off += int64(len(p)) {
		got, err := r.ReadAt(context.Background(), "obj", p, off)
		if err != nil {
			return fmt.Errorf("read at %d: %w", off, err)
		}
		if want := data[off:min(off+int64(len(p)), int64(len(data)))]; !bytes.Equal(p[:got], want) {
			return fmt.Errorf("read at %d: %d bytes, not the object's %d", off, got, len(want))
		}
	}
	return nil
}

// readRandom makes n 8 KiB reads at scattered offsets (direct GETs) and
// checks every byte.
func readRandom(r *prefetcher, data []byte, n int, seed int64) error {
	q := make([]byte, 8<<10)
	for i := range n {
		off := (seed*7919 + int64(i+1)*1299709) % int64(len(data)-len(q))
		got, err := r.ReadAt(context.Background(), "obj", q, off)
		if err != nil {
			return fmt.Errorf("read at %d: %w", off, err)
		}
		if got != len(q) || !bytes.Equal(q, data[off:off+int64(len(q))]) {
			return fmt.Errorf("read at %d: %d bytes, not the object's", off, got)
		}
	}
	return nil
}

func newTestPrefetcher(b ossclient.Bucket, v version) *prefetcher {
	return newPrefetcher(b, v, 64<<20, &readBudget{limit: 1 << 30})
}

// gets runs read on a new prefetcher and returns the GetObject requests it
// took.
func gets(t *testing.T, srv *osstest.Server, b ossclient.Bucket, v version, read func(*prefetcher) error) int64 {
	t.Helper()
	srv.ResetCounts()
	r := newTestPrefetcher(b, v)
	defer r.Close()
	if err := read(r); err != nil {
		t.Fatal(err)
	}
	return srv.Count("GetObject")
}

// TestPrefetchDroppedConnection: GETs cut three times in a row are resumed
// and every read returns the right bytes, for read-ahead chunks and for
// direct (random) reads; the server counts exactly one extra GetObject per
// drop, so the faults did fire.
func TestPrefetchDroppedConnection(t *testing.T) {
	const size = 4 << 20
	srv, b, data, v := dropFixture(t, size, func(*ossclient.Config) {})
	for _, tc := range []struct {
		name      string
		dropAfter int64
		read      func(*prefetcher) error
	}{
		{"sequential", 64 << 10, func(r *prefetcher) error { return readSequential(r, data) }},
		{"random", 1000, func(r *prefetcher) error { return readRandom(r, data, 16, 1) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base := gets(t, srv, b, v, tc.read)
			srv.AddFault(osstest.Fault{Op: "GetObject", DropAfter: tc.dropAfter, Times: 3})
			if got := gets(t, srv, b, v, tc.read); got != base+3 {
				t.Errorf("%d GetObject requests, want %d + 3 resumes (the three drops fired)", got, base)
			}
		})
	}
}

// TestPrefetchDropsAtRandom: 8 readers at once, each reading the whole
// object and then 32 scattered blocks, while each GET is cut after 1,000
// bytes with probability 0.1: every byte is right, and the server saw more
// GETs than the same reads take without drops (the fault fired; with ~300
// GETs, the chance that none is cut is below 1e-13).
func TestPrefetchDropsAtRandom(t *testing.T) {
	const size = 4 << 20
	// Resumes in a row are bounded (default 5); 10 here makes a spurious
	// failure (11 cuts in a row at p=0.1) impossible in practice.
	srv, b, data, v := dropFixture(t, size, func(c *ossclient.Config) { c.ReadResumes = 10 })
	read := func(seed int64) func(*prefetcher) error {
		return func(r *prefetcher) error {
			if err := readSequential(r, data); err != nil {
				return err
			}
			return readRandom(r, data, 32, seed)
		}
	}
	var base int64
	for i := range 8 {
		base += gets(t, srv, b, v, read(int64(i)))
	}
	srv.ResetCounts()
	srv.AddFault(osstest.Fault{Op: "GetObject", DropAfter: 1000, Probability: 0.1})
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := newTestPrefetcher(b, v)
			defer r.Close()
			errs[i] = read(int64(i))(r)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	if got := srv.Count("GetObject"); got <= base {
		t.Errorf("%d GetObject requests with drops, %d without: no drop fired", got, base)
	}
}

// TestPrefetchVersionChanged: once the object is overwritten, a handle
// pinned to the old version reads what it already holds (its version's
// bytes) and then fails with ESTALE, never returning bytes of the new
// version; the same after a delete.
func TestPrefetchVersionChanged(t *testing.T) {
	const size = 1 << 20
	for _, change := range []string{"overwrite", "delete"} {
		t.Run(change, func(t *testing.T) {
			_, b, data, v := dropFixture(t, size, func(*ossclient.Config) {})
			r := newTestPrefetcher(b, v)
			defer r.Close()
			p := make([]byte, 64<<10)
			if n, err := r.ReadAt(context.Background(), "obj", p, 0); err != nil || !bytes.Equal(p[:n], data[:n]) {
				t.Fatalf("first read: %d, %v", n, err)
			}
			var err error
			if change == "overwrite" {
				_, err = b.Put(context.Background(), "obj", bytes.NewReader(bytes.Repeat([]byte("B"), size)), ossclient.PutOptions{})
			} else {
				err = b.Delete(context.Background(), "obj")
			}
			if err != nil {
				t.Fatal(err)
			}
			for off := int64(len(p)); off < size; off += int64(len(p)) {
				n, err := r.ReadAt(context.Background(), "obj", p, off)
				if err != nil {
					if e := toErrno(nil, "read", "obj", versionGone(err)); e != syscall.ESTALE {
						t.Fatalf("read at %d: %v, errno %v; want ESTALE", off, err, e)
					}
					return
				}
				if !bytes.Equal(p[:n], data[off:off+int64(n)]) {
					t.Fatalf("read at %d: bytes of another version", off)
				}
			}
			t.Fatal("every read of the old version succeeded after the change; want ESTALE past the read-ahead")
		})
	}
}
