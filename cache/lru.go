package cache

import (
	"fmt"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
)

// LRU is a bounded, least-recently-used cache whose entries expire. It wraps
// golang-lru/v2's lru.Cache (which does the locking and the eviction order)
// and adds an expiry time per entry, read from an injected Clock.
//
// An entry added at t with TTL d is returned while now < t+d and never from
// t+d on. Expired entries are dropped when a Get or Peek meets them, or
// evicted as the least recently used ones (a miss does not refresh them).
//
// Every method is safe for concurrent use. Dropping an expired entry is a
// Get followed by a Remove; a concurrent Add of the same key in between may
// be dropped too. That can only cost a later miss, never a stale answer.
type LRU[K comparable, V any] struct {
	c     *lru.Cache[K, item[V]]
	clock Clock
	ttl   time.Duration
}

type item[V any] struct {
	v       V
	expires time.Time
}

// NewLRU returns an LRU holding at most size entries (size must be > 0),
// whose entries live ttl by default. A nil clock means the real clock.
func NewLRU[K comparable, V any](size int, ttl time.Duration, clock Clock) *LRU[K, V] {
	c, err := lru.New[K, item[V]](size)
	if err != nil {
		panic(fmt.Sprintf("cache.NewLRU(%d): %v", size, err))
	}
	if clock == nil {
		clock = RealClock{}
	}
	return &LRU[K, V]{c: c, clock: clock, ttl: ttl}
}

// Get returns the fresh value for k and marks it most recently used.
func (l *LRU[K, V]) Get(k K) (V, bool) {
	it, ok := l.c.Get(k)
	return l.fresh(k, it, ok)
}

// Peek returns the fresh value for k without touching its recency.
func (l *LRU[K, V]) Peek(k K) (V, bool) {
	it, ok := l.c.Peek(k)
	return l.fresh(k, it, ok)
}

// GetUntil is Get that also returns when the entry expires.
func (l *LRU[K, V]) GetUntil(k K) (V, time.Time, bool) {
	it, ok := l.c.Get(k)
	v, ok := l.fresh(k, it, ok)
	return v, it.expires, ok
}

func (l *LRU[K, V]) fresh(k K, it item[V], ok bool) (V, bool) {
	if !ok {
		var zero V
		return zero, false
	}
	if !l.clock.Now().Before(it.expires) {
		l.c.Remove(k)
		var zero V
		return zero, false
	}
	return it.v, true
}

// Add stores v for k with the default TTL. It reports whether an entry was
// evicted to make room.
func (l *LRU[K, V]) Add(k K, v V) bool { return l.AddTTL(k, v, l.ttl) }

// AddTTL stores v for k for ttl. A ttl <= 0 stores nothing and drops k.
func (l *LRU[K, V]) AddTTL(k K, v V, ttl time.Duration) bool {
	return l.AddUntil(k, v, l.clock.Now().Add(ttl))
}

// AddUntil stores v for k until expires. An expiry not after now stores
// nothing and drops k.
func (l *LRU[K, V]) AddUntil(k K, v V, expires time.Time) bool {
	if !l.clock.Now().Before(expires) {
		l.c.Remove(k)
		return false
	}
	return l.c.Add(k, item[V]{v: v, expires: expires})
}

// Remove drops k and reports whether it was present (fresh or not).
func (l *LRU[K, V]) Remove(k K) bool { return l.c.Remove(k) }

// Len is the number of entries held, expired ones not yet dropped included.
func (l *LRU[K, V]) Len() int { return l.c.Len() }

// Keys returns the keys held, oldest first (expired ones included).
func (l *LRU[K, V]) Keys() []K { return l.c.Keys() }

// Purge drops every entry.
func (l *LRU[K, V]) Purge() { l.c.Purge() }
