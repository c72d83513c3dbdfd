package e2e

import (
	"bytes"
	"log/slog"
	"os"
	"strings"
	"sync"
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

// TestHiddenKeysLoggedOnce: keys that cannot be file names are hidden from
// every listing and lookup (ENOENT, never EIO) and logged once per mount,
// however often the directory is read.
func TestHiddenKeysLoggedOnce(t *testing.T) {
	var logs lockedBuffer
	e := newEnv(t, config{fs: func(o *ossfs.Options) {
		o.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
		o.EntryTimeout, o.AttrTimeout, o.NegativeTimeout = -1, -1, -1
	}})
	hidden := []string{"h//b", "h/./c", "h/../d", "h/" + strings.Repeat("s", 256)}
	for _, k := range append(hidden, "h/ok") {
		e.put(k, "v")
	}
	for range 3 {
		if got := e.sh(`ls -a h && ls -l h | wc -l`); got != ".\n..\nok\n2\n" {
			t.Errorf("ls h = %q", got)
		}
	}
	text := logs.String()
	if n := strings.Count(text, "key hidden"); n != len(hidden) {
		t.Errorf("%d 'key hidden' log lines for %d hidden keys:\n%s", n, len(hidden), text)
	}
	// Each is named by the entry that hides it: the key, or the prefix
	// ending in the segment that cannot be a name.
	for _, k := range []string{"key=h// ", "key=h/./ ", "key=h/../ ", "key=" + hidden[3] + " "} {
		if strings.Count(text, k) != 1 {
			t.Errorf("want one log line with %s:\n%s", k, text)
		}
	}
	if strings.Contains(text, "level=ERROR") {
		t.Errorf("hidden keys caused errors:\n%s", text)
	}
}

// lockedBuffer is a bytes.Buffer safe for concurrent writers.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestChangeElsewhereVisibleToStatWhileOpen: a file changed in the bucket
// while a reader holds it open on the mount shows its new size to stat by
// path once the TTLs pass, as it does when nobody holds it open (a stat
// by path must not answer from the reader's pinned version forever).
func TestChangeElsewhereVisibleToStatWhileOpen(t *testing.T) {
	clock := cache.NewFakeClock(time.Now())
	e := newEnv(t, config{
		cache: func(o *cache.Options) { o.Clock = clock },
		fs: func(o *ossfs.Options) {
			o.EntryTimeout, o.AttrTimeout, o.NegativeTimeout = -1, -1, -1
		},
	})
	e.put("f", strings.Repeat("a", 100))
	r, err := os.Open(e.p("f"))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := r.Read(make([]byte, 10)); err != nil {
		t.Fatal(err)
	}
	e.put("f", strings.Repeat("b", 5000))
	clock.Advance(cache.DefaultStatTTL + cache.DefaultListTTL + time.Second)
	if got := strings.TrimSpace(e.sh(`stat -c %s f`)); got != "5000" {
		t.Errorf("stat by path after the TTLs, a reader holding the file open: %s bytes, want 5000", got)
	}
}
