package cache

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ossfs/ossfs/ossclient"
)

// Symlink prefetch, counted on the local server.

func TestServerPrefetchWarmsReadlinks(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.PrefetchSymlinks = 4 })
	const n = 40
	for i := 0; i < n; i++ {
		e.link(t, fmt.Sprintf("links/l%02d", i), fmt.Sprintf("targets/t%02d", i))
	}
	e.put(t, "links/plain", "x")
	e.srv.ResetCounts()
	if _, err := e.b.List(e.ctx, "links/", ossclient.ListOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return e.b.syms.Len() == n }) // all stored
	e.expect(t, "listing + prefetch", map[string]int64{"ListObjectsV2": 1, "GetSymlink": n})
	for i := 0; i < n; i++ {
		s, err := e.b.GetSymlink(e.ctx, fmt.Sprintf("links/l%02d", i))
		if err != nil || s.Target != fmt.Sprintf("targets/t%02d", i) {
			t.Fatalf("readlink l%02d = %+v, %v", i, s, err)
		}
	}
	e.expect(t, "readlinks after prefetch", none())
}

func TestServerPrefetchDisabled(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.PrefetchSymlinks = 0 })
	e.link(t, "d/l", "t")
	e.srv.ResetCounts()
	if _, err := e.b.List(e.ctx, "d/", ossclient.ListOptions{}); err != nil {
		t.Fatal(err)
	}
	e.b.Close()
	e.expect(t, "listing without prefetch", map[string]int64{"ListObjectsV2": 1})
}

func TestServerReadlinkJoinsPrefetchInFlight(t *testing.T) {
	srv, c := startServer(t)
	ctx := context.Background()
	if err := c.PutSymlink(ctx, "d/l", "t", ossclient.SymlinkOptions{}); err != nil {
		t.Fatal(err)
	}
	g := newGated(c)
	b := NewBucket(g, Options{Clock: NewFakeClock(t0), Logger: quiet, PrefetchSymlinks: 2})
	defer b.Close()
	srv.ResetCounts()
	g.arm("GetSymlink") // hold the prefetch's request
	if _, err := b.List(ctx, "d/", ossclient.ListOptions{}); err != nil {
		t.Fatal(err)
	}
	if !g.waitReached("GetSymlink") {
		t.Fatal("no prefetch")
	}
	got := make(chan string, 1)
	go func() {
		s, err := b.GetSymlink(ctx, "d/l")
		if err != nil {
			got <- err.Error()
			return
		}
		got <- s.Target
	}()
	waitFor(t, func() bool { return b.fl.waiting("y:d/l") == 1 })
	g.release <- struct{}{}
	if s := <-got; s != "t" {
		t.Fatalf("readlink during prefetch = %q", s)
	}
	if n := srv.Count("GetSymlink"); n != 1 {
		t.Fatalf("readlink during a prefetch made %d GetSymlink in all, want 1", n)
	}
}

func TestServerPrefetchConcurrencyIsBounded(t *testing.T) {
	srv, c := startServer(t)
	ctx := context.Background()
	const n = 24
	for i := 0; i < n; i++ {
		if err := c.PutSymlink(ctx, fmt.Sprintf("d/l%02d", i), "t", ossclient.SymlinkOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	srv.SetLatency(5 * time.Millisecond) // so that requests overlap
	g := newGated(c)
	b := NewBucket(g, Options{Clock: NewFakeClock(t0), Logger: quiet, PrefetchSymlinks: 3})
	srv.ResetCounts()
	if _, err := b.List(ctx, "d/", ossclient.ListOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return b.syms.Len() == n }) // all stored
	b.Close()
	if got := srv.Count("GetSymlink"); got != n {
		t.Fatalf("%d GetSymlink for %d links", got, n)
	}
	if m := g.symMax.Load(); m > 3 || m < 2 {
		t.Fatalf("at most %d prefetches at once, want 2..3 (bound 3, and in parallel)", m)
	}
}
