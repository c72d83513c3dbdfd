package cache

import (
	"context"
	"errors"

	"github.com/ossfs/ossfs/ossclient"
)

// Get passes through (object bodies are not cached here) and keeps the
// metadata caches honest with what the GET saw. An answer with the
// object's headers is as good as a HEAD: it is cached as the key's stat
// entry (and its metadata remembered), after dropping the key's entries
// and its directory's listing, as by Invalidate, when it shows a version
// other than the cached one. So an open that revalidates with a GET
// (package fs) also refreshes what stat and ls show, and a getattr right
// after it needs no request. It is not cached when a mutation through this
// Bucket (of any key) ended or is in flight meanwhile: the GET may have
// been answered before it landed. A GET that shows the key missing while a
// cached answer has it drops the key's entries; a NotModified answer
// changes nothing.
func (b *Bucket) Get(ctx context.Context, key string, off, length int64, opts ossclient.ReadOptions) (*ossclient.Body, error) {
	b.fl.mu.Lock()
	ended := b.ended
	b.fl.mu.Unlock()
	body, err := b.inner.Get(ctx, key, off, length, opts)
	switch {
	case err == nil && !body.NotModified && body.Object.ETag != "":
		b.learnGet(&body.Object, ended)
	case errors.Is(err, ossclient.ErrNotFound):
		if _, cerr, ok := b.statCached(key); ok && cerr == nil {
			b.Invalidate(key)
		}
	}
	return body, err
}

// learnGet keeps o, a GET's answer, as Get says; ended is b.ended when the
// GET was sent.
func (b *Bucket) learnGet(o *ossclient.Object, ended uint64) {
	key := o.Key
	c, cerr, ok := b.statCached(key)
	changed := ok && (cerr != nil || c.ETag != o.ETag || (o.Size >= 0 && c.Size != o.Size))
	full := !o.MetaUnknown && o.Meta != nil && o.Size >= 0
	if !changed && !full {
		return
	}
	// A HEAD in flight may answer an older version: it must not replace
	// this answer. A changed version also makes the listing stale.
	fks := []string{"s:" + key, "m:" + key}
	if changed {
		fks = flightKeys([]string{key}, true)
	}
	b.fl.invalidate(fks, func() {
		if changed {
			b.dropKeyLocked(key, true)
		}
		if full && b.ended == ended && b.muts[key] == nil {
			b.storeStat(key, o, nil)
		}
	})
}
