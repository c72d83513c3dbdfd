package fs

import (
	"context"
	"errors"
	"io"
	"sync"
	"sync/atomic"

	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/ossfs/ossfs/ossclient"
)

// The read path of a handle without staging (see reader.go's objectReader).
//
// prefetcher keeps a queue of chunks — ranged GETs into buffers, running in
// parallel — ahead of a sequential reader. Each chunk is twice the size of
// the one before (firstChunk up to maxChunk) and the span scheduled ahead of
// the reader doubles each time the reader gets past a chunk (up to
// Options.ReadAhead), so a file read to the end soon has several large GETs
// in flight, while a small file or a short read costs one small GET.
//
// A read is sequential when it starts inside the queued span, or a little
// past it (the kernel's own read-ahead sends reads out of order and
// concurrently). Any other read is random: the queue is dropped (its GETs
// cancelled) and the read is served by one ranged GET of exactly the bytes
// asked. Read-ahead starts again only when a read continues where the last
// one ended — so random reads never pay for megabytes they do not use.
//
// Versions: every GET is If-Match the ETag of the version the handle's open
// saw (version.go), so bytes of another version never come back: the GET
// fails (412, or 404 once deleted) and the read with it. The open's own GET
// of the first chunk becomes the queue's first chunk (seed). A connection
// dropped mid-body is resumed by the Bucket (ossclient.Body).
//
// Memory: chunks hold their buffers until the reader has moved past them;
// every handle's chunks together stay under Options.ReadAheadTotal (a read
// that finds the budget spent is served directly, without read-ahead).

// Chunk and window sizes.
const (
	firstChunk = 256 << 10
	maxChunk   = 8 << 20
	// keepBehind is how far behind the newest read a chunk is kept, for
	// reads the kernel sends out of order.
	keepBehind = 2 << 20
	// nearBy is how far from the previous read a read may start and still
	// count as sequential (the kernel sends reads out of order).
	nearBy = 1 << 20
)

// errDropped ends the GET of a chunk dropped by a seek or Close.
var errDropped = errors.New("read-ahead chunk dropped")

// readBudget bounds the bytes held by every handle's chunks.
type readBudget struct {
	limit int64
	used  atomic.Int64
}

func (b *readBudget) take(n int64) bool {
	if b.used.Add(n) > b.limit {
		b.used.Add(-n)
		return false
	}
	return true
}

func (b *readBudget) give(n int64) { b.used.Add(-n) }

// chunk is one ranged GET of [off, off+size) into buf.
type chunk struct {
	off, size int64
	buf       []byte
	cancel    context.CancelFunc
	done      chan struct{}
	n         int   // bytes in buf; set before done is closed
	err       error // set before done is closed
	refs      atomic.Int32
	budget    *readBudget
}

func (c *chunk) end() int64 { return c.off + c.size }

// release drops a reference; the last one frees the buffer.
func (c *chunk) release() {
	if c.refs.Add(-1) == 0 {
		putBuf(c.buf)
		c.buf = nil
		c.budget.give(c.size)
	}
}

// prefetcher is one handle's objectReader.
type prefetcher struct {
	bucket   ossclient.Bucket
	etag     string // the version read (If-Match); "" any
	size     int64  // the version's size; chunks never go past it
	maxAhead int64
	budget   *readBudget

	mu      sync.Mutex
	key     string   // GUARDED_BY(mu): the key the queue was read from
	chunks  []*chunk // GUARDED_BY(mu): contiguous, in offset order
	next    int64    // GUARDED_BY(mu): end of the queued span
	nextSz  int64    // GUARDED_BY(mu): size of the next chunk
	ahead   int64    // GUARDED_BY(mu): span to keep queued past a read
	grown   int64    // GUARDED_BY(mu): chunk end up to which the window has grown
	lastEnd int64    // GUARDED_BY(mu): end of the previous read; -1 none yet
	closed  bool     // GUARDED_BY(mu)

	// fetches counts the chunk GETs still running (a dropped chunk's GET
	// holds its buffer until it has ended); tests wait for them.
	fetches sync.WaitGroup
}

func newPrefetcher(b ossclient.Bucket, v version, maxAhead int64, budget *readBudget) *prefetcher {
	return &prefetcher{bucket: b, etag: v.etag, size: v.size, maxAhead: max(maxAhead, firstChunk), budget: budget, lastEnd: -1}
}

// seed makes body (the bytes from 0 of key, from a GET under ctx that stop
// cancels) the queue's first chunk, as if a first read at 0 had asked for
// it; without budget for it, the body is dropped.
func (r *prefetcher) seed(ctx context.Context, stop context.CancelFunc, key string, body io.ReadCloser) {
	size := min(int64(firstChunk), r.size)
	r.mu.Lock()
	defer r.mu.Unlock()
	if size <= 0 || r.closed || len(r.chunks) > 0 || !r.budget.take(size) {
		body.Close()
		stop()
		return
	}
	r.key = key
	c := &chunk{off: 0, size: size, buf: getBuf(size), done: make(chan struct{}), budget: r.budget, cancel: stop}
	c.refs.Store(2)
	r.fetches.Go(func() { c.fill(ctx, body) })
	r.chunks = append(r.chunks, c)
	r.next, r.nextSz, r.ahead, r.grown = size, min(2*firstChunk, maxChunk), firstChunk, 0
}

// Read serves a FUSE read of p at off: from the queue when the read is
// sequential, else with one ranged GET of exactly p. A read that the
// queue's chunks hold is answered with the chunks' own bytes (no copy, even
// across a chunk boundary); the chunks stay referenced until go-fuse has
// sent them to the kernel (chunksResult.Done).
func (r *prefetcher) Read(ctx context.Context, key string, p []byte, off int64) (fuse.ReadResult, error) {
	cs := r.plan(key, off, off+int64(len(p)))
	if cs == nil {
		n, err := r.direct(ctx, key, p, off)
		return fuse.ReadResultData(p[:n]), err
	}
	if res := fromChunks(ctx, cs, off, len(p)); res != nil {
		return res, nil
	}
	n, err := r.copyFrom(ctx, key, cs, p, off)
	return fuse.ReadResultData(p[:n]), err
}

// fromChunks answers a read of size bytes at off with the bytes of cs, the
// chunks holding it, once they have all arrived. It returns nil (cs still
// referenced) when one failed or ctx ended first: copyFrom deals with that.
func fromChunks(ctx context.Context, cs []*chunk, off int64, size int) *chunksResult {
	res := &chunksResult{cs: cs, slices: make([][]byte, 0, len(cs))}
	for _, c := range cs {
		select {
		case <-c.done:
		case <-ctx.Done():
			return nil
		}
		if c.err != nil {
			return nil
		}
	}
	for _, c := range cs {
		i := off - c.off
		if i >= int64(c.n) || size == 0 {
			break // the object ended early (it shrank)
		}
		b := c.buf[i:min(i+int64(size), int64(c.n))]
		res.slices = append(res.slices, b)
		res.size += len(b)
		off, size = off+int64(len(b)), size-len(b)
		if c.n < int(c.size) {
			break // short chunk: the object ended here
		}
	}
	return res
}

// chunksResult is a read answered from chunk buffers. go-fuse writes its
// slices to the kernel with one writev (Slices) and then calls Done.
type chunksResult struct {
	cs     []*chunk
	slices [][]byte
	size   int
}

func (r *chunksResult) Slices() ([][]byte, fuse.Status) { return r.slices, fuse.OK }
func (r *chunksResult) Size() int                       { return r.size }

// Bytes is for a caller that needs the bytes in one piece.
func (r *chunksResult) Bytes(buf []byte) ([]byte, fuse.Status) {
	if len(r.slices) == 1 {
		return r.slices[0], fuse.OK
	}
	if len(buf) < r.size {
		buf = make([]byte, r.size)
	}
	n := 0
	for _, s := range r.slices {
		n += copy(buf[n:], s)
	}
	return buf[:n], fuse.OK
}

func (r *chunksResult) Done() {
	for _, c := range r.cs {
		c.release()
	}
}

// plan updates the queue for a read of [off, end) and returns the chunks
// holding it, each referenced, or nil when the read is to be served
// directly.
func (r *prefetcher) plan(key string, off, end int64) []*chunk {
	r.mu.Lock()
	defer r.mu.Unlock()
	if key != r.key {
		r.dropLocked()
		r.key = key
	}
	switch {
	case r.inWindowLocked(off):
	case r.stragglerLocked(off):
		// A read the kernel sent late, just behind the queue: served on
		// its own, the queue kept.
		return nil
	default:
		r.dropLocked()
		if start, ok := r.seqStartLocked(off); ok {
			r.next, r.nextSz, r.ahead, r.grown = start, firstChunk, 0, start
			if r.lastEnd < 0 {
				r.ahead = firstChunk // from the start of a file: a chunk ahead at once
			}
		}
	}
	r.lastEnd = end
	r.growLocked(end)
	r.scheduleLocked(end)
	cs := r.coveringLocked(off, end)
	r.trimLocked(off)
	return cs
}

// stragglerLocked: off lies just behind the queue. LOCKS_REQUIRED(r.mu)
func (r *prefetcher) stragglerLocked(off int64) bool {
	return len(r.chunks) > 0 && off < r.chunks[0].off && off >= r.chunks[0].off-nearBy
}

// seqStartLocked says whether a read at off, outside the queue, starts
// sequential reading, and from where: near the start of the file as the
// first read, or near where the previous read ended (reads arrive out of
// order, so "near" rather than "at"). After a seek, the window starts empty
// and grows only as the reads go on. LOCKS_REQUIRED(r.mu)
func (r *prefetcher) seqStartLocked(off int64) (int64, bool) {
	if off >= r.size || r.closed {
		return 0, false
	}
	if r.lastEnd < 0 {
		return 0, off < nearBy
	}
	if off < r.lastEnd-nearBy || off > r.lastEnd+nearBy {
		return 0, false
	}
	return min(off, r.lastEnd), true
}

// inWindowLocked: off is inside the queued span or at most one window past
// its end. LOCKS_REQUIRED(r.mu)
func (r *prefetcher) inWindowLocked(off int64) bool {
	return len(r.chunks) > 0 && off >= r.chunks[0].off && off <= r.next+r.ahead
}

// scheduleLocked queues chunks until the span reaches end plus the window,
// within the object and the budget. LOCKS_REQUIRED(r.mu)
func (r *prefetcher) scheduleLocked(end int64) {
	if r.nextSz == 0 || r.closed {
		return // not sequential: nothing is queued
	}
	for r.next < min(end+r.ahead, r.size) {
		size := min(r.nextSz, r.size-r.next)
		if !r.budget.take(size) {
			return
		}
		c := &chunk{off: r.next, size: size, buf: getBuf(size), done: make(chan struct{}), budget: r.budget}
		c.refs.Store(2) // the queue's and the GET's
		ctx, cancel := context.WithCancel(context.Background())
		c.cancel = cancel
		bucket, key, etag := r.bucket, r.key, r.etag
		r.fetches.Go(func() { c.fetch(ctx, bucket, key, etag) })
		r.chunks = append(r.chunks, c)
		r.next += size
		r.nextSz = min(2*r.nextSz, maxChunk)
	}
}

// coveringLocked returns the queued chunks that hold [off, end), each with
// a reference taken, or nil when the queue does not hold all of it.
// LOCKS_REQUIRED(r.mu)
func (r *prefetcher) coveringLocked(off, end int64) []*chunk {
	end = min(end, r.size)
	if len(r.chunks) == 0 || off < r.chunks[0].off || end > r.next || off >= end {
		return nil
	}
	var cs []*chunk
	for _, c := range r.chunks {
		if c.end() > off && c.off < end {
			c.refs.Add(1)
			cs = append(cs, c)
		}
	}
	return cs
}

// growLocked doubles the window for every chunk a read reaches past the
// end of for the first time. LOCKS_REQUIRED(r.mu)
func (r *prefetcher) growLocked(end int64) {
	for _, c := range r.chunks {
		if c.end() > r.grown && c.end() < end {
			r.ahead = min(max(2*r.ahead, firstChunk), r.maxAhead)
			r.grown = c.end()
		}
	}
}

// trimLocked drops the chunks the reader has left behind.
// LOCKS_REQUIRED(r.mu)
func (r *prefetcher) trimLocked(off int64) {
	i := 0
	for i < len(r.chunks) && r.chunks[i].end() <= off-keepBehind {
		r.chunks[i].release()
		i++
	}
	r.chunks = r.chunks[i:]
}

// dropLocked cancels and forgets the queue. LOCKS_REQUIRED(r.mu)
func (r *prefetcher) dropLocked() {
	for _, c := range r.chunks {
		c.cancel()
		c.release()
	}
	r.chunks, r.nextSz = nil, 0
}

// copyFrom waits for the chunks and copies their bytes into p. A chunk that
// failed because it was dropped is read again directly.
func (r *prefetcher) copyFrom(ctx context.Context, key string, cs []*chunk, p []byte, off int64) (int, error) {
	defer func() {
		for _, c := range cs {
			c.release()
		}
	}()
	total := 0
	for _, c := range cs {
		select {
		case <-c.done:
		case <-ctx.Done():
			return total, ctx.Err()
		}
		at := off + int64(total)
		if c.err != nil {
			if errors.Is(c.err, errDropped) {
				n, err := r.direct(ctx, key, p[total:], at)
				return total + n, err
			}
			r.forget(c)
			return total, c.err
		}
		i := at - c.off
		if i >= int64(c.n) {
			return total, nil // the object ended early (it shrank)
		}
		total += copy(p[total:], c.buf[i:c.n])
		if c.n < int(c.size) {
			return total, nil // short chunk: the object ended here
		}
	}
	return total, nil
}

// forget drops a failed chunk (and everything after it) so that the next
// read asks again instead of repeating the error.
func (r *prefetcher) forget(c *chunk) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, q := range r.chunks {
		if q == c {
			for _, d := range r.chunks[i:] {
				d.cancel()
				d.release()
			}
			r.chunks = r.chunks[:i]
			r.next = c.off
			return
		}
	}
}

// fetch runs the chunk's GET.
func (c *chunk) fetch(ctx context.Context, b ossclient.Bucket, key, etag string) {
	body, err := b.Get(ctx, key, c.off, c.size, ossclient.ReadOptions{IfMatch: etag})
	if err != nil {
		c.finish(ctx, 0, err)
		return
	}
	c.fill(ctx, body)
}

// fill reads the chunk from body, its GET's answer under ctx.
func (c *chunk) fill(ctx context.Context, body io.ReadCloser) {
	n, err := readBody(body, c.buf[:c.size])
	body.Close()
	c.finish(ctx, n, err)
}

// finish records the chunk's outcome and ends its GET. An error caused by
// the chunk being dropped (its request's context, ctx, cancelled) is
// errDropped.
func (c *chunk) finish(ctx context.Context, n int, err error) {
	defer c.release()
	defer close(c.done)
	if err != nil && ctx.Err() != nil {
		err = errDropped
	}
	c.n, c.err = n, err
	c.cancel()
}

// direct reads exactly p at off with one ranged GET.
func (r *prefetcher) direct(ctx context.Context, key string, p []byte, off int64) (int, error) {
	body, err := r.bucket.Get(ctx, key, off, int64(len(p)), ossclient.ReadOptions{IfMatch: r.etag})
	if err != nil {
		return 0, err
	}
	defer body.Close()
	return readBody(body, p)
}

// readBody fills p from a GET's body. The body ending early (io.EOF) is
// the object ending, not an error; a body cut short (a dropped connection:
// io.ErrUnexpectedEOF) is an error, never a short read that the kernel
// would take for the end of the file.
func readBody(body io.Reader, p []byte) (int, error) {
	n := 0
	for n < len(p) {
		m, err := body.Read(p[n:])
		n += m
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// Close cancels the GETs in flight and frees the buffers.
func (r *prefetcher) Close() {
	r.mu.Lock()
	r.closed = true
	r.dropLocked()
	r.mu.Unlock()
}
