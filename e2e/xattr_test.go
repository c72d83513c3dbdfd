package e2e

import (
	"strings"
	"testing"

	"github.com/ossfs/ossfs/fs/legacy"
	"github.com/ossfs/ossfs/ossclient"
)

// TestXattrs: user.* attributes round-trip through a remount, are stored in
// ossfs 1.x's x-oss-meta-xattr, survive a chmod and an overwrite, and cp -a
// and rsync -X copy them in both directions without the read-only
// system.oss.* ones; getfattr -d prints nothing where there is nothing.
func TestXattrs(t *testing.T) {
	need(t, "getfattr", "setfattr", "rsync")
	e := newEnv(t, config{})
	local := t.TempDir()
	e.sh(`
mkdir d
echo hello > f
ln -s f l
echo quiet > plain
setfattr -n user.color -v blue f
setfattr -n user.bin -v 0x00ff2c3a22 f
setfattr -n user.empty f
setfattr -n user.dir -v yes d
chmod 600 f
`)
	// 1.x's format, on the object itself.
	o, err := e.raw.Stat(e.ctx(), "f", ossclient.WithMeta)
	if err != nil {
		t.Fatal(err)
	}
	x := legacy.ParseXattrs(o.Meta[legacy.MetaXattr])
	if string(x["user.color"]) != "blue" || string(x["user.bin"]) != "\x00\xff,:\"" || len(x) != 3 || o.Meta["mode"] != "33152" {
		t.Errorf("stored metadata after setfattr and chmod: %v (xattrs %q)", o.Meta, x)
	}

	want := "# file: f\nuser.bin=0x00ff2c3a22\nuser.color=\"blue\"\nuser.empty\n\n"
	if got := e.sh(`getfattr -d -e text f | sed 's/user.bin=.*/user.bin=X/'`); !strings.Contains(got, "user.color=\"blue\"") {
		t.Errorf("getfattr -d f:\n%s", got)
	}
	e2 := e.remount(config{})
	got := e2.sh(`getfattr -d -e hex f | sed 's/user.color=.*/user.color="blue"/; s/user.empty=.*/user.empty/'`)
	if got != want {
		t.Errorf("after a remount, getfattr -d f =\n%s\nwant\n%s", got, want)
	}
	if got := e2.sh(`getfattr -d d; getfattr -d plain; getfattr -h -d l; echo end`); got != "# file: d\nuser.dir=\"yes\"\n\nend\n" {
		t.Errorf("getfattr -d on a dir, a plain file and a link:\n%s", got)
	}
	// The OSS attributes: only with -m -, read-only.
	got = e2.sh(`getfattr -m - -d --absolute-names "$MNT/plain" | grep system.oss | sort; getfattr -h -m - -d l | grep system.oss | sort`)
	for _, w := range []string{`system.oss.etag="`, `system.oss.object_type="Normal"`, `system.oss.storage_class="Standard"`,
		`system.oss.object_type="Symlink"`, `system.oss.symlink_target="f"`} {
		if !strings.Contains(got, w) {
			t.Errorf("getfattr -m - lacks %s:\n%s", w, got)
		}
	}
	if out, err := e2.trySh(`setfattr -n system.oss.etag -v x plain`); err == nil {
		t.Errorf("setting system.oss.etag succeeded: %s", out)
	}

	// cp -a and rsync -X, mount -> local -> mount: user.* only, silently.
	out := e2.sh(`cp -a f d "` + local + `/" 2>&1; rsync -aX plain "` + local + `/plain-r" 2>&1; echo ok`)
	if out != "ok\n" {
		t.Errorf("cp -a / rsync -X from the mount printed:\n%s", out)
	}
	got = e2.sh(`cd "` + local + `"; getfattr -m - -d -e hex f d plain-r 2>&1`)
	if !strings.Contains(got, "user.color=0x626c7565") || !strings.Contains(got, "user.dir=0x796573") || strings.Contains(got, "system.oss") {
		t.Errorf("local copies' xattrs:\n%s", got)
	}
	out = e2.sh(`setfattr -n user.local -v here "` + local + `/f"; cp -a "` + local + `/f" back; rsync -aX "` + local + `/f" back-r 2>&1; getfattr -d -e text back back-r`)
	if strings.Count(out, `user.local="here"`) != 2 || strings.Count(out, `user.color="blue"`) != 2 {
		t.Errorf("copies back onto the mount:\n%s", out)
	}

	// Rewriting a file keeps its attributes, as on a local filesystem;
	// removal and the setxattr flags behave as setxattr(2) says.
	got = e2.sh(`echo again > f; getfattr -n user.color --only-values f; echo
setfattr -x user.color f; getfattr -n user.color f 2>&1 || true
setfattr -x user.nothing f 2>&1 || true`)
	if !strings.HasPrefix(got, "blue\n") || !strings.Contains(got, "user.color: No such attribute") || !strings.Contains(got, "setfattr: f: No such attribute") {
		t.Errorf("overwrite / remove:\n%s", got)
	}
}

// TestXattrLimit: attributes that would pass OSS's 8 KiB of user metadata
// fail with E2BIG and leave the stored ones as they were.
func TestXattrLimit(t *testing.T) {
	need(t, "getfattr", "setfattr")
	e := newEnv(t, config{})
	e.sh(`echo x > f; setfattr -n user.a -v small f`)
	e.srv.ResetCounts()
	out, err := e.trySh(`setfattr -n user.big -v "$(head -c 7000 /dev/zero | tr '\0' x)" f`)
	if err == nil || !strings.Contains(out, "Argument list too long") {
		t.Errorf("an 8 KiB+ attribute: %v\n%s", err, out)
	}
	if n := e.srv.Count("CopyObject"); n != 0 {
		t.Errorf("a refused attribute still sent %d CopyObject", n)
	}
	if got := e.sh(`getfattr -d f`); got != "# file: f\nuser.a=\"small\"\n\n" {
		t.Errorf("after E2BIG: %s", got)
	}
	e.sh(`setfattr -n user.b -v two f`)
	if n := e.srv.Count("CopyObject"); n != 1 {
		t.Errorf("setfattr sent %d CopyObject, want 1 (the metadata copy chmod uses)", n)
	}
}
