package cache

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"
)

var t0 = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

func TestLRUExpiresExactlyAtTTL(t *testing.T) {
	clk := NewFakeClock(t0)
	l := NewLRU[string, int](10, time.Minute, clk)
	l.Add("a", 1)
	clk.Advance(time.Minute - time.Nanosecond)
	if v, ok := l.Get("a"); !ok || v != 1 {
		t.Fatalf("just before TTL: Get = %v, %v; want 1, true", v, ok)
	}
	clk.Advance(time.Nanosecond)
	if v, ok := l.Get("a"); ok {
		t.Fatalf("at TTL: Get = %v, true; want a miss", v)
	}
	if l.Len() != 0 {
		t.Fatalf("expired entry not dropped on Get: Len = %d", l.Len())
	}
}

func TestLRUPerEntryTTL(t *testing.T) {
	clk := NewFakeClock(t0)
	l := NewLRU[string, int](10, time.Minute, clk)
	l.AddTTL("short", 1, 5*time.Second)
	l.Add("long", 2)
	l.AddUntil("until", 3, t0.Add(10*time.Second))
	clk.Advance(5 * time.Second)
	if _, ok := l.Peek("short"); ok {
		t.Fatal("short entry returned at its TTL")
	}
	if _, ok := l.Peek("until"); !ok {
		t.Fatal("until entry missing before its expiry")
	}
	clk.Set(t0.Add(10 * time.Second))
	if _, ok := l.Get("until"); ok {
		t.Fatal("until entry returned at its expiry")
	}
	if v, ok := l.Get("long"); !ok || v != 2 {
		t.Fatalf("long = %v, %v", v, ok)
	}
	// Non-positive TTLs and past expiries store nothing and drop the key.
	l.AddTTL("long", 9, 0)
	if _, ok := l.Get("long"); ok {
		t.Fatal("AddTTL with ttl 0 stored a value or kept the old one")
	}
	l.AddUntil("x", 1, clk.Now())
	if _, ok := l.Get("x"); ok {
		t.Fatal("AddUntil(now) stored a value")
	}
}

func TestLRUBoundAndEvictionOrder(t *testing.T) {
	l := NewLRU[int, int](3, time.Hour, NewFakeClock(t0))
	for i := 1; i <= 3; i++ {
		if l.Add(i, i) {
			t.Fatalf("eviction while filling (%d)", i)
		}
	}
	l.Get(1)  // 1 becomes most recent: order 2, 3, 1
	l.Peek(2) // Peek does not refresh
	if !l.Add(4, 4) {
		t.Fatal("adding a 4th entry to a 3-entry LRU evicted nothing")
	}
	if got, want := l.Keys(), []int{3, 1, 4}; !slices.Equal(got, want) {
		t.Fatalf("Keys = %v, want %v (2 evicted as least recently used)", got, want)
	}
	l.Add(5, 5)
	if _, ok := l.Get(3); ok {
		t.Fatal("3 should have been evicted next")
	}
	if l.Len() != 3 {
		t.Fatalf("Len = %d, want 3", l.Len())
	}
}

func TestLRUExpiredEntriesAreNotRefreshedByMisses(t *testing.T) {
	clk := NewFakeClock(t0)
	l := NewLRU[string, int](2, time.Minute, clk)
	l.AddTTL("a", 1, time.Second)
	l.Add("b", 2)
	clk.Advance(time.Second)
	if _, ok := l.Peek("a"); ok {
		t.Fatal("expired a returned")
	}
	l.Add("c", 3)
	if _, ok := l.Get("b"); !ok {
		t.Fatal("b evicted although the expired a was dropped")
	}
}

func TestLRURemoveAndPurge(t *testing.T) {
	l := NewLRU[string, int](4, time.Hour, nil)
	l.Add("a", 1)
	l.Add("b", 2)
	if !l.Remove("a") || l.Remove("a") {
		t.Fatal("Remove reported wrongly")
	}
	l.Purge()
	if l.Len() != 0 {
		t.Fatalf("Len after Purge = %d", l.Len())
	}
}

func TestLRUConcurrent(t *testing.T) {
	clk := NewFakeClock(t0)
	l := NewLRU[string, int](64, time.Second, clk)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 2000; i++ {
				k := fmt.Sprint(i % 100)
				l.Add(k, i)
				l.Get(k)
				if i%500 == 0 {
					clk.Advance(time.Second)
				}
			}
		}()
	}
	wg.Wait()
	if l.Len() > 64 {
		t.Fatalf("Len = %d over the bound 64", l.Len())
	}
}

func TestFakeClock(t *testing.T) {
	c := NewFakeClock(t0)
	c.Advance(time.Hour)
	if !c.Now().Equal(t0.Add(time.Hour)) {
		t.Fatal("Advance")
	}
	c.Set(t0)
	if !c.Now().Equal(t0) {
		t.Fatal("Set")
	}
	if (RealClock{}).Now().IsZero() {
		t.Fatal("RealClock")
	}
}

func TestParentDir(t *testing.T) {
	for key, want := range map[string]string{
		"": "", "a": "", "a/": "", "a/b": "a/", "a/b/": "a/", "a/b/c": "a/b/", "a//b": "a//",
	} {
		if got := parentDir(key); got != want {
			t.Errorf("parentDir(%q) = %q, want %q", key, got, want)
		}
	}
}
