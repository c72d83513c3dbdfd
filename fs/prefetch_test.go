package fs

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/ossfs/ossfs/ossclient"
	"github.com/ossfs/ossfs/ossclient/osstest"
)

// recBucket records the ranges asked of Read.
type recBucket struct {
	ossclient.Bucket
	mu    sync.Mutex
	reads [][2]int64 // GUARDED_BY(mu): off, length
}

func (b *recBucket) Get(ctx context.Context, key string, off, length int64, opts ossclient.ReadOptions) (*ossclient.Body, error) {
	b.mu.Lock()
	b.reads = append(b.reads, [2]int64{off, length})
	b.mu.Unlock()
	return b.Bucket.Get(ctx, key, off, length, opts)
}

func (b *recBucket) taken() [][2]int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	r := b.reads
	b.reads = nil
	return r
}

// ReadAt is Read into p, for tests.
func (r *prefetcher) ReadAt(ctx context.Context, key string, p []byte, off int64) (int, error) {
	res, err := r.Read(ctx, key, p, off)
	if err != nil {
		return 0, err
	}
	defer res.Done()
	b, _ := res.Bytes(p)
	return copy(p, b), nil
}

// prefetchFixture stores a random object of size bytes.
func prefetchFixture(t *testing.T, size int) (*osstest.Server, *recBucket, []byte) {
	t.Helper()
	srv, b := testBucket(t)
	data := make([]byte, size)
	rand.Read(data)
	if _, err := b.Put(context.Background(), "obj", bytes.NewReader(data), ossclient.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	srv.ResetCounts()
	return srv, &recBucket{Bucket: b}, data
}

func readAll(t *testing.T, r *prefetcher, size int, block int) []byte {
	t.Helper()
	p := make([]byte, block)
	var got []byte
	for off := int64(0); off < int64(size); off += int64(block) {
		n, err := r.ReadAt(context.Background(), "obj", p, off)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, p[:n]...)
	}
	return got
}

// TestPrefetchSequential: a sequential read is served by growing chunks
// (256K, 512K, 1M, 2M, 4M, 8M, then the rest): 7 GETs for 20 MiB, each byte
// fetched once, none past the end.
func TestPrefetchSequential(t *testing.T) {
	const size = 20<<20 + 777
	_, b, data := prefetchFixture(t, size)
	r := newPrefetcher(b, version{size: size}, 64<<20, &readBudget{limit: 1 << 30})
	defer r.Close()
	if got := readAll(t, r, size, 128<<10); !bytes.Equal(got, data) {
		t.Fatal("sequential read differs")
	}
	reads := b.taken()
	var sum int64
	for _, rd := range reads {
		sum += rd[1]
	}
	if len(reads) != 7 || sum != size {
		t.Errorf("GETs %v (%d bytes), want 7 covering %d bytes", reads, sum, size)
	}
}

// TestPrefetchOutOfOrder: reads arriving concurrently and out of order, as
// the kernel's read-ahead sends them, are served from the same chunks.
func TestPrefetchOutOfOrder(t *testing.T) {
	const size, block = 12 << 20, 128 << 10
	_, b, data := prefetchFixture(t, size)
	r := newPrefetcher(b, version{size: size}, 64<<20, &readBudget{limit: 1 << 30})
	defer r.Close()
	got := make([]byte, size)
	for base := 0; base < size; base += 8 * block {
		var wg sync.WaitGroup
		for _, i := range []int{0, 2, 1, 3, 5, 4, 7, 6} {
			off := base + i*block
			wg.Go(func() {
				if _, err := r.ReadAt(context.Background(), "obj", got[off:off+block], int64(off)); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
	}
	if !bytes.Equal(got, data) {
		t.Fatal("concurrent read differs")
	}
	if reads := b.taken(); len(reads) > 10 {
		t.Errorf("%d GETs for a 12 MiB read out of order: %v", len(reads), reads)
	}
}

// TestPrefetchRandom: random reads fetch exactly what they ask, one GET
// each; a read continuing where the last ended starts read-ahead again.
func TestPrefetchRandom(t *testing.T) {
	const size = 32 << 20
	_, b, data := prefetchFixture(t, size)
	r := newPrefetcher(b, version{size: size}, 64<<20, &readBudget{limit: 1 << 30})
	defer r.Close()
	p := make([]byte, 4096)
	for _, off := range []int64{9 << 20, 1 << 20, 30 << 20, 17<<20 + 5, 4096} {
		n, err := r.ReadAt(context.Background(), "obj", p, off)
		if err != nil || n != len(p) || !bytes.Equal(p, data[off:off+4096]) {
			t.Fatalf("read at %d: %d %v", off, n, err)
		}
	}
	for _, rd := range b.taken() {
		if rd[1] != 4096 {
			t.Errorf("a random 4 KiB read asked for %d bytes", rd[1])
		}
	}
	// 4096+4096 continues the last read: sequential again.
	for off := int64(8192); off < 8192+4*4096; off += 4096 {
		if _, err := r.ReadAt(context.Background(), "obj", p, off); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(p, data[off:off+4096]) {
			t.Fatalf("bytes at %d differ", off)
		}
	}
	if reads := b.taken(); len(reads) != 1 || reads[0][1] != firstChunk {
		t.Errorf("sequential reads after a seek made GETs %v, want one %d-byte chunk", reads, firstChunk)
	}
}

// TestPrefetchBudget: with no read-ahead memory left, reads still work,
// each with its own GET.
func TestPrefetchBudget(t *testing.T) {
	const size = 1 << 20
	_, b, data := prefetchFixture(t, size)
	r := newPrefetcher(b, version{size: size}, 64<<20, &readBudget{limit: 0})
	defer r.Close()
	if got := readAll(t, r, size, 128<<10); !bytes.Equal(got, data) {
		t.Fatal("read without budget differs")
	}
	if reads := b.taken(); len(reads) != 8 {
		t.Errorf("%d GETs without budget, want 8 (one per read)", len(reads))
	}
}

// TestPrefetchErrors: a failed GET is the read's error, not cached: the
// next read asks again and gets the right bytes.
func TestPrefetchErrors(t *testing.T) {
	const size = 4 << 20
	srv, b, data := prefetchFixture(t, size)
	remove := srv.AddFault(osstest.Fault{Op: "GetObject", Status: 403, Code: "AccessDenied"})
	r := newPrefetcher(b, version{size: size}, 64<<20, &readBudget{limit: 1 << 30})
	defer r.Close()
	p := make([]byte, 128<<10)
	if _, err := r.ReadAt(context.Background(), "obj", p, 0); !errors.Is(err, ossclient.ErrAccessDenied) {
		t.Fatalf("read with GETs failing: %v, want access denied", err)
	}
	remove()
	if got := readAll(t, r, size, 128<<10); !bytes.Equal(got, data) {
		t.Fatal("read after the failure differs")
	}
}

// TestPrefetchCloseCancels: Close ends GETs in flight (a stalled server)
// and a read waiting on them returns.
func TestPrefetchCloseCancels(t *testing.T) {
	const size = 4 << 20
	srv, b, _ := prefetchFixture(t, size)
	srv.AddFault(osstest.Fault{Op: "GetObject", Stall: time.Minute})
	budget := &readBudget{limit: 1 << 30}
	r := newPrefetcher(b, version{size: size}, 64<<20, budget)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if _, err := r.ReadAt(ctx, "obj", make([]byte, 4096), 0); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("read against a stalled server: %v", err)
	}
	done := make(chan struct{})
	go func() { r.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close hung")
	}
	ended := make(chan struct{})
	go func() { r.fetches.Wait(); close(ended) }()
	select {
	case <-ended:
	case <-time.After(5 * time.Second): // the stall is a minute: Close did not cancel
		t.Fatal("the stalled GETs still run after Close")
	}
	if n := budget.used.Load(); n != 0 {
		t.Errorf("%d bytes of read-ahead still held after Close", n)
	}
}

// TestPrefetchReadZeroCopy: sequential FUSE reads are answered with the
// chunks' bytes, which stay held until Done, also when a read spans two
// chunks (two slices, one writev); every byte is right and the memory
// comes back.
func TestPrefetchReadZeroCopy(t *testing.T) {
	const size = 3 << 20
	_, b, data := prefetchFixture(t, size)
	budget := &readBudget{limit: 1 << 30}
	r := newPrefetcher(b, version{size: size}, 64<<20, budget)
	p := make([]byte, 128<<10)
	reads, spans := 0, 0
	for off := int64(0); off < size; off += int64(len(p)) - 1000 { // unaligned: some reads span chunks
		res, err := r.Read(context.Background(), "obj", p, off)
		if err != nil {
			t.Fatal(err)
		}
		reads++
		cr, ok := res.(*chunksResult)
		if !ok {
			t.Fatalf("read at %d: answered with a copy (%T), not the chunks' bytes", off, res)
		}
		if len(cr.slices) > 1 {
			spans++
		}
		var got []byte
		for _, s := range cr.slices {
			got = append(got, s...)
		}
		want := data[off:min(off+int64(len(p)), size)]
		if !bytes.Equal(got, want) || cr.Size() != len(want) {
			t.Fatalf("slices at %d differ", off)
		}
		if bs, _ := res.Bytes(make([]byte, len(p))); !bytes.Equal(bs, want) {
			t.Fatalf("bytes at %d differ", off)
		}
		res.Done()
	}
	if spans == 0 {
		t.Errorf("none of the %d reads spanned two chunks: the test does not test that", reads)
	}
	r.Close()
	r.fetches.Wait() // the GETs Close cancelled end on their own time
	if n := budget.used.Load(); n != 0 {
		t.Errorf("%d bytes of read-ahead held after Done, Close and the end of the GETs", n)
	}
}

// BenchmarkPrefetchSequential reads a 64 MiB object through the prefetcher
// in 1 MiB FUSE-sized reads from the local server (bytes/s is the
// throughput; compare with BenchmarkDirectGet for the raw ranged GETs).
func BenchmarkPrefetchSequential(b *testing.B) {
	const size = 64 << 20
	_, bkt := testBucket(b)
	data := make([]byte, size)
	rand.Read(data)
	if _, err := bkt.Put(context.Background(), "obj", bytes.NewReader(data), ossclient.PutOptions{}); err != nil {
		b.Fatal(err)
	}
	p := make([]byte, 1<<20)
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		r := newPrefetcher(bkt, version{size: size}, 64<<20, &readBudget{limit: 1 << 30})
		for off := int64(0); off < size; off += int64(len(p)) {
			res, err := r.Read(context.Background(), "obj", p, off)
			if err != nil {
				b.Fatal(err)
			}
			res.Done()
		}
		r.Close()
	}
}

// BenchmarkDirectGet reads the same 64 MiB with one GET per 1 MiB, one
// after the other: what the prefetcher's parallel chunks are to beat.
func BenchmarkDirectGet(b *testing.B) {
	const size = 64 << 20
	_, bkt := testBucket(b)
	if _, err := bkt.Put(context.Background(), "obj", bytes.NewReader(make([]byte, size)), ossclient.PutOptions{}); err != nil {
		b.Fatal(err)
	}
	p := make([]byte, 1<<20)
	b.SetBytes(size)
	for b.Loop() {
		for off := int64(0); off < size; off += int64(len(p)) {
			rc, err := bkt.Read(context.Background(), "obj", off, int64(len(p)))
			if err != nil {
				b.Fatal(err)
			}
			if _, err := io.ReadFull(rc, p); err != nil {
				b.Fatal(err)
			}
			rc.Close()
		}
	}
}
