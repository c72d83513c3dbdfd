package fs

import (
	"context"

	"github.com/hanwen/go-fuse/v2/fuse"
)

// objectReader reads an object for one open file handle; prefetcher
// (prefetch.go) is the implementation, an interface so that tests and
// other read-ahead policies can stand in for it.
type objectReader interface {
	// Read answers a FUSE read of len(p) bytes at off, possibly with bytes
	// it holds instead of p; a short answer means the object ended.
	Read(ctx context.Context, key string, p []byte, off int64) (fuse.ReadResult, error)
	// Close stops the reads in flight and frees their memory.
	Close()
}

var _ objectReader = (*prefetcher)(nil)
