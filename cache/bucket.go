package cache

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/ossfs/ossfs/ossclient"
)

var _ ossclient.Bucket = (*Bucket)(nil)

// Bucket is an ossclient.Bucket that answers metadata questions from caches
// and passes everything else to the Bucket it wraps. See the package doc.
//
// Lock order: flights.mu, then the LRUs' internal locks (taken while storing
// or dropping under flights.mu). lifeMu is never held with another lock. No
// lock is held across a call to the inner Bucket.
type Bucket struct {
	inner ossclient.Bucket
	opts  Options
	log   *slog.Logger

	stat  *LRU[string, statEntry]          // key -> HEAD answer or listing entry
	lists *LRU[string, *ossclient.Listing] // prefix -> full one-level listing (never handed out)
	pages *LRU[string, *ossclient.Listing] // prefix -> first page of a longer listing
	empty *LRU[string, struct{}]           // prefix -> nothing lies under it
	negs  *LRU[string, struct{}]           // prefix -> its listing or page answers "not found" (lookup.go)
	syms  *LRU[string, symEntry]           // key -> GetSymlink answer
	metas *LRU[string, metaEntry]          // key -> user metadata of one version (meta.go)
	fl    *flights                         // in-flight fetches; serialises stores with invalidations
	muts  map[string]*inflight             // GUARDED_BY(fl.mu): mutations in flight per key (update.go)
	ended uint64                           // GUARDED_BY(fl.mu): mutations ended, of any key (get.go)
	sem   chan struct{}                    // prefetch concurrency slots
	// metaSem bounds the metadata prefetches; metaDone counts, per prefix,
	// the metadata misses in its cached listing (meta.go).
	metaSem  chan struct{}
	metaMu   sync.Mutex // guards the counts in metaDone
	metaDone *LRU[string, *metaMisses]
	c        counters

	bg     context.Context // cancelled by Close; background work runs under it
	cancel context.CancelFunc
	wg     sync.WaitGroup
	lifeMu sync.Mutex
	closed bool // GUARDED_BY(lifeMu)
}

// statEntry is a cached Stat answer: obj (never mutated once cached) or one
// of the cacheable errors (not found, dangling symlink).
type statEntry struct {
	obj *ossclient.Object
	err error
}

// NewBucket wraps inner in the caches. Call Close when done, to stop the
// background prefetches.
func NewBucket(inner ossclient.Bucket, opts Options) *Bucket {
	o := opts.withDefaults()
	bg, cancel := context.WithCancel(context.Background())
	b := &Bucket{
		inner:  inner,
		opts:   o,
		log:    o.Logger.With("component", "cache"),
		stat:   NewLRU[string, statEntry](o.StatEntries, o.StatTTL, o.Clock),
		lists:  NewLRU[string, *ossclient.Listing](o.ListEntries, o.ListTTL, o.Clock),
		pages:  NewLRU[string, *ossclient.Listing](o.ListEntries, o.ListTTL, o.Clock),
		empty:  NewLRU[string, struct{}](o.StatEntries, o.NegativeTTL, o.Clock),
		negs:   NewLRU[string, struct{}](o.ListEntries, o.NegativeTTL, o.Clock),
		syms:   NewLRU[string, symEntry](o.SymlinkEntries, o.SymlinkTTL, o.Clock),
		metas:  NewLRU[string, metaEntry](o.StatEntries, metaTTL, o.Clock),
		fl:     newFlights(),
		muts:   map[string]*inflight{},
		bg:     bg,
		cancel: cancel,
	}
	if o.PrefetchSymlinks > 0 {
		b.sem = make(chan struct{}, o.PrefetchSymlinks)
	}
	b.metaDone = NewLRU[string, *metaMisses](o.ListEntries, o.ListTTL, o.Clock)
	if o.PrefetchMeta > 0 {
		b.metaSem = make(chan struct{}, o.PrefetchMeta)
	}
	return b
}

// Close cancels the background prefetches and waits for them to end. The
// Bucket still works afterwards, without prefetching. Close does not close
// the inner Bucket.
func (b *Bucket) Close() {
	b.lifeMu.Lock()
	b.closed = true
	b.cancel()
	b.lifeMu.Unlock()
	b.wg.Wait()
}

// spawn runs fn in a goroutine that Close waits for, unless Close was called.
func (b *Bucket) spawn(fn func(ctx context.Context)) bool {
	b.lifeMu.Lock()
	if b.closed {
		b.lifeMu.Unlock()
		return false
	}
	b.wg.Add(1)
	b.lifeMu.Unlock()
	go func() {
		defer b.wg.Done()
		fn(b.bg)
	}()
	return true
}

// Stat answers from the stat cache, then from a fresh listing of the parent
// directory, then with one HEAD shared by concurrent callers. With
// ossclient.WithMeta it answers only with metadata: see statMeta
// (meta.go). With ossclient.ForLookup, before the HEAD, it fetches the
// first listing page of the parent directory when that may answer
// (lookup.go).
//
// An answer from a listing has MetaUnknown set (for a symlink, Size is the
// link's listed size, and a dangling link is reported as an Object of Type
// Symlink rather than ErrDanglingSymlink), unless the metadata of the
// version listed is known (meta.go): then it carries it.
func (b *Bucket) Stat(ctx context.Context, key string, opts ...ossclient.StatOption) (*ossclient.Object, error) {
	if slices.Contains(opts, ossclient.WithMeta) {
		return b.statMeta(ctx, key)
	}
	if o, err, ok := b.statCached(key); ok {
		b.c.statHits.Add(1)
		return b.answer(o), err
	}
	if slices.Contains(opts, ossclient.ForLookup) && b.lookupByPage(ctx, key) {
		if o, err, ok := b.statCached(key); ok {
			b.c.statHits.Add(1)
			return b.answer(o), err
		}
	}
	b.c.statMisses.Add(1)
	v, err, shared := b.fl.do(ctx, "s:"+key,
		func() (any, error, bool) { return b.statCached(key) },
		func(ctx context.Context) (any, error) { return b.inner.Stat(ctx, key) },
		func(v any, err error) { b.storeStat(key, v, err) })
	b.countShared(shared)
	if err != nil {
		return nil, err
	}
	return b.answer(v.(*ossclient.Object)), nil
}

// answer clones a cached object for a caller, with the metadata of its
// version when a listing gave it and that is known.
func (b *Bucket) answer(o *ossclient.Object) *ossclient.Object {
	if o == nil {
		return nil
	}
	if o.MetaUnknown {
		if k := b.knownMeta(o); k != nil {
			return k
		}
	}
	return cloneObject(o)
}

// statCached answers Stat from the stat cache or a fresh parent listing.
// The object returned is the cache's: clone it before handing it out.
func (b *Bucket) statCached(key string) (*ossclient.Object, error, bool) {
	if e, ok := b.stat.Get(key); ok {
		return e.obj, e.err, true
	}
	if o, err, ok := b.statFromListing(key); ok {
		b.c.statFromList.Add(1)
		return o, err, true
	}
	return nil, nil, false
}

// storeStat caches a HEAD answer. LOCKS_REQUIRED(b.fl.mu)
func (b *Bucket) storeStat(key string, v any, err error) {
	switch {
	case err == nil:
		o := cloneObject(v.(*ossclient.Object))
		if o.Meta == nil {
			o.Meta = map[string]string{}
		}
		o.MetaUnknown = false
		b.stat.Add(key, statEntry{obj: o})
		b.rememberMetaLocked(o)
	case errors.Is(err, ossclient.ErrNotFound), errors.Is(err, ossclient.ErrDanglingSymlink):
		b.stat.AddTTL(key, statEntry{err: err}, b.opts.NegativeTTL)
	}
}

// Read passes through: object bodies are not cached here.
func (b *Bucket) Read(ctx context.Context, key string, off, length int64) (io.ReadCloser, error) {
	return b.inner.Read(ctx, key, off, length)
}

// Put stores key, then records the new object in the stat entry and the
// cached listings (update.go); on failure it invalidates instead (a failed
// request may still have landed).
func (b *Bucket) Put(ctx context.Context, key string, r io.Reader, opts ossclient.PutOptions) (*ossclient.Object, error) {
	m := b.begin(key)
	o, err := b.inner.Put(ctx, key, r, opts)
	if err == nil && o != nil && o.Key == key {
		b.noteWritten(o, m)
	} else {
		b.invalidateEnd(m, true)
	}
	return o, err
}

// Copy copies src to dst, then invalidates dst; a copy that replaced the
// metadata (and overlapped no other mutation of dst) remembers it for the
// new version (meta.go), in the same step, so that listing dst again needs
// no HEAD and no listing ever pairs the new version with the old metadata.
// A metadata-replacing copy of an object onto itself whose size is cached
// updates the caches instead (noteSelfCopied).
func (b *Bucket) Copy(ctx context.Context, src, dst string, opts ossclient.CopyOptions) (*ossclient.Object, error) {
	m := b.begin(dst)
	o, err := b.inner.Copy(ctx, src, dst, opts)
	if err == nil && src == dst && opts.ReplaceMeta && o != nil && o.Key == dst {
		b.noteSelfCopied(o, opts.Meta, m)
		return o, err
	}
	b.fl.invalidate(flightKeys(m.keys, true), func() {
		overlapped := b.endLocked(m)
		b.dropKeyLocked(dst, true)
		if err == nil && opts.ReplaceMeta && o != nil && !overlapped {
			meta := opts.Meta
			if meta == nil {
				meta = map[string]string{}
			}
			b.rememberMetaLocked(&ossclient.Object{Key: dst, ETag: o.ETag, ModTime: o.ModTime, Meta: meta})
		}
	})
	return o, err
}

// Delete removes key, then records "not found" and the listing without it
// (update.go); on failure it invalidates instead.
func (b *Bucket) Delete(ctx context.Context, key string) error {
	m := b.begin(key)
	err := b.inner.Delete(ctx, key)
	if err == nil {
		b.noteDeleted(key, m)
	} else {
		b.invalidateEnd(m, false)
	}
	return err
}

// DeleteMany removes keys, then invalidates every one of them.
func (b *Bucket) DeleteMany(ctx context.Context, keys []string) error {
	m := b.begin(keys...)
	err := b.inner.DeleteMany(ctx, keys)
	b.invalidateEnd(m, false)
	return err
}

// PutSymlink makes key a link, then invalidates key.
func (b *Bucket) PutSymlink(ctx context.Context, key, target string, opts ossclient.SymlinkOptions) error {
	m := b.begin(key)
	err := b.inner.PutSymlink(ctx, key, target, opts)
	b.invalidateEnd(m, true)
	return err
}

// Invalidate forgets everything cached about key: its stat, negative and
// symlink entries, the listing of its parent directory (and, for a marker
// "d/", the listing of "d/"), and ancestor listings that do not show key's
// directory. Use it when something outside this Bucket changed key.
func (b *Bucket) Invalidate(key string) { b.invalidateKeys([]string{key}, true) }

// InvalidateDir forgets the listing of prefix and the stat, symlink and
// remembered metadata entries of its direct children. It leaves the parent's listing alone:
// call Invalidate(prefix) too when the directory itself appeared or went.
func (b *Bucket) InvalidateDir(prefix string) {
	child := func(k string) bool { return k != prefix && parentDir(k) == prefix }
	b.fl.invalidateMatch(func(fk string) bool {
		return fk == "l:"+prefix || fk == "p:"+prefix || (fk[0] != 'l' && fk[0] != 'p' && child(fk[2:]))
	}, func() {
		b.dropListingLocked(prefix)
		for _, k := range b.stat.Keys() {
			if child(k) {
				b.stat.Remove(k)
			}
		}
		for _, k := range b.syms.Keys() {
			if child(k) {
				b.syms.Remove(k)
			}
		}
		for _, k := range b.metas.Keys() {
			if child(k) {
				b.metas.Remove(k)
			}
		}
	})
}

// parentDir returns the directory prefix that holds key in a one-level
// listing: "a/b/c" -> "a/b/", marker "a/b/" -> "a/", "c" -> "".
func parentDir(key string) string {
	k := strings.TrimSuffix(key, "/")
	i := strings.LastIndexByte(k, '/')
	if i < 0 {
		return ""
	}
	return k[:i+1]
}

func cloneObject(o *ossclient.Object) *ossclient.Object {
	if o == nil {
		return nil
	}
	c := *o
	c.Meta = cloneMeta(o.Meta)
	return &c
}

func cloneMeta(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	c := make(map[string]string, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

func (b *Bucket) countShared(shared bool) {
	if shared {
		b.c.shared.Add(1)
	}
}

// counters are the Stats, kept atomically.
type counters struct {
	statHits, statMisses, statFromList atomic.Uint64
	listHits, listMisses               atomic.Uint64
	probeHits, probeMisses             atomic.Uint64
	symHits, symMisses                 atomic.Uint64
	prefetches, shared                 atomic.Uint64
	metaPrefetches                     atomic.Uint64
}

// Stats counts cache hits and misses since NewBucket.
type Stats struct {
	StatHits       uint64 // Stat answered from a cache (listing answers included)
	StatFromList   uint64 // of StatHits, answered from a parent listing
	StatMisses     uint64 // Stat that went to (or waited on) the inner Bucket
	ListHits       uint64 // full one-level List answered from the cache
	ListMisses     uint64
	ProbeHits      uint64 // List with a Limit answered from a cached listing
	ProbeMisses    uint64 // List with a Limit passed through
	SymlinkHits    uint64 // GetSymlink answered from the cache
	SymlinkMisses  uint64
	Prefetches     uint64 // GetSymlink requests made by prefetching
	MetaPrefetches uint64 // HEAD requests made by the metadata prefetch
	SharedWaits    uint64 // callers that waited on another caller's request
}

// Stats returns a snapshot of the counters.
func (b *Bucket) Stats() Stats {
	return Stats{
		StatHits: b.c.statHits.Load(), StatFromList: b.c.statFromList.Load(),
		StatMisses: b.c.statMisses.Load(),
		ListHits:   b.c.listHits.Load(), ListMisses: b.c.listMisses.Load(),
		ProbeHits: b.c.probeHits.Load(), ProbeMisses: b.c.probeMisses.Load(),
		SymlinkHits: b.c.symHits.Load(), SymlinkMisses: b.c.symMisses.Load(),
		Prefetches: b.c.prefetches.Load(), SharedWaits: b.c.shared.Load(),
		MetaPrefetches: b.c.metaPrefetches.Load(),
	}
}
