package cache

import (
	"context"
	"errors"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/ossfs/ossfs/ossclient"
)

// errAbsentFromListing is the cause carried by a not-found answer that a
// cached listing gave.
var errAbsentFromListing = errors.New("absent from a fresh listing of its directory (cached)")

// List answers a full one-level listing (Limit 0, not recursive) from the
// listing cache, or fetches it once for concurrent callers, caches it, feeds
// its entries to the stat cache and prefetches its symlinks. A limited
// listing (a probe) is answered from a cached listing when one can say, else
// passed through; recursive listings, and listings of a prefix that is not
// "" and does not end in "/", always pass through. The Listing
// returned belongs to the caller.
func (b *Bucket) List(ctx context.Context, prefix string, opts ossclient.ListOptions) (*ossclient.Listing, error) {
	if opts.Recursive || !isDirPrefix(prefix) {
		// Recursive listings, and prefixes that are not a directory (which
		// invalidation by key could not find), pass through uncached.
		return b.inner.List(ctx, prefix, opts)
	}
	if opts.Limit > 0 {
		return b.probe(ctx, prefix, opts)
	}
	if l, ok := b.lists.Get(prefix); ok {
		b.c.listHits.Add(1)
		c := cloneListing(l, 0)
		b.fillKnownMeta(c)
		return c, nil
	}
	b.c.listMisses.Add(1)
	var sent time.Time // when the listing began, unless it went on from a cached page
	l, err := b.listOnce(ctx, "l:"+prefix,
		func() (*ossclient.Listing, bool) { return b.lists.Get(prefix) },
		func(ctx context.Context) (*ossclient.Listing, error) {
			start := b.opts.Clock.Now()
			l, fromPage, err := b.fetchListing(ctx, prefix)
			if !fromPage {
				sent = start
			}
			return l, err
		},
		func(l *ossclient.Listing) {
			b.storeListingLocked(prefix, l)
			if !sent.IsZero() { // a listing from a page keeps the page's negs
				b.negs.AddUntil(prefix, struct{}{}, sent.Add(b.opts.NegativeTTL))
			}
		})
	if err != nil {
		return nil, err
	}
	c := cloneListing(l, 0)
	b.fillKnownMeta(c)
	return c, nil
}

// listOnce runs, or joins, the listing fetch under flight key fk: lookup
// answers from the caches first, fetch asks the inner Bucket, store keeps
// its result (under flights.mu, unless an invalidation made it stale). The
// caller that fetched prefetches the links listed. The Listing returned is
// the cache's: clone it before handing it out.
func (b *Bucket) listOnce(ctx context.Context, fk string, lookup func() (*ossclient.Listing, bool),
	fetch func(context.Context) (*ossclient.Listing, error), store func(*ossclient.Listing)) (*ossclient.Listing, error) {
	v, err, shared := b.fl.do(ctx, fk,
		func() (any, error, bool) {
			l, ok := lookup()
			return l, nil, ok
		},
		func(ctx context.Context) (any, error) {
			l, err := fetch(ctx)
			if err != nil {
				return nil, err
			}
			return sortedListing(l), nil
		},
		func(v any, err error) {
			if err == nil {
				store(v.(*ossclient.Listing))
			}
		})
	b.countShared(shared)
	if err != nil {
		return nil, err
	}
	l := v.(*ossclient.Listing)
	if !shared {
		b.prefetch(b.uncachedLinks(l))
	}
	return l, nil
}

// fetchListing lists prefix in full, going on from its first page when a
// probe has fetched that already (fromPage).
func (b *Bucket) fetchListing(ctx context.Context, prefix string) (l *ossclient.Listing, fromPage bool, err error) {
	page, ok := b.pages.Get(prefix)
	opts := ossclient.ListOptions{}
	if ok {
		opts.StartAfter = lastEntry(page)
	}
	l, err = b.inner.List(ctx, prefix, opts)
	if err != nil {
		return nil, false, err
	}
	if ok {
		l = mergeListings(page, sortedListing(l))
	}
	return l, ok, nil
}

// storeListingLocked caches l and its entries as stat answers, which expire
// with the listing. A stat entry from a HEAD (which carries metadata) for the
// same ETag is kept. LOCKS_REQUIRED(b.fl.mu)
func (b *Bucket) storeListingLocked(prefix string, l *ossclient.Listing) {
	b.pages.Remove(prefix)
	b.empty.Remove(prefix)
	b.lists.Add(prefix, l)
	_, until, ok := b.lists.GetUntil(prefix)
	if !ok {
		return
	}
	for i := range l.Objects {
		o := &l.Objects[i]
		if e, ok := b.stat.Peek(o.Key); ok && e.obj != nil && !e.obj.MetaUnknown && ossclient.SameVersion(e.obj, o) {
			continue
		}
		b.stat.AddUntil(o.Key, statEntry{obj: o}, until)
	}
}

// probe answers List(prefix, Limit n): "is prefix a directory" (n = 1), "is
// it empty" (n = 2: anything besides its marker?). From a fresh full listing
// of prefix, its first page, or the knowledge that nothing lies under it:
// its first n entries, exactly as OSS would page them. Otherwise, for a
// prefix ".../d/", from a fresh full listing of its parent: when "d/" is not
// a common prefix there, nothing lies under it and the answer is an empty
// Listing; when it is and n = 1, the answer is Listing{Prefixes: ["d/"]},
// which says only that something lies under "d/" (not whether a marker
// object does).
//
// Anything else costs one request, for a whole page (pageKeys entries)
// rather than n: a directory looked up is usually listed or entered next,
// and a page is one round trip like a single key. A page that holds the
// whole directory is cached as its listing (so readdir and the lookups of
// its children cost nothing more); a full page is kept as the first page,
// which the listing then goes on from; an empty one is remembered for
// NegativeTTL.
func (b *Bucket) probe(ctx context.Context, prefix string, opts ossclient.ListOptions) (*ossclient.Listing, error) {
	if opts.Limit > pageKeys {
		b.c.probeMisses.Add(1)
		return b.inner.List(ctx, prefix, opts)
	}
	if l, ok := b.probeCached(prefix, opts.Limit); ok {
		b.c.probeHits.Add(1)
		return l, nil
	}
	// "Is x a directory" is a lookup: the page of x's parent may answer
	// it, and the lookups of x's siblings too (lookup.go).
	if opts.Limit == 1 && b.lookupByPage(ctx, prefix) {
		if l, ok := b.probeCached(prefix, opts.Limit); ok {
			b.c.probeHits.Add(1)
			return l, nil
		}
	}
	b.c.probeMisses.Add(1)
	fetch, store := b.pageFetch(prefix)
	l, err := b.listOnce(ctx, "p:"+prefix,
		func() (*ossclient.Listing, bool) { return b.probeCached(prefix, pageKeys) }, fetch, store)
	if err != nil {
		return nil, err
	}
	return cloneListing(l, opts.Limit), nil
}

// pageKeys is how many entries a probe fetches: OSS's largest page.
const pageKeys = 1000

// probeCached answers a probe from the caches; see probe. An answer with
// fewer entries than limit says that nothing more lies under prefix: from
// a listing, only while its negative answers are fresh (lookup.go).
func (b *Bucket) probeCached(prefix string, limit int) (*ossclient.Listing, bool) {
	if l, ok := b.lists.Get(prefix); ok {
		if c := cloneListing(l, limit); len(c.Objects)+len(c.Prefixes) >= limit || b.negFresh(prefix) {
			return c, true
		}
		return nil, false
	}
	if l, ok := b.pages.Get(prefix); ok && len(l.Objects)+len(l.Prefixes) >= limit {
		return cloneListing(l, limit), true
	}
	if _, ok := b.empty.Get(prefix); ok {
		return &ossclient.Listing{}, true
	}
	if prefix == "" {
		return nil, false
	}
	dir := parentDir(prefix)
	if _, ok := b.empty.Get(dir); ok {
		return &ossclient.Listing{}, true
	}
	pl, neg, ok := b.dirListing(dir, prefix)
	switch {
	case !ok:
		return nil, false
	case !containsSorted(pl.Prefixes, prefix):
		if neg {
			return &ossclient.Listing{}, true
		}
		return nil, false
	case limit == 1:
		return &ossclient.Listing{Prefixes: []string{prefix}}, true
	}
	// Something lies under prefix, but whether more than its marker does
	// (rmdir's Limit 2 question) the parent cannot say.
	return nil, false
}

// lastEntry is the greatest key or prefix of a listing page.
func lastEntry(l *ossclient.Listing) string {
	var last string
	if n := len(l.Objects); n > 0 {
		last = l.Objects[n-1].Key
	}
	if n := len(l.Prefixes); n > 0 && l.Prefixes[n-1] > last {
		last = l.Prefixes[n-1]
	}
	return last
}

// mergeListings joins a first page and the rest listed after it (which may
// repeat the page's last common prefix).
func mergeListings(page, rest *ossclient.Listing) *ossclient.Listing {
	l := &ossclient.Listing{
		Objects:  append(slices.Clone(page.Objects), rest.Objects...),
		Prefixes: slices.Clone(page.Prefixes),
	}
	for _, p := range rest.Prefixes {
		if n := len(l.Prefixes); n == 0 || l.Prefixes[n-1] < p {
			l.Prefixes = append(l.Prefixes, p)
		}
	}
	return l
}

// statFromListing answers Stat(key) from a fresh listing (or first page,
// see lookup.go) when one is authoritative for key; ok is false when none
// is. An absence is an answer only while the listing's negative answers
// are fresh. A plain key "d/x" is in the listing of "d/" as an object or
// absent. A marker "d/x/" is an object in the listing of "d/x/" itself
// (the first entry of its first page); in the listing of "d/" it only
// shows as a common prefix, so that listing proves absence (no "d/x/"
// prefix) but cannot prove presence.
func (b *Bucket) statFromListing(key string) (*ossclient.Object, error, bool) {
	if key == "" {
		return nil, nil, false
	}
	marker := strings.HasSuffix(key, "/")
	if marker {
		if l, ok := b.lists.Get(key); ok {
			return b.answerFrom(l, key, b.negFresh(key))
		}
		if l, ok := b.pages.Get(key); ok {
			return b.answerFrom(l, key, b.negFresh(key))
		}
		if _, ok := b.empty.Get(key); ok {
			return b.answerFrom(&ossclient.Listing{}, key, true)
		}
	}
	dir := parentDir(key)
	if _, ok := b.empty.Get(dir); ok {
		return b.answerFrom(&ossclient.Listing{}, key, true)
	}
	l, neg, ok := b.dirListing(dir, key)
	if !ok {
		return nil, nil, false
	}
	if marker && containsSorted(l.Prefixes, key) {
		return nil, nil, false
	}
	return b.answerFrom(l, key, neg)
}

// answerFrom answers Stat(key) from l: the object, or "not found" when
// neg says that l's absences are fresh.
func (b *Bucket) answerFrom(l *ossclient.Listing, key string, neg bool) (*ossclient.Object, error, bool) {
	if o := findObject(l.Objects, key); o != nil {
		return o, nil, true
	}
	if !neg {
		return nil, nil, false
	}
	return nil, &ossclient.Error{Kind: ossclient.KindNotFound, Op: "HeadObject", Key: key,
		Err: errAbsentFromListing}, true
}

// isDirPrefix reports whether prefix names a directory: "" or ending in "/".
func isDirPrefix(prefix string) bool { return prefix == "" || strings.HasSuffix(prefix, "/") }

// findObject returns the object with key in objs (sorted by key), or nil.
func findObject(objs []ossclient.Object, key string) *ossclient.Object {
	i := sort.Search(len(objs), func(i int) bool { return objs[i].Key >= key })
	if i < len(objs) && objs[i].Key == key {
		return &objs[i]
	}
	return nil
}

// containsSorted reports whether s (sorted) holds x.
func containsSorted(s []string, x string) bool {
	_, ok := slices.BinarySearch(s, x)
	return ok
}

// sortedListing returns l with Objects and Prefixes in byte order (as the
// contract promises; sorted here only if a server did not), so lookups can
// binary-search them.
func sortedListing(l *ossclient.Listing) *ossclient.Listing {
	if !slices.IsSortedFunc(l.Objects, cmpObject) {
		l.Objects = slices.Clone(l.Objects)
		slices.SortFunc(l.Objects, cmpObject)
	}
	if !slices.IsSorted(l.Prefixes) {
		l.Prefixes = slices.Clone(l.Prefixes)
		slices.Sort(l.Prefixes)
	}
	return l
}

func cmpObject(a, b ossclient.Object) int { return strings.Compare(a.Key, b.Key) }

// cloneListing copies l for a caller; limit > 0 keeps only the first limit
// entries in byte order of objects and prefixes merged, as OSS pages them.
func cloneListing(l *ossclient.Listing, limit int) *ossclient.Listing {
	objs, pres := l.Objects, l.Prefixes
	if limit > 0 {
		i, j := 0, 0
		for i+j < limit && (i < len(objs) || j < len(pres)) {
			if j >= len(pres) || (i < len(objs) && objs[i].Key < pres[j]) {
				i++
			} else {
				j++
			}
		}
		objs, pres = objs[:i], pres[:j]
	}
	c := &ossclient.Listing{}
	if len(objs) > 0 {
		c.Objects = make([]ossclient.Object, len(objs))
		for i := range objs {
			c.Objects[i] = objs[i]
			c.Objects[i].Meta = cloneMeta(objs[i].Meta)
		}
	}
	if len(pres) > 0 {
		c.Prefixes = slices.Clone(pres)
	}
	return c
}
