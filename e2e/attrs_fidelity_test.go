package e2e

import (
	"os"
	"syscall"
	"testing"
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
	if want != "755 0:0\n" {
		t.Errorf("mount root = %q, want 755 0:0", want)
	}
	e2 := e.remount(config{})
	if got := e2.sh(`stat -c '%a %u:%g' .`); got != want {
		t.Errorf("mount root after a remount = %q, want %q", got, want)
	}
}
