package e2e

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// makeTree builds, on the mount, a tree with files, a subdirectory, an empty
// directory, relative, absolute-inside, absolute-outside and dangling links.
func (e *env) makeTree(dir string) {
	e.t.Helper()
	e.sh(`mkdir -p "$D/sub/deeper" "$D/empty"
		printf 'one\n' > "$D/one.txt"
		head -c 300000 /dev/urandom > "$D/sub/blob.bin"
		printf 'deep' > "$D/sub/deeper/f"
		chmod 755 "$D/one.txt"
		ln -s ../one.txt "$D/sub/rel"
		ln -s sub/deeper "$D/dirlink"
		ln -s "$MNT/$D/one.txt" "$D/absin"
		ln -s /usr/bin/env "$D/absout"
		ln -s missing "$D/dangling"`, "D="+dir)
}

// TestCpTarRsync: cp -a, tar c/x (and tar --compare) and rsync -a copy a
// tree with every kind of link within the mount, and diff -r agrees.
func TestCpTarRsync(t *testing.T) {
	need(t, "tar", "diff")
	e := newEnv(t, config{})
	e.makeTree("src")
	e.sh(`cp -a src cpa && diff -r --no-dereference src cpa`)
	e.sh(`tar -cf /tmp/ossfs-e2e-$$.tar src && mkdir x && tar -xf /tmp/ossfs-e2e-$$.tar -C x
		diff -r --no-dereference src x/src
		tar --compare -f /tmp/ossfs-e2e-$$.tar; rm -f /tmp/ossfs-e2e-$$.tar`)
	// tar from the mount to a local directory and back.
	local := t.TempDir()
	e.sh(`tar -cf - src | tar -xf - -C "$L" && diff -r --no-dereference src "$L/src"
		mkdir back && tar -cf - -C "$L" src | tar -xf - -C back && diff -r --no-dereference src back/src`, "L="+local)
	if _, err := exec.LookPath("rsync"); err == nil || os.Getenv("OSSFS_REQUIRE_FUSE") == "1" {
		e.sh(`rsync -a src/ rs/ && diff -r --no-dereference src rs`)
	} else {
		t.Log("rsync is not installed: rsync -a not checked")
	}
	for _, d := range []string{"cpa", "x/src", "back/src"} {
		if got, _ := os.Readlink(e.p(d + "/absout")); got != "/usr/bin/env" {
			t.Errorf("%s/absout = %q", d, got)
		}
		if got, _ := os.Readlink(e.p(d + "/sub/rel")); got != "../one.txt" {
			t.Errorf("%s/sub/rel = %q", d, got)
		}
		fi, err := os.Stat(e.p(d + "/one.txt"))
		if err != nil || fi.Mode().Perm() != 0o755 {
			t.Errorf("%s/one.txt mode %v %v, want 0755", d, fi.Mode(), err)
		}
	}
	// The copied relative link is an OSS link to the copy's target.
	if s, err := e.raw.GetSymlink(e.ctx(), "cpa/sub/rel"); err != nil || s.Target != "cpa/one.txt" {
		t.Errorf("GetSymlink cpa/sub/rel = %+v %v", s, err)
	}
	if got := e.sh(`find src -type l | sort`); got != "src/absin\nsrc/absout\nsrc/dangling\nsrc/dirlink\nsrc/sub/rel\n" {
		t.Errorf("find -type l = %q", got)
	}
	if got := e.sh(`find src -type f | sort`); got != "src/one.txt\nsrc/sub/blob.bin\nsrc/sub/deeper/f\n" {
		t.Errorf("find -type f = %q", got)
	}
	if got := e.sh(`du -s --apparent-size --block-size=1 src/sub/blob.bin | cut -f1`); got != "300000\n" {
		t.Errorf("du = %q", got)
	}
}

// TestMvDirectoryWithLinks: mv of a directory keeps every link's text and
// recomputes its OSS target for the new place; the old keys are gone.
func TestMvDirectoryWithLinks(t *testing.T) {
	e := newEnv(t, config{})
	e.makeTree("a/src")
	e.sh(`mkdir b && mv a/src b/moved`)
	if e.sh(`ls a`) != "" || e.exists("a/src/one.txt") || e.exists("a/src/sub/rel") {
		t.Error("old keys remain after mv")
	}
	for link, text := range map[string]string{
		"b/moved/sub/rel": "../one.txt", "b/moved/dirlink": "sub/deeper", "b/moved/absout": "/usr/bin/env",
		"b/moved/dangling": "missing", "b/moved/absin": e.mnt + "/a/src/one.txt",
	} {
		if got, err := os.Readlink(e.p(link)); err != nil || got != text {
			t.Errorf("readlink %s = %q %v, want %q", link, got, err, text)
		}
	}
	for link, target := range map[string]string{
		"b/moved/sub/rel": "b/moved/one.txt", "b/moved/dirlink": "b/moved/sub/deeper", "b/moved/dangling": "b/moved/missing",
		"b/moved/absout": "b/moved/absout", "b/moved/absin": "a/src/one.txt",
	} {
		if s, err := e.raw.GetSymlink(e.ctx(), link); err != nil || s.Target != target {
			t.Errorf("GetSymlink %s = %+v %v, want target %q", link, s, err, target)
		}
	}
	if got := e.mustGet("b/moved/sub/rel"); got != "one\n" {
		t.Errorf("GetObject through the moved link = %q", got)
	}
	if got := e.sh(`cat b/moved/sub/rel b/moved/dirlink/f`); got != "one\ndeep" {
		t.Errorf("cat through moved links = %q", got)
	}
	// A single link moved to another directory: same text, new target.
	e.sh(`mkdir c && mv b/moved/sub/rel c/rel`)
	if got, _ := os.Readlink(e.p("c/rel")); got != "../one.txt" {
		t.Errorf("moved link text = %q", got)
	}
	if s, err := e.raw.GetSymlink(e.ctx(), "c/rel"); err != nil || s.Target != "one.txt" {
		t.Errorf("moved link target = %+v %v", s, err)
	}
	// The directory emptied by the mv is still there.
	if got := e.sh(`ls -a a`); got != ".\n..\n" {
		t.Errorf("ls -a a = %q", got)
	}
}

// TestGit: git init/add/commit/status/checkout work on the mount.
func TestGit(t *testing.T) {
	need(t, "git")
	e := newEnv(t, config{})
	out := e.sh(`export GIT_CONFIG_NOSYSTEM=1 HOME="$MNT" GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@e GIT_COMMITTER_NAME=t GIT_COMMITTER_EMAIL=t@e
		git init -q repo && cd repo
		printf 'hello\n' > a.txt && mkdir src && printf 'package x\n' > src/x.go && ln -s a.txt link
		git add -A && git commit -qm first
		git checkout -qb feature && printf 'more\n' >> a.txt && git commit -qam second
		git checkout -q master 2>/dev/null || git checkout -q main
		cat a.txt && git status --porcelain && git log --oneline --all | wc -l && readlink link
		git fsck --no-progress 2>&1 | grep -v '^Checking' || true`)
	if out != "hello\n2\na.txt\n" {
		t.Errorf("git session output:\n%s", out)
	}
}

// TestPythonVenv: python3 -m venv on the mount, then its bin/python runs.
func TestPythonVenv(t *testing.T) {
	need(t, "python3")
	e := newEnv(t, config{})
	out := e.sh(`python3 -m venv --without-pip venv && venv/bin/python -c 'import sys; print(sys.prefix)'`)
	if strings.TrimSpace(out) != e.p("venv") {
		t.Errorf("venv python prefix = %q, want %q", out, e.p("venv"))
	}
	if fi, err := os.Lstat(e.p("venv/bin/python")); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("venv/bin/python is not a link: %v %v", fi, err)
	}
}
