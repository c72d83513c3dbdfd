package cache

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ossfs/ossfs/ossclient"
)

// Deterministic race tests: a fetch is held (by gated) after the inner call
// returned its now-stale answer, a mutation runs and invalidates, then the
// fetch is released. The cache must not keep the stale answer.

type raceFixture struct {
	b   *Bucket
	g   *gated
	ctx context.Context
	clk *FakeClock
}

// raceInners are the Buckets the race tests run over: the in-memory one,
// and the real client against the local server (added in server_test.go).
var raceInners = map[string]func(t *testing.T) ossclient.Bucket{
	"mem": func(*testing.T) ossclient.Bucket { return newMemBucket() },
}

func forEachInner(t *testing.T, fn func(t *testing.T, f *raceFixture)) {
	for name, mk := range raceInners {
		t.Run(name, func(t *testing.T) {
			g := newGated(mk(t))
			clk := NewFakeClock(t0)
			opts := DefaultOptions()
			opts.Clock = clk
			b := NewBucket(g, opts)
			t.Cleanup(b.Close)
			// A bounded context: a broken singleflight fails the test
			// instead of hanging it.
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			fn(t, &raceFixture{b: b, g: g, ctx: ctx, clk: clk})
		})
	}
}

func (f *raceFixture) put(t *testing.T, key, data string) {
	t.Helper()
	if _, err := f.b.Put(f.ctx, key, strings.NewReader(data), ossclient.PutOptions{}); err != nil {
		t.Fatalf("Put %q: %v", key, err)
	}
}

func (f *raceFixture) hold(t *testing.T, op string, run func()) chan struct{} {
	t.Helper()
	f.g.arm(op)
	done := make(chan struct{})
	go func() { defer close(done); run() }()
	if !f.g.waitReached(op) {
		t.Fatalf("%s never reached the gate", op)
	}
	return done
}

func (f *raceFixture) releaseAndWait(done chan struct{}) {
	f.g.release <- struct{}{}
	<-done
}

func TestRaceStatDoesNotStoreAcrossPut(t *testing.T) {
	forEachInner(t, func(t *testing.T, f *raceFixture) {
		var firstErr error
		done := f.hold(t, "Stat", func() { _, firstErr = f.b.Stat(f.ctx, "x") })
		f.put(t, "x", "new")
		// A Stat arriving after the Put must not join the stale fetch.
		if o, err := f.b.Stat(f.ctx, "x"); err != nil || o.Size != 3 {
			t.Fatalf("Stat after Put while a stale fetch is held = %v, %v", o, err)
		}
		f.releaseAndWait(done)
		if !errors.Is(firstErr, ossclient.ErrNotFound) {
			t.Fatalf("held Stat = %v, want the pre-Put ErrNotFound", firstErr)
		}
		before := f.g.count("Stat")
		if o, err := f.b.Stat(f.ctx, "x"); err != nil || o.Size != 3 {
			t.Fatalf("Stat after release = %v, %v; the stale not-found was stored", o, err)
		}
		if n := f.g.count("Stat") - before; n != 0 {
			t.Fatalf("Stat after release made %d requests; the fresh answer should be cached", n)
		}
	})
}

func TestRaceListDoesNotStoreAcrossPut(t *testing.T) {
	forEachInner(t, func(t *testing.T, f *raceFixture) {
		f.put(t, "d/a", "1")
		done := f.hold(t, "List", func() { f.b.List(f.ctx, "d/", ossclient.ListOptions{}) })
		f.put(t, "d/b", "2")
		f.releaseAndWait(done)
		l, err := f.b.List(f.ctx, "d/", ossclient.ListOptions{})
		if err != nil || len(l.Objects) != 2 {
			t.Fatalf("List after release = %+v, %v; want d/a and d/b", l, err)
		}
		if _, err := f.b.Stat(f.ctx, "d/b"); err != nil {
			t.Fatalf("Stat d/b: %v (stale listing answered not found)", err)
		}
	})
}

func TestRaceGetSymlinkDoesNotStoreAcrossPutSymlink(t *testing.T) {
	forEachInner(t, func(t *testing.T, f *raceFixture) {
		if err := f.b.PutSymlink(f.ctx, "l", "old", ossclient.SymlinkOptions{}); err != nil {
			t.Fatal(err)
		}
		done := f.hold(t, "GetSymlink", func() { f.b.GetSymlink(f.ctx, "l") })
		if err := f.b.PutSymlink(f.ctx, "l", "new", ossclient.SymlinkOptions{}); err != nil {
			t.Fatal(err)
		}
		f.releaseAndWait(done)
		if s, err := f.b.GetSymlink(f.ctx, "l"); err != nil || s.Target != "new" {
			t.Fatalf("GetSymlink after release = %+v, %v; want new", s, err)
		}
	})
}

func TestRacePrefetchDoesNotStoreAcrossPutSymlink(t *testing.T) {
	forEachInner(t, func(t *testing.T, f *raceFixture) {
		if err := f.b.PutSymlink(f.ctx, "d/l", "old", ossclient.SymlinkOptions{}); err != nil {
			t.Fatal(err)
		}
		f.g.arm("GetSymlink")
		if _, err := f.b.List(f.ctx, "d/", ossclient.ListOptions{}); err != nil {
			t.Fatal(err)
		}
		if !f.g.waitReached("GetSymlink") {
			t.Fatal("prefetch never ran")
		}
		if err := f.b.PutSymlink(f.ctx, "d/l", "new", ossclient.SymlinkOptions{}); err != nil {
			t.Fatal(err)
		}
		f.g.release <- struct{}{}
		f.b.Close() // waits for the prefetch to finish
		if s, err := f.b.GetSymlink(f.ctx, "d/l"); err != nil || s.Target != "new" {
			t.Fatalf("GetSymlink after prefetch = %+v, %v; want new", s, err)
		}
	})
}

func TestRaceMarkerDeleteDropsBothListings(t *testing.T) {
	forEachInner(t, func(t *testing.T, f *raceFixture) {
		f.put(t, "a/b/", "")
		for _, p := range []string{"a/", "a/b/"} {
			if _, err := f.b.List(f.ctx, p, ossclient.ListOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		if err := f.b.Delete(f.ctx, "a/b/"); err != nil {
			t.Fatal(err)
		}
		if l, err := f.b.List(f.ctx, "a/b/", ossclient.ListOptions{Limit: 1}); err != nil || len(l.Objects)+len(l.Prefixes) != 0 {
			t.Fatalf("probe of a/b/ after deleting its marker = %+v, %v; want empty", l, err)
		}
		if _, err := f.b.Stat(f.ctx, "a/b/"); !errors.Is(err, ossclient.ErrNotFound) {
			t.Fatalf("Stat a/b/ after delete = %v", err)
		}
	})
}

func TestRaceWaitersShareOneFetchAndSurviveLeaderCancel(t *testing.T) {
	forEachInner(t, func(t *testing.T, f *raceFixture) {
		f.put(t, "x", "abc")
		f.b.Invalidate("x") // the Put recorded x: make Stat ask
		lctx, cancel := context.WithCancel(f.ctx)
		var leaderErr error
		done := f.hold(t, "Stat", func() { _, leaderErr = f.b.Stat(lctx, "x") })
		const n = 7
		res := make(chan error, n)
		for i := 0; i < n; i++ {
			go func() {
				o, err := f.b.Stat(f.ctx, "x")
				if err == nil && o.Size != 3 {
					err = errors.New("wrong size")
				}
				res <- err
			}()
		}
		waitFor(t, func() bool { return f.b.fl.waiting("s:x") == n })
		cancel() // the leader gives up; the waiters must not fail for it
		<-done
		if !errors.Is(leaderErr, context.Canceled) {
			t.Fatalf("leader err = %v, want context.Canceled", leaderErr)
		}
		for i := 0; i < n; i++ {
			if err := <-res; err != nil {
				t.Fatalf("waiter: %v", err)
			}
		}
		// The held request, then exactly one retry shared by the 7 waiters.
		if got := f.g.count("Stat"); got != 2 {
			t.Fatalf("inner Stat calls = %d, want 2", got)
		}
	})
}

func TestCloseStopsPrefetch(t *testing.T) {
	forEachInner(t, func(t *testing.T, f *raceFixture) {
		for _, k := range []string{"d/l1", "d/l2"} {
			if err := f.b.PutSymlink(f.ctx, k, "t", ossclient.SymlinkOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		f.g.arm("GetSymlink")
		if _, err := f.b.List(f.ctx, "d/", ossclient.ListOptions{}); err != nil {
			t.Fatal(err)
		}
		if !f.g.waitReached("GetSymlink") {
			t.Fatal("prefetch never ran")
		}
		closed := make(chan struct{})
		go func() { f.b.Close(); close(closed) }()
		select {
		case <-closed:
		case <-time.After(10 * time.Second):
			t.Fatal("Close did not stop a held prefetch")
		}
		// After Close, listings no longer start prefetches.
		f.b.Invalidate("d/l1")
		before := f.g.count("GetSymlink")
		if _, err := f.b.List(f.ctx, "d/", ossclient.ListOptions{}); err != nil {
			t.Fatal(err)
		}
		f.b.wg.Wait()
		if n := f.g.count("GetSymlink") - before; n != 0 {
			t.Fatalf("%d prefetches after Close", n)
		}
	})
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached in 10s")
		}
		time.Sleep(time.Millisecond)
	}
}

func TestRaceProbeDoesNotStoreAcrossPut(t *testing.T) {
	forEachInner(t, func(t *testing.T, f *raceFixture) {
		f.put(t, "d/a", "1")
		f.b.InvalidateDir("d/")
		done := f.hold(t, "List", func() { f.b.List(f.ctx, "d/", ossclient.ListOptions{Limit: 1}) })
		f.put(t, "d/b", "2")
		f.releaseAndWait(done)
		l, err := f.b.List(f.ctx, "d/", ossclient.ListOptions{})
		if err != nil || len(l.Objects) != 2 {
			t.Fatalf("List after release = %+v, %v; want d/a and d/b (a stale page was stored)", l, err)
		}
	})
}

// TestRaceLookupPageDoesNotStoreAcrossPut: a lookup's page of d/, fetched
// before a Put through the Bucket made the directory d/y/, must not be
// stored after it: it would answer that d/y is not there.
func TestRaceLookupPageDoesNotStoreAcrossPut(t *testing.T) {
	forEachInner(t, func(t *testing.T, f *raceFixture) {
		f.put(t, "d/a", "1")
		var firstErr error
		done := f.hold(t, "List", func() { _, firstErr = f.b.Stat(f.ctx, "d/q", ossclient.ForLookup) })
		f.put(t, "d/y/z", "2")
		f.releaseAndWait(done)
		if !errors.Is(firstErr, ossclient.ErrNotFound) {
			t.Fatalf("held lookup = %v, want not found", firstErr)
		}
		l, err := f.b.List(f.ctx, "d/y/", ossclient.ListOptions{Limit: 1})
		if err != nil || len(l.Objects)+len(l.Prefixes) != 1 {
			t.Fatalf("probe d/y/ after release = %+v, %v; the stale page was stored", l, err)
		}
		if _, err := f.b.Stat(f.ctx, "d/a", ossclient.ForLookup); err != nil {
			t.Fatalf("Stat d/a: %v", err)
		}
	})
}

// memFixture is a raceFixture over the in-memory Bucket only, whose
// versions all have the same Last-Modified second (zero) and a copy keeps
// the ETag: a chmod in the same second as the version before, which
// ossclient.SameVersion cannot tell apart.
func memFixture(t *testing.T) *raceFixture {
	g := newGated(newMemBucket())
	clk := NewFakeClock(t0)
	opts := DefaultOptions()
	opts.Clock = clk
	b := NewBucket(g, opts)
	t.Cleanup(b.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return &raceFixture{b: b, g: g, ctx: ctx, clk: clk}
}

// TestRaceListDuringChmodCarriesNoOldMeta: a listing fetched while a
// metadata-replacing copy (a chmod) is in flight (landed in OSS, its answer
// not yet processed) shows the object's metadata as unknown, not the
// metadata remembered for the version before, which it cannot tell from
// the new one; once the copy is done it shows the new metadata.
func TestRaceListDuringChmodCarriesNoOldMeta(t *testing.T) {
	f := memFixture(t)
	f.put(t, "d/f", "x") // its metadata ({}) is remembered
	chmod := ossclient.CopyOptions{ReplaceMeta: true, Meta: map[string]string{"mode": "33152"}}
	done := f.hold(t, "Copy", func() {
		if _, err := f.b.Copy(f.ctx, "d/f", "d/f", chmod); err != nil {
			t.Errorf("Copy: %v", err)
		}
	})
	l, err := f.b.List(f.ctx, "d/", ossclient.ListOptions{})
	if err != nil || len(l.Objects) != 1 {
		t.Fatalf("List = %+v, %v", l, err)
	}
	if o := l.Objects[0]; !o.MetaUnknown {
		t.Errorf("listed during the chmod: %+v; want the metadata unknown, not the old version's", o)
	}
	f.releaseAndWait(done)
	l, err = f.b.List(f.ctx, "d/", ossclient.ListOptions{})
	if err != nil || len(l.Objects) != 1 {
		t.Fatalf("List = %+v, %v", l, err)
	}
	if o := l.Objects[0]; o.MetaUnknown || o.Meta["mode"] != "33152" {
		t.Errorf("listed after the chmod: %+v; want mode 33152", o)
	}
}

// TestInvalidateDropsRememberedMeta: Invalidate forgets the metadata
// remembered for the key's version too: another client may have changed
// it within that version's second, which a listing cannot show.
func TestInvalidateDropsRememberedMeta(t *testing.T) {
	f := memFixture(t)
	f.put(t, "d/f", "x")
	f.b.Invalidate("d/f")
	l, err := f.b.List(f.ctx, "d/", ossclient.ListOptions{})
	if err != nil || len(l.Objects) != 1 {
		t.Fatalf("List = %+v, %v", l, err)
	}
	if o := l.Objects[0]; !o.MetaUnknown {
		t.Errorf("listed after Invalidate: %+v; want the metadata unknown", o)
	}
	before := f.g.count("Stat")
	if o, err := f.b.Stat(f.ctx, "d/f", ossclient.WithMeta); err != nil || o.MetaUnknown {
		t.Fatalf("Stat WithMeta = %+v, %v", o, err)
	}
	if n := f.g.count("Stat") - before; n != 1 {
		t.Errorf("Stat WithMeta after Invalidate: %d HEADs, want 1", n)
	}
}
