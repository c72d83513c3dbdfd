package e2e

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/ossfs/ossfs/ossclient/osstest"
)

// TestRenameCopiesBeforeDeleting: mv of a file, a link and a directory
// copies (or re-links) first and deletes last, so a copy that fails leaves
// the bucket as it was (the source whole, the copies already made removed)
// and mv reports it.
func TestRenameCopiesBeforeDeleting(t *testing.T) {
	e := newEnv(t, config{})
	e.sh(`mkdir -p src/dir dst/empty && printf F > src/f && ln -s ../src/f src/l
		for i in $(seq -w 1 20); do printf "$i" > src/dir/f$i; done
		ln -s f01 src/dir/link`)
	before := e.keys()
	cases := []struct {
		name, mv string
		fault    osstest.Fault
	}{
		{"file", `mv src/f dst/f`, osstest.Fault{Op: "CopyObject", KeyPrefix: "dst/f", Status: 500}},
		{"link", `mv src/l dst/l`, osstest.Fault{Op: "PutSymlink", KeyPrefix: "dst/l", Status: 500}},
		{"directory, one copy failing", `mv src/dir dst/dir`, osstest.Fault{Op: "CopyObject", KeyPrefix: "dst/dir/f13", Status: 500}},
		{"directory onto an empty one", `mv -T src/dir dst/empty`, osstest.Fault{Op: "CopyObject", KeyPrefix: "dst/empty/f05", Status: 500}},
		{"directory, its link failing", `mv src/dir dst/dir2`, osstest.Fault{Op: "PutSymlink", KeyPrefix: "dst/dir2/link", Status: 403, Code: "AccessDenied"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			remove := e.srv.AddFault(c.fault)
			out, err := e.trySh(c.mv)
			remove()
			if err == nil {
				t.Fatalf("%s succeeded with a failing copy: %s", c.mv, out)
			}
			if !strings.Contains(out, "error") && !strings.Contains(out, "denied") {
				t.Errorf("mv did not say why: %q", out)
			}
			if after := e.keys(); after != before {
				t.Errorf("bucket changed by the failed %s:\nbefore %s\nafter  %s", c.mv, before, after)
			}
			if got := e.sh(`cat src/f src/l src/dir/f13 src/dir/link && ls src/dir | wc -l && ls dst`); got != "FF130121\nempty\n" {
				t.Errorf("source through the mount after the failed %s: %q", c.mv, got)
			}
		})
	}
	// With the fault gone the same mv works and removes the source.
	e.sh(`mv src/dir dst/dir && mv src/f dst/f`)
	for i := 1; i <= 20; i++ {
		if got := e.mustGet(fmt.Sprintf("dst/dir/f%02d", i)); got != fmt.Sprintf("%02d", i) {
			t.Errorf("dst/dir/f%02d = %q", i, got)
		}
	}
	if e.exists("src/dir/f01") || e.exists("src/f") {
		t.Error("source keys remain after a successful mv")
	}
}

// TestRenameImplicitDirectory: mv of a directory that is only a common
// prefix (no marker object, made by another client) leaves no trace of the
// old name, even within the cache TTLs (the cached listing of its parent
// held it until it expired). Found by the model test.
func TestRenameImplicitDirectory(t *testing.T) {
	e := newEnv(t, config{})
	e.put("imp/sub/f", "F")
	// Into a directory the cache knows, so that the copy does not drop the
	// root's listing by itself.
	if got := e.sh(`mkdir dst && ls && mv imp dst/moved && ls && cat dst/moved/sub/f`); got != "dst\nimp\ndst\nF" {
		t.Errorf("ls; mv imp dst/moved; ls = %q, want dst imp, then dst only", got)
	}
	if e.exists("imp/sub/f") || e.exists("imp/") {
		t.Error("keys of the old name remain")
	}
}

// TestFsyncDirectory: fsync of a directory succeeds (editors, databases and
// git fsync the directory after a rename); it was ENOTSUP. Found by the
// model test.
func TestFsyncDirectory(t *testing.T) {
	e := newEnv(t, config{})
	e.sh(`mkdir d`)
	for _, dir := range []string{"d", "."} {
		f, err := os.Open(e.p(dir))
		if err != nil {
			t.Fatal(err)
		}
		if err := f.Sync(); err != nil {
			t.Errorf("fsync of directory %q: %v", dir, err)
		}
		f.Close()
	}
}

// TestRenameOntoDirWithNewFile: mv of a directory onto one that holds only
// a file still being written (not uploaded yet) fails with ENOTEMPTY, as
// rmdir of it does; it replaced the directory and lost the new file. Found
// by the model test.
func TestRenameOntoDirWithNewFile(t *testing.T) {
	e := newEnv(t, config{})
	if err := os.Mkdir(e.p("src"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(e.p("dst"), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(e.p("dst/new"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := syscall.Rename(e.p("src"), e.p("dst")); !errors.Is(err, syscall.ENOTEMPTY) {
		t.Errorf("rename onto a directory holding a new file: %v, want ENOTEMPTY", err)
	}
}
