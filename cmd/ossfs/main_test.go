package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	ossfs "github.com/ossfs/ossfs/fs"
)

// requireFUSE skips where FUSE cannot work, unless OSSFS_REQUIRE_FUSE=1 makes
// that a failure (CI sets it).
func requireFUSE(t *testing.T) {
	t.Helper()
	why := ""
	if err := ossfs.CheckMountpoint(t.TempDir()); err != nil {
		// /dev/fuse missing, or not openable (a non-root user where it is
		// mode 0600): the mount command refuses before anything else.
		why = err.Error()
	} else if os.Geteuid() != 0 {
		if _, err := exec.LookPath("fusermount3"); err != nil {
			why = "not root and no fusermount3 (apt-get install fuse3)"
		}
	}
	if why == "" {
		return
	}
	if os.Getenv("OSSFS_REQUIRE_FUSE") == "1" {
		t.Fatalf("FUSE is required (OSSFS_REQUIRE_FUSE=1) but unavailable: %s", why)
	}
	t.Skipf("FUSE unavailable (%s); set OSSFS_REQUIRE_FUSE=1 to make this a failure", why)
}

// buildBinary builds ossfs once per test binary run.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "ossfs")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func run(t *testing.T, name string, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

func isMounted(mnt string) bool {
	data, _ := os.ReadFile("/proc/self/mounts")
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) > 1 && f[1] == mnt {
			return true
		}
	}
	return false
}

func unmount(t *testing.T, mnt string) {
	t.Helper()
	if !isMounted(mnt) {
		return
	}
	if out, err := run(t, "fusermount3", "-u", mnt); err != nil {
		if err2 := syscall.Unmount(mnt, 0); err2 != nil {
			t.Errorf("unmount %s: %v %s; %v", mnt, err, out, err2)
		}
	}
}

func waitUnmounted(t *testing.T, mnt string) {
	t.Helper()
	for i := 0; i < 200 && isMounted(mnt); i++ {
		time.Sleep(50 * time.Millisecond)
	}
	if isMounted(mnt) {
		t.Fatalf("%s still mounted", mnt)
	}
}

// TestLocalMountInBackground is the README's first command: it must return
// once the mount is ready, serve in the background, and keep data in DIR.
func TestLocalMountInBackground(t *testing.T) {
	requireFUSE(t)
	bin := buildBinary(t)
	data, mnt := t.TempDir(), t.TempDir()
	logFile := filepath.Join(t.TempDir(), "ossfs.log")
	defer unmount(t, mnt)

	out, err := run(t, bin, "mount", "--local", data, "--log-file", logFile, "demo", mnt)
	if err != nil {
		t.Fatalf("mount: %v\n%s", err, out)
	}
	if !isMounted(mnt) {
		t.Fatalf("mount returned but %s is not mounted; output: %s", mnt, out)
	}
	if err := os.WriteFile(filepath.Join(mnt, "hello.txt"), []byte("hello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("hello.txt", filepath.Join(mnt, "link")); err != nil {
		t.Fatal(err)
	}
	unmount(t, mnt)
	waitUnmounted(t, mnt)

	// Remount in the foreground from the same DIR: the data is still there,
	// and SIGTERM unmounts cleanly.
	cmd, fg := startForeground(t, bin, mnt, "--local", data, "demo")
	got, err := os.ReadFile(filepath.Join(mnt, "link"))
	if err != nil || string(got) != "hello\n" {
		t.Fatalf("after remount, reading through the link: %q, %v\n%s", got, err, fg.String())
	}
	if target, err := os.Readlink(filepath.Join(mnt, "link")); err != nil || target != "hello.txt" {
		t.Fatalf("readlink after remount = %q, %v", target, err)
	}
	stopCleanly(t, cmd, syscall.SIGTERM, fg)
	waitUnmounted(t, mnt)
}

// startForeground runs `ossfs mount --foreground ARGS... MNT` and waits
// until mnt is mounted; the process is killed at the end of the test.
func startForeground(t *testing.T, bin, mnt string, args ...string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(bin, append(append([]string{"mount", "--foreground"}, args...), mnt)...)
	out := new(bytes.Buffer)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	waitMounted(t, mnt)
	return cmd, out
}

// stopCleanly sends sig to a foreground mount and wants it to exit 0 within
// 20 s.
func stopCleanly(t *testing.T, cmd *exec.Cmd, sig syscall.Signal, out *bytes.Buffer) {
	t.Helper()
	if err := cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("foreground mount exited with %v after %v\n%s", err, sig, out.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("foreground mount did not exit after %v\n%s", sig, out.String())
	}
}

// TestMountFailuresAreOneSentence: a mount that cannot start exits non-zero
// with one clear line, and leaves nothing mounted.
func TestMountFailuresAreOneSentence(t *testing.T) {
	bin := buildBinary(t)
	mnt := t.TempDir()
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"missing mountpoint", []string{"mount", "--local", t.TempDir(), "demo", filepath.Join(mnt, "nope")}, "not an existing directory"},
		{"one argument", []string{"mount", "demo"}, "two arguments"},
		{"no endpoint", []string{"mount", "demo", mnt}, "--endpoint is required"},
		{"bad bucket name", []string{"mount", "--local", t.TempDir(), "Bad_Bucket", mnt}, "bucket"},
		{"bad file mode", []string{"mount", "--foreground", "--local", t.TempDir(), "--file-mode", "999", "demo", mnt}, "--file-mode"},
		{"bad symlink ACL", []string{"mount", "--local", t.TempDir(), "--symlink-acl", "public", "demo", mnt}, "--symlink-acl"},
		{"bad storage class", []string{"mount", "--local", t.TempDir(), "--symlink-storage-class", "Cold", "demo", mnt}, "--symlink-storage-class"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, err := run(t, bin, tc.args...)
			if err == nil {
				unmount(t, mnt)
				t.Fatalf("succeeded; output %q", out)
			}
			if !strings.Contains(out, tc.want) {
				t.Fatalf("output %q does not mention %q", out, tc.want)
			}
			if lines := strings.Count(strings.TrimSpace(out), "\n"); lines > 0 {
				t.Fatalf("want one line, got %d:\n%s", lines+1, out)
			}
			if isMounted(mnt) {
				t.Fatal("left a mount behind")
			}
		})
	}
}

// TestBackgroundLeavesWorkingDirectory: the background process does not keep
// the directory the command ran in busy (it would block unmounting what it
// lies on), and relative flag paths still mean what they meant there.
func TestBackgroundLeavesWorkingDirectory(t *testing.T) {
	requireFUSE(t)
	bin := buildBinary(t)
	wd, mnt := t.TempDir(), t.TempDir()
	defer func() { unmount(t, mnt); waitUnmounted(t, mnt) }()
	cmd := exec.Command(bin, "mount", "--local", "data", "--temp-dir", "tmp", "--log-file", "ossfs.log", "demo", mnt)
	cmd.Dir = wd
	os.Mkdir(filepath.Join(wd, "tmp"), 0o700)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("mount: %v\n%s", err, out)
	}
	pid := daemonOf(mnt)
	if pid == "" {
		t.Fatal("no background process found for the mount")
	}
	if cwd, err := os.Readlink("/proc/" + pid + "/cwd"); err != nil || cwd != "/" {
		t.Errorf("background process works in %q (%v), want /", cwd, err)
	}
	if err := os.WriteFile(filepath.Join(mnt, "f"), []byte("kept"), 0o644); err != nil {
		t.Fatalf("write through the mount: %v", err)
	}
	// --local data was relative to the command's directory: the object is
	// stored under it.
	found := false
	filepath.Walk(filepath.Join(wd, "data"), func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			if b, _ := os.ReadFile(p); string(b) == "kept" {
				found = true
			}
		}
		return nil
	})
	if !found {
		t.Errorf("the object written is not stored under %s/data", wd)
	}
}

// daemonOf returns the pid of the ossfs process serving mnt.
func daemonOf(mnt string) string {
	dirs, _ := os.ReadDir("/proc")
	for _, d := range dirs {
		b, err := os.ReadFile("/proc/" + d.Name() + "/cmdline")
		if err != nil {
			continue
		}
		args := strings.Split(string(b), "\x00")
		if len(args) > 2 && args[1] == "mount" && slices.Contains(args, mnt) {
			return d.Name()
		}
	}
	return ""
}

func TestDefaultLogPathPerMountpoint(t *testing.T) {
	a, b := defaultLogPath("/d", "/a/data"), defaultLogPath("/d", "/b/data")
	if a == b {
		t.Errorf("two mountpoints named data share the log %s", a)
	}
	if !strings.HasPrefix(a, "/d/data-") || defaultLogPath("/d", "/a/data") != a {
		t.Errorf("log path %s does not name the mountpoint or is not stable", a)
	}
}
