package e2e

import (
	"errors"
	"os"
	"strings"
	"syscall"
	"testing"

	ossfs "github.com/ossfs/ossfs/fs"
	"github.com/ossfs/ossfs/ossclient"
)

// linkCase is one row of the symlink matrix: a link at key link made with
// `ln -s text` on the mount.
type linkCase struct {
	name   string
	link   string // key of the link (= path in the mount)
	text   string // what ln -s is given; "$MNT" is replaced by the mountpoint
	target string // expected OSS target key; "" = the link's own key (outside)
	body   string // expected GetObject bytes through the link; "" = must fail
}

// TestSymlinkMatrix: each kind of link text is created with ln -s on the
// mount and checked three ways: readlink through the mount returns the text
// byte for byte, GetSymlink through the SDK names the key the text resolves
// to, and GetObject through the SDK follows the link to the right bytes (or
// fails for targets outside the bucket, never reading an unrelated object).
func TestSymlinkMatrix(t *testing.T) {
	e := newEnv(t, config{})
	for k, v := range map[string]string{
		"a/b": "AB", "d/x": "DX", "d/a/b": "DAB", "sp ace/f i": "SPACE", "p+lus": "PLUS",
		"per%cent": "PCT", "q?uery": "Q", "ha#sh": "HASH", "中文/文件": "CJK", "d/sub/f": "SUBF",
	} {
		e.put(k, v)
	}
	cases := []linkCase{
		{"relative up", "d/l1", "../a/b", "a/b", "AB"},
		{"dot slash", "d/l2", "./x", "d/x", "DX"},
		{"double slash", "d/l3", "a//b", "d/a/b", "DAB"},
		{"absolute inside", "d/l4", "$MNT/a/b", "a/b", "AB"},
		{"absolute outside", "d/l5", "/usr/bin/python3", "", ""},
		{"above bucket", "d/l6", "../../../etc/passwd", "", ""},
		{"dangling", "d/l7", "nope", "d/nope", ""},
		{"directory", "d/l8", "sub", "d/sub", ""},
		{"space", "d/l9", "../sp ace/f i", "sp ace/f i", "SPACE"},
		{"plus", "d/l10", "../p+lus", "p+lus", "PLUS"},
		{"percent", "d/l11", "../per%cent", "per%cent", "PCT"},
		{"question", "d/l12", "../q?uery", "q?uery", "Q"},
		{"hash", "d/l13", "../ha#sh", "ha#sh", "HASH"},
		{"cjk", "d/l14", "../中文/文件", "中文/文件", "CJK"},
		{"root level", "l15", "a/b", "a/b", "AB"},
		{"trailing slash", "d/l16", "sub/", "d/sub", ""},
		{"absolute outside with spaces", "d/l17", "/no such/ dir +%", "", ""},
	}
	for _, c := range cases {
		text := strings.ReplaceAll(c.text, "$MNT", e.mnt)
		e.sh(`ln -s -- "$T" "$L"`, "T="+text, "L="+c.link)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			text := strings.ReplaceAll(c.text, "$MNT", e.mnt)
			// 1. readlink through the mount, with the tool and the syscall.
			if got := e.sh(`readlink -- "$L"`, "L="+c.link); got != text+"\n" {
				t.Errorf("readlink %s = %q, want %q", c.link, got, text)
			}
			if got, err := os.Readlink(e.p(c.link)); err != nil || got != text {
				t.Errorf("os.Readlink %s = %q, %v", c.link, got, err)
			}
			fi, err := os.Lstat(e.p(c.link))
			if err != nil || fi.Mode()&os.ModeSymlink == 0 || fi.Size() != int64(len(text)) {
				t.Errorf("lstat %s: %v %v size %d, want a link of size %d", c.link, fi.Mode(), err, fi.Size(), len(text))
			}
			// 2. GetSymlink through the SDK.
			want := c.target
			if want == "" {
				want = c.link
			}
			s, err := e.raw.GetSymlink(e.ctx(), c.link)
			if err != nil || s.Target != want {
				t.Errorf("GetSymlink %s = %+v, %v; want target %q", c.link, s, err, want)
			}
			// 3. GetObject following the link.
			body, err := e.get(c.link)
			if c.body != "" {
				if err != nil || body != c.body {
					t.Errorf("GetObject %s = %q, %v; want %q", c.link, body, err, c.body)
				}
			} else if err == nil {
				t.Errorf("GetObject %s = %q, want an error", c.link, body)
			}
			// And through the mount, the kernel follows it.
			if c.body != "" {
				if b, err := os.ReadFile(e.p(c.link)); err != nil || string(b) != c.body {
					t.Errorf("read through mount %s = %q, %v", c.link, b, err)
				}
			}
		})
	}
	// A directory link is followed by cd and ls.
	if got := e.sh(`cd d/l8 && ls`); got != "f\n" {
		t.Errorf("ls through a directory link = %q", got)
	}
	// The dangling link is listed as a link, and stat follows it to ENOENT.
	if got := e.sh(`find d -type l -name l7`); got != "d/l7\n" {
		t.Errorf("find -type l = %q", got)
	}
	if _, err := os.Stat(e.p("d/l7")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stat of a dangling link: %v", err)
	}
}

// TestSymlinkTooLong: texts whose target key would pass 1023 bytes, or that
// reach PATH_MAX, fail with ENAMETOOLONG and leave nothing in the bucket.
func TestSymlinkTooLong(t *testing.T) {
	e := newEnv(t, config{})
	seg := strings.Repeat("x", 200)
	long := strings.Repeat(seg+"/", 5) + "y" // 1006 bytes: d/ + it is 1008
	if err := os.Symlink(long, e.p("ok")); err != nil {
		t.Fatalf("symlink with a 1006-byte text: %v", err)
	}
	if got, _ := os.Readlink(e.p("ok")); got != long {
		t.Errorf("long text not returned intact (%d bytes)", len(got))
	}
	tooLong := strings.Repeat(seg+"/", 5) + strings.Repeat("z", 30) // 1035 bytes
	err := os.Symlink(tooLong, e.p("bad"))
	if !errors.Is(err, syscall.ENAMETOOLONG) {
		t.Errorf("symlink with a 1035-byte target key: %v, want ENAMETOOLONG", err)
	}
	if e.exists("bad") {
		t.Error("a failed symlink left a key")
	}
	// ln reports it too.
	if out, err := e.trySh(`ln -s "$T" bad2`, "T="+tooLong); err == nil || !strings.Contains(out, "too long") {
		t.Errorf("ln -s with a too long text: %v %s", err, out)
	}
	// Outside targets are stored in metadata: long absolute texts work up to
	// the metadata budget, beyond it ENAMETOOLONG.
	abs := "/" + strings.Repeat("a/", 1500) // 3001 bytes
	if err := os.Symlink(abs, e.p("absok")); err != nil {
		t.Errorf("3001-byte absolute text: %v", err)
	} else if got, _ := os.Readlink(e.p("absok")); got != abs {
		t.Error("3001-byte absolute text not returned intact")
	}
	cjk := "/" + strings.Repeat("中", 1000) // 3001 bytes, 9000 encoded
	if err := os.Symlink(cjk, e.p("abscjk")); !errors.Is(err, syscall.ENAMETOOLONG) {
		t.Errorf("absolute CJK text over the metadata budget: %v, want ENAMETOOLONG", err)
	}
}

// TestSymlinkInterop: links made by the SDK (target key only) read back as
// the relative path to the target and resolve through the mount; links made
// on the mount are ordinary OSS symlinks to the SDK (TestSymlinkMatrix).
func TestSymlinkInterop(t *testing.T) {
	e := newEnv(t, config{})
	e.put("data/file", "DATA")
	ctx := e.ctx()
	// Made before the mount lists anything (changes made elsewhere show
	// within the cache TTLs, not at once).
	if err := e.raw.PutSymlink(ctx, "other/deep/mine", "data/file", ossclient.SymlinkOptions{
		Meta: map[string]string{"ossfs-symlink": ".%2F..%2Fdata%2Ffile"}}); err != nil {
		t.Fatal(err)
	}
	for key, target := range map[string]string{
		"links/l": "data/file", "l2": "data/file", "links/deep/l3": "data/file", "links/dang": "gone/x",
	} {
		if err := e.raw.PutSymlink(ctx, key, target, ossclient.SymlinkOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	for link, want := range map[string]string{
		"links/l": "../data/file", "l2": "data/file", "links/deep/l3": "../../data/file", "links/dang": "../gone/x",
	} {
		if got, err := os.Readlink(e.p(link)); err != nil || got != want {
			t.Errorf("readlink %s = %q, %v; want %q", link, got, err, want)
		}
	}
	if got := e.sh(`cat links/l links/deep/l3 l2`); got != "DATADATADATA" {
		t.Errorf("cat through SDK-made links = %q", got)
	}
	if got := e.sh(`find . -type l | sort`); got != "./l2\n./links/dang\n./links/deep/l3\n./links/l\n./other/deep/mine\n" {
		t.Errorf("find -type l = %q", got)
	}
	// A link made on the mount with a non-derivable text reads it back; the
	// same metadata on a link moved by another client (other/deep/mine, made
	// above) is stale there, and readlink falls back to the relative path.
	e.sh(`ln -s ./../data/file links/mine`)
	if got, _ := os.Readlink(e.p("links/mine")); got != "./../data/file" {
		t.Errorf("readlink of own link = %q", got)
	}
	if got, _ := os.Readlink(e.p("other/deep/mine")); got != "../../data/file" {
		t.Errorf("readlink of a moved link with stale text = %q, want ../../data/file", got)
	}
}

// TestSymlinkPrefixMount: with a mount prefix, ../ may climb above it while
// staying in the bucket; above the bucket root the link targets itself.
func TestSymlinkPrefixMount(t *testing.T) {
	e := newEnv(t, config{prefix: "p/q/"})
	e.put("p/up", "UP")
	e.put("p/q/in", "IN")
	e.sh(`ln -s ../up l1 && ln -s in l2 && ln -s ../../../x l3 && mkdir d && ln -s ../../up d/l4`)
	for link, want := range map[string]struct{ text, target, body string }{
		"l1":   {"../up", "p/up", "UP"},
		"l2":   {"in", "p/q/in", "IN"},
		"l3":   {"../../../x", "p/q/l3", ""},
		"d/l4": {"../../up", "p/up", "UP"},
	} {
		if got, err := os.Readlink(e.p(link)); err != nil || got != want.text {
			t.Errorf("readlink %s = %q, %v", link, got, err)
		}
		s, err := e.raw.GetSymlink(e.ctx(), "p/q/"+link)
		if err != nil || s.Target != want.target {
			t.Errorf("GetSymlink p/q/%s = %+v, %v; want %q", link, s, err, want.target)
		}
		body, err := e.get("p/q/" + link)
		if want.body != "" && (err != nil || body != want.body) || want.body == "" && err == nil {
			t.Errorf("GetObject p/q/%s = %q, %v; want %q", link, body, err, want.body)
		}
	}
	// (Through the mount the kernel resolves "../up" above the mountpoint,
	// outside the mount, as POSIX says; only OSS-side reads reach p/up.)
}

// TestSymlinkForbidOverwrite: with SymlinkForbidOverwrite, ln -s onto an
// existing key made elsewhere fails with EEXIST; ln -sf still replaces.
func TestSymlinkForbidOverwrite(t *testing.T) {
	e := newEnv(t, config{fs: func(o *ossfs.Options) { o.SymlinkForbidOverwrite = true }})
	e.sh(`echo hi > f && ln -s f l`)
	if out, err := e.trySh(`ln -s f l`); err == nil || !strings.Contains(out, "exists") {
		t.Errorf("ln -s onto an existing link: %v %q", err, out)
	}
	e.sh(`ln -sf f2 l`)
	if got, _ := os.Readlink(e.p("l")); got != "f2" {
		t.Errorf("after ln -sf: %q", got)
	}
	// The key appears behind the mount's back after the kernel and the
	// mount learned it is missing: only OSS can refuse, and does.
	if _, err := os.Lstat(e.p("late")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("lstat late: %v", err)
	}
	e.put("late", "x")
	e.srv.ResetCounts()
	err := os.Symlink("f", e.p("late"))
	if !errors.Is(err, syscall.EEXIST) {
		t.Errorf("symlink onto a key created elsewhere: %v, want EEXIST", err)
	}
	if n := e.srv.Count("PutSymlink"); n != 1 {
		t.Errorf("%d PutSymlink requests, want 1: EEXIST must come from OSS", n)
	}
	if got := e.mustGet("late"); got != "x" {
		t.Errorf("the existing object was changed: %q", got)
	}
}

// TestSymlinkOverwriteAllowedByDefault is the control of the test above:
// without the option the same sequence replaces the object with the link.
func TestSymlinkOverwriteAllowedByDefault(t *testing.T) {
	e := newEnv(t, config{})
	e.put("f", "F")
	if _, err := os.Lstat(e.p("late")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("lstat late: %v", err)
	}
	e.put("late", "x")
	if err := os.Symlink("f", e.p("late")); err != nil {
		t.Fatalf("symlink onto a key created elsewhere, no forbid-overwrite: %v", err)
	}
	if got := e.mustGet("late"); got != "F" {
		t.Errorf("GetObject late = %q, want the link followed to F", got)
	}
}
