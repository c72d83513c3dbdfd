package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	ossfs "github.com/ossfs/ossfs/fs"
	"github.com/ossfs/ossfs/ossclient/osstest"
)

// frozenServer starts a local server whose clock stands still: every
// version it makes has the same Last-Modified second, as versions made
// quickly one after another do on OSS.
func frozenServer(t *testing.T) *osstest.Server {
	t.Helper()
	at := time.Now()
	srv, err := osstest.Start(osstest.Options{Buckets: []string{bucketName}, Clock: func() time.Time { return at }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

// TestRenameOverShowsMovedAttrs: mv of a 0600 file over a 0644 file with
// the same content, in the same second, shows the moved file's mode, not
// the replaced one's: to root, to another user on an --allow-other mount
// (EACCES), and after a remount. The bucket cache knew the replaced file's
// metadata for its version (ETag and Last-Modified second), and the copy
// made a version with the same ETag and second. Found by the model test.
func TestRenameOverShowsMovedAttrs(t *testing.T) {
	cfg := config{srv: frozenServer(t), fs: func(o *ossfs.Options) { o.AllowOther = true }}
	e := newEnv(t, cfg)
	e.sh(`echo s > moved && chmod 600 moved && echo s > victim && chmod 644 victim`)
	check := func(e *env, when string) {
		t.Helper()
		// ls -l reads the listing, whose entries the bucket cache
		// completes with the metadata it knows for their versions.
		if got := e.sh(`ls -l | grep -v ^total | cut -c1-10 && stat -c '%a %u' victim`); got != "-rw-------\n600 0\n" {
			t.Errorf("%s: ls -l and stat of victim = %q, want the moved file's 0600", when, got)
		}
		if err := os.Chmod(filepath.Dir(e.mnt), 0o755); err != nil {
			t.Fatal(err)
		}
		if out, err := asUser("cat", e.p("victim")); err == nil || !strings.Contains(out, "Permission denied") {
			t.Errorf("%s: uid 65534 cat victim = %q, %v; want EACCES (mode 0600)", when, out, err)
		}
	}
	e2 := e.remount(cfg)
	// Both versions' metadata known to the mount (HEADs), then the move.
	e2.sh(`stat victim moved > /dev/null && mv moved victim`)
	check(e2, "after mv")
	check(e2.remount(cfg), "after a remount")
}

// TestRenameBackKeepsChown: a file renamed away, chowned and renamed back
// in the same second shows the new owner: the version the last rename made
// has the ETag and Last-Modified second of the file's first version, whose
// owner the mount had seen. Found by the model test.
func TestRenameBackKeepsChown(t *testing.T) {
	cfg := config{srv: frozenServer(t)}
	e := newEnv(t, cfg)
	e.sh(`: > c && stat c > /dev/null && mv c d && chown 1001:1000 d && mv d c`)
	if got := e.sh(`ls -n | grep -v ^total | cut -d' ' -f3,4 && stat -c '%u:%g' c`); got != "1001 1000\n1001:1000\n" {
		t.Errorf("owner after rename, chown, rename back: %q, want 1001:1000", got)
	}
	if got := e.remount(cfg).sh(`ls -n | grep -v ^total | cut -d' ' -f3,4 && stat -c '%u:%g' c`); got != "1001 1000\n1001:1000\n" {
		t.Errorf("owner after a remount: %q, want 1001:1000", got)
	}
}
