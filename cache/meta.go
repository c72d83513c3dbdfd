package cache

import (
	"context"
	"slices"
	"time"

	"github.com/ossfs/ossfs/ossclient"
)

// metaEntry is the user metadata of one version of an object (see
// ossclient.SameVersion), as a HEAD, a Put or a metadata-replacing Copy
// through this Bucket gave it.
type metaEntry struct {
	ver  ossclient.Object // Key, ETag and ModTime only
	meta map[string]string
}

// metaTTL is how long a metaEntry read after its version's Last-Modified
// second is kept. It is used only for the version it names, which a fresh
// listing or HEAD must show, so age does not make it wrong: the LRU bound,
// not the TTL, is what limits it.
const metaTTL = 30 * 24 * time.Hour

// rememberMetaLocked keeps the metadata of o's version (not for symlinks,
// whose HEAD answers describe their target). Metadata read within the
// Last-Modified second of its version (or at an unknown time: a Put's or
// Copy's own answer) could be changed again by another client in that same
// second without a new version: it is kept for StatTTL only, after which a
// HEAD reads it again. Nothing is remembered for a key while a mutation
// of it is in flight (see begin). LOCKS_REQUIRED(b.fl.mu)
func (b *Bucket) rememberMetaLocked(o *ossclient.Object) {
	if o == nil || o.MetaUnknown || o.Meta == nil || o.ETag == "" || o.IsSymlink() || b.muts[o.Key] != nil {
		return
	}
	ttl := metaTTL
	if o.ReadAt.Unix() <= o.ModTime.Unix() {
		ttl = b.opts.StatTTL
	}
	b.metas.AddTTL(o.Key, metaEntry{
		ver:  ossclient.Object{Key: o.Key, ETag: o.ETag, ModTime: o.ModTime},
		meta: cloneMeta(o.Meta),
	}, ttl)
}

// knownMeta returns o completed with the metadata remembered for its
// version, or nil when none is.
func (b *Bucket) knownMeta(o *ossclient.Object) *ossclient.Object {
	e, ok := b.metas.Peek(o.Key)
	if !ok || !ossclient.SameVersion(&e.ver, o) || o.IsSymlink() {
		return nil
	}
	c := *o
	c.Meta, c.MetaUnknown = cloneMeta(e.meta), false
	return &c
}

// fillKnownMeta completes the objects of a listing handed to a caller with
// the metadata remembered for their versions.
func (b *Bucket) fillKnownMeta(l *ossclient.Listing) {
	for i := range l.Objects {
		if o := &l.Objects[i]; o.MetaUnknown {
			if k := b.knownMeta(o); k != nil {
				*o = *k
			}
		}
	}
}

// statMeta is Stat(key, WithMeta): from a HEAD answer cached, or a listing
// entry whose version's metadata is known; otherwise one HEAD shared by
// concurrent callers (and by a metadata prefetch of the same key). A miss
// first starts the prefetch of the metadata of the rest of the key's
// directory, when a fresh listing of it is cached: the caller is likely
// `ls -l`, which asks for every entry next.
func (b *Bucket) statMeta(ctx context.Context, key string) (*ossclient.Object, error) {
	lookup := func() (any, error, bool) { return b.metaCached(key) }
	if v, err, ok := lookup(); ok {
		b.c.statHits.Add(1)
		return cloneObject(asObject(v)), err
	}
	b.c.statMisses.Add(1)
	b.prefetchDirMeta(parentDir(key))
	v, err, shared := b.fetchMeta(ctx, key, lookup)
	b.countShared(shared)
	if err != nil {
		return nil, err
	}
	return cloneObject(asObject(v)), nil
}

func asObject(v any) *ossclient.Object {
	o, _ := v.(*ossclient.Object)
	return o
}

// metaCached answers statMeta from the caches; see statMeta.
func (b *Bucket) metaCached(key string) (*ossclient.Object, error, bool) {
	if e, ok := b.stat.Get(key); ok {
		switch {
		case e.err != nil:
			return nil, e.err, true
		case !e.obj.MetaUnknown:
			return e.obj, nil, true
		}
		if k := b.knownMeta(e.obj); k != nil {
			return k, nil, true
		}
		return nil, nil, false
	}
	o, err, ok := b.statFromListing(key)
	switch {
	case !ok:
		return nil, nil, false
	case err != nil:
		return nil, err, true // absent from a fresh listing
	}
	if k := b.knownMeta(o); k != nil {
		return k, nil, true
	}
	return nil, nil, false
}

// fetchMeta runs, or joins, the HEAD of key under flight key "m:"+key.
func (b *Bucket) fetchMeta(ctx context.Context, key string, lookup func() (any, error, bool)) (any, error, bool) {
	return b.fl.do(ctx, "m:"+key, lookup,
		func(ctx context.Context) (any, error) { return b.inner.Stat(ctx, key) },
		func(v any, err error) { b.storeStat(key, v, err) })
}

// metaPrefetchAfter is how many Stat WithMeta misses in one cached listing
// start its prefetch: a single stat (or a script's one lookup) of a file
// in a large directory must not HEAD the whole directory; `ls -l` pays one
// HEAD before the prefetch starts.
const metaPrefetchAfter = 2

// metaMisses counts the Stat WithMeta misses in one cached listing.
type metaMisses struct {
	l *ossclient.Listing
	n int // GUARDED_BY(Bucket.metaMu)
}

// prefetchDirMeta counts a metadata miss in the cached listing of prefix;
// the metaPrefetchAfter-th starts, once per listing, HEADs of its objects
// (symlinks excepted: their own metadata comes with GetSymlink) and of the
// markers of its subdirectories whose metadata is not known yet: at most
// PrefetchMeta at a time across the Bucket, through the same singleflight
// as statMeta. Close stops it.
func (b *Bucket) prefetchDirMeta(prefix string) {
	if b.metaSem == nil || !isDirPrefix(prefix) {
		return
	}
	l, ok := b.lists.Get(prefix)
	if !ok {
		return
	}
	b.metaMu.Lock()
	st, ok := b.metaDone.Get(prefix)
	if !ok || st.l != l {
		st = &metaMisses{l: l}
		b.metaDone.Add(prefix, st)
	}
	st.n++
	start := st.n == metaPrefetchAfter
	b.metaMu.Unlock()
	if !start {
		return
	}
	keys := make([]string, 0, len(l.Objects)+len(l.Prefixes))
	for i := range l.Objects {
		if !l.Objects[i].IsSymlink() {
			keys = append(keys, l.Objects[i].Key)
		}
	}
	keys = append(keys, l.Prefixes...)
	slices.Sort(keys)
	b.spawn(func(ctx context.Context) {
		for _, key := range keys {
			if _, _, ok := b.metaCached(key); ok || b.fl.busy("m:"+key) {
				continue
			}
			select {
			case b.metaSem <- struct{}{}:
			case <-ctx.Done():
				return
			}
			if !b.spawn(func(ctx context.Context) {
				defer func() { <-b.metaSem }()
				b.c.metaPrefetches.Add(1)
				lookup := func() (any, error, bool) { return b.metaCached(key) }
				if _, err, _ := b.fetchMeta(ctx, key, lookup); err != nil && ctx.Err() == nil {
					b.log.Debug("metadata prefetch failed", "op", "HeadObject", "key", key, "err", err)
				}
			}) {
				<-b.metaSem
				return
			}
		}
	})
}
