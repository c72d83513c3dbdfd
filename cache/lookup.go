package cache

import (
	"context"
	"time"

	"github.com/ossfs/ossfs/ossclient"
)

// Lookups of names that may not exist, answered by their directory's
// listing.
//
// A lookup before a create asks about a name that is not there. A HEAD
// answers for that one name only; one listing page of the directory
// answers for every name it covers, present or not. So Stat with
// ossclient.ForLookup, and a probe List(".../x/", Limit 1), that no cache
// answers first fetch the first page of the key's directory (shared by
// every concurrent lookup in that directory through the "p:" flight), then
// answer from it; only a name the page cannot answer goes on to a HEAD or
// to a probe of its own.
//
// What a page answers. A page holding the whole directory (fewer than
// pageKeys entries) is its listing. A full page holds every entry up to its
// last one, in byte order: it answers only names that sort at or before
// that entry (a common prefix "x/" sorts where its first key does, so a
// page that reaches past "x/" without it proves nothing lies under "x/").
// Names after it are asked of OSS as before.
//
// How fresh a negative answer is. A name's absence from a listing or page
// is trusted for NegativeTTL after the listing request was sent, like a
// HEAD's "not found" (negs holds that deadline per directory); presence
// is trusted for ListTTL, like any listing. Local creates and deletes edit
// the cached listing and keep its deadline. Once it has passed, the next
// lookup of an absent name fetches the first page again. A directory made
// here by a Put of its marker, whose absence a listing had proved (or that
// a probe had found empty), is known to hold only that marker until that
// proof's deadline: creating files in it costs no lookup request.

// negUntil returns when the negative answers of the cached listing or
// page of prefix stop being trusted; ok is false when they are not.
func (b *Bucket) negUntil(prefix string) (time.Time, bool) {
	_, until, ok := b.negs.GetUntil(prefix)
	return until, ok
}

func (b *Bucket) negFresh(prefix string) bool {
	_, ok := b.negUntil(prefix)
	return ok
}

// pageMayAnswer reports whether fetching the first page of dir may answer
// a lookup of name (a key or a "x/" prefix in dir): not when a cached
// first page shows that dir holds more than a page and name sorts after
// it.
func (b *Bucket) pageMayAnswer(dir, name string) bool {
	page, ok := b.pages.Peek(dir)
	return !ok || name <= lastEntry(page)
}

// lookupByPage fetches, or joins the fetch of, the first page of the
// directory of name, when that may answer the lookup of name and no cached
// listing of that directory answers negatives now. It reports whether the
// caches were brought up to date: the caller then looks again.
func (b *Bucket) lookupByPage(ctx context.Context, name string) bool {
	if name == "" {
		return false
	}
	dir := parentDir(name)
	if !b.pageMayAnswer(dir, name) {
		return false
	}
	fetch, store := b.pageFetch(dir)
	_, err := b.listOnce(ctx, "p:"+dir,
		func() (*ossclient.Listing, bool) { return b.dirAnswersLocked(dir) }, fetch, store)
	if err != nil {
		b.log.Debug("listing page for a lookup failed; asking the name", "op", "ListObjectsV2", "key", dir, "err", err)
		return false
	}
	return true
}

// dirAnswersLocked reports whether the caches hold a listing or page of
// dir whose negative answers are fresh, or know dir to be empty.
// LOCKS_REQUIRED(b.fl.mu)
func (b *Bucket) dirAnswersLocked(dir string) (*ossclient.Listing, bool) {
	if _, ok := b.empty.Get(dir); ok {
		return &ossclient.Listing{}, true
	}
	if !b.negFresh(dir) {
		return nil, false
	}
	if l, ok := b.lists.Get(dir); ok {
		return l, true
	}
	if l, ok := b.pages.Get(dir); ok {
		return l, true
	}
	return nil, false
}

// pageFetch returns the fetch and store of the first page of prefix for
// listOnce. The store keeps the time the request was sent, from which
// the page's negative answers are trusted for NegativeTTL.
func (b *Bucket) pageFetch(prefix string) (func(context.Context) (*ossclient.Listing, error), func(*ossclient.Listing)) {
	var sent time.Time
	fetch := func(ctx context.Context) (*ossclient.Listing, error) {
		sent = b.opts.Clock.Now()
		return b.inner.List(ctx, prefix, ossclient.ListOptions{Limit: pageKeys})
	}
	store := func(l *ossclient.Listing) { b.storePageLocked(prefix, l, sent) }
	return fetch, store
}

// storePageLocked caches what a page fetch sent at sent found: nothing
// under prefix, its whole listing, or its first page (which replaces an
// older full listing, whose negatives it would contradict).
// LOCKS_REQUIRED(b.fl.mu)
func (b *Bucket) storePageLocked(prefix string, l *ossclient.Listing, sent time.Time) {
	negUntil := sent.Add(b.opts.NegativeTTL)
	switch n := len(l.Objects) + len(l.Prefixes); {
	case n == 0:
		b.dropListingLocked(prefix)
		b.empty.AddUntil(prefix, struct{}{}, negUntil)
	case n < pageKeys:
		b.storeListingLocked(prefix, l)
		b.negs.AddUntil(prefix, struct{}{}, negUntil)
	default:
		b.lists.Remove(prefix)
		b.empty.Remove(prefix)
		b.pages.Add(prefix, l)
		b.negs.AddUntil(prefix, struct{}{}, negUntil)
	}
}

// dirListing returns the cached listing of dir, or its first page when
// name sorts within it; neg reports whether its negative answers are
// fresh.
func (b *Bucket) dirListing(dir, name string) (l *ossclient.Listing, neg, ok bool) {
	if l, ok := b.lists.Get(dir); ok {
		return l, b.negFresh(dir), true
	}
	if l, ok := b.pages.Get(dir); ok && name <= lastEntry(l) {
		return l, b.negFresh(dir), true
	}
	return nil, false, false
}

// absentUntilLocked returns until when the caches prove that nothing lies
// under the directory prefix (which has no listing of its own cached):
// its parent's listing (or page) lacks it, or a probe found it or its
// parent empty.
// Zero when they do not. LOCKS_REQUIRED(b.fl.mu)
func (b *Bucket) absentUntilLocked(prefix string) time.Time {
	if _, until, ok := b.empty.GetUntil(prefix); ok {
		return until
	}
	dir := parentDir(prefix)
	if _, until, ok := b.empty.GetUntil(dir); ok {
		return until
	}
	l, neg, ok := b.dirListing(dir, prefix)
	if !ok || !neg || containsSorted(l.Prefixes, prefix) {
		return time.Time{}
	}
	until, _ := b.negUntil(dir)
	return until
}
