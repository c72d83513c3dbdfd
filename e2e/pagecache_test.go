package e2e

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime/debug"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ossfs/ossfs/cache"
	ossfs "github.com/ossfs/ossfs/fs"
)

// A newer version found by an open on this mount while a handle of the
// older one is open (issue 9, docs/semantics.md "Consistency across
// mounts"): the kernel's page cache and size are per inode, and mmap and
// sendfile are served from them without asking ossfs. The older handle
// must get ESTALE (read, pread, sendfile) or SIGBUS (mmap), never the newer
// version's bytes nor its end, and the newer version's readers must read
// it whole.

// sendfileAt copies up to n bytes of f at off into a temp file with
// sendfile(2) (splice from the page cache, with no attribute check), and
// returns them.
func sendfileAt(t *testing.T, f *os.File, n int, off int64) ([]byte, error) {
	t.Helper()
	tmp, err := os.CreateTemp(t.TempDir(), "sendfile")
	if err != nil {
		t.Fatal(err)
	}
	defer tmp.Close()
	c, err := syscall.Sendfile(int(tmp.Fd()), int(f.Fd()), &off, n)
	if err != nil {
		return nil, err
	}
	p := make([]byte, c)
	if _, err := tmp.ReadAt(p, 0); err != nil {
		t.Fatal(err)
	}
	return p, nil
}

// mapperEnv names the file a child process of the test binary maps
// (startMapper). The mapping's accesses must be made by another process
// than the one serving the mount: a page fault is no system call, and one
// waiting for this process's FUSE server would block the server's next
// garbage collection (which waits for every thread), so the fault would
// never be answered.
const mapperEnv = "OSSFS_E2E_MAPPER"

// mapperPrivateEnv set makes the child's mapping MAP_PRIVATE.
const mapperPrivateEnv = "OSSFS_E2E_MAPPER_PRIVATE"

// mapper is the child's main: it maps the file (MAP_SHARED, read-only),
// then for each line "OFF N" on stdin answers "OK <sha256 of the N bytes
// at OFF>" or "FAULT" (SIGBUS).
func mapper() int {
	f, err := os.Open(os.Getenv(mapperEnv))
	if err != nil {
		fmt.Println("ERR", err)
		return 1
	}
	st, err := f.Stat()
	if err != nil {
		fmt.Println("ERR", err)
		return 1
	}
	flags := syscall.MAP_SHARED
	if os.Getenv(mapperPrivateEnv) != "" {
		flags = syscall.MAP_PRIVATE // as a program's text is mapped
	}
	m, err := syscall.Mmap(int(f.Fd()), 0, int(st.Size()), syscall.PROT_READ, flags)
	if err != nil {
		fmt.Println("ERR", err)
		return 1
	}
	debug.SetPanicOnFault(true)
	fmt.Println("MAPPED", len(m))
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		var off, n int
		if _, err := fmt.Sscan(sc.Text(), &off, &n); err != nil || off < 0 || off+n > len(m) {
			fmt.Println("ERR bad request", sc.Text())
			continue
		}
		fmt.Println(mapRead(m[off : off+n]))
	}
	return 0
}

// mapRead is the answer to one request: the bytes' digest, or FAULT.
func mapRead(p []byte) (answer string) {
	defer func() {
		if r := recover(); r != nil {
			answer = "FAULT"
		}
	}()
	sum := sha256.Sum256(p)
	return "OK " + hex.EncodeToString(sum[:])
}

// mapping is a child process holding a mapping of a file.
type mapping struct {
	t    *testing.T
	in   io.WriteCloser
	out  *bufio.Scanner
	cmd  *exec.Cmd
	once sync.Once
}

// stop ends the child: its mapping and its descriptor are closed.
func (m *mapping) stop() {
	m.once.Do(func() {
		m.in.Close()
		m.cmd.Wait()
	})
}

// startMapper maps path in a child process, which lives until the test
// ends; env is added to its environment.
func startMapper(t *testing.T, path string, env ...string) *mapping {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(append(os.Environ(), mapperEnv+"="+path), env...)
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	m := &mapping{t: t, in: in, out: bufio.NewScanner(out), cmd: cmd}
	t.Cleanup(m.stop)
	if line := m.line(); !strings.HasPrefix(line, "MAPPED") {
		t.Fatalf("the mapping child: %q", line)
	}
	return m
}

func (m *mapping) line() string {
	m.t.Helper()
	if !m.out.Scan() {
		m.t.Fatalf("the mapping child ended: %v", m.out.Err())
	}
	return m.out.Text()
}

// read reports what an access to the n bytes at off finds: "of v1" or
// "of v2" (the version whose bytes they are), "SIGBUS", or "of neither
// version".
func (m *mapping) read(off, n int, v1, v2 []byte) string {
	m.t.Helper()
	fmt.Fprintln(m.in, off, n)
	line := m.line()
	if line == "FAULT" {
		return "SIGBUS"
	}
	for name, v := range map[string][]byte{"of v1": v1, "of v2": v2} {
		if off+n <= len(v) {
			sum := sha256.Sum256(v[off : off+n])
			if line == "OK "+hex.EncodeToString(sum[:]) {
				return name
			}
		}
	}
	return "of neither version (" + line + ")"
}

// oldHandle is a descriptor open on version v1, which it has read, and a
// process mapping v1 (MAP_SHARED, every page touched: the kernel holds
// them all).
type oldHandle struct {
	f  *os.File
	m  *mapping
	v1 []byte
}

func openOld(t *testing.T, e *env, v1 []byte) *oldHandle {
	t.Helper()
	e.put("f", string(v1))
	f, err := os.Open(e.p("f"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	if got, err := pread(f, 4096, 0); err != nil || !bytes.Equal(got, v1[:4096]) {
		t.Fatalf("the first read: %d bytes, %v", len(got), err)
	}
	m := startMapper(t, e.p("f"))
	if got := m.read(0, len(v1), v1, nil); got != "of v1" {
		t.Fatalf("the mapping before the change read bytes %s", got)
	}
	return &oldHandle{f: f, m: m, v1: v1}
}

// wantGone asserts what docs/semantics.md promises the older handle once
// this mount knows of v2: ESTALE for read and sendfile, SIGBUS for an
// access to its mapping, at every offset (pages it read, pages it mapped,
// past v2's end), never a byte of v2 nor v2's end. read(2) comes last:
// the attribute check before it tells the kernel the size of the
// handle's own version (and would hide a size cut from sendfile).
func (o *oldHandle) wantGone(t *testing.T, v2 []byte) {
	t.Helper()
	n1, n2 := len(o.v1), len(v2)
	var offs []int64
	for _, off := range []int64{0, 8192, int64(min(n1, n2) / 2), int64(n1) - 4096, int64(n2) - 4096} {
		if off < int64(n1) {
			offs = append(offs, off)
		}
	}
	for _, off := range offs {
		if got, err := sendfileAt(t, o.f, 4096, off); !errors.Is(err, syscall.ESTALE) {
			t.Errorf("sendfile at %d: %d bytes %s, err %v; want ESTALE", off, len(got), which(got, off, o.v1, v2), err)
		}
	}
	for _, off := range offs {
		if got := o.m.read(int(off), 4096, o.v1, v2); got != "SIGBUS" {
			t.Errorf("the mapping at %d: bytes %s; want SIGBUS", off, got)
		}
	}
	for _, off := range offs {
		if got, err := pread(o.f, 4096, off); !errors.Is(err, syscall.ESTALE) {
			t.Errorf("pread at %d: %d bytes %s, err %v; want ESTALE", off, len(got), which(got, off, o.v1, v2), err)
		}
	}
}

// wantWhole asserts that f reads v2 whole, with read and with sendfile.
func wantWhole(t *testing.T, what string, f *os.File, v2 []byte) {
	t.Helper()
	if got, err := pread(f, len(v2)+10, 0); !bytes.Equal(got, v2) {
		t.Fatalf("%s read %d bytes %s (%v), want v2's %d", what, len(got), which(got, 0, nil, v2), err, len(v2))
	}
	if got, err := sendfileAt(t, f, len(v2)+10, 0); err != nil || !bytes.Equal(got, v2) {
		t.Fatalf("%s sendfile: %d bytes %s, %v; want v2's %d", what, len(got), which(got, 0, nil, v2), err, len(v2))
	}
}

// sameFile reports whether a and b have the same inode number.
func sameFile(a, b os.FileInfo) bool {
	return a.Sys().(*syscall.Stat_t).Ino == b.Sys().(*syscall.Stat_t).Ino
}

var sizeChanges = []struct {
	name   string
	n1, n2 int
}{
	{"larger", 300 << 10, 900 << 10},
	{"smaller", 900 << 10, 300 << 10},
	{"same size", 600 << 10, 600 << 10},
}

// TestNewVersionUnderOpenHandleSameMount: another OSS client replaces the
// object; an open on this mount then sees the new version, and its reads
// (and those of later opens) fill the page cache, before or after the
// older handle's accesses (the former with a data cache).
func TestNewVersionUnderOpenHandleSameMount(t *testing.T) {
	for _, tc := range sizeChanges {
		for _, newFirst := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/new version read first %v", tc.name, newFirst), func(t *testing.T) {
				var c config
				if newFirst {
					// The data cache (--cache-dir) holds v1's bytes:
					// never a reason to serve them to the new open.
					c.fs = func(o *ossfs.Options) { o.CacheDir = t.TempDir() }
				}
				e := newEnv(t, c)
				v1, v2 := fill('a', tc.n1), fill('N', tc.n2)
				old := openOld(t, e, v1)
				before, err := os.Stat(e.p("f"))
				if err != nil {
					t.Fatal(err)
				}
				e.put("f", string(v2)) // another OSS client replaces it
				e.srv.ResetCounts()
				h2, err := os.Open(e.p("f"))
				if err != nil {
					t.Fatal(err)
				}
				defer h2.Close()
				// The open's GET finds v2 (and makes the bucket cache drop
				// the directory's listing, which showed v1); the lookup of
				// the new inode reads a listing page; the retried open's
				// GET reads the first chunk.
				if got, list, all := e.srv.Count("GetObject"), e.srv.Count("ListObjectsV2"), e.srv.TotalRequests(); got != 2 || list != 1 || all != 3 {
					t.Errorf("the open that found v2 made %d GetObject, %d ListObjectsV2, %d requests (%v); want 2 GETs and 1 listing", got, list, all, e.srv.Counts())
				}
				if st, err := h2.Stat(); err != nil || sameFile(st, before) {
					t.Errorf("the new version's descriptor: %v, same inode as v1's: want a new inode", err)
				}
				if newFirst {
					wantWhole(t, "the new open", h2, v2)
					if got, err := os.ReadFile(e.p("f")); err != nil || !bytes.Equal(got, v2) {
						t.Fatalf("a third open read %d bytes (%v), want v2's %d", len(got), err, tc.n2)
					}
				}
				if st, err := os.Stat(e.p("f")); err != nil || st.Size() != int64(tc.n2) {
					t.Fatalf("stat after the new open: %v %v, want size %d", st, err, tc.n2)
				}
				old.wantGone(t, v2)
				wantWhole(t, "the new open", h2, v2)

				// Once the older descriptors are closed, the file is
				// as any other: an open of the unchanged file costs one
				// GET (a 304: the kernel keeps its pages).
				old.f.Close()
				old.m.stop()
				h2.Close()
				for i := range 2 {
					e.srv.ResetCounts()
					if got, err := os.ReadFile(e.p("f")); err != nil || !bytes.Equal(got, v2) {
						t.Fatalf("open %d after the older ones closed read %d bytes (%v), want v2's", i, len(got), err)
					}
					if got, all := e.srv.Count("GetObject"), e.srv.TotalRequests(); got != 1 || all != 1 {
						t.Errorf("open %d after the older ones closed made %d GetObject, %d requests (%v); want 1 GET", i, got, all, e.srv.Counts())
					}
				}
			})
		}
	}
}

// TestNewVersionUnderOpenHandleStatAndList: this mount learns of the new
// version from a stat or an ls -l once its cache TTLs have passed (a fake
// clock; the kernel caches no attributes), with no open.
func TestNewVersionUnderOpenHandleStatAndList(t *testing.T) {
	for _, how := range []string{"stat -c %s f", "ls -l"} {
		for _, tc := range sizeChanges {
			t.Run(how+"/"+tc.name, func(t *testing.T) {
				clock := cache.NewFakeClock(time.Now())
				e := newEnv(t, config{
					fs:    func(o *ossfs.Options) { o.EntryTimeout, o.AttrTimeout, o.NegativeTimeout = -1, -1, -1 },
					cache: func(o *cache.Options) { o.Clock = clock }})
				v1, v2 := fill('a', tc.n1), fill('N', tc.n2)
				old := openOld(t, e, v1)
				e.put("f", string(v2))
				clock.Advance(2 * max(cache.DefaultStatTTL, cache.DefaultListTTL))
				out := e.sh(how)
				if how != "ls -l" && out != fmt.Sprintln(tc.n2) {
					t.Fatalf("%s: %q, want %d", how, out, tc.n2)
				}
				old.wantGone(t, v2)
				if got, err := os.ReadFile(e.p("f")); err != nil || !bytes.Equal(got, v2) {
					t.Fatalf("a new open read %d bytes (%v), want v2's %d", len(got), err, tc.n2)
				}
			})
		}
	}
}

// TestNewVersionUnderOpenHandleWriter: an open for writing on this mount
// after another client replaced the file: the writer starts from the new
// version (and its upload makes a third one); the older reader, which
// reads from the writer's staging while it is open, gets none of it.
func TestNewVersionUnderOpenHandleWriter(t *testing.T) {
	e := newEnv(t, config{})
	v1, v2 := fill('a', 600<<10), fill('N', 300<<10)
	old := openOld(t, e, v1)
	e.put("f", string(v2))
	w, err := os.OpenFile(e.p("f"), os.O_RDWR|os.O_CREATE, 0o644) // as the shell's <> does
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	old.wantGone(t, v2)
	if _, err := w.WriteAt([]byte("written here"), 100); err != nil {
		t.Fatal(err)
	}
	v3 := append([]byte(nil), v2...)
	copy(v3[100:], "written here")
	old.wantGone(t, v3)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if got := e.mustGet("f"); got != string(v3) {
		t.Fatalf("OSS holds %d bytes, want v2 with the write (%d)", len(got), len(v3))
	}
	old.wantGone(t, v3)
}

// which names the version got is a piece of at off.
func which(got []byte, off int64, v1, v2 []byte) string {
	switch {
	case len(got) == 0:
		return "(none)"
	case off+int64(len(got)) <= int64(len(v1)) && bytes.Equal(got, v1[off:off+int64(len(got))]):
		return "of v1"
	case off+int64(len(got)) <= int64(len(v2)) && bytes.Equal(got, v2[off:off+int64(len(got))]):
		return "of v2"
	}
	return "of neither version"
}

// TestReplacedUnderMapping: a mapping of a version replaced in OSS, before
// this mount learns of the newer one, reads the pages the kernel holds of
// its version, and gets SIGBUS where it would have to fetch bytes again
// (the If-Match GET answers 412).
func TestReplacedUnderMapping(t *testing.T) {
	const size = 8 << 20
	e := newEnv(t, config{})
	v1, v2 := fill('a', size), fill('N', size)
	e.put("f", string(v1))
	m := startMapper(t, e.p("f"))
	if got := m.read(0, 4096, v1, v2); got != "of v1" {
		t.Fatalf("the mapping's first page: bytes %s", got)
	}
	e.put("f", string(v2))
	e.srv.ResetCounts()
	if got := m.read(6<<20, 4096, v1, v2); got != "SIGBUS" {
		t.Errorf("the mapping at 6 MiB after the replacement: bytes %s; want SIGBUS", got)
	}
	if n := e.srv.Count("GetObject"); n == 0 {
		t.Errorf("the access at 6 MiB sent no GetObject (%v): the fault was not the 412", e.srv.Counts())
	}
	if got := m.read(0, 4096, v1, v2); got != "of v1" {
		t.Errorf("the mapping's first page after the replacement: bytes %s; want v1's (the kernel holds it)", got)
	}
}

// TestNewVersionUnderPrivateMapping: a MAP_PRIVATE mapping (a program's
// text is one) of a version this mount then sees replaced gets SIGBUS at
// its next access, never the newer bytes.
func TestNewVersionUnderPrivateMapping(t *testing.T) {
	e := newEnv(t, config{})
	v1, v2 := fill('a', 600<<10), fill('N', 600<<10)
	e.put("f", string(v1))
	m := startMapper(t, e.p("f"), mapperPrivateEnv+"=1")
	if got := m.read(0, len(v1), v1, v2); got != "of v1" {
		t.Fatalf("the mapping before the change read bytes %s", got)
	}
	e.put("f", string(v2))
	if got, err := os.ReadFile(e.p("f")); err != nil || !bytes.Equal(got, v2) {
		t.Fatalf("a new open read %d bytes (%v), want v2's", len(got), err)
	}
	for _, off := range []int{0, 300 << 10} {
		if got := m.read(off, 4096, v1, v2); got != "SIGBUS" {
			t.Errorf("the private mapping at %d: bytes %s; want SIGBUS", off, got)
		}
	}
}

// TestNewVersionUnderOpenHandleUnlink: an unlink through this mount of a
// file open for reading keeps a copy of its content for the descriptors
// (docs/semantics.md, Writing); when another client has replaced the file
// meanwhile, that content is the newer version, which the descriptors of
// the older one must not get: they get ESTALE (SIGBUS), as when the
// version is gone.
func TestNewVersionUnderOpenHandleUnlink(t *testing.T) {
	e := newEnv(t, config{})
	v1, v2 := fill('a', 600<<10), fill('N', 300<<10)
	// g: a descriptor that read only its first page of g1.
	g1, g2 := fill('b', 8<<20), fill('M', 8<<20)
	e.put("g", string(g1))
	old := openOld(t, e, v1)
	g, err := os.Open(e.p("g"))
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	if got, err := pread(g, 4096, 0); err != nil || !bytes.Equal(got, g1[:4096]) {
		t.Fatalf("g's first read: %d bytes, %v", len(got), err)
	}
	e.put("f", string(v2))
	e.put("g", string(g2))
	e.sh(`rm f g`)
	old.wantGone(t, v2)
	if got, err := pread(g, 4096, 6<<20); !errors.Is(err, syscall.ESTALE) {
		t.Errorf("g's read at 6 MiB: %d bytes %s, err %v; want ESTALE", len(got), which(got, 6<<20, g1, g2), err)
	}
	if e.exists("f") || e.exists("g") {
		t.Fatal("f or g still exists in OSS after rm")
	}
}

// TestNewVersionUnderOpenHandleRename: a rename through this mount copies
// the current object; a descriptor that read part of the older version,
// which another client replaced, must not follow the copy (the newer
// bytes): it gets ESTALE. The new name reads the newer version.
func TestNewVersionUnderOpenHandleRename(t *testing.T) {
	e := newEnv(t, config{})
	v1, v2 := fill('a', 8<<20), fill('N', 8<<20)
	e.put("f", string(v1))
	f, err := os.Open(e.p("f"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got, err := pread(f, 4096, 0); err != nil || !bytes.Equal(got, v1[:4096]) {
		t.Fatalf("the first read: %d bytes, %v", len(got), err)
	}
	e.put("f", string(v2))
	e.sh(`mv f g`)
	if got, err := pread(f, 4096, 6<<20); !errors.Is(err, syscall.ESTALE) {
		t.Errorf("the read at 6 MiB after the rename: %d bytes %s, err %v; want ESTALE", len(got), which(got, 6<<20, v1, v2), err)
	}
	if got, err := os.ReadFile(e.p("g")); err != nil || !bytes.Equal(got, v2) {
		t.Fatalf("g: %d bytes (%v), want v2's", len(got), err)
	}
}
