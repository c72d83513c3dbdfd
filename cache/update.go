package cache

import (
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/ossfs/ossfs/ossclient"
)

// Keeping caches right across mutations made through this Bucket.
//
// A mutation that failed, or whose result is not fully known, invalidates
// (drops) what it may have changed. A Put or Delete that succeeded updates
// instead: the key's stat entry becomes the new object (or "not found"),
// and the cached listing of its directory is rewritten with the entry added,
// replaced or removed (ancestors gain the new directories as common
// prefixes), keeping the listing's expiry. So creating files in a
// directory this mount has listed, or has just made, costs no lookup
// request: the listing still answers "not there" for the next name.
//
// Listings are never changed in place (readers hold them without a lock);
// an update stores a copy. A listing over maxInPlace entries is dropped
// instead, so that a loop of creates in a huge directory does not copy it
// every time. Every update, like every invalidation, marks the in-flight
// fetches of what it touches stale under flights.mu, so a fetch that
// started before the mutation never stores its older answer afterwards.

// Two mutations of one key whose answers overlap in time may have reached
// OSS in one order and the cache in the other (a Delete that landed first
// heard of last would leave a live object cached as deleted). So every
// mutation registers its keys before calling the inner Bucket, and one
// that overlapped another mutation of one of its keys invalidates instead
// of updating: the next question then asks OSS.

// mutation is a change of keys in flight through the Bucket (see begin).
type mutation struct {
	keys []string
	seen []int // clashes of each key when the mutation began
}

// inflight counts the mutations of one key in flight, and how many times
// one began while another was in flight.
type inflight struct{ n, clashes int }

// begin registers a mutation of keys, before its inner call. It forgets
// the metadata remembered for their versions: the mutation may land as a
// version that ossclient.SameVersion cannot tell from the one before (a
// chmod within its second), so that a listing fetched before its answer
// is processed would show the old metadata as the new version's. None is
// remembered while the mutation is in flight (rememberMetaLocked).
func (b *Bucket) begin(keys ...string) mutation {
	m := mutation{keys: keys, seen: make([]int, len(keys))}
	b.fl.mu.Lock()
	defer b.fl.mu.Unlock()
	for i, k := range keys {
		b.metas.Remove(k)
		in := b.muts[k]
		if in == nil {
			in = &inflight{}
			b.muts[k] = in
		}
		m.seen[i] = in.clashes
		if in.n > 0 {
			in.clashes++
		}
		in.n++
	}
	return m
}

// endLocked ends m and reports whether another mutation of one of its keys
// overlapped it. LOCKS_REQUIRED(b.fl.mu)
func (b *Bucket) endLocked(m mutation) (overlapped bool) {
	b.ended++
	for i, k := range m.keys {
		in := b.muts[k]
		overlapped = overlapped || in.clashes != m.seen[i]
		if in.n--; in.n == 0 {
			delete(b.muts, k)
		}
	}
	return overlapped
}

// maxInPlace is the largest listing rewritten on a mutation.
const maxInPlace = 4000

// errDeletedHere is the cause of a not-found answer for a key deleted
// through this Bucket.
var errDeletedHere = errors.New("deleted through this mount (cached)")

// flightKeys returns the in-flight fetches a mutation of keys makes stale:
// stat and symlink of each key, listing and first page of its directory,
// for a marker those of the directory itself, and, when keys may be new,
// those of every ancestor (which may gain a common prefix).
func flightKeys(keys []string, created bool) []string {
	var fks []string
	for _, key := range keys {
		dir := parentDir(key)
		fks = append(fks, "s:"+key, "m:"+key, "y:"+key, "l:"+dir, "p:"+dir)
		if strings.HasSuffix(key, "/") {
			fks = append(fks, "l:"+key, "p:"+key)
		}
		if created {
			for p := dir; p != ""; p = parentDir(p) {
				fks = append(fks, "l:"+parentDir(p), "p:"+parentDir(p))
			}
		}
	}
	return fks
}

// invalidateKeys drops the cache entries a change of keys makes stale and
// marks the fetches in flight for them stale. created says the keys may be
// new: then ancestor listings that lack the new key's directory go too
// (a Put of "a/b/c" can create the implicit directory "a/b/").
func (b *Bucket) invalidateKeys(keys []string, created bool) {
	b.fl.invalidate(flightKeys(keys, created), func() {
		for _, key := range keys {
			b.dropKeyLocked(key, created)
		}
	})
}

// invalidateEnd is invalidateKeys for the end of the mutation m.
func (b *Bucket) invalidateEnd(m mutation, created bool) {
	b.fl.invalidate(flightKeys(m.keys, created), func() {
		b.endLocked(m)
		for _, key := range m.keys {
			b.dropKeyLocked(key, created)
		}
	})
}

// dropKeyLocked removes key's entries. LOCKS_REQUIRED(b.fl.mu)
func (b *Bucket) dropKeyLocked(key string, created bool) {
	dir := parentDir(key)
	b.stat.Remove(key)
	b.syms.Remove(key)
	b.metas.Remove(key)
	b.dropListingLocked(dir)
	if strings.HasSuffix(key, "/") {
		b.dropListingLocked(key)
	}
	if !created {
		return
	}
	b.empty.Remove(dir)
	for p := dir; p != ""; p = parentDir(p) {
		gp := parentDir(p)
		b.empty.Remove(gp)
		b.pages.Remove(gp)
		if l, ok := b.lists.Peek(gp); ok && !containsSorted(l.Prefixes, p) {
			b.lists.Remove(gp)
		}
	}
}

// dropListingLocked forgets everything cached about the listing of prefix.
// LOCKS_REQUIRED(b.fl.mu)
func (b *Bucket) dropListingLocked(prefix string) {
	b.lists.Remove(prefix)
	b.pages.Remove(prefix)
	b.empty.Remove(prefix)
	b.negs.Remove(prefix)
}

// noteWritten records a successful Put of obj: its stat entry (Put knows
// the metadata it sent), its entry in the cached listing of its directory
// (or of itself, for a marker), and its directory in cached ancestors.
func (b *Bucket) noteWritten(obj *ossclient.Object, m mutation) {
	key := obj.Key
	b.fl.invalidate(flightKeys([]string{key}, true), func() {
		if b.endLocked(m) {
			b.dropKeyLocked(key, true)
			return
		}
		o := cloneObject(obj)
		if o.Meta == nil {
			o.Meta = map[string]string{}
		}
		o.MetaUnknown = false // as good as a HEAD
		b.stat.Add(key, statEntry{obj: o})
		b.rememberMetaLocked(o)
		b.syms.Remove(key)
		entry := *obj
		entry.Meta, entry.MetaUnknown = nil, true // as a listing has it
		// A plain key is an object of its directory's listing; a marker
		// "d/" is an object of its own listing and a prefix of its parent's.
		own, start := parentDir(key), parentDir(key)
		var emptyUntil time.Time
		if strings.HasSuffix(key, "/") {
			own, start = key, key
			emptyUntil = b.absentUntilLocked(key) // before the parent shows it
		}
		b.editListingLocked(own, key, func(l *ossclient.Listing) { withObject(l, entry) })
		for p := start; p != ""; p = parentDir(p) {
			b.editListingLocked(parentDir(p), p, func(l *ossclient.Listing) { withPrefix(l, p) })
		}
		if !emptyUntil.IsZero() {
			b.knownNewDirLocked(entry, emptyUntil)
		}
	})
}

// noteDeleted records a successful Delete of a plain key: "not found" for
// it, and its entry gone from the cached listing of its directory. A
// marker is invalidated instead (its directory may or may not vanish).
func (b *Bucket) noteDeleted(key string, m mutation) {
	if strings.HasSuffix(key, "/") {
		b.invalidateEnd(m, false)
		return
	}
	b.fl.invalidate(flightKeys([]string{key}, false), func() {
		if b.endLocked(m) {
			b.dropKeyLocked(key, false)
			return
		}
		b.stat.AddTTL(key, statEntry{err: &ossclient.Error{Kind: ossclient.KindNotFound, Op: "HeadObject",
			Key: key, Err: errDeletedHere}}, b.opts.NegativeTTL)
		b.syms.Remove(key)
		b.editListingLocked(parentDir(key), "", func(l *ossclient.Listing) { withoutObject(l, key) })
	})
}

// editListingLocked rewrites the cached listing of prefix with edit (on a
// copy, keeping the expiry and the freshness of its negative answers). A
// listing known to be empty becomes a real one. A first page is edited
// when added (an entry added by edit) sorts within it and left as it is
// when it sorts after it; any other edit of a page (a removal: added ""),
// and a listing too big to copy, drop it. LOCKS_REQUIRED(b.fl.mu)
func (b *Bucket) editListingLocked(prefix, added string, edit func(*ossclient.Listing)) {
	if l, until, ok := b.lists.GetUntil(prefix); ok {
		b.pages.Remove(prefix)
		if len(l.Objects)+len(l.Prefixes) > maxInPlace {
			b.dropListingLocked(prefix)
			return
		}
		b.lists.AddUntil(prefix, editedCopy(l, edit), until)
		return
	}
	if l, until, ok := b.pages.GetUntil(prefix); ok {
		switch {
		case added == "" || len(l.Objects)+len(l.Prefixes) > maxInPlace:
			b.dropListingLocked(prefix)
		case added <= lastEntry(l):
			b.pages.AddUntil(prefix, editedCopy(l, edit), until)
		}
		return
	}
	if _, until, ok := b.empty.GetUntil(prefix); ok {
		b.empty.Remove(prefix)
		c := &ossclient.Listing{}
		edit(c)
		b.lists.Add(prefix, c)
		b.negs.AddUntil(prefix, struct{}{}, until) // "nothing else" is as fresh as "empty" was
	}
}

func editedCopy(l *ossclient.Listing, edit func(*ossclient.Listing)) *ossclient.Listing {
	c := &ossclient.Listing{Objects: slices.Clone(l.Objects), Prefixes: slices.Clone(l.Prefixes)}
	edit(c)
	return c
}

// knownNewDirLocked records that the directory whose marker was just
// written holds only that marker: its absence was known (fresh) until
// negUntil, so its listing's negative answers are trusted as long.
// LOCKS_REQUIRED(b.fl.mu)
func (b *Bucket) knownNewDirLocked(marker ossclient.Object, negUntil time.Time) {
	if _, ok := b.lists.Peek(marker.Key); ok {
		return // edited above
	}
	b.pages.Remove(marker.Key)
	b.lists.Add(marker.Key, &ossclient.Listing{Objects: []ossclient.Object{marker}})
	b.negs.AddUntil(marker.Key, struct{}{}, negUntil)
}

// withObject adds or replaces o in l.Objects, in key order.
func withObject(l *ossclient.Listing, o ossclient.Object) {
	i, found := slices.BinarySearchFunc(l.Objects, o.Key, func(e ossclient.Object, k string) int { return strings.Compare(e.Key, k) })
	if found {
		l.Objects[i] = o
		return
	}
	l.Objects = slices.Insert(l.Objects, i, o)
}

// withoutObject removes key from l.Objects.
func withoutObject(l *ossclient.Listing, key string) {
	i, found := slices.BinarySearchFunc(l.Objects, key, func(e ossclient.Object, k string) int { return strings.Compare(e.Key, k) })
	if found {
		l.Objects = slices.Delete(l.Objects, i, i+1)
	}
}

// withPrefix adds p to l.Prefixes, in order, unless present.
func withPrefix(l *ossclient.Listing, p string) {
	if i, found := slices.BinarySearch(l.Prefixes, p); !found {
		l.Prefixes = slices.Insert(l.Prefixes, i, p)
	}
}

// noteSelfCopied records a successful metadata-replacing Copy of an
// object or directory marker onto itself (chmod, chown, utimes): same key, same size and type,
// a new version (o's ETag and ModTime) carrying meta. Its stat entry and
// its entry in the cached listing of its directory are updated rather than
// dropped, so that setting the times of each file a `tar x` or `cp -p`
// extracts does not throw away the listing that answers the next file's
// lookup. When the object's size is not cached (or the copy's ETag is not
// the cached one's), or another mutation of key overlapped, it
// invalidates instead, as Copy does otherwise.
func (b *Bucket) noteSelfCopied(o *ossclient.Object, meta map[string]string, m mutation) {
	key := o.Key
	b.fl.invalidate(flightKeys([]string{key}, true), func() {
		old := b.cachedObjectLocked(key)
		// CopyObject keeps the source's ETag (osstest/doc.go): another
		// ETag means content this cache has not seen, of unknown size.
		if overlapped := b.endLocked(m); overlapped || old == nil || old.IsSymlink() || old.ETag != o.ETag {
			b.dropKeyLocked(key, true)
			if !overlapped { // the metadata of the new version is known
				if meta == nil {
					meta = map[string]string{}
				}
				b.rememberMetaLocked(&ossclient.Object{Key: key, ETag: o.ETag, ModTime: o.ModTime, Meta: meta})
			}
			return
		}
		n := *old
		n.ETag, n.ModTime, n.ReadAt = o.ETag, o.ModTime, time.Time{}
		n.Meta, n.MetaUnknown = cloneMeta(meta), false
		if n.Meta == nil {
			n.Meta = map[string]string{}
		}
		b.stat.Add(key, statEntry{obj: &n})
		b.rememberMetaLocked(&n)
		entry := n
		entry.Meta, entry.MetaUnknown = nil, true // as a listing has it
		b.syms.Remove(key)
		b.editListingLocked(ownListing(key), key, func(l *ossclient.Listing) { withObject(l, entry) })
	})
}

// ownListing is the listing that shows key as an object: its directory's,
// or for a marker "d/" that of "d/" itself.
func ownListing(key string) string {
	if strings.HasSuffix(key, "/") {
		return key
	}
	return parentDir(key)
}

// cachedObjectLocked returns what the caches hold about the object key
// (its stat entry, or its entry in the cached listing of its directory),
// or nil. LOCKS_REQUIRED(b.fl.mu)
func (b *Bucket) cachedObjectLocked(key string) *ossclient.Object {
	if e, ok := b.stat.Peek(key); ok {
		return e.obj
	}
	if l, _, ok := b.dirListing(ownListing(key), key); ok {
		return findObject(l.Objects, key)
	}
	return nil
}
