package e2e

import (
	"errors"
	"os"
	"syscall"
	"testing"
)

// TestLinksSeenByAFreshMount: a second mount of the bucket, whose caches
// hold no listing, looks every kind of link up by name (a HEAD, which OSS
// cannot follow for links to links and for outside targets, stored as links
// to themselves) and still sees links with their texts: never EIO.
func TestLinksSeenByAFreshMount(t *testing.T) {
	e := newEnv(t, config{})
	// At the root: a lookup there is never answered from a listing (no
	// lookup lists the root), so each one is a HEAD.
	e.sh(`printf F > f && mkdir d
		ln -s /usr/bin/python3 python3 && ln -s python3 python
		ln -s f l1 && ln -s l1 l2 && ln -s l2 l3
		ln -s .. up && ln -s . dot && ln -s / root && ln -s ../.. above
		ln -s "$MNT/f" absin && ln -s missing dangling && ln -s ../l3 d/l4`)
	texts := map[string]string{
		"python3": "/usr/bin/python3", "python": "python3", "l1": "f", "l2": "l1", "l3": "l2",
		"up": "..", "dot": ".", "root": "/", "above": "../..", "dangling": "missing", "d/l4": "../l3",
		// Absolute inside the first mount; from another mountpoint it reads
		// as the relative path to the same key.
		"absin": "f",
	}
	e2 := newEnv(t, config{srv: e.srv})
	for link, text := range texts {
		// Lookups by name only: no listing is made first.
		fi, err := os.Lstat(e2.p(link))
		if err != nil || fi.Mode()&os.ModeSymlink == 0 {
			t.Errorf("lstat %s on a fresh mount: %v, %v; want a link", link, fi, err)
			continue
		}
		if got, err := os.Readlink(e2.p(link)); err != nil || got != text {
			t.Errorf("readlink %s on a fresh mount = %q, %v; want %q", link, got, err, text)
		}
	}
	if got := e2.sh(`cat l3 d/l4 absin && test -d dot && test ! -e dangling && echo ok`); got != "FFFok\n" {
		t.Errorf("following links on a fresh mount: %q", got)
	}
	// A venv-style chain to a real interpreter runs.
	if _, err := os.Stat("/usr/bin/python3"); err == nil {
		if got := e2.sh(`./python -c 'print(42)'`); got != "42\n" {
			t.Errorf("python -> python3 -> /usr/bin/python3: %q", got)
		}
	}
	if _, err := os.Readlink(e2.p("f")); !errors.Is(err, syscall.EINVAL) {
		t.Errorf("readlink of a file on a fresh mount: %v, want EINVAL", err)
	}
}
