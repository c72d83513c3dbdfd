package cache

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/ossfs/ossfs/ossclient"
)

// lookup asks what package fs asks for a name, at once: Stat ForLookup of
// key and the probe List(key/, Limit 1). It returns whether a file and
// whether a directory are there.
func (e *env) lookup(t testing.TB, key string) (file, dir bool) {
	t.Helper()
	var (
		wg   sync.WaitGroup
		serr error
	)
	wg.Go(func() { _, serr = e.b.Stat(e.ctx, key, ossclient.ForLookup) })
	l, err := e.b.List(e.ctx, key+"/", ossclient.ListOptions{Limit: 1})
	wg.Wait()
	if err != nil || (serr != nil && !errors.Is(serr, ossclient.ErrNotFound)) {
		t.Fatalf("lookup %s: Stat %v, probe %v", key, serr, err)
	}
	return serr == nil, len(l.Objects)+len(l.Prefixes) > 0
}

// TestServerNewNamesShareOnePage: 8 writers creating 200 files in a
// directory nobody listed (a marker, a file and a subdirectory in it) make
// one listing request for all their lookups, and nothing besides their
// Puts; every lookup of an existing name answers right.
func TestServerNewNamesShareOnePage(t *testing.T) {
	e := newEnv(t, nil)
	for _, k := range []string{"d/", "d/old", "d/sub/x"} {
		e.put(t, k, "")
	}
	e.srv.ResetCounts()
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := w; i < 200; i += 8 {
				key := fmt.Sprintf("d/f%03d", i)
				if file, dir := e.lookup(t, key); file || dir {
					t.Errorf("lookup %s before creating it: file %v dir %v", key, file, dir)
				}
				if _, err := e.b.Put(e.ctx, key, strings.NewReader("x"), ossclient.PutOptions{}); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	e.expect(t, "200 lookups and creates by 8 writers", map[string]int64{"ListObjectsV2": 1, "PutObject": 200})
	if file, dir := e.lookup(t, "d/old"); !file || dir {
		t.Errorf("d/old: file %v dir %v", file, dir)
	}
	if file, dir := e.lookup(t, "d/sub"); file || !dir {
		t.Errorf("d/sub: file %v dir %v", file, dir)
	}
	if file, _ := e.lookup(t, "d/f107"); !file {
		t.Error("d/f107, created here, not found")
	}
	e.expect(t, "lookups of existing names after", none())
}

// TestServerListingNegativesLastNegativeTTL: a name's absence from a
// listing answers lookups for NegativeTTL after the listing request, as a
// HEAD's "not found" would, then the next lookup reads the page again and
// sees a name another client created meanwhile. Presence still answers
// for ListTTL.
func TestServerListingNegativesLastNegativeTTL(t *testing.T) {
	e := newEnv(t, nil)
	e.put(t, "d/old", "x")
	if l, err := e.b.List(e.ctx, "d/", ossclient.ListOptions{}); err != nil || len(l.Objects) != 1 {
		t.Fatalf("List = %+v, %v", l, err)
	}
	e.put(t, "d/new", "y") // behind the cache's back
	e.put(t, "d/newdir/z", "z")
	e.srv.ResetCounts()
	e.clk.Advance(DefaultNegativeTTL - 1)
	if file, dir := e.lookup(t, "d/new"); file || dir {
		t.Errorf("within NegativeTTL of the listing: d/new file %v dir %v, want the listing's answer", file, dir)
	}
	if file, dir := e.lookup(t, "d/newdir"); file || dir {
		t.Errorf("within NegativeTTL of the listing: d/newdir file %v dir %v, want the listing's answer", file, dir)
	}
	e.expect(t, "lookups within NegativeTTL", none())
	e.clk.Advance(1)
	if _, err := e.b.Stat(e.ctx, "d/old"); err != nil {
		t.Errorf("Stat d/old after NegativeTTL, within ListTTL: %v", err)
	}
	e.expect(t, "a present name within ListTTL", none())
	if file, _ := e.lookup(t, "d/new"); !file {
		t.Error("d/new not found after NegativeTTL")
	}
	if _, dir := e.lookup(t, "d/newdir"); !dir {
		t.Error("d/newdir not found after NegativeTTL")
	}
	e.expect(t, "lookups after NegativeTTL: one page read again", map[string]int64{"ListObjectsV2": 1})
}

// TestServerFullPageAnswersOnlyItsRange: in a directory of more than one
// page, the first page answers the names that sort within it, present or
// absent; a name after it is asked of OSS (HEAD and its own probe),
// present or absent, and never answered "not found" from the page; no
// further page is read for it.
func TestServerFullPageAnswersOnlyItsRange(t *testing.T) {
	e := newEnv(t, nil)
	var keys []string
	for i := range 1500 {
		keys = append(keys, fmt.Sprintf("big/k%04d", i))
	}
	putParallel(t, e, keys)
	e.srv.ResetCounts()
	if file, dir := e.lookup(t, "big/k0100x"); file || dir {
		t.Errorf("big/k0100x: file %v dir %v", file, dir)
	}
	// (big/k0998/ sorts before the page's last entry; big/k0999/ would
	// not, and its probe would be a request of its own.)
	if file, dir := e.lookup(t, "big/k0998"); !file || dir {
		t.Errorf("big/k0998: file %v dir %v", file, dir)
	}
	e.expect(t, "lookups within the first page", map[string]int64{"ListObjectsV2": 1})
	if file, dir := e.lookup(t, "big/k1200"); !file || dir {
		t.Errorf("big/k1200 (after the first page): file %v dir %v", file, dir)
	}
	e.put(t, "big/k1300x", "created elsewhere")
	if file, _ := e.lookup(t, "big/k1300x"); !file {
		t.Error("big/k1300x, after the first page, created elsewhere: not found")
	}
	if file, dir := e.lookup(t, "big/k1400x"); file || dir {
		t.Errorf("big/k1400x: file %v dir %v", file, dir)
	}
	e.expect(t, "3 lookups after the first page (and the other client's Put)", map[string]int64{"HeadObject": 3, "ListObjectsV2": 3, "PutObject": 1})
	// A create within the page's range is added to it.
	if _, err := e.b.Put(e.ctx, "big/k0500x", strings.NewReader("x"), ossclient.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if file, _ := e.lookup(t, "big/k0500x"); !file {
		t.Error("big/k0500x, created here, not found")
	}
	if file, _ := e.lookup(t, "big/k0500y"); file {
		t.Error("big/k0500y found")
	}
	e.expect(t, "a create and lookups within the page", map[string]int64{"PutObject": 1})
}

// TestServerNewDirectoryKnownEmpty: a directory made here (its marker put)
// where a listing proved nothing was there is known to hold only its
// marker: lookups in it cost nothing, for as long as that proof's
// negatives are trusted. Without the proof, the first lookup in it reads
// its page.
func TestServerNewDirectoryKnownEmpty(t *testing.T) {
	e := newEnv(t, nil)
	e.put(t, "top/other", "x")
	if file, dir := e.lookup(t, "top/new"); file || dir {
		t.Fatalf("top/new before mkdir: file %v dir %v", file, dir)
	}
	for _, k := range []string{"top/new/", "top/new/a/", "top/new/a/b/"} {
		if _, err := e.b.Put(e.ctx, k, strings.NewReader(""), ossclient.PutOptions{ForbidOverwrite: true}); err != nil {
			t.Fatal(err)
		}
	}
	e.srv.ResetCounts()
	for _, k := range []string{"top/new/f", "top/new/a/f", "top/new/a/b/f", "top/new/a/b/c"} {
		if file, dir := e.lookup(t, k); file || dir {
			t.Errorf("%s in a new directory: file %v dir %v", k, file, dir)
		}
	}
	if file, dir := e.lookup(t, "top/new/a"); file || !dir {
		t.Errorf("top/new/a: file %v dir %v", file, dir)
	}
	e.expect(t, "lookups in new directories", none())

	e.clk.Advance(DefaultNegativeTTL)
	if file, _ := e.lookup(t, "top/new/f"); file {
		t.Error("top/new/f found")
	}
	e.expect(t, "a lookup after NegativeTTL", map[string]int64{"ListObjectsV2": 1})

	// A marker put with nothing known about its directory.
	if _, err := e.b.Put(e.ctx, "elsewhere/", strings.NewReader(""), ossclient.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	e.srv.ResetCounts()
	if file, _ := e.lookup(t, "elsewhere/f"); file {
		t.Error("elsewhere/f found")
	}
	e.expect(t, "a lookup in a directory not known empty", map[string]int64{"ListObjectsV2": 1})
}

// TestServerSelfCopyKeepsListing: a metadata copy of a file (or marker)
// onto itself, a chmod or utimes, updates the cached stat entry and
// listing (new version, new metadata, same size) instead of dropping the
// listing: the next lookup beside it costs nothing.
func TestServerSelfCopyKeepsListing(t *testing.T) {
	e := newEnv(t, nil)
	e.put(t, "d/", "")
	if file, _ := e.lookup(t, "d/f"); file {
		t.Fatal("d/f found")
	}
	if _, err := e.b.Put(e.ctx, "d/f", strings.NewReader("four"), ossclient.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"d/f", "d/"} {
		if _, err := e.b.Copy(e.ctx, k, k, ossclient.CopyOptions{ReplaceMeta: true,
			Meta: map[string]string{"mtime": "1500000000"}}); err != nil {
			t.Fatal(err)
		}
	}
	e.srv.ResetCounts()
	if file, _ := e.lookup(t, "d/g"); file {
		t.Error("d/g found")
	}
	o, err := e.b.Stat(e.ctx, "d/f", ossclient.WithMeta)
	if err != nil || o.Size != 4 || o.Meta["mtime"] != "1500000000" {
		t.Errorf("Stat d/f after the copy = %+v, %v", o, err)
	}
	m, err := e.b.Stat(e.ctx, "d/", ossclient.WithMeta)
	if err != nil || m.Meta["mtime"] != "1500000000" {
		t.Errorf("Stat d/ after the copy = %+v, %v", m, err)
	}
	l, err := e.b.List(e.ctx, "d/", ossclient.ListOptions{})
	if err != nil || len(l.Objects) != 2 || l.Objects[1].Meta["mtime"] != "1500000000" {
		t.Fatalf("List d/ = %+v, %v", l, err)
	}
	e.expect(t, "lookups, stats and listing after the copies", none())
	raw, err := e.raw.Stat(e.ctx, "d/f")
	if err != nil || raw.ETag != o.ETag || !raw.ModTime.Equal(o.ModTime) {
		t.Errorf("cached version %s %v, OSS has %+v, %v", o.ETag, o.ModTime, raw, err)
	}
}
