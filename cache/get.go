package cache

import (
	"context"
	"errors"

	"github.com/ossfs/ossfs/ossclient"
)

// Get passes through (object bodies are not cached here) and keeps the
// metadata caches honest with what the GET saw: when its answer shows a
// version other than the cached one (another ETag or size), or shows the
// key missing while a cached answer has it, the key's entries and its
// directory's listing are dropped, as by Invalidate, so the next Stat or
// List asks OSS. A GET that agrees with the cache, or is NotModified,
// changes nothing. So an open that revalidates with a GET (package fs) also
// refreshes what stat and ls show.
func (b *Bucket) Get(ctx context.Context, key string, off, length int64, opts ossclient.ReadOptions) (*ossclient.Body, error) {
	body, err := b.inner.Get(ctx, key, off, length, opts)
	switch {
	case err == nil && !body.NotModified && body.Object.ETag != "":
		if o, cerr, ok := b.statCached(key); ok && (cerr != nil || o.ETag != body.Object.ETag ||
			(body.Object.Size >= 0 && o.Size != body.Object.Size)) {
			b.Invalidate(key)
		}
	case errors.Is(err, ossclient.ErrNotFound):
		if _, cerr, ok := b.statCached(key); ok && cerr == nil {
			b.Invalidate(key)
		}
	}
	return body, err
}
