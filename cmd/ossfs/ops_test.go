package main

import (
	"bytes"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestSystemdNotify: with NOTIFY_SOCKET set (Type=notify), the 1.x form
// without -f stays in the foreground, logs to stderr, sends READY=1 once
// the mount is there, and STOPPING=1 on SIGTERM, then exits 0 unmounted.
func TestSystemdNotify(t *testing.T) {
	requireFUSE(t)
	bin := buildBinary(t)
	s := startServer(t)
	mnt := t.TempDir()
	sock := filepath.Join(t.TempDir(), "notify")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	cmd := exec.Command(bin, testBucket, mnt, "-o", "url="+s.srv.Endpoint()+",region="+s.srv.Region())
	cmd.Env = append(s.goodEnv(), "NOTIFY_SOCKET="+sock)
	var stderr syncBuffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() { cmd.Process.Kill(); exec.Command("umount", "-l", mnt).Run() })

	if msg := readNotify(t, conn); msg != "READY=1" {
		t.Fatalf("first notification %q, want READY=1\n%s", msg, stderr.String())
	}
	if !isMounted(mnt) {
		t.Fatal("READY=1 sent before the mount was there")
	}
	select {
	case err := <-exited:
		t.Fatalf("the process exited (%v) after READY=1: systemd would take the service as stopped", err)
	default:
	}
	if err := os.WriteFile(filepath.Join(mnt, "f"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	if msg := readNotify(t, conn); msg != "STOPPING=1" {
		t.Errorf("notification after SIGTERM %q, want STOPPING=1", msg)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", err, stderr.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("no exit after SIGTERM\n%s", stderr.String())
	}
	if isMounted(mnt) {
		t.Error("still mounted after SIGTERM")
	}
	if !strings.Contains(stderr.String(), "msg=mounted") {
		t.Errorf("logs did not go to stderr (the journal):\n%s", stderr.String())
	}
	if body, err := s.get("f"); err != nil || body != "x" {
		t.Errorf("object after SIGTERM: %q, %v", body, err)
	}
}

func readNotify(t *testing.T, conn *net.UnixConn) string {
	t.Helper()
	conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	buf := make([]byte, 4096)
	n, err := conn.Read(buf)
	if err != nil {
		t.Fatalf("no notification: %v", err)
	}
	return string(buf[:n])
}

// TestHangupReopensLog: logrotate's "kill -HUP" makes a background mount
// reopen its log file; the mount stays, and only SIGTERM unmounts it. In the
// foreground SIGHUP does not unmount either.
func TestHangupReopensLog(t *testing.T) {
	requireFUSE(t)
	bin := buildBinary(t)
	s := startServer(t)
	mnt := t.TempDir()
	logFile := filepath.Join(t.TempDir(), "ossfs.log")
	out, err := runEnv(s.goodEnv(), bin, s.mountArgs(testBucket, mnt, "--log-file", logFile)...)
	t.Cleanup(func() { exec.Command("umount", "-l", mnt).Run() })
	if err != nil {
		t.Fatalf("mount: %v\n%s", err, out)
	}
	pid, _ := strconv.Atoi(daemonOf(mnt))
	if pid == 0 {
		t.Fatal("no background process")
	}
	if err := os.Rename(logFile, logFile+".1"); err != nil { // logrotate's move
		t.Fatal(err)
	}
	syscall.Kill(pid, syscall.SIGHUP)
	waitFor(t, "the log file to be reopened", func() bool {
		b, _ := os.ReadFile(logFile)
		return strings.Contains(string(b), "log file reopened")
	})
	if !isMounted(mnt) {
		t.Fatal("SIGHUP unmounted the background mount")
	}
	if err := os.WriteFile(filepath.Join(mnt, "after-hup"), []byte("ok"), 0o644); err != nil {
		t.Fatalf("write after SIGHUP: %v", err)
	}
	if old, _ := os.ReadFile(logFile + ".1"); !strings.Contains(string(old), "msg=mounted") || strings.Contains(string(old), "reopened") {
		t.Errorf("the rotated log should end before the reopen:\n%s", old)
	}
	syscall.Kill(pid, syscall.SIGTERM)
	waitUnmounted(t, mnt)
	waitFor(t, "the unmount to be logged in the new file", func() bool {
		b, _ := os.ReadFile(logFile)
		return strings.Contains(string(b), "msg=unmounted")
	})

	// Foreground: SIGHUP is not a reason to unmount.
	cmd := exec.Command(bin, "mount", "-f", "--local", t.TempDir(), "demo", mnt)
	var fg syncBuffer
	cmd.Stdout, cmd.Stderr = &fg, &fg
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	waitFor(t, "the foreground mount", func() bool { return strings.Contains(fg.String(), "msg=mounted") })
	cmd.Process.Signal(syscall.SIGHUP)
	waitFor(t, "SIGHUP to be handled", func() bool { return strings.Contains(fg.String(), "SIGHUP ignored") })
	if !isMounted(mnt) {
		t.Fatal("SIGHUP unmounted the foreground mount")
	}
	cmd.Process.Signal(syscall.SIGINT)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit after SIGINT: %v\n%s", err, fg.String())
	}
	waitUnmounted(t, mnt)
}

// syncBuffer is a bytes.Buffer a process writes while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// waitFor polls cond (every 20 ms, up to 10 s).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for i := 0; i < 500; i++ {
		if cond() {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

// TestDefaultLogFileSafe: the default log file of root's background mount
// is /var/log/ossfs/NAME-HASH.log in a 0700 directory. A symlink planted
// there, or a file pre-created by another user, is refused (the mount does
// not start, the symlink's target is untouched); without them the file is
// created 0600 and the mount starts.
func TestDefaultLogFileSafe(t *testing.T) {
	requireFUSE(t)
	if os.Geteuid() != 0 {
		t.Skip("root's default log directory is /var/log/ossfs")
	}
	// Not as systemd's child (a CI run as a service): that logs to stderr.
	t.Setenv("JOURNAL_STREAM", "")
	t.Setenv("NOTIFY_SOCKET", "")
	bin := buildBinary(t)
	mnt := t.TempDir()
	if err := privateDir("/var/log/ossfs"); err != nil {
		t.Fatal(err)
	}
	path := defaultLogPath("/var/log/ossfs", mnt)
	t.Cleanup(func() { os.Remove(path); exec.Command("umount", "-l", mnt).Run() })
	victim := filepath.Join(t.TempDir(), "victim")
	os.WriteFile(victim, []byte("precious\n"), 0o644)
	mount := func() (string, error) {
		return run(t, bin, "mount", "--local", t.TempDir(), "demo", mnt)
	}

	if err := os.Symlink(victim, path); err != nil {
		t.Fatal(err)
	}
	out, err := mount()
	if err == nil {
		t.Fatalf("mount logged through a planted symlink: %s", out)
	}
	wantOneLine(t, out, "is a symbolic link")
	if b, _ := os.ReadFile(victim); string(b) != "precious\n" {
		t.Errorf("the symlink's target was written: %q", b)
	}
	// An explicit --log-file gets the same checks, also in the foreground,
	// before anything is mounted.
	out, err = run(t, bin, "mount", "-f", "--log-file", path, "--local", t.TempDir(), "demo", mnt)
	if err == nil {
		t.Fatalf("foreground mount logged through a planted symlink: %s", out)
	}
	wantOneLine(t, out, "is a symbolic link")
	os.Remove(path)

	// A file another user created (and can read).
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	os.Chown(path, 65534, 65534)
	out, err = mount()
	if err == nil {
		t.Fatalf("mount logged to a file of uid 65534: %s", out)
	}
	wantOneLine(t, out, "belongs to uid 65534")
	if fi, _ := os.Stat(path); fi.Size() != 0 {
		t.Errorf("the other user's file received %d bytes", fi.Size())
	}
	os.Remove(path)

	out, err = mount()
	if err != nil || !strings.Contains(out, path) {
		t.Fatalf("mount with the default log: %v\n%s (want the log path %s named)", err, out, path)
	}
	unmount(t, mnt)
	if fi, err := os.Lstat(path); err != nil || fi.Mode() != 0o600 {
		t.Errorf("log file %v %v, want a regular file of mode 0600", fi.Mode(), err)
	}
	if fi, err := os.Lstat("/var/log/ossfs"); err != nil || fi.Mode() != os.ModeDir|0o700 {
		t.Errorf("log directory %v %v, want mode 0700", fi.Mode(), err)
	}
}

// TestLogDirChecks: the default log directory of a user is made private,
// and one that is a symlink or belongs to someone else is refused.
func TestLogDirChecks(t *testing.T) {
	base := t.TempDir()
	open := filepath.Join(base, "open")
	os.Mkdir(open, 0o755)
	if err := privateDir(open); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(open); fi.Mode().Perm() != 0o700 {
		t.Errorf("mode %v after privateDir, want 0700", fi.Mode())
	}
	link := filepath.Join(base, "link")
	os.Symlink(open, link)
	if err := privateDir(link); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("privateDir(symlink) = %v", err)
	}
	if os.Geteuid() == 0 {
		other := filepath.Join(base, "other")
		os.Mkdir(other, 0o700)
		os.Chown(other, 65534, 65534)
		if err := privateDir(other); err == nil || !strings.Contains(err.Error(), "belongs to uid 65534") {
			t.Errorf("privateDir(dir of uid 65534) = %v", err)
		}
	}
	t.Setenv("XDG_STATE_HOME", base)
	if dir, err := defaultLogDir(); err != nil || (os.Geteuid() != 0 && dir != filepath.Join(base, "ossfs")) {
		t.Errorf("defaultLogDir = %q, %v", dir, err)
	}
}
