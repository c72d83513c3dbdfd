package datacache

import (
	"context"
	"hash/crc32"
	"io"
	"math"
	"os"
	"sync"

	"github.com/ossfs/ossfs/ossclient"
)

// Bucket returns inner with its Get going through the cache (every other
// method is inner's):
//
//   - A Get If-Match a version whose entry holds every block of the range
//     is answered from disk, without a request; its Body's Object holds
//     only Key, ETag and Size.
//   - Any other Get is sent to inner, widened to whole blocks, and the
//     blocks its answer delivers are cached under the answer's ETag while
//     the caller reads the range it asked for.
func (c *Cache) Bucket(inner ossclient.Bucket) ossclient.Bucket {
	return &bucket{Bucket: inner, c: c}
}

type bucket struct {
	ossclient.Bucket
	c *Cache
}

func (b *bucket) Get(ctx context.Context, key string, off, length int64, opts ossclient.ReadOptions) (*ossclient.Body, error) {
	if opts.IfMatch != "" && length != 0 && off >= 0 {
		end := int64(math.MaxInt64)
		if length > 0 {
			end = off + length
		}
		if e := b.c.lookup(key, opts.IfMatch, off, end); e != nil {
			h := &hitBody{b: b, ctx: ctx, e: e, pos: off, end: min(end, e.size)}
			return &ossclient.Body{ReadCloser: h, Object: ossclient.Object{Key: key, ETag: e.etag, Size: e.size}}, nil
		}
	}
	return b.fetch(ctx, key, off, length, opts)
}

// fetch sends the Get to OSS, widened to whole blocks, and caches what its
// body delivers.
func (b *bucket) fetch(ctx context.Context, key string, off, length int64, opts ossclient.ReadOptions) (*ossclient.Body, error) {
	if length == 0 || off < 0 {
		return b.Bucket.Get(ctx, key, off, length, opts)
	}
	aoff, alen := off-off%BlockSize, int64(-1)
	if length > 0 {
		aend := (off + length + BlockSize - 1) / BlockSize * BlockSize
		alen = aend - aoff
	}
	body, err := b.Bucket.Get(ctx, key, aoff, alen, opts)
	if err != nil || body.NotModified {
		return body, err
	}
	t := &teeBody{c: b.c, rc: body.ReadCloser, pos: aoff, from: off, to: int64(math.MaxInt64), idx: aoff / BlockSize}
	if length > 0 {
		t.to, t.aend = off+length, aoff+alen
	}
	if o := body.Object; o.ETag != "" && o.Size >= 0 && aoff < o.Size {
		t.e = b.c.entryFor(key, o.ETag, o.Size)
	}
	body.ReadCloser = t
	return body, nil
}

// Block buffers.
var blockPool = sync.Pool{New: func() any { b := make([]byte, BlockSize); return &b }}

func getBlock() []byte  { return *blockPool.Get().(*[]byte) }
func putBlock(b []byte) { blockPool.Put(&b) }

// teeBody yields [from, to) of a GET's body of [pos, aend) and caches each
// whole block of it it reads (into e, nil: none).
type teeBody struct {
	c        *Cache
	rc       io.ReadCloser
	e        *entry
	pos      int64 // offset of the next byte of rc
	from, to int64 // what the caller asked for
	aend     int64 // end of the widened range (0: to the object's end)
	idx      int64 // block being filled
	buf      []byte
	fill     int // bytes of block idx in buf
}

func (t *teeBody) Read(p []byte) (int, error) {
	for t.pos < t.from { // the widened head: cached, not returned
		if err := t.skip(t.from - t.pos); err != nil {
			return 0, err
		}
	}
	if t.pos >= t.to {
		t.drain()
		return 0, io.EOF
	}
	n, err := t.rc.Read(p[:min(int64(len(p)), t.to-t.pos)])
	t.feed(p[:n])
	return n, err
}

// skip reads up to n bytes of rc into the cache only.
func (t *teeBody) skip(n int64) error {
	s := getBlock()
	defer putBlock(s)
	k, err := t.rc.Read(s[:min(n, BlockSize)])
	t.feed(s[:k])
	if k == 0 && err == nil {
		return io.ErrNoProgress
	}
	return err
}

// drain caches the widened tail past what the caller asked for.
func (t *teeBody) drain() {
	for t.e != nil && t.pos < t.aend {
		if t.skip(t.aend-t.pos) != nil {
			return
		}
	}
}

// feed passes bytes read from rc (at pos) to the block being filled.
func (t *teeBody) feed(b []byte) {
	t.pos += int64(len(b))
	for len(b) > 0 && t.e != nil {
		want := t.e.blockLen(t.idx)
		if want <= 0 {
			t.e = nil
			break
		}
		if t.buf == nil {
			t.buf = getBlock()
		}
		k := copy(t.buf[t.fill:want], b)
		t.fill += k
		b = b[k:]
		if t.fill == want {
			t.c.store(t.e, t.idx, t.buf[:want])
			t.idx++
			t.fill = 0
		}
	}
}

func (t *teeBody) Close() error {
	if t.pos >= t.to {
		t.drain() // the caller read all it asked for: cache the rest of the last block
	}
	if t.buf != nil {
		putBlock(t.buf)
		t.buf = nil
	}
	return t.rc.Close()
}

// hitBody yields [pos, end) of e from disk, checking each block's
// checksum. A block that fails the check, or was evicted meanwhile, ends
// the disk reads: the rest comes from a GET If-Match e's version.
type hitBody struct {
	b        *bucket
	ctx      context.Context
	e        *entry
	pos, end int64
	f        *os.File
	buf      []byte // a block read for a read smaller than it
	bufAt    int64  // offset of buf[0]
	fallback io.ReadCloser
}

func (h *hitBody) Read(p []byte) (int, error) {
	if h.fallback != nil {
		return h.fallback.Read(p)
	}
	if h.pos >= h.end {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	if h.buf != nil && h.pos >= h.bufAt && h.pos < h.bufAt+int64(len(h.buf)) {
		k := copy(p[:min(int64(len(p)), h.end-h.pos)], h.buf[h.pos-h.bufAt:])
		h.pos += int64(k)
		return k, nil
	}
	idx := h.pos / BlockSize
	start := idx * BlockSize
	dst := p
	if h.pos != start || len(p) < h.e.blockLen(idx) || start+int64(h.e.blockLen(idx)) > h.end {
		if h.buf == nil {
			h.buf = getBlock()
		}
		dst = h.buf[:BlockSize]
	}
	n, err := h.load(idx, dst)
	if err != nil {
		return h.switchToGet(p)
	}
	if &dst[0] == &p[0] {
		h.pos += int64(n)
		return n, nil
	}
	h.buf, h.bufAt = h.buf[:n], start
	return h.Read(p)
}

// load reads block idx into dst and checks it.
func (h *hitBody) load(idx int64, dst []byte) (int, error) {
	c := h.b.c
	crc, n, ok := c.checksum(h.e, idx)
	if !ok {
		return 0, os.ErrNotExist // evicted: not a fault
	}
	var err error
	if h.f == nil {
		h.f, err = os.Open(h.e.path)
	}
	var k int
	if err == nil {
		k, err = h.f.ReadAt(dst[:n], idx*BlockSize)
	}
	if err == nil && (k != n || crc32.Checksum(dst[:n], castagnoli) != crc) {
		err = errCorrupt
	}
	if _, _, still := c.checksum(h.e, idx); err != nil && !still {
		return 0, os.ErrNotExist // evicted while being read: not a fault
	}
	if err != nil {
		c.drop(h.e, "a cached block is unreadable or corrupt", err)
		return 0, err
	}
	c.served()
	return n, nil
}

// errCorrupt is a block whose bytes do not match its checksum.
var errCorrupt = corruptError{}

type corruptError struct{}

func (corruptError) Error() string { return "checksum mismatch" }

// switchToGet reads the rest of the range with a GET of the same version.
func (h *hitBody) switchToGet(p []byte) (int, error) {
	body, err := h.b.fetch(h.ctx, h.e.key, h.pos, h.end-h.pos, ossclient.ReadOptions{IfMatch: h.e.etag})
	if err != nil {
		return 0, err
	}
	h.fallback = body.ReadCloser
	return h.fallback.Read(p)
}

func (h *hitBody) Close() error {
	if h.f != nil {
		h.f.Close()
	}
	if h.buf != nil {
		putBlock(h.buf[:cap(h.buf)])
		h.buf = nil
	}
	if h.fallback != nil {
		return h.fallback.Close()
	}
	return nil
}
