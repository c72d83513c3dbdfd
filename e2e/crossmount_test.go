package e2e

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"

	ossfs "github.com/ossfs/ossfs/fs"
)

// Close-to-open consistency between two mounts of one bucket (issue 9,
// docs/semantics.md "Consistency across mounts"): once close() returned on
// mount A, an open() on mount B reads exactly the new content; a reader
// whose version changes under it gets ESTALE, never mixed bytes.

func twoMounts(t *testing.T) (a, b *env) {
	a = newEnv(t, config{})
	return a, newEnv(t, config{srv: a.srv})
}

// TestTwoMountsCloseToOpen: B reads what A wrote last, whole, whatever B
// saw before: larger, smaller, the same size, and back again.
func TestTwoMountsCloseToOpen(t *testing.T) {
	a, b := twoMounts(t)
	for i, content := range []string{
		strings.Repeat("A", 100),
		strings.Repeat("B", 200), // larger: B must not cut it to 100
		strings.Repeat("C", 50),  // smaller: no stale tail
		strings.Repeat("D", 50),  // same size: no stale page
		strings.Repeat("E", 300),
	} {
		if err := os.WriteFile(a.p("f"), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		if got := b.sh(`cat f`); got != content {
			t.Fatalf("step %d: cat on B read %d bytes %.12q..., want %d bytes %.12q...", i, len(got), got, len(content), content)
		}
		// The open told the kernel the new size.
		if got := strings.TrimSpace(b.sh(`stat -c %s f`)); got != fmt.Sprint(len(content)) {
			t.Errorf("step %d: stat on B after the open says %s bytes, want %d", i, got, len(content))
		}
	}
}

// pread reads n bytes at off through fd.
func pread(f *os.File, n int, off int64) ([]byte, error) {
	p := make([]byte, n)
	got, err := f.ReadAt(p, off)
	return p[:got], err
}

func fill(c byte, n int) []byte {
	p := make([]byte, n)
	for i := range p {
		p[i] = c + byte(i%7)
	}
	return p
}

// TestTwoMountsChangeUnderOpenReader: a reader on B whose file A
// overwrites or deletes gets ESTALE for bytes it does not hold yet, never
// bytes of the new version; a reader on B whose version another open on B
// has seen replaced gets ESTALE at once; a new open reads the new version
// (or ENOENT after the delete).
func TestTwoMountsChangeUnderOpenReader(t *testing.T) {
	const size = 8 << 20
	a, b := twoMounts(t)
	v1, v2, v3 := fill('a', size), fill('n', size), fill('A', size)
	write := func(v []byte) {
		t.Helper()
		if err := os.WriteFile(a.p("big"), v, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	wantStale := func(what string, f *os.File, off int64) {
		t.Helper()
		got, err := pread(f, 4096, off)
		if !errors.Is(err, syscall.ESTALE) {
			t.Fatalf("%s: read at %d gave %d bytes (%.8q), err %v; want ESTALE", what, off, len(got), got, err)
		}
	}

	write(v1)
	f, err := os.Open(b.p("big"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got, err := pread(f, 4096, 0); err != nil || !bytes.Equal(got, v1[:4096]) {
		t.Fatalf("first read on B: %v", err)
	}
	write(v2) // overwritten on A while B reads
	wantStale("after A's overwrite", f, 6<<20)
	f.Close()

	g, err := os.Open(b.p("big"))
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	if got, err := os.ReadFile(b.p("big")); err != nil || !bytes.Equal(got, v2) {
		t.Fatalf("a new open on B after the overwrite: %d bytes, %v; want v2", len(got), err)
	}
	// g pinned v2; the ReadFile above was a second open of v2 (no change).
	if got, err := pread(g, 4096, 5<<20); err != nil || !bytes.Equal(got, v2[5<<20:5<<20+4096]) {
		t.Fatalf("g reading v2: %v", err)
	}
	write(v3)
	h, err := os.Open(b.p("big")) // sees v3: g's version is gone for this mount
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	wantStale("after another open on B saw v3", g, 0)
	if got, err := pread(h, 4096, 7<<20); err != nil || !bytes.Equal(got, v3[7<<20:7<<20+4096]) {
		t.Fatalf("h reading v3: %v", err)
	}

	if err := os.Remove(a.p("big")); err != nil {
		t.Fatal(err)
	}
	wantStale("after A's delete", h, 3<<20)
	if _, err := os.ReadFile(b.p("big")); !errors.Is(err, syscall.ENOENT) {
		t.Fatalf("open on B after A's delete: %v; want ENOENT", err)
	}
}

// TestCrossMountOpenCosts: reading a file costs its one GET at open (the
// revalidation is the first chunk's GET): no HEAD; reading it again costs
// one conditional GET (304) and keeps the page cache; reading a file this
// mount holds open for writing costs nothing.
//
// The mounts do not read links written by ossfs 1.x (NoLegacyLinks): with
// that on (the default), the lookup of a file under 4 KiB whose metadata is
// unknown costs a HEAD more (TestLegacyLinkLookupCost), whatever the read.
func TestCrossMountOpenCosts(t *testing.T) {
	noLegacy := func(o *ossfs.Options) { o.NoLegacyLinks = true }
	a := newEnv(t, config{fs: noLegacy})
	b := newEnv(t, config{srv: a.srv, fs: noLegacy})
	const n = 10
	a.sh(`mkdir d`)
	for i := range n {
		if err := os.WriteFile(a.p(fmt.Sprintf("d/f%d", i)), []byte(strings.Repeat("x", 1000+i)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b.sh(`ls d >/dev/null`)
	for pass := range 2 {
		b.srv.ResetCounts()
		out := b.sh(`for i in 0 1 2 3 4 5 6 7 8 9; do cat d/f$i; done | wc -c`)
		if strings.TrimSpace(out) != fmt.Sprint(n*1000+45) {
			t.Fatalf("pass %d read %s bytes", pass, out)
		}
		if got, head, all := b.srv.Count("GetObject"), b.srv.Count("HeadObject"), b.srv.TotalRequests(); got != n || all != n {
			t.Errorf("pass %d: %d GetObject, %d HeadObject, %d requests (%v); want %d GETs only", pass, got, head, all, b.srv.Counts(), n)
		}
	}

	w, err := os.OpenFile(b.p("d/f0"), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if _, err := w.WriteAt([]byte("being written"), 0); err != nil {
		t.Fatal(err)
	}
	b.srv.ResetCounts()
	if got := b.sh(`cat d/f0`); got != "being written"+strings.Repeat("x", 1000-13) {
		t.Fatalf("cat of a file open for writing: %.20q...", got)
	}
	if got := b.srv.Count("GetObject") + b.srv.Count("HeadObject"); got != 0 {
		t.Errorf("reading a file this mount holds open for writing made %d GET/HEAD requests (%v), want 0", got, b.srv.Counts())
	}
}

// TestSameMountWriterUnderOpenReader: a version written through this mount
// does not make the mount's own readers stale: a reader open before the
// overwrite reads the new bytes afterwards, as on a local disk.
func TestSameMountWriterUnderOpenReader(t *testing.T) {
	const size = 4 << 20
	e := newEnv(t, config{})
	v1, v2 := fill('a', size), fill('A', size)
	if err := os.WriteFile(e.p("f"), v1, 0o644); err != nil {
		t.Fatal(err)
	}
	// O_DIRECT: every read reaches ossfs (the page cache holds the bytes
	// the overwrite wrote through it).
	f, err := os.OpenFile(e.p("f"), os.O_RDONLY|syscall.O_DIRECT, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got, err := pread(f, 4096, 0); err != nil || !bytes.Equal(got, v1[:4096]) {
		t.Fatalf("first read: %v", err)
	}
	if err := os.WriteFile(e.p("f"), v2, 0o644); err != nil {
		t.Fatal(err)
	}
	// Another open finding that same version in OSS changes nothing.
	if got, err := os.ReadFile(e.p("f")); err != nil || !bytes.Equal(got, v2) {
		t.Fatalf("a new open after the overwrite: %d bytes, %v", len(got), err)
	}
	if got, err := pread(f, 4096, 3<<20); err != nil || !bytes.Equal(got, v2[3<<20:3<<20+4096]) {
		t.Fatalf("read after this mount's overwrite: %d bytes, %v; want v2's", len(got), err)
	}
}

// TestTwoMountsWriteOpenSeesNewSize: an open for writing on B after A grew
// the file places an O_APPEND write (with no fstat or lseek first, as a Go
// or C program may do) at the new end, and reads through a read-write
// descriptor see the whole new content: B's kernel is told the new size.
func TestTwoMountsWriteOpenSeesNewSize(t *testing.T) {
	a, b := twoMounts(t)
	write := func(s string) {
		t.Helper()
		if err := os.WriteFile(a.p("f"), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(strings.Repeat("A", 10))
	b.sh(`cat f >/dev/null`) // B's kernel hears of 10 bytes
	write(strings.Repeat("B", 5000))
	f, err := os.OpenFile(b.p("f"), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte("x\n")); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if got, want := a.mustGet("f"), strings.Repeat("B", 5000)+"x\n"; got != want {
		t.Fatalf("after B's append OSS has %d bytes ending %q, want %d ending %q", len(got), got[max(0, len(got)-4):], len(want), want[len(want)-4:])
	}

	write(strings.Repeat("C", 9000))
	g, err := os.OpenFile(b.p("f"), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	got := make([]byte, 20000)
	n, _ := g.ReadAt(got, 0)
	if string(got[:n]) != strings.Repeat("C", 9000) {
		t.Fatalf("read-write descriptor on B read %d bytes, want the 9000 A wrote", n)
	}
}

// TestTwoMountsShrunkUnderOpenReader: a reader on B past the end of the
// smaller version another client put in place gets ESTALE, not the end of
// the file: another open on B has seen the new version, and the read's
// attribute refresh (through the reader's own descriptor) must not cut the
// reader's version to the new version's size.
func TestTwoMountsShrunkUnderOpenReader(t *testing.T) {
	const size = 8 << 20
	a, b := twoMounts(t)
	v1 := fill('a', size)
	if err := os.WriteFile(a.p("big"), v1, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(b.p("big"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got, err := pread(f, 4096, 0); err != nil || !bytes.Equal(got, v1[:4096]) {
		t.Fatalf("first read on B: %v", err)
	}
	if err := os.WriteFile(a.p("big"), []byte("small"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := b.sh(`cat big; ls -l >/dev/null; stat -c %s big >/dev/null`); got != "small" { // another open on B sees it; ls -l and stat by path learn its size
		t.Fatalf("cat on B: %q", got)
	}
	got, err := pread(f, 4096, 6<<20)
	if !errors.Is(err, syscall.ESTALE) {
		t.Fatalf("read at 6 MiB of the replaced 8 MiB version: %d bytes, err %v; want ESTALE (not the end of the file)", len(got), err)
	}
}
