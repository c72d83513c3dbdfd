package e2e

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ossfs/ossfs/cache"
	ossfs "github.com/ossfs/ossfs/fs"
	"github.com/ossfs/ossfs/ossclient"
)

// Creating files where the mount has not listed (issue #14, "one request
// per new file"). The cache's clock is fake, so that its NegativeTTL does
// not expire halfway through on a slow machine and the counts are exact.

func fakeClockEnv(t *testing.T, c config) (*env, *cache.FakeClock) {
	clock := cache.NewFakeClock(time.Now())
	c.cache = func(o *cache.Options) { o.Clock = clock }
	return newEnv(t, c), clock
}

// TestNewFilesInUnlistedDirectory: 1,000 files of 4 KiB written by 8
// writers into a directory that exists in the bucket but that this mount
// has never listed cost one PutObject each and one listing page per
// directory on the path (3): no HEAD and no per-file listing. `ls -l` of
// the result then reads the metadata of the 3 objects made elsewhere (the
// marker and two files; the second starts the directory's metadata
// prefetch) and nothing of the new files: their Puts recorded it.
func TestNewFilesInUnlistedDirectory(t *testing.T) {
	e, _ := fakeClockEnv(t, config{})
	e.put("w/d/", "")
	e.put("w/d/old1", "x")
	e.put("w/d/old2", "x")
	e.srv.ResetCounts()
	const files, writers = 1000, 8
	data := make([]byte, 4<<10)
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Go(func() {
			for i := w; i < files; i += writers {
				if err := os.WriteFile(e.p(fmt.Sprintf("w/d/f%04d", i)), data, 0o644); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	c := e.srv.Counts()
	if c["PutObject"] != files || c["ListObjectsV2"] != 3 || e.srv.TotalRequests() != files+3 {
		t.Errorf("%d new files by %d writers: %v (%d requests), want %d PutObject and 3 ListObjectsV2 (the pages of /, w/, w/d/)",
			files, writers, c, e.srv.TotalRequests(), files)
	}
	e.srv.ResetCounts()
	if got := e.sh(`ls -ln w/d | grep -c '^-rw-r--r--'`); got != fmt.Sprintf("%d\n", files+2) {
		t.Errorf("ls -ln shows %q regular files, want %d", got, files+2)
	}
	if c := e.srv.Counts(); c["HeadObject"] != 3 || e.srv.TotalRequests() != 3 {
		t.Errorf("ls -l after the creates made %v, want the 3 HEADs of the objects made elsewhere", c)
	}
	if got := e.mustGet("w/d/f0999"); len(got) != len(data) {
		t.Errorf("w/d/f0999 holds %d bytes", len(got))
	}
}

// TestNewTreeCounts: mkdir -p of a deep path and cp -r of a tree into the
// mount cost one PutObject per directory and file made, and one listing
// page for the lookup of the first new name: each new directory is known
// empty.
func TestNewTreeCounts(t *testing.T) {
	need(t, "cp", "mkdir")
	e, _ := fakeClockEnv(t, config{})
	e.put("base/keep", "x")
	src := t.TempDir()
	const dirs, filesPer = 6, 5
	for d := range dirs {
		sub := filepath.Join(src, "tree", fmt.Sprintf("d%d", d), "inner")
		if err := os.MkdirAll(sub, 0o755); err != nil {
			t.Fatal(err)
		}
		for f := range filesPer {
			if err := os.WriteFile(filepath.Join(sub, fmt.Sprintf("f%d", f)), []byte("data"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	e.srv.ResetCounts()
	e.sh(`mkdir -p base/a/b/c/d/e/f/g/h`)
	c := e.srv.Counts()
	if c["PutObject"] != 8 || c["ListObjectsV2"] != 2 || c["HeadObject"] != 1 || e.srv.TotalRequests() != 8+2+1 {
		t.Errorf("mkdir -p of 8 new levels: %v, want 8 PutObject, 2 listing pages (/ and base/) "+
			"and the HEAD of base's marker (its attributes)", c)
	}
	e.srv.ResetCounts()
	e.sh(`cp -r "$SRC/tree" base/copy`, "SRC="+src)
	c = e.srv.Counts()
	newDirs := 1 + 2*dirs
	if c["PutObject"] != int64(newDirs+dirs*filesPer) || e.srv.TotalRequests() != c["PutObject"] {
		t.Errorf("cp -r of %d directories and %d files: %v, want one PutObject each and nothing else",
			newDirs, dirs*filesPer, c)
	}
	if got := e.sh(`find base/copy -type f | wc -l`); got != fmt.Sprintf("%d\n", dirs*filesPer) {
		t.Errorf("find counts %q files", got)
	}
}

// TestExclCreateAfterListing: a name another client created after this
// mount read its directory's listing is unseen for NegativeTTL after that
// listing (the documented window; the kernel's negative cache is off
// here), then O_EXCL fails with EEXIST and the other client's object is
// kept. Within the window, mkdir and a forbid-overwrite symlink still get
// EEXIST from OSS (x-oss-forbid-overwrite).
func TestExclCreateAfterListing(t *testing.T) {
	e, clock := fakeClockEnv(t, config{fs: func(o *ossfs.Options) {
		o.EntryTimeout, o.AttrTimeout, o.NegativeTimeout = -1, -1, -1
		o.SymlinkForbidOverwrite = true
	}})
	for _, d := range []string{"f", "m", "l"} {
		e.put(d+"/old", "x")
	}
	e.sh(`test ! -e f/x && test ! -e m/sub && test ! -e l/link`) // the pages of f/, m/, l/ are read
	e.put("f/x", "theirs")
	e.put("m/sub/", "")
	e.put("l/link", "theirs too")
	e.srv.ResetCounts()
	if _, err := os.Stat(e.p("f/x")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("f/x within the window: %v, want the listing's not-found", err)
	}
	if n := e.srv.TotalRequests(); n != 0 {
		t.Fatalf("lookup within the window made %d requests, want 0", n)
	}
	if err := os.Mkdir(e.p("m/sub"), 0o755); !errors.Is(err, syscall.EEXIST) {
		t.Errorf("mkdir m/sub (marker made elsewhere) within the window = %v, want EEXIST", err)
	}
	if err := os.Symlink("t", e.p("l/link")); !errors.Is(err, syscall.EEXIST) {
		t.Errorf("symlink l/link (made elsewhere) within the window = %v, want EEXIST", err)
	}
	if c := e.srv.Counts(); c["PutObject"] != 1 || c["PutSymlink"] != 1 || e.srv.TotalRequests() != 2 {
		t.Errorf("mkdir and symlink within the window: %v, want the 2 refused Puts only", c)
	}

	clock.Advance(cache.DefaultNegativeTTL)
	f, err := os.OpenFile(e.p("f/x"), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err == nil {
		f.Close()
	}
	if !errors.Is(err, syscall.EEXIST) {
		t.Errorf("O_EXCL create of f/x after the window = %v, want EEXIST", err)
	}
	if got := e.mustGet("f/x"); got != "theirs" {
		t.Errorf("f/x = %q, want the other client's", got)
	}
	if got := e.mustGet("l/link"); got != "theirs too" {
		t.Errorf("l/link = %q, want the other client's", got)
	}
	if _, err := e.raw.Stat(e.ctx(), "m/sub/", ossclient.WithMeta); err != nil {
		t.Errorf("m/sub/: %v", err)
	}
}
