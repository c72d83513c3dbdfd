package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/ossfs/ossfs/cache"
	ossfs "github.com/ossfs/ossfs/fs"
	"github.com/ossfs/ossfs/fs/legacy"
	"github.com/ossfs/ossfs/fs/names"
	"github.com/ossfs/ossfs/ossclient"
)

// putMeta stores an object with user metadata directly in the bucket.
func (e *env) putMeta(key, data string, meta map[string]string) {
	e.t.Helper()
	if _, err := e.raw.Put(e.ctx(), key, strings.NewReader(data), ossclient.PutOptions{Meta: meta}); err != nil {
		e.t.Fatalf("put %s: %v", key, err)
	}
}

// TestLegacyLinks: links written by ossfs 1.x in formats 1 and 2 (through
// the SDK) read as links through the mount: readlink gives the exact text
// (warm: no request), cat follows them, find -type l lists them once their
// metadata is known, and mv writes a native link.
func TestLegacyLinks(t *testing.T) {
	// No cache TTL runs out between the cold and warm readlinks (fake
	// clock), and no background metadata prefetch of the directory's other
	// files is still in flight when the counts are reset.
	clock := cache.NewFakeClock(time.Now())
	e := newEnv(t, config{cache: func(o *cache.Options) { o.Clock, o.PrefetchMeta = clock, -1 }})
	e.put("dir/target.txt", "hello\n")
	e.put("dir/a b+c.txt", "spaced\n")
	e.putMeta("dir/l1", "target.txt", map[string]string{"mode": legacy.LinkMode, "mtime": "1600000000"})
	e.putMeta("dir/l2", "", map[string]string{legacy.MetaSymlinkTarget: "header:7:a%20b%2Bc.txt"})
	e.putMeta("dir/l3", "./target.txt\n", map[string]string{"mode": legacy.LinkMode, legacy.MetaSymlinkTarget: "body:0:"})
	e.put("dir/plain", "target.txt") // a regular file whose body is a path
	e.putMeta("dir/regular-mode", "target.txt", map[string]string{"mode": "33188", legacy.MetaSymlinkTarget: "header:1:x"})

	e.srv.ResetCounts()
	if got := e.sh(`readlink dir/l1`); got != "target.txt\n" {
		t.Errorf("readlink dir/l1 = %q", got)
	}
	// Cold: the HEAD of the lookup and one GET of the text; never GetSymlink.
	if c := e.srv.Counts(); c["GetObject"] != 1 || c["GetSymlink"] != 0 {
		t.Errorf("cold readlink of a format 1 link: %v", c)
	}
	e.sh(`readlink dir/l2 dir/l3 >/dev/null`)
	e.srv.ResetCounts()
	if got := e.sh(`readlink dir/l1 dir/l2 dir/l3`); got != "target.txt\na b+c.txt\n./target.txt\n" {
		t.Errorf("readlink = %q", got)
	}
	if n := e.srv.TotalRequests(); n != 0 {
		t.Errorf("warm readlinks made %d requests (%v)", n, e.srv.Counts())
	}
	got := e.sh(`cat dir/l1 dir/l2 dir/l3; stat -c '%F %s %Y' dir/l1; readlink dir/plain dir/regular-mode || echo not links`)
	if got != "hello\nspaced\nhello\nsymbolic link 10 1600000000\nnot links\n" {
		t.Errorf("cat through the links, stat, plain files:\n%s", got)
	}
	if got := e.sh(`find . -type l | sort`); got != "./dir/l1\n./dir/l2\n./dir/l3\n" {
		t.Errorf("find -type l:\n%s", got)
	}

	// A rename writes a native link with the same text at the new key.
	e.sh(`mv dir/l1 dir/moved; mv dir/l2 "dir/moved 2"`)
	for key, text := range map[string]string{"dir/moved": "target.txt", "dir/moved 2": "a b+c.txt"} {
		s, err := e.raw.GetSymlink(e.ctx(), key)
		if err != nil {
			t.Fatalf("%s after mv: %v", key, err)
		}
		if got := (names.Mapper{Mountpoint: e.mnt}).ReadlinkMeta(key, s.Target, s.Meta); got != text {
			t.Errorf("%s: native link reads %q, want %q", key, got, text)
		}
	}
	if e.exists("dir/l1") || e.exists("dir/l2") {
		t.Error("the legacy links are still there after mv")
	}
	if got := e.sh(`readlink "dir/moved 2"; cat "dir/moved 2"; ln -s target.txt dir/new`); got != "a b+c.txt\nspaced\n" {
		t.Errorf("renamed link: %q", got)
	}
	if _, err := e.raw.GetSymlink(e.ctx(), "dir/new"); err != nil {
		t.Errorf("ln -s did not write a native link: %v", err)
	}

	// A fresh mount: lookup always shows the type; a names-only listing
	// learns it once the metadata is known (here: after ls -l).
	e2 := e.remount(config{})
	if got := e2.sh(`ls -l dir | grep -c '^l'; find . -type l | sort`); got != "4\n./dir/l3\n./dir/moved\n./dir/moved 2\n./dir/new\n" {
		t.Errorf("after a remount: ls -l links and find -type l:\n%s", got)
	}
}

// TestLegacyLinksOff: with NoLegacyLinks they are the regular files they
// are stored as.
func TestLegacyLinksOff(t *testing.T) {
	e := newEnv(t, config{fs: func(o *ossfs.Options) { o.NoLegacyLinks = true }})
	e.putMeta("l1", "target.txt", map[string]string{"mode": legacy.LinkMode})
	if got := e.sh(`stat -c %F l1; cat l1`); got != "regular file\ntarget.txt" {
		t.Errorf("with NoLegacyLinks: %q", got)
	}
}

// TestLegacyLinkLookupCost: what reading legacy links costs a mount that
// reads them (the default): reading a small file another client wrote,
// right after a names-only listing, is the lookup's HEAD (its metadata may
// mark it a link) plus the read's GET; a file of 4 KiB or more, which no
// legacy link can be, is its GET alone.
func TestLegacyLinkLookupCost(t *testing.T) {
	e := newEnv(t, config{})
	e.put("d/small", strings.Repeat("s", 100))
	e.put("d/big", strings.Repeat("b", names.PathMax))
	e.sh(`ls d >/dev/null`)
	for _, c := range []struct {
		name       string
		head, gets int64
	}{{"small", 1, 1}, {"big", 0, 1}} {
		e.srv.ResetCounts()
		e.sh(`cat d/` + c.name + ` >/dev/null`)
		if h, g, all := e.srv.Count("HeadObject"), e.srv.Count("GetObject"), e.srv.TotalRequests(); h != c.head || g != c.gets || all != h+g {
			t.Errorf("cat d/%s: %v; want %d HEAD and %d GET", c.name, e.srv.Counts(), c.head, c.gets)
		}
	}
}
