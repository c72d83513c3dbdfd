package e2e

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/ossfs/ossfs/ossclient"
)

// TestReadlinkWarmIsFree: a cold readlink costs at most one GetSymlink; a
// warm one makes no request at all.
func TestReadlinkWarmIsFree(t *testing.T) {
	e := newEnv(t, config{})
	e.sh(`mkdir d && echo x > d/t && ln -s t d/l`)
	e.srv.ResetCounts()
	if got, err := os.Readlink(e.p("d/l")); err != nil || got != "t" {
		t.Fatalf("readlink: %q %v", got, err)
	}
	if n := e.srv.Count("GetSymlink"); n > 1 {
		t.Errorf("cold readlink made %d GetSymlink requests, want at most 1", n)
	}
	e.srv.ResetCounts()
	for range 3 {
		if got := e.sh(`readlink d/l`); got != "t\n" {
			t.Fatalf("readlink: %q", got)
		}
	}
	if n := e.srv.TotalRequests(); n != 0 {
		t.Errorf("warm readlink made %d requests (%v), want 0", n, e.srv.Counts())
	}
}

// TestLsLargeDirectory: `ls -l` of a 1,000-entry directory of objects
// written by another tool (no ossfs metadata) costs the listing and one
// HEAD per regular file (its metadata: the mode shown is the one stored,
// here the default), never a GetObject; a second `ls -l` within the TTLs
// costs nothing. Links in it (made by the SDK, half of them dangling) are
// links to ls and find from the listing's Type, with at most one
// GetSymlink each (for their text and owner) and no HEAD. A names-only
// walk (ls, find -name) costs the listing only.
func TestLsLargeDirectory(t *testing.T) {
	e, _ := fakeClockEnv(t, config{}) // no TTL runs out on a slow machine

	const n, links = 1000, 20
	putMany(e, n, func(i int) string { return fmt.Sprintf("big/f%04d", i) })
	for i := range links {
		target := "big/f0001"
		if i%2 == 1 {
			target = "gone/x"
		}
		if err := e.raw.PutSymlink(e.ctx(), fmt.Sprintf("big/l%02d", i), target, ossclient.SymlinkOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	e.sh(`test -d big`) // the directory itself is looked up first
	e.srv.ResetCounts()
	if got := e.sh(`ls big | wc -l; find big -name f0999`); got != fmt.Sprintf("%d\nbig/f0999\n", n+links) {
		t.Fatalf("ls | wc -l; find -name: %q", got)
	}
	c := e.srv.Counts()
	if lists := c["ListObjects"] + c["ListObjectsV2"]; lists < 1 || lists > 2 || c["HeadObject"] != 0 {
		t.Errorf("ls and find -name made %v, want the listing only (1 or 2 pages)", c)
	}
	if extra := e.srv.TotalRequests() - c["ListObjects"] - c["ListObjectsV2"] - c["GetSymlink"]; extra != 0 {
		t.Errorf("ls and find -name made %d requests besides listings and GetSymlink: %v", extra, c)
	}

	e2, _ := fakeClockEnv(t, config{srv: e.srv}) // a fresh mount: nothing cached
	e.srv.ResetCounts()
	out := e2.sh(`ls -l big`)
	lines := strings.Count(out, "\n")
	if lines != n+links+1 { // "total" + one line per entry
		t.Fatalf("ls -l printed %d lines, want %d", lines, n+links+1)
	}
	if got := strings.Count(out, "\nl"); got != links {
		t.Errorf("ls -l shows %d links, want %d", got, links)
	}
	if got := strings.Count(out, "\n-rw-r--r-- "); got != n {
		t.Errorf("ls -l shows %d files with the default mode, want %d", got, n)
	}
	c = e.srv.Counts()
	lists := c["ListObjects"] + c["ListObjectsV2"]
	// The fresh mount looks "big" up with a page of the root, then lists
	// the two pages of big/.
	if lists != 3 {
		t.Errorf("ls -l made %d listing requests, want 3 (the root's page for the lookup, big/'s 2 pages)", lists)
	}
	// The directory's attributes need its marker (absent): one HEAD.
	if c["HeadObject"] != n+1 {
		t.Errorf("ls -l made %d HeadObject requests, want %d (one per file, and big's marker)", c["HeadObject"], n+1)
	}
	if c["GetSymlink"] > links {
		t.Errorf("ls -l made %d GetSymlink requests for %d links", c["GetSymlink"], links)
	}
	if extra := e.srv.TotalRequests() - lists - c["GetSymlink"] - c["HeadObject"]; extra != 0 {
		t.Errorf("ls -l made %d requests besides listings, HEADs and GetSymlink: %v", extra, c)
	}
	e.srv.ResetCounts()
	if again := e2.sh(`ls -l big`); again != out {
		t.Errorf("second ls -l differs:\n%s\nfirst:\n%s", again, out)
	}
	if got := e2.sh(`find big -type l | wc -l`); strings.TrimSpace(got) != fmt.Sprint(links) {
		t.Errorf("find -type l found %s links, want %d", got, links)
	}
	if n := e.srv.TotalRequests(); n != 0 {
		t.Errorf("ls -l and find -type l after ls -l made %d requests: %v", n, e.srv.Counts())
	}
}

// TestReaddirAllPagesInByteOrder: a directory of 2,500 entries (three
// listing pages) is read whole, in byte order of names, as the kernel
// returns it (no sorting by the reader).
func TestReaddirAllPagesInByteOrder(t *testing.T) {
	e := newEnv(t, config{})
	const n = 2500
	firsts := []string{"a", "B", "_", "-", "Z", "z", "中", "é", "0", "~"}
	name := func(i int) string { return fmt.Sprintf("%s%04d", firsts[i%len(firsts)], i) }
	putMany(e, n, func(i int) string { return "pages/" + name(i) })
	// The lookup reads a page of the root, the directory's attributes its
	// marker (a HEAD: there is none), readdir the 3 pages of pages/.
	e.srv.ResetCounts()
	e.sh(`test -d pages`)
	f, err := os.Open(e.p("pages"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got, err := f.Readdirnames(-1) // directory order, unsorted
	if err != nil {
		t.Fatal(err)
	}
	want := make([]string, n)
	for i := range want {
		want[i] = name(i)
	}
	sort.Strings(want)
	if pages := e.srv.Count("ListObjects") + e.srv.Count("ListObjectsV2"); pages != 4 || e.srv.TotalRequests() != 5 {
		t.Errorf("%d listing requests (%v) for the lookup and readdir of 2,500 entries, "+
			"want the root's page, 3 pages of 1,000 and the marker's HEAD", pages, e.srv.Counts())
	}
	if len(got) != n {
		t.Fatalf("readdir returned %d names, want %d", len(got), n)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("readdir entry %d = %q, want %q (byte order)", i, got[i], want[i])
		}
	}
}

// putMany stores n one-byte objects named key(i), 32 at a time.
func putMany(e *env, n int, key func(int) string) {
	var wg sync.WaitGroup
	sem := make(chan struct{}, 32)
	for i := range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			e.put(key(i), "x")
		})
	}
	wg.Wait()
}
