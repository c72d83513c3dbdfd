package cache

import (
	"context"
	"errors"

	"github.com/ossfs/ossfs/ossclient"
)

// symEntry is a cached GetSymlink answer: link (never mutated once cached)
// or a cacheable error (not found, not a symlink).
type symEntry struct {
	link *ossclient.Symlink
	err  error
}

// GetSymlink answers from the symlink cache, or with one GetSymlink shared
// by every concurrent caller and by a prefetch of the same key in flight.
func (b *Bucket) GetSymlink(ctx context.Context, key string) (*ossclient.Symlink, error) {
	if e, ok := b.syms.Get(key); ok {
		b.c.symHits.Add(1)
		return cloneSymlink(e.link), e.err
	}
	b.c.symMisses.Add(1)
	v, err, shared := b.fetchSymlink(ctx, key, false)
	b.countShared(shared)
	if err != nil {
		return nil, err
	}
	return cloneSymlink(v.(*ossclient.Symlink)), nil
}

// fetchSymlink runs or joins the GetSymlink of key; prefetch says who asks.
func (b *Bucket) fetchSymlink(ctx context.Context, key string, prefetch bool) (any, error, bool) {
	return b.fl.do(ctx, "y:"+key,
		func() (any, error, bool) {
			e, ok := b.syms.Peek(key)
			return e.link, e.err, ok
		},
		func(ctx context.Context) (any, error) {
			if prefetch {
				b.c.prefetches.Add(1)
			}
			return b.inner.GetSymlink(ctx, key)
		},
		func(v any, err error) { b.storeSymlinkLocked(key, v, err) })
}

// storeSymlinkLocked caches a GetSymlink answer. LOCKS_REQUIRED(b.fl.mu)
func (b *Bucket) storeSymlinkLocked(key string, v any, err error) {
	switch {
	case err == nil:
		b.syms.Add(key, symEntry{link: cloneSymlink(v.(*ossclient.Symlink))})
	case errors.Is(err, ossclient.ErrNotFound), errors.Is(err, ossclient.ErrNotSymlink):
		b.syms.AddTTL(key, symEntry{err: err}, b.opts.NegativeTTL)
	}
}

// uncachedLinks returns the keys of l's symlinks that the symlink cache
// does not hold.
func (b *Bucket) uncachedLinks(l *ossclient.Listing) []string {
	if b.sem == nil {
		return nil
	}
	var keys []string
	for i := range l.Objects {
		o := &l.Objects[i]
		if o.IsSymlink() {
			if _, ok := b.syms.Peek(o.Key); !ok {
				keys = append(keys, o.Key)
			}
		}
	}
	return keys
}

// prefetch fetches the targets of keys in the background, at most
// PrefetchSymlinks at a time across the whole Bucket, through the same
// singleflight as GetSymlink: a readlink arriving meanwhile waits on the
// prefetch's request instead of issuing its own. Close stops it.
func (b *Bucket) prefetch(keys []string) {
	if len(keys) == 0 || b.sem == nil {
		return
	}
	b.spawn(func(ctx context.Context) {
		for _, key := range keys {
			if _, ok := b.syms.Peek(key); ok || b.fl.busy("y:"+key) {
				continue
			}
			select {
			case b.sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
			if !b.spawn(func(ctx context.Context) {
				defer func() { <-b.sem }()
				b.prefetchOne(ctx, key)
			}) {
				<-b.sem
				return
			}
		}
	})
}

func (b *Bucket) prefetchOne(ctx context.Context, key string) {
	if ctx.Err() != nil {
		return
	}
	_, err, _ := b.fetchSymlink(ctx, key, true)
	if err != nil && ctx.Err() == nil {
		b.log.Debug("symlink prefetch failed", "op", "GetSymlink", "key", key, "err", err)
	}
}

func cloneSymlink(s *ossclient.Symlink) *ossclient.Symlink {
	if s == nil {
		return nil
	}
	c := *s
	c.Meta = cloneMeta(s.Meta)
	return &c
}
