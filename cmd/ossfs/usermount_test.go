package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// nobody is the uid and gid the non-root tests run as.
const nobody = 65534

// asNobody runs name as uid/gid 65534 with HOME=home.
func asNobody(home, name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
	cmd.Env = []string{"HOME=" + home, "PATH=" + os.Getenv("PATH")}
	cmd.Dir = home
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// userDirs makes a home directory owned by nobody (in a directory everyone
// may enter) with a mountpoint and a data directory in it.
func userDirs(t *testing.T) (home, mnt, data string) {
	t.Helper()
	base := t.TempDir()
	enterable(filepath.Join(base, "x"))
	home = filepath.Join(base, "home")
	mnt, data = filepath.Join(home, "oss"), filepath.Join(home, "oss-data")
	for _, d := range []string{home, mnt} {
		os.Mkdir(d, 0o755)
		os.Chown(d, nobody, nobody)
	}
	return home, mnt, data
}

// TestUserMount: a non-root user mounts on a directory it owns through
// fusermount3 (the README's route), uses the mount, and unmounts it with
// fusermount3 -u. /dev/fuse must be usable by the user: the test makes it
// mode 0666, the distributions' default, if it is not.
func TestUserMount(t *testing.T) {
	requireFUSE(t)
	if os.Geteuid() != 0 {
		t.Skip("needs root to run a process as another user")
	}
	if _, err := exec.LookPath("fusermount3"); err != nil {
		t.Fatalf("fusermount3 (apt-get install fuse3) is needed: %v", err)
	}
	worldUsableFUSE(t)
	bin := buildBinary(t)
	enterable(bin)
	home, mnt, data := userDirs(t)
	t.Cleanup(func() { exec.Command("umount", "-l", mnt).Run() })

	out, err := asNobody(home, bin, "mount", "--local", data, "demo", mnt)
	if err != nil {
		t.Fatalf("mount as uid %d: %v\n%s", nobody, err, out)
	}
	if !strings.Contains(out, filepath.Join(home, ".local/state/ossfs")) {
		t.Errorf("the default log of a user is not under ~/.local/state/ossfs: %s", out)
	}
	if opts := mountOptions(mnt); !strings.Contains(opts, "user_id=65534") {
		t.Errorf("mount options %q: not a mount of uid 65534 (through fusermount3)", opts)
	}
	script := `set -e; cd "$1"; echo hello > f; ln -s f l; test "$(readlink l)" = f; cat l; mkdir d; mv f d/g; ls d`
	out, err = asNobody(home, "sh", "-c", script, "sh", mnt)
	if err != nil || out != "hello\ng\n" {
		t.Fatalf("using the mount as uid %d: %v\n%q", nobody, err, out)
	}
	if out, err := asNobody(home, "fusermount3", "-u", mnt); err != nil {
		t.Fatalf("fusermount3 -u as the user: %v\n%s", err, out)
	}
	waitUnmounted(t, mnt)
	// The data is in DIR, and comes back on the next mount.
	if out, err := asNobody(home, bin, "mount", "--local", data, "demo", mnt); err != nil {
		t.Fatalf("second mount: %v\n%s", err, out)
	}
	if out, err := asNobody(home, "cat", filepath.Join(mnt, "d", "g")); err != nil || out != "hello\n" {
		t.Errorf("after remount: %q, %v", out, err)
	}
	asNobody(home, "fusermount3", "-u", mnt)
	waitUnmounted(t, mnt)
}

// enterable lets every user reach path: its directories up to the temp
// dir (t.TempDir makes them 0700) get mode 0755.
func enterable(path string) {
	for d := filepath.Dir(path); strings.HasPrefix(d, os.TempDir()+"/"); d = filepath.Dir(d) {
		os.Chmod(d, 0o755)
	}
}

// worldUsableFUSE makes /dev/fuse mode 0666 for the test if it is not.
func worldUsableFUSE(t *testing.T) {
	t.Helper()
	fi, err := os.Stat("/dev/fuse")
	if err != nil {
		t.Fatal(err)
	}
	if mode := fi.Mode().Perm(); mode&0o006 != 0o006 {
		if err := os.Chmod("/dev/fuse", 0o666); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Chmod("/dev/fuse", mode) })
	}
}

func mountOptions(mnt string) string {
	data, _ := os.ReadFile("/proc/self/mounts")
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) > 3 && f[1] == mnt {
			return f[3]
		}
	}
	return ""
}

// TestUserWithoutFUSEAccess: when /dev/fuse exists but the user may not
// open it (mode 0600 here, in a private mount namespace), the one sentence
// says so, not "modprobe fuse".
func TestUserWithoutFUSEAccess(t *testing.T) {
	requireFUSE(t)
	if os.Geteuid() != 0 {
		t.Skip("needs root to set up a private /dev/fuse")
	}
	for _, tool := range []string{"unshare", "setpriv", "mknod"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s (util-linux, coreutils) is needed: %v", tool, err)
		}
	}
	bin := buildBinary(t)
	enterable(bin)
	home, mnt, data := userDirs(t)
	script := `set -e; mount -t tmpfs none "$DEV"; mknod -m 0600 "$DEV/fuse" c 10 229; mount --bind "$DEV/fuse" /dev/fuse
exec setpriv --reuid 65534 --regid 65534 --clear-groups env HOME="$HOME_DIR" "$BIN" mount --local "$DATA" demo "$MNT"`
	cmd := exec.Command("unshare", "-m", "--propagation", "private", "sh", "-c", script)
	cmd.Env = append(os.Environ(), "DEV="+t.TempDir(), "BIN="+bin, "HOME_DIR="+home, "DATA="+data, "MNT="+mnt)
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("mount without access to /dev/fuse succeeded: %s", out)
	}
	wantOneLine(t, string(out), "exists but uid 65534 may not open it")
	if strings.Contains(string(out), "modprobe") {
		t.Errorf("the message suggests modprobe for a permission problem: %s", out)
	}
}
