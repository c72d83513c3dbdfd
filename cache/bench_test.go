package cache

import (
	"fmt"
	"testing"

	"github.com/ossfs/ossfs/ossclient"
)

// Hot-path benchmarks: answers served from the caches (no request). The
// scene is set on the local server through the real client.

func BenchmarkStatHit(b *testing.B) {
	e := newEnv(b, nil)
	e.put(b, "d/f", "data")
	if _, err := e.b.Stat(e.ctx, "d/f"); err != nil {
		b.Fatal(err)
	}
	e.srv.ResetCounts()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := e.b.Stat(e.ctx, "d/f"); err != nil {
				b.Fatal(err)
			}
		}
	})
	if n := e.srv.TotalRequests(); n != 0 {
		b.Fatalf("%d requests during cached Stats", n)
	}
}

func BenchmarkStatFromListing(b *testing.B) {
	e := newEnv(b, nil)
	e.put(b, "d/f", "data")
	if _, err := e.b.List(e.ctx, "d/", ossclient.ListOptions{}); err != nil {
		b.Fatal(err)
	}
	e.b.stat.Purge() // answer from the listing itself
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.b.Stat(e.ctx, "d/missing"); err == nil {
			b.Fatal("found a missing key")
		}
	}
}

func BenchmarkGetSymlinkHit(b *testing.B) {
	e := newEnv(b, nil)
	e.link(b, "l", "some/target")
	if _, err := e.b.GetSymlink(e.ctx, "l"); err != nil {
		b.Fatal(err)
	}
	e.srv.ResetCounts()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := e.b.GetSymlink(e.ctx, "l"); err != nil {
				b.Fatal(err)
			}
		}
	})
	if n := e.srv.TotalRequests(); n != 0 {
		b.Fatalf("%d requests during cached GetSymlinks", n)
	}
}

func BenchmarkListHit(b *testing.B) {
	for _, n := range []int{10, 1000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			e := newEnv(b, nil)
			for i := 0; i < n; i++ {
				e.put(b, fmt.Sprintf("d/f%04d", i), "x")
			}
			if _, err := e.b.List(e.ctx, "d/", ossclient.ListOptions{}); err != nil {
				b.Fatal(err)
			}
			e.srv.ResetCounts()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := e.b.List(e.ctx, "d/", ossclient.ListOptions{}); err != nil {
					b.Fatal(err)
				}
			}
			if r := e.srv.TotalRequests(); r != 0 {
				b.Fatalf("%d requests during cached Lists", r)
			}
		})
	}
}
