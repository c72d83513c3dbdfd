package e2e

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ossfs/ossfs/cache"
	ossfs "github.com/ossfs/ossfs/fs"
	"github.com/ossfs/ossfs/ossclient"
)

// remount unmounts e and mounts its bucket again on a fresh mountpoint,
// with c (whose srv is set to e's): nothing of e's caches survives.
func (e *env) remount(c config) *env {
	e.t.Helper()
	e.unmount()
	c.srv = e.srv
	return newEnv(e.t, c)
}

// TestModeZeroAndOwners: mode 0000 (open with mode 0, chmod 000 of a file
// and of a directory) shows as 0000, before and after a remount; a mount
// whose --uid/--gid are not root's shows objects stored as root's as
// root's, and only objects without metadata as the mount's owner.
func TestModeZeroAndOwners(t *testing.T) {
	need(t, "python3")
	cfg := config{fs: func(o *ossfs.Options) { o.UID, o.GID = 1000, 1000 }}
	e := newEnv(t, cfg)
	// Made by other clients before the mount looks (after it, they would
	// be seen once --negative-ttl passes: TestExclCreateAfterListing).
	if _, err := e.raw.Put(e.ctx(), "rootmeta", strings.NewReader("x"), ossclient.PutOptions{
		Meta: map[string]string{"mode": "33188", "uid": "0", "gid": "0"}}); err != nil {
		t.Fatal(err)
	}
	e.put("bare", "x")       // another tool's object: no metadata
	e.put("implicit/x", "x") // a directory without a marker: the defaults
	e.sh(`umask 022 && python3 -c 'import os; os.close(os.open("z", os.O_CREAT | os.O_WRONLY, 0))'
		touch f && chmod 000 f && mkdir d && chmod 000 d`)
	if err := os.WriteFile(e.p("mine"), []byte("x"), 0o644); err != nil { // made by root
		t.Fatal(err)
	}
	if err := os.Chmod(e.p("mine"), 0o644); err != nil { // whatever the umask
		t.Fatal(err)
	}
	me := fmt.Sprintf("%d:%d", os.Getuid(), os.Getgid()) // root in CI
	want := strings.ReplaceAll("z 0 ME\nf 0 ME\nd 0 ME\nmine 644 ME\nrootmeta 644 0:0\nbare 644 1000:1000\nimplicit 755 1000:1000\n", "ME", me)
	const script = `for n in z f d mine rootmeta bare implicit; do echo "$n $(stat -c '%a %u:%g' $n)"; done`
	if got := e.sh(script); got != want {
		t.Errorf("modes and owners:\n%s\nwant:\n%s", got, want)
	}
	e2 := e.remount(cfg)
	if got := e2.sh(script); got != want {
		t.Errorf("modes and owners after a remount:\n%s\nwant:\n%s", got, want)
	}
}

// TestDefaultModesZero: --file-mode 0000, --dir-mode 0000 and --root-mode
// 0000 (ossfs 1.x's umask=0777 and mp_umask=0777) give objects without
// metadata, implicit directories and the root mode 0000, not the default
// modes their zero value stands for in the Options.
func TestDefaultModesZero(t *testing.T) {
	e := newEnv(t, config{fs: func(o *ossfs.Options) {
		o.FileMode, o.DirMode, o.RootMode = ossfs.NoPermissions, ossfs.NoPermissions, ossfs.NoPermissions
	}})
	e.put("bare", "x")
	e.put("implicit/x", "x")
	// Paths, not a cd into the 0000 root, which a user other than root
	// may not enter.
	for _, n := range []string{"bare", "implicit", ""} {
		if fi, err := os.Lstat(e.p(n)); err != nil || fi.Mode().Perm() != 0 {
			t.Errorf("mode of %q = %v, %v; want 0000", n, fi.Mode(), err)
		}
	}
}

// TestTruncAndWriteUpdateTimes: overwriting with > (O_TRUNC) and appending
// set mtime and ctime to now, in the mount and in the stored metadata.
func TestTruncAndWriteUpdateTimes(t *testing.T) {
	e := newEnv(t, config{})
	e.sh(`echo abc > f && touch -d @1000000000 f && echo abc > g && touch -d @1000000000 g`)
	before := time.Now().Unix()
	e.sh(`echo defg > f && echo more >> g`)
	for _, name := range []string{"f", "g"} {
		out := strings.Fields(e.sh(`stat -c '%Y %Z' ` + name))
		for i, what := range []string{"mtime", "ctime"} {
			if v, _ := strconv.ParseInt(out[i], 10, 64); v < before {
				t.Errorf("%s after a write: %s %d, want >= %d", name, what, v, before)
			}
		}
		o, err := e.raw.Stat(e.ctx(), name)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range []string{"mtime", "ctime"} {
			if v, _ := strconv.ParseInt(o.Meta[m], 10, 64); v < before {
				t.Errorf("%s: stored x-oss-meta-%s %q, want >= %d", name, m, o.Meta[m], before)
			}
		}
	}
}

// TestCtimeAndAtimeStored: utimensat keeps an explicit atime and mtime;
// chmod and chown advance ctime; all three are stored (x-oss-meta-atime,
// -mtime, -ctime) and read back by a fresh mount.
func TestCtimeAndAtimeStored(t *testing.T) {
	e := newEnv(t, config{})
	e.sh(`echo x > f && mkdir d && touch -a -d @1100000000 f d && touch -m -d @1200000000 f d`)
	const script = `stat -c '%X %Y' f d`
	want := "1100000000 1200000000\n1100000000 1200000000\n"
	if got := e.sh(script); got != want {
		t.Errorf("atime mtime = %q, want %q", got, want)
	}
	before := time.Now().Unix()
	e.sh(`chmod 640 f && chown 7:8 d`)
	e2 := e.remount(config{})
	if got := e2.sh(script); got != want {
		t.Errorf("atime mtime after a remount = %q, want %q", got, want)
	}
	for _, n := range []string{"f", "d"} {
		if v, _ := strconv.ParseInt(strings.TrimSpace(e2.sh(`stat -c %Z `+n)), 10, 64); v < before {
			t.Errorf("ctime of %s after chmod/chown and a remount = %d, want >= %d", n, v, before)
		}
	}
	if o, err := e.raw.Stat(e.ctx(), "f"); err != nil || o.Meta["atime"] != "1100000000" || o.Meta["mtime"] != "1200000000" {
		t.Errorf("stored metadata of f = %v, %v", o.Meta, err)
	}
}

// TestSpecialFiles: mkfifo, mknod (character device, as root) and bind()
// of a unix socket make empty objects whose x-oss-meta-mode holds the type
// (and x-oss-meta-rdev the device number), which a fresh mount shows as
// such, in a listing and by name; link(2) is EPERM, not EOPNOTSUPP.
func TestSpecialFiles(t *testing.T) {
	need(t, "python3", "mkfifo", "mknod")
	needRoot(t, "mknod of a character device")
	e := newEnv(t, config{})
	e.sh(`umask 022 && mkfifo p && mknod c c 1 3 && echo x > f
		python3 -c 'import socket; s = socket.socket(socket.AF_UNIX); s.bind("s")'`)
	const script = `stat -c '%n %F %a %t:%T' p c s`
	want := "p fifo 644 0:0\nc character special file 644 1:3\ns socket 755 0:0\n"
	if got := e.sh(script); got != want {
		t.Errorf("special files:\n%s\nwant:\n%s", got, want)
	}
	if o, err := e.raw.Stat(e.ctx(), "c"); err != nil || o.Size != 0 || o.Meta["mode"] != strconv.Itoa(syscall.S_IFCHR|0o644) || o.Meta["rdev"] != "259" {
		t.Errorf("stored device node = %+v, %v", o, err)
	}
	// A FIFO works as one within the mount.
	if got := e.sh(`(echo through > p &) ; cat p`); got != "through\n" {
		t.Errorf("read from the FIFO: %q", got)
	}
	err := os.Link(e.p("f"), e.p("g"))
	if !errors.Is(err, syscall.EPERM) {
		t.Errorf("link(2) = %v, want EPERM", err)
	}

	e2 := e.remount(config{})
	// By name first (lookups), then in a listing of a fresh mount.
	if got := e2.sh(script); got != want {
		t.Errorf("special files by name on a fresh mount:\n%s\nwant:\n%s", got, want)
	}
	e3 := e2.remount(config{})
	// The "total" line, then c, f, p, s in name order.
	if got := e3.sh(`ls -l | cut -c1 | tr -d '\n'`); got != "tc-ps" {
		t.Errorf("ls -l types on a fresh mount: %q, want %q", got, "tc-ps")
	}
}

// TestNoMetadataMount: with PersistMetadata off (--no-metadata) the
// defaults are all there is: objects show them whatever their metadata,
// `ls -l` needs no HEAD, and chmod (ENOTSUP) and mkfifo (EPERM) fail.
func TestNoMetadataMount(t *testing.T) {
	e := newEnv(t, config{fs: func(o *ossfs.Options) { o.PersistMetadata = false; o.UID, o.GID = 0, 0 }})
	if _, err := e.raw.Put(e.ctx(), "d/f", strings.NewReader("x"), ossclient.PutOptions{
		Meta: map[string]string{"mode": "33152", "uid": "7"}}); err != nil {
		t.Fatal(err)
	}
	e.sh(`test -d d`)
	e.srv.ResetCounts()
	if got := e.sh(`stat -c '%a %u' d/f`); got != "644 0\n" {
		t.Errorf("stat of an object with metadata on a --no-metadata mount: %q", got)
	}
	if got := e.sh(`ls -l d | grep -c '^-rw-r--r-- '`); got != "1\n" {
		t.Errorf("ls -l: %q", got)
	}
	if n := e.srv.Count("HeadObject"); n != 0 {
		t.Errorf("%d HEAD requests on a --no-metadata mount, want 0 (%v)", n, e.srv.Counts())
	}
	wantErrno(t, "chmod", os.Chmod(e.p("d/f"), 0o600), syscall.ENOTSUP)
	wantErrno(t, "mkfifo", syscall.Mkfifo(e.p("d/p"), 0o644), syscall.EPERM)
}

// TestMetadataChangeSeenByASecondMount: a chmod, chown and touch -d made
// on mount A reach mount B, which had listed and stat'ed the file, once B's
// cache TTLs have passed (a fake clock; B's kernel caches nothing).
func TestMetadataChangeSeenByASecondMount(t *testing.T) {
	a := newEnv(t, config{})
	a.sh(`mkdir d && echo x > d/f`)
	clock := cache.NewFakeClock(time.Now())
	b := newEnv(t, config{srv: a.srv,
		fs:    func(o *ossfs.Options) { o.EntryTimeout, o.AttrTimeout, o.NegativeTimeout = -1, -1, -1 },
		cache: func(o *cache.Options) { o.Clock = clock }})
	const script = `ls -l d > /dev/null && stat -c '%a %u:%g %Y' d/f`
	before := b.sh(script)
	a.sh(`chmod 600 d/f && chown 12:34 d/f && touch -d @1300000000 d/f`)
	if got := b.sh(script); got != before {
		t.Errorf("within the TTLs mount B shows %q, want what it cached, %q (documented staleness)", got, before)
	}
	clock.Advance(2 * cache.DefaultStatTTL)
	if got := b.sh(script); got != "600 12:34 1300000000\n" {
		t.Errorf("after the TTLs mount B shows %q, want 600 12:34 1300000000", got)
	}
}

// TestChmodKeepsStandardHeaders: chmod, chown and utimes store the
// attributes by a copy of the object onto itself that replaces its
// metadata, which drops Content-Type, Cache-Control, Content-Encoding...
// unless they are sent again: an object another tool uploaded keeps its
// own, and one this mount uploaded keeps the type from its extension (a
// website served from the bucket must not turn into downloads after a
// chmod or a tar x).
func TestChmodKeepsStandardHeaders(t *testing.T) {
	e := newEnv(t, config{})
	if _, err := e.raw.Put(e.ctx(), "page.html", strings.NewReader("<p>"), ossclient.PutOptions{ContentType: "text/x-custom"}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(e.p("index.html"), []byte("<p>"), 0o644); err != nil {
		t.Fatal(err)
	}
	e.sh(`chmod 600 page.html index.html && touch -d 2020-01-01 page.html index.html`)
	for key, want := range map[string]string{"page.html": "text/x-custom", "index.html": "text/html; charset=utf-8"} {
		o, err := e.raw.Stat(e.ctx(), key)
		if err != nil {
			t.Fatal(err)
		}
		if o.Headers == nil || o.Headers.ContentType != want || o.Meta["mode"] != strconv.Itoa(syscall.S_IFREG|0o600) {
			t.Errorf("%s after chmod and touch: headers %+v, meta %v; want Content-Type %q", key, o.Headers, o.Meta, want)
		}
	}
}
