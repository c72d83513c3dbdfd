package e2e

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	ossfs "github.com/ossfs/ossfs/fs"
)

// TestReadOnlyTruncOpen: open(O_RDONLY|O_TRUNC) truncates as Linux does
// (POSIX leaves it undefined): the file reads as empty through that
// descriptor and afterwards, its mtime and ctime advance as for any
// truncation, and OSS holds the empty object with the new mtime; a file
// opened so while open for writing elsewhere is truncated there too.
// The kernel checks write permission for O_TRUNC: uid 65534 gets EACCES
// on root's 0644 file (unchanged), and truncates its own.
func TestReadOnlyTruncOpen(t *testing.T) {
	cfg := config{fs: func(o *ossfs.Options) { o.AllowOther = true }}
	e := newEnv(t, cfg)
	e.sh(`echo abc > f && touch -d @1000000000 f && echo abc > w
		echo root > rootfile && chmod 644 rootfile && echo mine > userfile && chown 65534:65534 userfile`)
	before := time.Now().Unix()
	f, err := os.OpenFile(e.p("f"), os.O_RDONLY|os.O_TRUNC, 0)
	if err != nil {
		t.Fatal(err)
	}
	if b, err := readAll(f); err != nil || len(b) != 0 {
		t.Errorf("read through the O_RDONLY|O_TRUNC descriptor: %q, %v; want empty", b, err)
	}
	f.Close()
	out := strings.Fields(e.sh(`stat -c '%s %Y %Z' f && cat f`))
	if out[0] != "0" {
		t.Errorf("size after open(O_RDONLY|O_TRUNC) = %s, want 0", out[0])
	}
	for i, what := range []string{"mtime", "ctime"} {
		if v, _ := strconv.ParseInt(out[1+i], 10, 64); v < before {
			t.Errorf("%s after open(O_RDONLY|O_TRUNC) = %d, want >= %d", what, v, before)
		}
	}
	if o, err := e.raw.Stat(e.ctx(), "f"); err != nil || o.Size != 0 {
		t.Errorf("stored f after open(O_RDONLY|O_TRUNC): %+v, %v; want 0 bytes", o, err)
	} else if v, _ := strconv.ParseInt(o.Meta["mtime"], 10, 64); v < before {
		t.Errorf("stored x-oss-meta-mtime %q, want >= %d", o.Meta["mtime"], before)
	}

	// Open for writing elsewhere: the writer's file is truncated, and its
	// close uploads what it writes after.
	wr, err := os.OpenFile(e.p("w"), os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	rd, err := os.OpenFile(e.p("w"), os.O_RDONLY|os.O_TRUNC, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := wr.WriteAt([]byte("xy"), 0); err != nil {
		t.Fatal(err)
	}
	if err := wr.Close(); err != nil {
		t.Fatal(err)
	}
	if b, err := readAll(rd); err != nil || string(b) != "xy" {
		t.Errorf("read after a write following open(O_RDONLY|O_TRUNC): %q, %v; want \"xy\"", b, err)
	}
	rd.Close()
	if got, err := e.get("w"); err != nil || got != "xy" {
		t.Errorf("stored w = %q, %v; want \"xy\"", got, err)
	}

	if err := os.Chmod(filepath.Dir(e.mnt), 0o755); err != nil {
		t.Fatal(err)
	}
	const python = "/usr/bin/python3" // the other user's; not a per-user shim
	if _, err := os.Stat(python); err != nil {
		need(t, python)
	}
	const trunc = "import os, sys; os.close(os.open(sys.argv[1], os.O_RDONLY | os.O_TRUNC))"
	if out, err := asUser(python, "-c", trunc, e.p("rootfile")); err == nil || !strings.Contains(out, "PermissionError") {
		t.Errorf("uid 65534 open(O_RDONLY|O_TRUNC) of root's 0644 file: %v, %s; want EACCES", err, out)
	}
	if out, err := asUser(python, "-c", trunc, e.p("userfile")); err != nil {
		t.Errorf("uid 65534 open(O_RDONLY|O_TRUNC) of its own file: %v, %s", err, out)
	}
	if got := e.sh(`cat rootfile userfile`); got != "root\n" {
		t.Errorf("after uid 65534's opens: %q, want root's file whole and its own empty", got)
	}
	for key, want := range map[string]string{"rootfile": "root\n", "userfile": ""} {
		if got, err := e.get(key); err != nil || got != want {
			t.Errorf("stored %s = %q, %v; want %q", key, got, err, want)
		}
	}
}

// readAll reads f from offset 0 (at most 64 bytes).
func readAll(f *os.File) ([]byte, error) {
	b := make([]byte, 64)
	n, err := f.ReadAt(b, 0)
	if errors.Is(err, io.EOF) {
		err = nil
	}
	return b[:n], err
}
