package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ossfs/ossfs/cache"
	ossfs "github.com/ossfs/ossfs/fs"
	"github.com/ossfs/ossfs/ossclient"
	"github.com/ossfs/ossfs/ossclient/osstest"
)

// TestWriteAfterListingKeepsStoredAttrs: a write, an O_TRUNC overwrite and
// a truncate of files whose attributes the mount only knows from a listing
// (`ls` of a fresh mount) keep their stored mode, owner and group: the
// upload must not carry the defaults a listing entry is shown with.
func TestWriteAfterListingKeepsStoredAttrs(t *testing.T) {
	e := newEnv(t, config{})
	e.sh(`mkdir d && for f in a b c; do echo x > d/$f; done
		chmod 600 d/a d/b d/c && chown 123:456 d/a d/b d/c`)
	e2 := e.remount(config{})
	e2.sh(`ls d > /dev/null && echo more >> d/a && echo new > d/b && truncate -s 1 d/c`)
	for _, k := range []string{"d/a", "d/b", "d/c"} {
		o, err := e.raw.Stat(e.ctx(), k)
		if err != nil {
			t.Fatal(err)
		}
		if o.Meta["mode"] != "33152" || o.Meta["uid"] != "123" || o.Meta["gid"] != "456" {
			t.Errorf("%s: stored mode/uid/gid after a write = %s/%s/%s, want 33152/123/456 (0600 123:456)",
				k, o.Meta["mode"], o.Meta["uid"], o.Meta["gid"])
		}
	}
	e3 := e2.remount(config{})
	if got := e3.sh(`stat -c '%n %a %u:%g' d/a d/b d/c`); got != "d/a 600 123:456\nd/b 600 123:456\nd/c 600 123:456\n" {
		t.Errorf("after a remount:\n%s", got)
	}
}

// TestRootModeNotKeptInMemory: the mount root has no object to store a
// mode or owner on; a chmod or chown of it must fail (EPERM) rather than
// show a mode that a remount silently drops (a `chmod 700` of the root of
// an --allow-other mount would open up again at the next mount). Its
// --dir-mode and --uid/--gid are what it shows, before and after.
func TestRootModeNotKeptInMemory(t *testing.T) {
	e := newEnv(t, config{})
	wantErrno(t, "chmod 700 of the mount root", os.Chmod(e.mnt, 0o700), syscall.EPERM)
	wantErrno(t, "chown of the mount root", os.Chown(e.mnt, 5, 5), syscall.EPERM)
	if err := os.Chmod(e.mnt, 0o755); err != nil { // what it is: no change
		t.Errorf("chmod of the mount root to its own mode: %v", err)
	}
	want := e.sh(`stat -c '%a %u:%g' .`)
	if me := fmt.Sprintf("755 %d:%d\n", os.Getuid(), os.Getgid()); want != me {
		t.Errorf("mount root = %q, want %q", want, me)
	}
	e2 := e.remount(config{})
	if got := e2.sh(`stat -c '%a %u:%g' .`); got != want {
		t.Errorf("mount root after a remount = %q, want %q", got, want)
	}
}

// TestOwnerChecksFailClosed: on an --allow-other mount a lookup must give
// the kernel the stored owner (it checks chmod and the sticky bit on the
// owner it holds). When the directory's marker cannot be read during the
// lookup (one failed HEAD), the lookup fails: handing out the defaults'
// owner (here uid 65534, --uid) let uid 65534 chmod root's directory.
func TestOwnerChecksFailClosed(t *testing.T) {
	const python = "/usr/bin/python3"
	need(t, python)
	cfg := config{fs: func(o *ossfs.Options) { o.AllowOther, o.UID, o.GID = true, 65534, 65534 }}
	e := newEnv(t, cfg)
	e.sh(`mkdir -m 1777 tmp && chown 0:0 tmp`)
	e2 := e.remount(cfg)
	if err := os.Chmod(filepath.Dir(e2.mnt), 0o755); err != nil {
		t.Fatal(err)
	}
	remove := e.srv.AddFault(osstest.Fault{Op: "HeadObject", KeyPrefix: "tmp/", Status: 403, Code: "AccessDenied", Times: 1})
	defer remove()
	out, err := asUser(python, "-c", "import os, sys; os.chmod(sys.argv[1], 0o777)", e2.p("tmp"))
	// The fault fired (Times 1): it is used up, so a HEAD of the marker
	// now works.
	if _, err := e.raw.Stat(e.ctx(), "tmp/"); err != nil {
		t.Fatalf("the injected fault never fired: HEAD tmp/ = %v", err)
	}
	if err == nil {
		t.Errorf("uid 65534 chmod of root's directory after a failed marker read succeeded: %s", out)
	}
	if got := e2.sh(`stat -c '%a %u' tmp`); got != "1777 0\n" {
		t.Errorf("root's directory after uid 65534's chmod: %q, want 1777 0", got)
	}

	// The same for a link: root's link in the sticky directory, whose
	// GetSymlink fails once during the lookup, is not uid 65534's to remove.
	e2.sh(`ln -s x tmp/l && chown -h 0:0 tmp/l`)
	e3 := e2.remount(cfg)
	remove = e.srv.AddFault(osstest.Fault{Op: "GetSymlink", KeyPrefix: "tmp/l", Status: 403, Code: "AccessDenied", Times: 1})
	defer remove()
	out, err = asUser(python, "-c", "import os, sys; os.unlink(sys.argv[1])", e3.p("tmp/l"))
	if _, serr := e.raw.GetSymlink(e.ctx(), "tmp/l"); serr != nil && e.exists("tmp/l") {
		t.Fatalf("the injected GetSymlink fault never fired: %v", serr)
	}
	if err == nil {
		t.Errorf("uid 65534 removed root's link from a sticky directory after a failed link read: %s", out)
	}
	if !e.exists("tmp/l") {
		t.Errorf("root's link in the sticky directory is gone")
	}
}

// TestGetattrDuringChmodKeepsChmod: a stat of a file while its chmod's
// metadata copy is in flight reads the attributes stored until then; that
// must not become what the node holds once the chmod has succeeded: a
// utime right after (no stat between: the kernel sends a bare setattr)
// stored the old mode with the new times, silently undoing the chmod.
func TestGetattrDuringChmodKeepsChmod(t *testing.T) {
	need(t, "python3")
	cfg := config{fs: func(o *ossfs.Options) { o.AttrTimeout = -1 }} // every stat asks
	e := newEnv(t, cfg)
	e.sh(`echo x > f && chmod 644 f`)
	hold := make(chan struct{})
	e.srv.ResetCounts()
	remove := e.srv.AddFault(osstest.Fault{Op: "CopyObject", KeyPrefix: "f", Hold: hold, Times: 1})
	defer remove()
	done := make(chan error, 1)
	go func() { _, err := e.trySh(`chmod 600 f`); done <- err }()
	waitCount(t, e.srv, "CopyObject", 1) // the chmod's copy is held
	if got := e.sh(`stat -c %a f`); got != "644\n" {
		t.Errorf("stat during the chmod = %q, want what is stored until it ends, 644", got)
	}
	close(hold)
	if err := <-done; err != nil {
		t.Fatalf("chmod: %v", err)
	}
	e.sh(`python3 -c 'import os; os.utime("f", (1000000000, 1000000000))'`)
	o, err := e.raw.Stat(e.ctx(), "f")
	if err != nil {
		t.Fatal(err)
	}
	if o.Meta["mode"] != "33152" || o.Meta["mtime"] != "1000000000" {
		t.Errorf("stored mode/mtime after chmod 600 then utime = %s/%s, want 33152/1000000000", o.Meta["mode"], o.Meta["mtime"])
	}
	if got := e.sh(`stat -c '%a %Y' f`); got != "600 1000000000\n" {
		t.Errorf("stat after chmod 600 then utime = %q", got)
	}
}

// TestOtherUserSeesChmodFromOtherMount: mount B (--allow-other) lets uid
// 65534 read a 0644 file; mount A makes it 0600. Once B's cache TTLs have
// passed (fake clock; B's kernel caches nothing), uid 65534 is refused on
// B, after a plain and a long listing too.
func TestOtherUserSeesChmodFromOtherMount(t *testing.T) {
	a := newEnv(t, config{})
	a.sh(`mkdir d && echo s > d/f && chmod 644 d/f && chmod 755 d`)
	clock := cache.NewFakeClock(time.Now())
	b := newEnv(t, config{srv: a.srv,
		fs: func(o *ossfs.Options) {
			o.AllowOther = true
			o.EntryTimeout, o.AttrTimeout, o.NegativeTimeout = -1, -1, -1
		},
		cache: func(o *cache.Options) { o.Clock = clock }})
	if err := os.Chmod(filepath.Dir(b.mnt), 0o755); err != nil {
		t.Fatal(err)
	}
	b.sh(`ls -l d > /dev/null`)
	if out, err := asUser("cat", b.p("d/f")); err != nil || out != "s\n" {
		t.Fatalf("uid 65534 cat of a 0644 file: %q, %v", out, err)
	}
	a.sh(`chmod 600 d/f && chmod 700 d`)
	clock.Advance(2 * cache.DefaultStatTTL)
	for _, ls := range []string{"", "ls d > /dev/null", "ls -l d > /dev/null"} {
		if ls != "" {
			b.sh(ls)
		}
		if out, err := asUser("cat", b.p("d/f")); err == nil || !strings.Contains(out, "Permission denied") {
			t.Errorf("after A's chmod 600 and the TTLs (%q): uid 65534 cat = %q, %v; want EACCES", ls, out, err)
		}
	}
}

// TestLegacySymlinkObjectNotWorldWritable: ossfs 1.x and s3fs store a
// symlink as a plain object holding the target, its x-oss-meta-mode
// S_IFLNK|0777. This mount shows it as a symlink (legacylink_test.go); with
// --no-legacy-links as a regular file, and then the link's 0777 must not
// become a regular file's rwx for everyone: on an --allow-other mount any
// user could then rewrite where the link points for the ossfs 1.x clients
// of the bucket. It shows --file-mode, and uid 65534 cannot rewrite it.
func TestLegacySymlinkObjectNotWorldWritable(t *testing.T) {
	for _, c := range []struct {
		noLegacy bool
		want     string
	}{{false, "symbolic link 777 0\n"}, {true, "regular file 644 0\n"}} {
		t.Run(fmt.Sprintf("NoLegacyLinks=%v", c.noLegacy), func(t *testing.T) {
			cfg := config{fs: func(o *ossfs.Options) { o.AllowOther, o.NoLegacyLinks = true, c.noLegacy }}
			e := newEnv(t, cfg)
			if err := os.Chmod(filepath.Dir(e.mnt), 0o755); err != nil {
				t.Fatal(err)
			}
			if _, err := e.raw.Put(e.ctx(), "link", strings.NewReader("/usr/bin/python3"), ossclient.PutOptions{
				Meta: map[string]string{"mode": strconv.Itoa(syscall.S_IFLNK | 0o777), "uid": "0", "gid": "0"}}); err != nil {
				t.Fatal(err)
			}
			if got := e.sh(`stat -c '%F %a %u' link`); got != c.want {
				t.Errorf("an ossfs 1.x symlink object shows as %q, want %q", got, c.want)
			}
			// As a symlink, a write would go to /usr/bin/python3 itself: not
			// something to try. No write through the mount changes a link.
			if c.noLegacy {
				if out, err := asUser("sh", "-c", "echo /tmp/evil > "+e.p("link")); err == nil {
					t.Errorf("uid 65534 rewrote root's ossfs 1.x symlink object: %s", out)
				}
			}
			if got := e.mustGet("link"); got != "/usr/bin/python3" {
				t.Errorf("the link object holds %q", got)
			}
		})
	}
}

// TestNoMetadataAllowOtherWarns: --no-metadata reads no stored modes, so
// with --allow-other the kernel grants access by --file-mode/--dir-mode
// and --uid/--gid whatever another mount stored (a 0600 file becomes
// readable by everyone under the default 0644). That combination is
// allowed, as documented, but never silently: the mount logs a warning.
func TestNoMetadataAllowOtherWarns(t *testing.T) {
	var c config
	rec := recordLogs(&c)
	set := c.fs
	c.fs = func(o *ossfs.Options) { set(o); o.AllowOther, o.PersistMetadata = true, false }
	newEnv(t, c)
	if got := rec.saying("--no-metadata"); len(got) != 1 {
		t.Errorf("warnings about --no-metadata with --allow-other: %q, want one", got)
	}
	var c2 config
	rec2 := recordLogs(&c2)
	newEnv(t, c2)
	if got := rec2.saying("--no-metadata"); len(got) != 0 {
		t.Errorf("a default mount warned: %q", got)
	}
}
