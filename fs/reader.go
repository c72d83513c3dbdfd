package fs

import "context"

// objectReader reads an object for one open file handle; prefetcher
// (prefetch.go) is the implementation, an interface so that tests and
// other read-ahead policies can stand in for it.
type objectReader interface {
	// ReadAt fills p from off; a short count means the object ended.
	ReadAt(ctx context.Context, key string, p []byte, off int64) (int, error)
	// Close stops the reads in flight and frees their memory.
	Close()
}

var _ objectReader = (*prefetcher)(nil)
