package cache

import (
	"context"
	"errors"
	"sync"
)

// flights is a tiny singleflight group that also knows about invalidation.
//
// Concurrent callers of do with the same key share one fetch. When an
// invalidation touches a key while its fetch is in flight, the call is marked
// stale and forgotten: its result is handed to the callers already waiting
// (they asked before the change), but it is not stored in any cache, and
// callers arriving after the invalidation start a fresh fetch instead of
// joining the old one. Storing and invalidating both happen under mu, so a
// result is either stored before an invalidation (which then removes it) or
// refused after it; there is no window for a stale store.
//
// Flight keys are namespaced: "s:"+key (Stat), "m:"+key (Stat WithMeta, and its prefetch),
// "y:"+key (GetSymlink), "l:"+prefix (List), "p:"+prefix (a probe's page).
type flights struct {
	mu    sync.Mutex
	calls map[string]*call // GUARDED_BY(mu)
}

type call struct {
	done    chan struct{}
	val     any   // written before done is closed
	err     error // written before done is closed
	stale   bool  // GUARDED_BY(flights.mu)
	waiters int   // GUARDED_BY(flights.mu): callers that joined (for tests)
}

func newFlights() *flights { return &flights{calls: make(map[string]*call)} }

// do returns the result of fetch for key, running it at most once among
// concurrent callers. Before starting a fetch it calls lookup under mu (a
// second look at the caches, which a fetch may have just filled); lookup may
// be nil. The caller that runs fetch (the leader) then calls
// store with mu held, unless the call went stale; store must only touch
// in-memory caches. shared reports that this caller waited on another's fetch.
//
// A waiter whose own ctx is still live but who received the leader's context
// error (the leader was cancelled) tries again rather than fail for someone
// else's cancellation.
func (f *flights) do(ctx context.Context, key string, lookup func() (any, error, bool),
	fetch func(context.Context) (any, error), store func(any, error)) (v any, err error, shared bool) {
	for {
		f.mu.Lock()
		if lookup != nil {
			if v, err, ok := lookup(); ok {
				f.mu.Unlock()
				return v, err, false
			}
		}
		if c, ok := f.calls[key]; ok {
			c.waiters++
			f.mu.Unlock()
			select {
			case <-c.done:
			case <-ctx.Done():
				return nil, ctx.Err(), true
			}
			if isContextErr(c.err) && ctx.Err() == nil {
				continue
			}
			return c.val, c.err, true
		}
		c := &call{done: make(chan struct{})}
		f.calls[key] = c
		f.mu.Unlock()

		c.val, c.err = fetch(ctx)

		f.mu.Lock()
		if !c.stale {
			store(c.val, c.err)
			delete(f.calls, key)
		}
		f.mu.Unlock()
		close(c.done)
		return c.val, c.err, false
	}
}

// busy reports whether a fetch for key is in flight.
func (f *flights) busy(key string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	_, ok := f.calls[key]
	return ok
}

// waiting returns how many callers joined the in-flight fetch of key.
func (f *flights) waiting(key string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	if c, ok := f.calls[key]; ok {
		return c.waiters
	}
	return 0
}

// invalidate marks the in-flight calls of keys stale and forgets them, then
// runs drop (which removes cache entries), all under mu.
func (f *flights) invalidate(keys []string, drop func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, k := range keys {
		f.forgetLocked(k)
	}
	drop()
}

// invalidateMatch is invalidate for every in-flight key that match accepts.
func (f *flights) invalidateMatch(match func(string) bool, drop func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for k := range f.calls {
		if match(k) {
			f.forgetLocked(k)
		}
	}
	drop()
}

// LOCKS_REQUIRED(f.mu)
func (f *flights) forgetLocked(key string) {
	if c, ok := f.calls[key]; ok {
		c.stale = true
		delete(f.calls, key)
	}
}

func isContextErr(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}
