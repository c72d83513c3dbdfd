package e2e

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	ossfs "github.com/ossfs/ossfs/fs"
)

// The local data cache (--cache-dir, docs/semantics.md "Data cache"): a
// file read again is served from the cache's disk, with only the open's
// conditional GET (a 304) sent to OSS; a version changed by another mount
// is read from OSS, never from the cache.

func withDataCache(dir string) func(*ossfs.Options) {
	return func(o *ossfs.Options) { o.CacheDir = dir }
}

// dropPages makes the kernel forget the pages of the file at path, so the
// next read reaches the mount (and its data cache).
func dropPages(t *testing.T, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED); err != nil {
		t.Fatal(err)
	}
}

// readGets reads the file at path whole and returns what it read and the
// GetObjects (all, and those answered 304) it cost.
func (e *env) readGets(t *testing.T, path string) (data []byte, gets, notModified int64) {
	t.Helper()
	e.srv.ResetCounts()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data, e.srv.Count("GetObject"), e.srv.NotModified()
}

// TestDataCacheSecondRead: the second read of a file whose pages the
// kernel no longer holds costs one conditional GET (304) and no other.
func TestDataCacheSecondRead(t *testing.T) {
	e := newEnv(t, config{fs: withDataCache(t.TempDir())})
	want := fill('x', 20<<20+12345)
	e.put("f", string(want))
	got, gets, _ := e.readGets(t, e.p("f"))
	if !bytes.Equal(got, want) || gets == 0 {
		t.Fatalf("first read: %d bytes with %d GETs", len(got), gets)
	}
	for i := range 2 {
		dropPages(t, e.p("f"))
		got, gets, nm := e.readGets(t, e.p("f"))
		if !bytes.Equal(got, want) {
			t.Fatalf("read %d from the cache: %d bytes, not the object's %d", i+2, len(got), len(want))
		}
		if gets != 1 || nm != 1 || e.srv.TotalRequests() != 1 {
			t.Fatalf("read %d: %d GetObject (%d answered 304), %d requests (%v); want only the open's 304",
				i+2, gets, nm, e.srv.TotalRequests(), e.srv.Counts())
		}
	}
}

// TestDataCacheOtherMountChanges: after another mount replaces the file
// (same size, other bytes), this mount's next open reads the new bytes,
// whole, although its cache holds the old version; the version after that
// is cached in turn.
func TestDataCacheOtherMountChanges(t *testing.T) {
	a := newEnv(t, config{fs: withDataCache(t.TempDir())})
	b := newEnv(t, config{srv: a.srv})
	const size = 3<<20 + 100
	for i, v := range [][]byte{fill('a', size), fill('b', size), fill('c', size/2)} {
		if err := os.WriteFile(b.p("f"), v, 0o644); err != nil {
			t.Fatal(err)
		}
		got, gets, nm := a.readGets(t, a.p("f"))
		if !bytes.Equal(got, v) {
			t.Fatalf("version %d: mount A read %d bytes, not B's %d (stale cache?)", i, len(got), len(v))
		}
		if gets == 0 || nm != 0 {
			t.Fatalf("version %d: %d GetObject, %d answered 304: a new version must be downloaded", i, gets, nm)
		}
		dropPages(t, a.p("f"))
		got, gets, nm = a.readGets(t, a.p("f"))
		if !bytes.Equal(got, v) || gets != 1 || nm != 1 {
			t.Fatalf("version %d again: %d bytes (match %v), %d GetObject, %d answered 304", i, len(got), bytes.Equal(got, v), gets, nm)
		}
	}
}

// TestDataCacheSmallFiles: re-reading many small files with 8 readers
// costs at most one conditional request per file and no GET of bytes.
func TestDataCacheSmallFiles(t *testing.T) {
	e := newEnv(t, config{fs: withDataCache(t.TempDir())})
	const files = 200
	for i := range files {
		e.put(fmt.Sprintf("d/%d", i), fmt.Sprintf("file %d %s", i, bytes.Repeat([]byte{'z'}, i*37)))
	}
	readAll := func() {
		t.Helper()
		var wg sync.WaitGroup
		errs := make(chan error, files)
		for w := range 8 {
			wg.Go(func() {
				for i := w; i < files; i += 8 {
					p := e.p(fmt.Sprintf("d/%d", i))
					got, err := readAndDrop(p)
					if err == nil && !bytes.HasPrefix(got, []byte(fmt.Sprintf("file %d ", i))) {
						err = fmt.Errorf("%s: wrong bytes %.20q", p, got)
					}
					if err != nil {
						errs <- err
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
	}
	readAll()
	e.srv.ResetCounts()
	readAll()
	if gets, nm := e.srv.Count("GetObject"), e.srv.NotModified(); gets != files || nm != files || e.srv.TotalRequests() != files {
		t.Fatalf("re-reading %d files: %d GetObject, %d answered 304, %d requests (%v); want one 304 per file",
			files, gets, nm, e.srv.TotalRequests(), e.srv.Counts())
	}
}

// readAndDrop reads the file at path through one descriptor, then drops
// its pages from the kernel's cache.
func readAndDrop(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(f)
	if err != nil {
		return nil, err
	}
	return data, unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED)
}

// TestDataCacheCorruptFile: a cache file damaged behind the mount's back
// is detected by its checksums; the read returns the object's bytes from
// OSS, and the mount logs it.
func TestDataCacheCorruptFile(t *testing.T) {
	dir := t.TempDir()
	e := newEnv(t, config{fs: withDataCache(dir)})
	want := fill('q', 2<<20)
	e.put("f", string(want))
	if got, _, _ := e.readGets(t, e.p("f")); !bytes.Equal(got, want) {
		t.Fatal("first read: wrong bytes")
	}
	files, _ := filepath.Glob(filepath.Join(dir, "ossfs-cache-*", "[0-9]*"))
	if len(files) != 1 {
		t.Fatalf("cache files %v, want 1", files)
	}
	if err := os.WriteFile(files[0], bytes.Repeat([]byte{0}, 2<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	dropPages(t, e.p("f"))
	got, gets, nm := e.readGets(t, e.p("f"))
	if !bytes.Equal(got, want) {
		t.Fatalf("read of a corrupt cache: %d bytes, not the object's", len(got))
	}
	if gets < 2 || nm != 1 {
		t.Fatalf("read of a corrupt cache: %d GetObject, %d answered 304: the fault did not fire", gets, nm)
	}
}

// TestDataCacheOpenReaderKeepsItsVersion: a reader whose file is replaced
// in OSS while it is open keeps reading its version's bytes that the cache
// holds (no ESTALE, never the new bytes); a new open reads the new
// version; once it has, the old reader gets ESTALE (docs/semantics.md,
// "Data cache").
func TestDataCacheOpenReaderKeepsItsVersion(t *testing.T) {
	e := newEnv(t, config{fs: withDataCache(t.TempDir())})
	const size = 4 << 20
	v1, v2 := fill('a', size), fill('N', size)
	e.put("f", string(v1))
	if got, _, _ := e.readGets(t, e.p("f")); !bytes.Equal(got, v1) {
		t.Fatal("first read: wrong bytes")
	}
	dropPages(t, e.p("f"))
	f, err := os.Open(e.p("f")) // pins v1 (the open's 304)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	e.put("f", string(v2)) // another client replaces it
	e.srv.ResetCounts()
	for _, off := range []int64{size - 4096, 0, 1 << 20, 3<<20 + 123} {
		got, err := pread(f, 4096, off)
		if err != nil && !errors.Is(err, io.EOF) {
			t.Fatalf("pread at %d of the replaced version: %v", off, err)
		}
		if want := v1[off:min(off+4096, size)]; !bytes.Equal(got, want) {
			t.Fatalf("pread at %d: not the bytes of the version opened", off)
		}
	}
	if n := e.srv.Count("GetObject"); n != 0 {
		t.Fatalf("reads of the cached version made %d GetObject", n)
	}
	g, err := os.Open(e.p("f")) // sees v2
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	if _, err := pread(f, 4096, 0); !errors.Is(err, syscall.ESTALE) {
		t.Fatalf("the old reader after a newer version was opened: %v, want ESTALE", err)
	}
	if got, err := io.ReadAll(g); err != nil || !bytes.Equal(got, v2) {
		t.Fatalf("the new open: %d bytes (new version %v), %v", len(got), bytes.Equal(got, v2), err)
	}
}
