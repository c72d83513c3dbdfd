package cache

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/ossfs/ossfs/ossclient"
	"github.com/ossfs/ossfs/ossclient/osstest"
)

// Request counts are read from the local OSS-compatible server, reached by
// the real SDK-backed client over HTTP.

const testBucket = "cache-test"

var quiet = slog.New(slog.DiscardHandler)

// startServer starts a local server and returns it with a real client on it.
func startServer(t testing.TB) (*osstest.Server, *ossclient.Client) {
	t.Helper()
	return startServerWith(t, osstest.Options{Buckets: []string{testBucket}})
}

// startServerWith is startServer with the server's options given.
func startServerWith(t testing.TB, so osstest.Options) (*osstest.Server, *ossclient.Client) {
	t.Helper()
	srv, err := osstest.Start(so)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	c, err := ossclient.New(ossclient.Config{
		Endpoint: srv.Endpoint(), Region: srv.Region(), Bucket: testBucket,
		Credentials: ossclient.Credentials{Source: ossclient.SourceStatic,
			AccessKeyID: osstest.DefaultAccessKeyID, AccessKeySecret: osstest.DefaultAccessKeySecret},
		Logger: quiet,
	})
	if err != nil {
		t.Fatal(err)
	}
	return srv, c
}

func init() {
	// The race tests also run over the real client (held by gated).
	raceInners["server"] = func(t *testing.T) ossclient.Bucket {
		_, c := startServer(t)
		return c
	}
}

type env struct {
	srv *osstest.Server
	raw *ossclient.Client // uncached: sets the scene behind the cache's back
	b   *Bucket
	clk *FakeClock
	ctx context.Context
}

func newEnv(t testing.TB, mod func(*Options)) *env {
	t.Helper()
	srv, c := startServer(t)
	return newEnvOn(t, srv, c, mod)
}

// newEnvOn is newEnv on a server already started.
func newEnvOn(t testing.TB, srv *osstest.Server, c *ossclient.Client, mod func(*Options)) *env {
	t.Helper()
	clk := NewFakeClock(t0)
	opts := DefaultOptions()
	opts.Clock = clk
	opts.Logger = quiet
	if mod != nil {
		mod(&opts)
	}
	b := NewBucket(c, opts)
	t.Cleanup(b.Close)
	return &env{srv: srv, raw: c, b: b, clk: clk, ctx: context.Background()}
}

func (e *env) put(t testing.TB, key, data string) {
	t.Helper()
	if _, err := e.raw.Put(e.ctx, key, strings.NewReader(data), ossclient.PutOptions{}); err != nil {
		t.Fatalf("Put %q: %v", key, err)
	}
}

func (e *env) link(t testing.TB, key, target string) {
	t.Helper()
	if err := e.raw.PutSymlink(e.ctx, key, target, ossclient.SymlinkOptions{}); err != nil {
		t.Fatalf("PutSymlink %q: %v", key, err)
	}
}

// expect checks the requests made since the last reset, then resets.
func (e *env) expect(t testing.TB, what string, want map[string]int64) {
	t.Helper()
	got := e.srv.Counts()
	var total int64
	for _, n := range want {
		total += n
	}
	for op, n := range want {
		if got[op] != n {
			t.Errorf("%s: %d %s requests, want %d (all: %v)", what, got[op], op, n, got)
		}
	}
	if e.srv.TotalRequests() != total {
		t.Errorf("%s: %d requests in all, want %d (%v)", what, e.srv.TotalRequests(), total, got)
	}
	e.srv.ResetCounts()
}

func none() map[string]int64 { return map[string]int64{} }

func TestServerGetSymlinkWarmIsFree(t *testing.T) {
	e := newEnv(t, nil)
	e.link(t, "l", "some/target with space+plus")
	e.srv.ResetCounts()
	s, err := e.b.GetSymlink(e.ctx, "l")
	if err != nil || s.Target != "some/target with space+plus" {
		t.Fatalf("GetSymlink = %+v, %v", s, err)
	}
	e.expect(t, "cold readlink", map[string]int64{"GetSymlink": 1})
	for i := 0; i < 5; i++ {
		if s, err := e.b.GetSymlink(e.ctx, "l"); err != nil || s.Target != "some/target with space+plus" {
			t.Fatalf("warm GetSymlink = %+v, %v", s, err)
		}
	}
	e.expect(t, "warm readlinks", none())
	// Not found and not-a-symlink are cached too (NegativeTTL).
	e.put(t, "plain", "x")
	e.srv.ResetCounts()
	for i := 0; i < 2; i++ {
		if _, err := e.b.GetSymlink(e.ctx, "plain"); !errors.Is(err, ossclient.ErrNotSymlink) {
			t.Fatalf("GetSymlink plain = %v", err)
		}
		if _, err := e.b.GetSymlink(e.ctx, "missing"); !errors.Is(err, ossclient.ErrNotFound) {
			t.Fatalf("GetSymlink missing = %v", err)
		}
	}
	e.expect(t, "negative readlinks", map[string]int64{"GetSymlink": 2})
}

func TestServerGetSymlinkColdConcurrentIsOneRequest(t *testing.T) {
	srv, c := startServer(t)
	if err := c.PutSymlink(context.Background(), "l", "t", ossclient.SymlinkOptions{}); err != nil {
		t.Fatal(err)
	}
	g := newGated(c)
	b := NewBucket(g, Options{Clock: NewFakeClock(t0), Logger: quiet})
	defer b.Close()
	srv.ResetCounts()
	g.arm("GetSymlink") // hold the first request until all 8 callers are in
	const n = 8
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		wg.Go(func() {
			s, err := b.GetSymlink(context.Background(), "l")
			if err == nil && s.Target != "t" {
				err = fmt.Errorf("target %q", s.Target)
			}
			errs <- err
		})
	}
	if !g.waitReached("GetSymlink") {
		t.Fatal("no GetSymlink reached the server")
	}
	waitFor(t, func() bool { return b.fl.waiting("y:l") == n-1 })
	g.release <- struct{}{}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := srv.Count("GetSymlink"); got != 1 || srv.TotalRequests() != 1 {
		t.Fatalf("8 concurrent cold readlinks made %d GetSymlink (%d requests), want 1", got, srv.TotalRequests())
	}
	if st := b.Stats(); st.SharedWaits != n-1 || st.SymlinkMisses != n {
		t.Fatalf("Stats = %+v", st)
	}
}

func TestServerListingAnswersStats(t *testing.T) {
	e := newEnv(t, nil)
	const n = 1000
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Go(func() {
			for i := w; i < n; i += 8 {
				e.put(t, fmt.Sprintf("d/f%04d", i), "data")
			}
		})
	}
	wg.Wait()
	e.put(t, "d/sub/x", "1")
	e.srv.ResetCounts()

	l, err := e.b.List(e.ctx, "d/", ossclient.ListOptions{})
	if err != nil || len(l.Objects) != n || len(l.Prefixes) != 1 {
		t.Fatalf("List = %d objects, %v prefixes, %v", len(l.Objects), l.Prefixes, err)
	}
	pages := e.srv.Count("ListObjectsV2")
	if pages < 1 || pages > 2 {
		t.Fatalf("listing 1,001 entries took %d pages", pages)
	}
	e.expect(t, "listing", map[string]int64{"ListObjectsV2": pages})
	for i := 0; i < n; i++ {
		o, err := e.b.Stat(e.ctx, fmt.Sprintf("d/f%04d", i))
		if err != nil || o.Size != 4 || !o.MetaUnknown || o.ETag == "" || o.Type != ossclient.TypeNormal {
			t.Fatalf("Stat d/f%04d = %+v, %v", i, o, err)
		}
	}
	// Absent names, the directory probe and the listing again: all free.
	if _, err := e.b.Stat(e.ctx, "d/nope"); !errors.Is(err, ossclient.ErrNotFound) {
		t.Fatalf("Stat d/nope = %v", err)
	}
	if _, err := e.b.Stat(e.ctx, "d/sub"); !errors.Is(err, ossclient.ErrNotFound) {
		t.Fatalf("Stat d/sub (a directory, not an object) = %v", err)
	}
	if p, err := e.b.List(e.ctx, "d/sub/", ossclient.ListOptions{Limit: 1}); err != nil || len(p.Prefixes) != 1 {
		t.Fatalf("probe d/sub/ = %+v, %v", p, err)
	}
	if p, err := e.b.List(e.ctx, "d/nope/", ossclient.ListOptions{Limit: 1}); err != nil || len(p.Objects)+len(p.Prefixes) != 0 {
		t.Fatalf("probe d/nope/ = %+v, %v", p, err)
	}
	if p, err := e.b.List(e.ctx, "d/", ossclient.ListOptions{Limit: 2}); err != nil || len(p.Objects) != 2 || p.Objects[0].Key != "d/f0000" {
		t.Fatalf("probe d/ limit 2 = %+v, %v", p, err)
	}
	if _, err := e.b.List(e.ctx, "d/", ossclient.ListOptions{}); err != nil {
		t.Fatal(err)
	}
	e.expect(t, "1,000 Stats, 2 misses, 3 probes, 1 List after the listing", none())
	// A Stat with metadata needs a HEAD only when asked past the listing:
	// Limit 2 on a directory the parent shows cannot be answered from it.
	if _, err := e.b.List(e.ctx, "d/sub/", ossclient.ListOptions{Limit: 2}); err != nil {
		t.Fatal(err)
	}
	e.expect(t, "rmdir-style probe", map[string]int64{"ListObjectsV2": 1})
}

func TestServerMarkerStat(t *testing.T) {
	e := newEnv(t, nil)
	e.put(t, "a/explicit/", "")
	e.put(t, "a/implicit/f", "1")
	if _, err := e.b.List(e.ctx, "a/", ossclient.ListOptions{}); err != nil {
		t.Fatal(err)
	}
	e.srv.ResetCounts()
	// The parent listing proves a marker absent, never present.
	if _, err := e.b.Stat(e.ctx, "a/none/"); !errors.Is(err, ossclient.ErrNotFound) {
		t.Fatalf("Stat a/none/ = %v", err)
	}
	e.expect(t, "absent marker", none())
	if o, err := e.b.Stat(e.ctx, "a/explicit/"); err != nil || o.MetaUnknown {
		t.Fatalf("Stat a/explicit/ = %+v, %v (want a HEAD answer)", o, err)
	}
	if _, err := e.b.Stat(e.ctx, "a/implicit/"); !errors.Is(err, ossclient.ErrNotFound) {
		t.Fatalf("Stat a/implicit/ = %v", err)
	}
	e.expect(t, "markers under a listed prefix", map[string]int64{"HeadObject": 2})
	// The listing of the directory itself is authoritative for its marker.
	if _, err := e.b.List(e.ctx, "a/implicit/", ossclient.ListOptions{}); err != nil {
		t.Fatal(err)
	}
	e.b.stat.Remove("a/implicit/") // forget the HEAD answer
	e.srv.ResetCounts()
	if _, err := e.b.Stat(e.ctx, "a/implicit/"); !errors.Is(err, ossclient.ErrNotFound) {
		t.Fatalf("Stat a/implicit/ from its own listing = %v", err)
	}
	e.expect(t, "marker from its own listing", none())
}

func TestServerStatCachesPositiveNegativeDangling(t *testing.T) {
	e := newEnv(t, nil)
	e.put(t, "f", "hello")
	e.link(t, "dangling", "no/such/key")
	e.srv.ResetCounts()
	for i := 0; i < 3; i++ {
		if o, err := e.b.Stat(e.ctx, "f"); err != nil || o.Size != 5 || o.MetaUnknown {
			t.Fatalf("Stat f = %+v, %v", o, err)
		}
		if _, err := e.b.Stat(e.ctx, "missing"); !errors.Is(err, ossclient.ErrNotFound) {
			t.Fatalf("Stat missing = %v", err)
		}
		if _, err := e.b.Stat(e.ctx, "dangling"); !errors.Is(err, ossclient.ErrDanglingSymlink) {
			t.Fatalf("Stat dangling = %v", err)
		}
	}
	e.expect(t, "3 rounds of 3 Stats", map[string]int64{"HeadObject": 3})
}

func TestServerMutationsInvalidate(t *testing.T) {
	e := newEnv(t, nil)
	e.put(t, "d/x", "1")
	stat := func(key string) (*ossclient.Object, error) { return e.b.Stat(e.ctx, key) }
	if _, err := e.b.List(e.ctx, "d/", ossclient.ListOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := stat("d/y"); !errors.Is(err, ossclient.ErrNotFound) {
		t.Fatal(err)
	}
	// Put through the cache: the negative answer and the listing go.
	if _, err := e.b.Put(e.ctx, "d/y", strings.NewReader("22"), ossclient.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if o, err := stat("d/y"); err != nil || o.Size != 2 {
		t.Fatalf("Stat after Put = %+v, %v", o, err)
	}
	if l, _ := e.b.List(e.ctx, "d/", ossclient.ListOptions{}); len(l.Objects) != 2 {
		t.Fatalf("List after Put = %+v", l)
	}
	// Overwrite, Copy onto, Delete, DeleteMany, PutSymlink.
	if _, err := e.b.Put(e.ctx, "d/y", strings.NewReader("333"), ossclient.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if o, _ := stat("d/y"); o == nil || o.Size != 3 {
		t.Fatalf("Stat after overwrite = %+v", o)
	}
	if _, err := e.b.Copy(e.ctx, "d/x", "d/y", ossclient.CopyOptions{}); err != nil {
		t.Fatal(err)
	}
	if o, _ := stat("d/y"); o == nil || o.Size != 1 {
		t.Fatalf("Stat after Copy = %+v", o)
	}
	if err := e.b.Delete(e.ctx, "d/y"); err != nil {
		t.Fatal(err)
	}
	if _, err := stat("d/y"); !errors.Is(err, ossclient.ErrNotFound) {
		t.Fatalf("Stat after Delete = %v", err)
	}
	if err := e.b.PutSymlink(e.ctx, "d/l", "x", ossclient.SymlinkOptions{}); err != nil {
		t.Fatal(err)
	}
	if s, _ := e.b.GetSymlink(e.ctx, "d/l"); s == nil || s.Target != "d/x" && s.Target != "x" {
		t.Fatalf("GetSymlink = %+v", s)
	}
	if err := e.b.PutSymlink(e.ctx, "d/l", "other", ossclient.SymlinkOptions{}); err != nil {
		t.Fatal(err)
	}
	if s, _ := e.b.GetSymlink(e.ctx, "d/l"); s == nil || s.Target != "other" {
		t.Fatalf("GetSymlink after re-link = %+v", s)
	}
	if err := e.b.DeleteMany(e.ctx, []string{"d/l", "d/x"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.b.GetSymlink(e.ctx, "d/l"); !errors.Is(err, ossclient.ErrNotFound) {
		t.Fatalf("GetSymlink after DeleteMany = %v", err)
	}
	if l, _ := e.b.List(e.ctx, "d/", ossclient.ListOptions{}); len(l.Objects) != 0 {
		t.Fatalf("List after DeleteMany = %+v", l)
	}
	// A failed mutation invalidates too (it may have landed).
	if _, err := stat("d/z"); !errors.Is(err, ossclient.ErrNotFound) {
		t.Fatal(err)
	}
	e.put(t, "d/z", "1") // behind the cache's back
	if _, err := e.b.Put(e.ctx, "d/z", strings.NewReader("1"), ossclient.PutOptions{ForbidOverwrite: true}); !errors.Is(err, ossclient.ErrAlreadyExists) {
		t.Fatalf("forbid-overwrite Put = %v", err)
	}
	if _, err := stat("d/z"); err != nil {
		t.Fatalf("Stat after a failed Put = %v", err)
	}
}

func TestServerNewImplicitDirectoryDropsAncestorListing(t *testing.T) {
	e := newEnv(t, nil)
	e.put(t, "top", "1")
	if _, err := e.b.List(e.ctx, "", ossclient.ListOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.b.Put(e.ctx, "new/deep/f", strings.NewReader("1"), ossclient.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if p, err := e.b.List(e.ctx, "new/", ossclient.ListOptions{Limit: 1}); err != nil || len(p.Objects)+len(p.Prefixes) == 0 {
		t.Fatalf("probe new/ after creating new/deep/f = %+v, %v", p, err)
	}
}

func TestServerTTLExpiryRefetchesOnce(t *testing.T) {
	e := newEnv(t, nil)
	e.put(t, "d/f", "1")
	e.link(t, "d/l", "d/f")
	e.srv.ResetCounts()
	touch := func() {
		e.b.Stat(e.ctx, "x/f")
		e.b.GetSymlink(e.ctx, "d/l")
		e.b.List(e.ctx, "d/", ossclient.ListOptions{})
	}
	e.put(t, "x/f", "1")
	e.srv.ResetCounts()
	touch()
	e.expect(t, "cold", map[string]int64{"HeadObject": 1, "GetSymlink": 1, "ListObjectsV2": 1})
	e.clk.Advance(DefaultStatTTL - 1)
	touch()
	e.expect(t, "just before the stat/list TTL", none())
	e.clk.Advance(1)
	touch()
	e.expect(t, "at the stat/list TTL", map[string]int64{"HeadObject": 1, "ListObjectsV2": 1})
	e.clk.Set(t0.Add(DefaultSymlinkTTL))
	e.b.GetSymlink(e.ctx, "d/l")
	e.b.GetSymlink(e.ctx, "d/l")
	e.expect(t, "at the symlink TTL", map[string]int64{"GetSymlink": 1})
	// Negative entries live NegativeTTL.
	e.b.Stat(e.ctx, "gone")
	e.clk.Advance(DefaultNegativeTTL - 1)
	e.b.Stat(e.ctx, "gone")
	e.clk.Advance(1)
	e.b.Stat(e.ctx, "gone")
	e.b.Stat(e.ctx, "gone")
	e.expect(t, "negative TTL", map[string]int64{"HeadObject": 2})
}

func TestServerInvalidateExternalChanges(t *testing.T) {
	e := newEnv(t, nil)
	e.put(t, "d/a", "1")
	if _, err := e.b.List(e.ctx, "d/", ossclient.ListOptions{}); err != nil {
		t.Fatal(err)
	}
	e.put(t, "d/b", "2") // behind the cache's back
	if _, err := e.b.Stat(e.ctx, "d/b"); !errors.Is(err, ossclient.ErrNotFound) {
		t.Fatalf("before Invalidate the listing answers: %v", err)
	}
	e.b.Invalidate("d/b")
	if _, err := e.b.Stat(e.ctx, "d/b"); err != nil {
		t.Fatalf("after Invalidate: %v", err)
	}
	e.put(t, "d/a", "changed") // behind the cache's back
	e.b.InvalidateDir("d/")
	if o, err := e.b.Stat(e.ctx, "d/a"); err != nil || o.Size != 7 {
		t.Fatalf("after InvalidateDir: %+v, %v", o, err)
	}
}

// TestServerNegativeTTLMeansNoCache: a negative TTL (what the CLI passes
// for --stat-ttl 0 and friends) caches nothing of that kind, at the same
// instant of the fake clock; a zero TTL is the default.
func TestServerNegativeTTLMeansNoCache(t *testing.T) {
	e := newEnv(t, func(o *Options) {
		o.StatTTL, o.NegativeTTL, o.ListTTL, o.SymlinkTTL = -1, -1, -1, -1
		o.PrefetchSymlinks = 0 // a listing warms nothing, so it costs no GetSymlink
	})
	e.put(t, "d/f", "1")
	e.link(t, "d/l", "d/f")
	e.srv.ResetCounts()
	for range 2 {
		e.b.Stat(e.ctx, "x")
		e.b.Stat(e.ctx, "d/f")
		e.b.GetSymlink(e.ctx, "d/l")
		e.b.List(e.ctx, "d/", ossclient.ListOptions{})
	}
	e.expect(t, "every TTL negative", map[string]int64{"HeadObject": 4, "GetSymlink": 2, "ListObjectsV2": 2})
	if o := (Options{}).withDefaults(); o.StatTTL != DefaultStatTTL || o.NegativeTTL != DefaultNegativeTTL ||
		o.ListTTL != DefaultListTTL || o.SymlinkTTL != DefaultSymlinkTTL {
		t.Errorf("zero TTLs became %+v, want the defaults", o)
	}
}
