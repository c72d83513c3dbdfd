// Package cache puts ossfs's metadata caches in front of an ossclient.Bucket.
//
// In the style of gcsfuse's fast_stat_bucket, the caches are a decorator:
// NewBucket(inner, opts) returns a *Bucket that is itself an
// ossclient.Bucket, answers what it can from memory and passes the rest to
// inner. Package fs talks to it exactly as it would to the real bucket.
//
// # What is cached
//
//   - Stat: HEAD answers, positive for StatTTL, and "not found" / "dangling
//     symlink" for NegativeTTL.
//   - List: full one-level listings (Limit 0, not recursive), per prefix, for
//     ListTTL. A fresh listing is authoritative for its directory: Stat of a
//     child answers from it (present, or ErrNotFound while the listing's
//     negatives are fresh: NegativeTTL from its request) with no request,
//     and every entry is also put in the stat cache. A Stat answer with
//     MetaUnknown came from a listing (a symlink then has its listed size
//     and is reported as an Object of Type Symlink even when dangling);
//     an answer from a HEAD never has it. Stat("x") is about the
//     object "x" only: a directory "x/" is asked with List("x/", Limit 1),
//     which a cached listing of "x/" or of its parent also answers.
//     Recursive listings are never cached.
//   - Metadata, per object version (ETag and Last-Modified second, see
//     ossclient.SameVersion): what a HEAD, a Put or a metadata-replacing
//     Copy through the Bucket said, so that a later listing of an unchanged
//     object carries it (listing answers, and Stat answers from listings,
//     have MetaUnknown set otherwise). Stat with ossclient.WithMeta answers
//     only with metadata: from these caches, or with a HEAD; its second miss
//     in a directory whose listing is cached starts HEADs of the rest of
//     that listing in the background (objects and subdirectory markers,
//     at most PrefetchMeta at a time), which `ls -l` then finds done or in
//     flight. Names-only walks never ask WithMeta and start none.
//     Metadata read within its version's Last-Modified second is kept for
//     StatTTL only (meta.go). A mutation of a key forgets it from its start
//     (its new version may look like the old one: a chmod within the
//     second) and Invalidate does too.
//   - Lookups: Stat with ossclient.ForLookup, and the probe List(".../x/",
//     Limit 1), that no cache answers first fetch the first page of the
//     name's directory, one request shared by all the lookups in it,
//     which answers them and their siblings' (a full page only for names
//     within its range); only what it cannot answer goes on to a HEAD or a
//     probe of its own. A marker Put where a listing proved the directory
//     absent makes it known empty. See lookup.go.
//   - Probes: a List with a Limit that no cache answers fetches a whole page
//     (1,000 entries) in its one request. A page holding the whole
//     directory is stored as its listing; a full page is kept as the first
//     page, which the next full List goes on from (StartAfter), so a
//     lookup followed by readdir costs no extra request; an empty answer
//     is remembered for NegativeTTL.
//   - Writes made through the Bucket: a successful Put records the new
//     object as a Stat answer (with the metadata it sent) and rewrites the
//     cached listing of its directory (and ancestors' common prefixes); a
//     successful Delete of a plain key records "not found" and rewrites the
//     listing. Creating files in a directory made or listed here costs no
//     lookup request. See update.go.
//   - GetSymlink: targets for SymlinkTTL ("not found" / "not a symlink" for
//     NegativeTTL). A one-level listing that reports uncached symlinks starts
//     background GetSymlinks for them (at most PrefetchSymlinks at a time),
//     so readlink after readdir costs nothing and the cold requests overlap.
//   - Read and Get bodies are never cached here. A Get's headers are as
//     good as a HEAD: kept as the key's stat entry (unless a mutation
//     through the Bucket ended or ran meanwhile), after dropping the key's
//     entries and its directory's listing when they show another version
//     than the cached one (ETag or size); a Get finding the key missing
//     drops them too (get.go). So the open-time revalidation of package fs
//     refreshes stat and ls, and a getattr after it costs no request.
//
// Every cache is an [LRU]: golang-lru/v2 bounded in entries, with a TTL read
// from an injected [Clock]; expired entries are never returned.
//
// # Concurrency and invalidation
//
// Concurrent Stat, List or GetSymlink calls for the same key share one
// request (a small singleflight, also shared by prefetches). Every other
// mutation made through the Bucket (Copy's destination, DeleteMany,
// PutSymlink, and any that failed) invalidates after the inner call returns: the
// key's stat, negative and symlink entries, the listing of its parent
// directory, for a marker "d/" also the listing of "d/", and, for a possible
// creation, any cached ancestor listing that does not yet show the key's
// directory as a common prefix. A metadata-replacing Copy of a key onto
// itself updates instead, when its size is cached (update.go).
//
// A fetch that started before a mutation must not store its result after
// the mutation's invalidation. Invalidation marks the in-flight fetches of
// the keys it touches stale: their results still reach the callers already
// waiting (they asked before the change) but are not stored, and later
// callers start a new fetch rather than join the stale one. Storing and
// invalidating happen under the same mutex, so no stale store can slip in
// between. No lock is held across a call to the inner Bucket.
//
// # Known limits
//
//   - Changes made by other OSS clients are seen within the TTLs, not before
//     (callers that learn of one can call Invalidate / InvalidateDir).
//   - Deleting the last key under an implicit directory "d/" does not drop
//     the cached listing of d's parent, which keeps showing "d/" until it
//     expires or "d/" itself (its marker) is deleted through the Bucket.
//   - A HEAD of a symlink follows it; that answer is cached as is, so a
//     change of the target made through the Bucket does not refresh the
//     cached Stat of links pointing at it until StatTTL (NegativeTTL for a
//     dangling one).
//   - Limited listings are not singleflighted; a limited listing that no
//     cached listing can answer passes through.
//   - In a directory of more than one page, a lookup of a name that sorts
//     after the first page costs a HEAD and a probe of its own, as it did
//     before lookups read pages; creating many such names is not cheaper.
//   - A lookup reads its parent's page, not its own: the lookup of a
//     directory no longer also fetches the first page of that directory,
//     so its readdir, and the attributes of an implicit directory (its
//     marker's absence), cost a request of their own.
package cache
