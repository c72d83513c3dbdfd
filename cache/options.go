package cache

import (
	"log/slog"
	"time"
)

// Options configure NewBucket. A zero TTL, size, Clock or Logger means that
// field's default; a negative TTL means no caching of that kind (as a
// negative timeout does in fs.Options; the CLI maps a TTL of 0 onto it).
// PrefetchSymlinks and PrefetchMeta are the exceptions: 0 disables
// prefetching, so start from DefaultOptions() to get every default.
type Options struct {
	// Clock tells time for every TTL. Default: the real clock.
	Clock Clock

	// StatTTL is how long a Stat answer from a HEAD is kept. Default 60s.
	// Changes made through this Bucket invalidate at once, so the TTL only
	// bounds how long a change made by another OSS client can go unseen;
	// 60s is gcsfuse's default stat TTL and what s3fs/ossfs users expect,
	// and keeps `ls -l`, builds and `find` from repeating HEADs.
	StatTTL time.Duration

	// NegativeTTL is how long "not found" (and "dangling symlink", whose
	// answer depends on another key) from a HEAD, "not found / not a
	// symlink" from GetSymlink, and a name's absence from a listing
	// (counted from the listing request) are trusted. Default 5s: short, because a file
	// appearing from another client is the change users notice most, yet
	// long enough to absorb the bursts of failed lookups that shells, PATH
	// searches, compilers and Python imports make.
	NegativeTTL time.Duration

	// ListTTL is how long a full one-level listing is kept. A fresh
	// listing is authoritative for its children: Stat of a child answers
	// from it with no request (present for ListTTL, not found for
	// NegativeTTL). Default 60s, the same
	// staleness bound as StatTTL, since it answers the same questions.
	ListTTL time.Duration

	// SymlinkTTL is how long a GetSymlink answer is kept. Default 5 min:
	// links are rarely changed in place (and a change through this Bucket
	// invalidates at once), while readlink is hot for venvs, toolchains and
	// `find -type l`.
	SymlinkTTL time.Duration

	// StatEntries bounds the stat cache (positive and negative entries).
	// Default 100,000: one per object of a ~100k-object working set, about
	// 250 bytes each (~25 MB when full).
	StatEntries int

	// ListEntries bounds the listing cache, in directories. Default 10,000.
	// Each object appears in exactly one one-level listing, so the memory
	// is bounded by the number of listed objects (~100k objects ≈ 25 MB),
	// not by this count.
	ListEntries int

	// SymlinkEntries bounds the symlink-target cache. Default 100,000
	// (links of a ~100k-object tree; ~300 bytes each).
	SymlinkEntries int

	// PrefetchSymlinks is how many GetSymlink requests may run at once in
	// the background to warm the symlink cache with the links a one-level
	// listing reported, so that `ls -l` or `find -type l` pays the cold
	// readlinks in parallel rather than one round trip after another.
	// Default (DefaultOptions) 64: 1,000 cold links at 10 ms round trips
	// resolve in about 0.4 s (16 took 0.9 s); 0 or less disables
	// prefetching.
	PrefetchSymlinks int

	// PrefetchMeta is how many HEAD requests may run at once in the
	// background to learn the metadata (mode, owner, times) of the objects
	// of a cached one-level listing, started by the second Stat WithMeta of
	// one of them that no cache answers (a single stat does not start it): `ls -l` of a directory of objects
	// whose metadata is not known yet pays its HEADs in parallel. Names-only
	// walks (ls, find -name) ask for no metadata and start none. Default
	// (DefaultOptions) 128: 10,000 HEADs at 10 ms round trips take about
	// 0.8 s; 0 or less disables it.
	PrefetchMeta int

	// Logger receives debug records (prefetch failures). Default
	// slog.Default().
	Logger *slog.Logger
}

// Defaults of the Options fields.
const (
	DefaultStatTTL          = 60 * time.Second
	DefaultNegativeTTL      = 5 * time.Second
	DefaultListTTL          = 60 * time.Second
	DefaultSymlinkTTL       = 5 * time.Minute
	DefaultStatEntries      = 100_000
	DefaultListEntries      = 10_000
	DefaultSymlinkEntries   = 100_000
	DefaultPrefetchSymlinks = 64
	DefaultPrefetchMeta     = 128
)

// DefaultOptions returns Options with every field at its default.
func DefaultOptions() Options {
	o := Options{PrefetchSymlinks: DefaultPrefetchSymlinks, PrefetchMeta: DefaultPrefetchMeta}
	return o.withDefaults()
}

// withDefaults returns o with every unset field set to its default.
func (o Options) withDefaults() Options {
	if o.Clock == nil {
		o.Clock = RealClock{}
	}
	dur := func(d *time.Duration, def time.Duration) {
		switch {
		case *d == 0:
			*d = def
		case *d < 0:
			*d = 0 // an LRU with TTL 0 stores nothing
		}
	}
	dur(&o.StatTTL, DefaultStatTTL)
	dur(&o.NegativeTTL, DefaultNegativeTTL)
	dur(&o.ListTTL, DefaultListTTL)
	dur(&o.SymlinkTTL, DefaultSymlinkTTL)
	size := func(n *int, def int) {
		if *n <= 0 {
			*n = def
		}
	}
	size(&o.StatEntries, DefaultStatEntries)
	size(&o.ListEntries, DefaultListEntries)
	size(&o.SymlinkEntries, DefaultSymlinkEntries)
	if o.PrefetchSymlinks < 0 {
		o.PrefetchSymlinks = 0
	}
	if o.PrefetchMeta < 0 {
		o.PrefetchMeta = 0
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}
