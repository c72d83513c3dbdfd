package e2e

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ossfs/ossfs/cache"
	ossfs "github.com/ossfs/ossfs/fs"
)

// TestRemountFidelity: chmod, chown, touch -d of files and chmod of a
// directory survive a remount: stat, ls -l and find -newer show them, and
// rsync -a of the same tree finds nothing to send.
func TestRemountFidelity(t *testing.T) {
	need(t, "rsync")
	needRoot(t, "chown to other owners")
	e := newEnv(t, config{})
	src := t.TempDir()
	for _, c := range [][]string{
		{"mkdir", "-p", src + "/d/sub"},
		{"sh", "-c", "echo a > " + src + "/a && echo b > " + src + "/d/b && echo c > " + src + "/d/sub/c"},
		{"chmod", "600", src + "/a"}, {"chmod", "750", src + "/d"}, {"chmod", "700", src + "/d/sub"},
		{"chown", "123:456", src + "/d/b"},
		{"touch", "-d", "2020-01-01 00:00:00", src + "/a", src + "/d/b", src + "/d/sub/c", src + "/d/sub", src + "/d"},
		{"ln", "-s", "../a", src + "/d/l"},
		{"touch", "-h", "-d", "2020-01-02 00:00:00", src + "/d/l"},
		{"chown", "-h", "77:88", src + "/d/l"},
		{"touch", "-d", "2021-01-01 00:00:00", src + "/ref"},
	} {
		if out, err := exec.Command(c[0], c[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%v: %v\n%s", c, err, out)
		}
	}
	e.sh(`rsync -a "$SRC/" dst/ && mkdir plain && chmod 711 plain && touch -d 2019-05-05 plain`, "SRC="+src)

	e2 := e.remount(config{})
	const script = `cd dst && stat -c '%n %a %u:%g %Y' a d d/b d/sub d/sub/c && stat -c '%n %u:%g %Y' d/l && stat -c '%n %a %Y' ../plain`
	want := exec.Command("bash", "-c", strings.Replace(script, "cd dst", "cd "+src, 1)+" ; true")
	var wb bytes.Buffer
	want.Stdout = &wb
	if err := want.Run(); err != nil {
		t.Fatal(err)
	}
	wantOut := strings.Replace(wb.String(), "../plain 755 ", "../plain 711 ", 1)
	// The directories' own modes and times: the source's, as rsync set them;
	// "plain" was made on the mount (its line, computed on the source, does
	// not exist there: build it).
	if !strings.Contains(wantOut, "../plain") {
		wantOut += "../plain 711 " + e2.sh(`date -d 2019-05-05 +%s`)
	}
	if got := e2.sh(script); got != wantOut {
		t.Errorf("stat after a remount:\n%s\nwant:\n%s", got, wantOut)
	}
	if got := e2.sh(`ls -ld dst/d | cut -c1-10`); got != "drwxr-x---\n" {
		t.Errorf("ls -ld dst/d after a remount: %q", got)
	}
	if got := e2.sh(`ls -l dst/d | grep -v ^total | cut -c1-10 | tr '\n' ' '`); got != "-rw-r--r-- lrwxrwxrwx drwx------ " {
		t.Errorf("ls -l dst/d after a remount: %q", got)
	}
	// find -newer selects the same entries as in the source tree.
	const newer = `cd "$DIR" && find . -newer "$SRC/ref" | sort`
	if got, want := e2.sh(newer, "DIR="+e2.p("dst"), "SRC="+src), e2.sh(newer, "DIR="+src, "SRC="+src); got != want {
		t.Errorf("find -newer after a remount found %q, want %q (as in the source)", got, want)
	}
	if got := e2.sh(`rsync -a --dry-run --itemize-changes "$SRC/" dst/`, "SRC="+src); got != "" {
		t.Errorf("rsync -a after a remount would send:\n%s", got)
	}
}

// asUser runs argv as uid/gid 65534 (nobody) with / as its directory and
// returns its combined output and error.
func asUser(argv ...string) (string, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = "/"
	cmd.Env = []string{"PATH=/usr/bin:/bin", "LC_ALL=C"}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestOtherUserAllowOther: on an --allow-other mount another user (a child
// process with uid 65534) gets EACCES on a 0600 file and on a file inside a
// 0700 directory, and reads a 0644 file: on the mount that made them,
// after a remount, after root's ls and ls -l, and after every cache TTL
// (a fake clock moved past them).
func TestOtherUserAllowOther(t *testing.T) {
	clock := cache.NewFakeClock(time.Now())
	cfg := config{
		fs:    func(o *ossfs.Options) { o.AllowOther = true },
		cache: func(o *cache.Options) { o.Clock = clock },
	}
	e := newEnv(t, cfg)
	e.sh(`echo s > secret && chmod 600 secret && mkdir private && echo p > private/f && chmod 700 private
		echo o > public && chmod 644 public`)
	check := func(e *env, when string) {
		t.Helper()
		// The mountpoint's parent (a 0700 temp dir) must let the user in.
		if err := os.Chmod(filepath.Dir(e.mnt), 0o755); err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"secret", "private/f"} {
			out, err := asUser("cat", e.p(name))
			if err == nil || !strings.Contains(out, "Permission denied") {
				t.Errorf("%s: uid 65534 cat %s = %q, %v; want EACCES", when, name, out, err)
			}
		}
		if out, err := asUser("cat", e.p("public")); err != nil || out != "o\n" {
			t.Errorf("%s: uid 65534 cat public = %q, %v", when, out, err)
		}
	}
	check(e, "on the mount that made them")
	e2 := e.remount(cfg)
	check(e2, "after a remount")
	e3 := e2.remount(cfg)
	e3.sh(`ls . private > /dev/null`)
	check(e3, "after ls")
	e3.sh(`ls -l . private > /dev/null`)
	check(e3, "after ls -l")
	clock.Advance(time.Hour)
	e3.sh(`ls . > /dev/null`)
	check(e3, "after the TTLs")
}

// TestLinkInStickyDirectory: a user's link in a 1777 directory is that
// user's (its uid is stored in the link's own metadata), so the user may
// rename and remove it; lchown by root sticks across a remount.
func TestLinkInStickyDirectory(t *testing.T) {
	cfg := config{fs: func(o *ossfs.Options) { o.AllowOther = true }}
	e := newEnv(t, cfg)
	if err := os.Chmod(filepath.Dir(e.mnt), 0o755); err != nil {
		t.Fatal(err)
	}
	e.sh(`mkdir -m 1777 tmp && ln -s x rootlink && chown -h 65534:65534 rootlink`)
	for _, argv := range [][]string{
		{"ln", "-s", "target", e.p("tmp/l")},
		{"mv", e.p("tmp/l"), e.p("tmp/l2")},
		{"ln", "-s", "other", e.p("tmp/l3")},
	} {
		if out, err := asUser(argv...); err != nil {
			t.Fatalf("uid 65534 %v: %v\n%s", argv, err, out)
		}
	}
	if out, err := asUser("rm", e.p("tmp/l3")); err != nil {
		t.Errorf("uid 65534 rm of its own link in a sticky directory: %v\n%s", err, out)
	}
	e2 := e.remount(cfg)
	if got := e2.sh(`stat -c '%n %u:%g' tmp/l2 rootlink && readlink tmp/l2`); got != "tmp/l2 65534:65534\nrootlink 65534:65534\ntarget\n" {
		t.Errorf("link owners after a remount: %q", got)
	}
}

// TestOwnerChecksUseStoredOwner: the kernel checks ownership (chmod, chown,
// utimes, the sticky bit) on the owner it holds for an inode without asking
// again; on an --allow-other mount whose default owner is uid 65534, root's
// files listed by `ls` must still be root's to those checks: uid 65534
// cannot chmod them, nor remove them from a sticky directory. Its own files
// it can.
func TestOwnerChecksUseStoredOwner(t *testing.T) {
	cfg := config{fs: func(o *ossfs.Options) { o.AllowOther, o.UID, o.GID = true, 65534, 65534 }}
	e := newEnv(t, cfg)
	e.sh(`mkdir -m 1777 tmp && echo r > tmp/rootfile && chmod 666 tmp/rootfile && chown 0:0 tmp tmp/rootfile`)
	e2 := e.remount(cfg)
	if err := os.Chmod(filepath.Dir(e2.mnt), 0o755); err != nil {
		t.Fatal(err)
	}
	e2.sh(`ls tmp > /dev/null`) // READDIRPLUS: the kernel learns the names
	// Bare system calls (chmod, touch and rm would stat first, which makes
	// the kernel ask for the attributes).
	f := e2.p("tmp/rootfile")
	const python = "/usr/bin/python3" // the other user's; not a per-user shim
	if _, err := os.Stat(python); err != nil {
		need(t, python)
	}
	for _, argv := range [][]string{
		{python, "-c", "import os, sys; os.chmod(sys.argv[1], 0o777)", f},
		{python, "-c", "import os, sys; os.unlink(sys.argv[1])", f},
	} {
		e2.sh(`ls tmp > /dev/null`)
		if out, err := asUser(argv...); err == nil || !strings.Contains(out, "PermissionError") {
			t.Errorf("uid 65534 %v on root's file: %v, %s; want EPERM", argv[2], err, out)
		}
	}
	if got := e2.sh(`stat -c '%a %u' tmp/rootfile`); got != "666 0\n" {
		t.Errorf("root's file after uid 65534's attempts: %q", got)
	}
	if out, err := asUser("sh", "-c", "echo n > "+e2.p("tmp/mine")+" && chmod 600 "+e2.p("tmp/mine")+" && rm "+e2.p("tmp/mine")); err != nil {
		t.Errorf("uid 65534 on its own file: %v\n%s", err, out)
	}
}
