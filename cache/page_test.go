package cache

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/ossfs/ossfs/ossclient"
)

// TestServerProbeFetchesWholeSmallDirectory: the lookup of a directory
// (its Stat ForLookup and its probe, as package fs asks them at once) is
// one request, a page of its parent; listing it is one more, which also
// answers the lookups of its children, present or not.
func TestServerProbeFetchesWholeSmallDirectory(t *testing.T) {
	e := newEnv(t, nil)
	for i := range 5 {
		e.put(t, fmt.Sprintf("d/f%d", i), "x")
	}
	e.put(t, "d/sub/g", "y")
	e.srv.ResetCounts()
	var wg sync.WaitGroup
	wg.Go(func() {
		if _, err := e.b.Stat(e.ctx, "d", ossclient.ForLookup); !errors.Is(err, ossclient.ErrNotFound) {
			t.Errorf("Stat d = %v", err)
		}
	})
	if l, err := e.b.List(e.ctx, "d/", ossclient.ListOptions{Limit: 1}); err != nil || len(l.Objects)+len(l.Prefixes) != 1 {
		t.Fatalf("probe = %+v, %v", l, err)
	}
	wg.Wait()
	e.expect(t, "lookup", map[string]int64{"ListObjectsV2": 1})
	l, err := e.b.List(e.ctx, "d/", ossclient.ListOptions{})
	if err != nil || len(l.Objects) != 5 || len(l.Prefixes) != 1 {
		t.Fatalf("List = %+v, %v", l, err)
	}
	e.expect(t, "readdir", map[string]int64{"ListObjectsV2": 1})
	if _, err := e.b.Stat(e.ctx, "d/f3", ossclient.ForLookup); err != nil {
		t.Fatal(err)
	}
	if _, err := e.b.Stat(e.ctx, "d/nope", ossclient.ForLookup); !errors.Is(err, ossclient.ErrNotFound) {
		t.Fatalf("Stat d/nope = %v", err)
	}
	if l, err := e.b.List(e.ctx, "d/nope/", ossclient.ListOptions{Limit: 1}); err != nil || len(l.Objects)+len(l.Prefixes) != 0 {
		t.Fatalf("probe d/nope/ = %+v, %v", l, err)
	}
	if l, err := e.b.List(e.ctx, "d/sub/", ossclient.ListOptions{Limit: 1}); err != nil || len(l.Prefixes) != 1 {
		t.Fatalf("probe d/sub/ = %+v, %v", l, err)
	}
	e.expect(t, "child lookups after the listing", none())
}

// TestServerListGoesOnFromFirstPage: a directory larger than a page is
// listed in three requests in all, the page a lookup fetched included,
// every entry once and in order, also when a page ends on a common prefix.
func TestServerListGoesOnFromFirstPage(t *testing.T) {
	e := newEnv(t, nil)
	var keys []string
	for i := range 2500 {
		keys = append(keys, fmt.Sprintf("big/k%04d", i))
	}
	// Entry 1000 (the last of page one) is the common prefix "big/k0999/".
	keys[999] = "big/k0999/inner"
	keys = append(keys, "big/k0999/more")
	putParallel(t, e, keys)
	e.srv.ResetCounts()
	if _, err := e.b.Stat(e.ctx, "big/k0500x", ossclient.ForLookup); !errors.Is(err, ossclient.ErrNotFound) {
		t.Fatalf("lookup within the first page = %v", err)
	}
	l, err := e.b.List(e.ctx, "big/", ossclient.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	e.expect(t, "lookup and listing of 2,500 entries", map[string]int64{"ListObjectsV2": 3})
	if len(l.Objects) != 2499 || len(l.Prefixes) != 1 || l.Prefixes[0] != "big/k0999/" {
		t.Fatalf("listing: %d objects, prefixes %v", len(l.Objects), l.Prefixes)
	}
	for i := 1; i < len(l.Objects); i++ {
		if l.Objects[i-1].Key >= l.Objects[i].Key {
			t.Fatalf("objects out of order at %d: %q %q", i, l.Objects[i-1].Key, l.Objects[i].Key)
		}
	}
}

// TestServerWritesUpdateListings: in a directory made through the cache,
// creating and deleting files needs no lookup request, and the listing
// stays right without being fetched again.
func TestServerWritesUpdateListings(t *testing.T) {
	e := newEnv(t, nil)
	if l, err := e.b.List(e.ctx, "new/", ossclient.ListOptions{Limit: 1}); err != nil || len(l.Objects) != 0 {
		t.Fatalf("probe of a missing directory = %+v, %v", l, err)
	}
	if _, err := e.b.Put(e.ctx, "new/", strings.NewReader(""), ossclient.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	e.srv.ResetCounts()
	for i := range 20 {
		key := fmt.Sprintf("new/f%02d", i)
		if _, err := e.b.Stat(e.ctx, key); !errors.Is(err, ossclient.ErrNotFound) {
			t.Fatalf("Stat %s before creating it = %v", key, err)
		}
		if l, err := e.b.List(e.ctx, key+"/", ossclient.ListOptions{Limit: 1}); err != nil || len(l.Objects)+len(l.Prefixes) != 0 {
			t.Fatalf("probe %s/ = %+v, %v", key, l, err)
		}
		if _, err := e.b.Put(e.ctx, key, strings.NewReader("data"), ossclient.PutOptions{Meta: map[string]string{"mode": "33188"}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.b.Delete(e.ctx, "new/f07"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.b.Put(e.ctx, "new/sub/deep", strings.NewReader("z"), ossclient.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	e.expect(t, "20 creates, a delete and a nested create", map[string]int64{"PutObject": 21, "DeleteObject": 1})

	o, err := e.b.Stat(e.ctx, "new/f03")
	if err != nil || o.Size != 4 || o.Meta["mode"] != "33188" {
		t.Fatalf("Stat of a file written here = %+v, %v; want its size and metadata", o, err)
	}
	if _, err := e.b.Stat(e.ctx, "new/f07"); !errors.Is(err, ossclient.ErrNotFound) {
		t.Fatalf("Stat of a deleted file = %v", err)
	}
	l, err := e.b.List(e.ctx, "new/", ossclient.ListOptions{})
	if err != nil || len(l.Objects) != 20 || len(l.Prefixes) != 1 || l.Prefixes[0] != "new/sub/" {
		t.Fatalf("listing kept up to date = %d objects %v, %v", len(l.Objects), l.Prefixes, err)
	}
	e.expect(t, "stats and listing after the writes", none())

	// The listing kept in the cache is the one OSS gives.
	fresh, err := e.raw.List(e.ctx, "new/", ossclient.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range fresh.Objects {
		if fresh.Objects[i].Key != l.Objects[i].Key || fresh.Objects[i].Size != l.Objects[i].Size || fresh.Objects[i].ETag != l.Objects[i].ETag {
			t.Fatalf("cached entry %d = %+v, OSS lists %+v", i, l.Objects[i], fresh.Objects[i])
		}
	}
}

// TestServerFailedPutInvalidates: a Put that fails drops what it may have
// changed, so the next answer comes from OSS.
func TestServerFailedPutInvalidates(t *testing.T) {
	e := newEnv(t, nil)
	e.put(t, "d/a", "1")
	if _, err := e.b.List(e.ctx, "d/", ossclient.ListOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.b.Put(e.ctx, "d/../bad", strings.NewReader("x"), ossclient.PutOptions{ForbidOverwrite: true}); err == nil {
		if _, err := e.b.Put(e.ctx, "d/a", strings.NewReader("x"), ossclient.PutOptions{ForbidOverwrite: true}); err == nil {
			t.Fatal("forbid-overwrite Put of an existing key succeeded")
		}
	}
	e.srv.ResetCounts()
	if _, err := e.b.List(e.ctx, "d/", ossclient.ListOptions{}); err != nil {
		t.Fatal(err)
	}
	e.expect(t, "listing after a failed Put", map[string]int64{"ListObjectsV2": 1})
}

// putParallel stores one-byte objects, 16 at a time, behind the cache.
func putParallel(t *testing.T, e *env, keys []string) {
	t.Helper()
	errs := make(chan error, len(keys))
	sem := make(chan struct{}, 16)
	for _, k := range keys {
		sem <- struct{}{}
		go func() {
			defer func() { <-sem }()
			_, err := e.raw.Put(e.ctx, k, strings.NewReader("x"), ossclient.PutOptions{})
			errs <- err
		}()
	}
	for range keys {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

// TestServerStatMeta: Stat WithMeta completes an answer a listing gave
// with one HEAD, cached like any HEAD; a Stat that already carries metadata
// costs nothing.
func TestServerStatMeta(t *testing.T) {
	e := newEnv(t, nil)
	if _, err := e.raw.Put(e.ctx, "d/x", strings.NewReader("data"), ossclient.PutOptions{Meta: map[string]string{"mode": "33261"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.b.List(e.ctx, "d/", ossclient.ListOptions{}); err != nil {
		t.Fatal(err)
	}
	e.srv.ResetCounts()
	if o, err := e.b.Stat(e.ctx, "d/x"); err != nil || !o.MetaUnknown || o.Meta != nil {
		t.Fatalf("Stat from the listing = %+v, %v; want no metadata", o, err)
	}
	for range 3 {
		if o, err := e.b.Stat(e.ctx, "d/x", ossclient.WithMeta); err != nil || o.Meta["mode"] != "33261" {
			t.Fatalf("Stat WithMeta = %+v, %v", o, err)
		}
	}
	e.expect(t, "Stat WithMeta three times", map[string]int64{"HeadObject": 1})
	if o, err := e.b.Stat(e.ctx, "d/x"); err != nil || o.Meta["mode"] != "33261" {
		t.Fatalf("Stat after Stat WithMeta = %+v, %v; want the HEAD's metadata", o, err)
	}
	e.expect(t, "Stat after Stat WithMeta", none())
}
