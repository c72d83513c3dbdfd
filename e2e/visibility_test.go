package e2e

import (
	"testing"
	"time"

	"github.com/ossfs/ossfs/cache"
	ossfs "github.com/ossfs/ossfs/fs"
)

// TestChangesElsewhereVisibleAfterTTL: objects added, changed and removed
// directly in the bucket show on the mount once the cache TTLs pass (a fake
// clock drives them; kernel caching is off so no sleep is needed).
func TestChangesElsewhereVisibleAfterTTL(t *testing.T) {
	clock := cache.NewFakeClock(time.Now())
	e := newEnv(t, config{
		cache: func(o *cache.Options) { o.Clock = clock },
		fs: func(o *ossfs.Options) {
			o.EntryTimeout, o.AttrTimeout, o.NegativeTimeout = -1, -1, -1
		},
	})
	e.put("d/keep", "old")
	e.put("d/gone", "x")
	if got := e.sh(`ls d && cat d/keep`); got != "gone\nkeep\nold" {
		t.Fatalf("before: %q", got)
	}
	e.put("d/new", "n")
	e.put("d/keep", "new!")
	if err := e.raw.Delete(e.ctx(), "d/gone"); err != nil {
		t.Fatal(err)
	}
	e.put("d/sub/f", "s")
	if got := e.sh(`ls d`); got != "gone\nkeep\n" {
		t.Errorf("within the TTL the listing is the cached one: %q", got)
	}
	clock.Advance(cache.DefaultListTTL + time.Second)
	if got := e.sh(`ls d && cat d/keep d/new d/sub/f`); got != "keep\nnew\nsub\nnew!ns" {
		t.Errorf("after the TTL: %q", got)
	}
}
