package fs

import "sync"

// Chunk buffers are pooled by size class (powers of two), so a long read
// reuses a handful of buffers instead of allocating a gigabyte.
var bufPools sync.Map // size class -> *sync.Pool

func sizeClass(n int64) int64 {
	c := int64(firstChunk)
	for c < n {
		c *= 2
	}
	return c
}

// smallBuf is the size below which a chunk's buffer is allocated to size
// rather than taken from a pool of 256 KiB buffers: a small file's open
// (which reads its first chunk at once) then holds only its size.
const smallBuf = 64 << 10

func getBuf(n int64) []byte {
	if n < smallBuf {
		return make([]byte, n) // putBuf finds no pool for its capacity
	}
	cl := sizeClass(n)
	p, _ := bufPools.LoadOrStore(cl, &sync.Pool{New: func() any { b := make([]byte, cl); return &b }})
	return (*p.(*sync.Pool).Get().(*[]byte))[:n]
}

func putBuf(b []byte) {
	if b == nil {
		return
	}
	b = b[:cap(b)]
	if p, ok := bufPools.Load(int64(cap(b))); ok {
		p.(*sync.Pool).Put(&b)
	}
}
