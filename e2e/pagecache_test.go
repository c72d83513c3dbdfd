package e2e

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"syscall"
	"testing"
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

// errFault is what mmapAt returns for an access that raised SIGBUS.
var errFault = errors.New("SIGBUS")

// mmapAt copies n bytes at off out of the mapping m, or returns errFault.
func mmapAt(m []byte, n int, off int) (p []byte, err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			p, err = nil, fmt.Errorf("%w: %v", errFault, r)
		}
	}()
	return append([]byte(nil), m[off:off+n]...), nil
}

func TestNewVersionUnderOpenHandleSameMount(t *testing.T) {
	for _, tc := range []struct {
		name   string
		n1, n2 int
	}{
		{"larger", 300 << 10, 900 << 10},
		{"smaller", 900 << 10, 300 << 10},
		{"same size", 600 << 10, 600 << 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, config{})
			v1, v2 := fill('a', tc.n1), fill('N', tc.n2)
			e.put("f", string(v1))
			h1, err := os.Open(e.p("f"))
			if err != nil {
				t.Fatal(err)
			}
			defer h1.Close()
			if got, err := pread(h1, 4096, 0); err != nil || !bytes.Equal(got, v1[:4096]) {
				t.Fatalf("h1's first read: %d bytes, %v", len(got), err)
			}
			m, err := syscall.Mmap(int(h1.Fd()), 0, tc.n1, syscall.PROT_READ, syscall.MAP_SHARED)
			if err != nil {
				t.Fatal(err)
			}
			defer syscall.Munmap(m)
			if got, err := mmapAt(m, 4096, 8192); err != nil || !bytes.Equal(got, v1[8192:8192+4096]) {
				t.Fatalf("h1's mapping before the change: %v", err)
			}

			e.put("f", string(v2)) // another OSS client replaces it
			h2, err := os.Open(e.p("f"))
			if err != nil {
				t.Fatal(err)
			}
			defer h2.Close()
			// h2's reads fill the page cache with v2 (a descriptor
			// opened later shares it, if it is the same inode).
			if got, err := pread(h2, tc.n2+10, 0); !bytes.Equal(got, v2) {
				t.Fatalf("h2 read %d bytes (%v), want v2's %d", len(got), err, tc.n2)
			}
			if got, err := os.ReadFile(e.p("f")); err != nil || !bytes.Equal(got, v2) {
				t.Fatalf("a third open read %d bytes (%v), want v2's %d", len(got), err, tc.n2)
			}
			if st, err := os.Stat(e.p("f")); err != nil || st.Size() != int64(tc.n2) {
				t.Fatalf("stat after the new version: %v %v, want size %d", st, err, tc.n2)
			}

			// Offsets: a page h1 read, one it mapped, the middle, and
			// the last pages of both versions.
			for _, off := range []int64{0, 8192, int64(min(tc.n1, tc.n2) / 2), int64(tc.n1) - 4096, int64(tc.n2) - 4096} {
				if off >= int64(tc.n1) {
					continue
				}
				if got, err := pread(h1, 4096, off); !errors.Is(err, syscall.ESTALE) {
					t.Errorf("h1 pread at %d: %d bytes %s, err %v; want ESTALE", off, len(got), which(got, off, v1, v2), err)
				}
				if got, err := sendfileAt(t, h1, 4096, off); !errors.Is(err, syscall.ESTALE) {
					t.Errorf("h1 sendfile at %d: %d bytes %s, err %v; want ESTALE", off, len(got), which(got, off, v1, v2), err)
				}
				if got, err := mmapAt(m, 4096, int(off)); !errors.Is(err, errFault) {
					t.Errorf("h1's mapping at %d: %d bytes %s, err %v; want SIGBUS", off, len(got), which(got, off, v1, v2), err)
				}
			}
			// The newer version's readers are unaffected.
			if got, err := pread(h2, 4096, int64(tc.n2)-4096); err != nil || !bytes.Equal(got, v2[tc.n2-4096:]) {
				t.Fatalf("h2's read after h1's: %d bytes, %v", len(got), err)
			}
			if got, err := sendfileAt(t, h2, tc.n2+10, 0); err != nil || !bytes.Equal(got, v2) {
				t.Fatalf("h2's sendfile: %d bytes, %v", len(got), err)
			}
		})
	}
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
