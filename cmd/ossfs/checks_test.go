package main

import (
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/ossfs/ossfs/ossclient/osstest"
)

// TestNonEmptyMountpoint: a mountpoint with entries is refused in one
// sentence (its files would be hidden); -o nonempty and --nonempty mount
// over it anyway.
func TestNonEmptyMountpoint(t *testing.T) {
	requireFUSE(t)
	bin := buildBinary(t)
	mnt := t.TempDir()
	os.WriteFile(filepath.Join(mnt, "local-file"), []byte("mine"), 0o644)
	out, err := run(t, bin, "mount", "--local", t.TempDir(), "--log-file", filepath.Join(t.TempDir(), "log"), "demo", mnt)
	if err == nil {
		unmount(t, mnt)
		t.Fatalf("mounted over a non-empty directory: %s", out)
	}
	wantOneLine(t, out, "is not empty")
	if isMounted(mnt) {
		t.Fatal("left a mount behind")
	}
	for _, args := range [][]string{
		{"demo", mnt, "-o", "nonempty,logfile=" + filepath.Join(t.TempDir(), "log"), "--local", t.TempDir()},
		{"mount", "--nonempty", "--local", t.TempDir(), "--log-file", filepath.Join(t.TempDir(), "log"), "demo", mnt},
	} {
		out, err := run(t, bin, args...)
		if err != nil || !isMounted(mnt) {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
		if _, err := os.Stat(filepath.Join(mnt, "local-file")); !os.IsNotExist(err) {
			t.Errorf("%v: the directory's own file shows through the mount: %v", args, err)
		}
		unmount(t, mnt)
		waitUnmounted(t, mnt)
	}
}

// TestSystemCredentialFile: /etc/passwd-ossfs owned by root with mode 0640,
// as Alibaba's ossfs documentation sets it, is used; with mode 0644 it is
// refused in one sentence. The test writes /etc/passwd-ossfs (root only,
// and only when the machine has none) and removes it.
func TestSystemCredentialFile(t *testing.T) {
	requireFUSE(t)
	if os.Geteuid() != 0 {
		t.Skip("writes /etc/passwd-ossfs")
	}
	const path = "/etc/passwd-ossfs"
	if _, err := os.Lstat(path); err == nil {
		t.Skip("this machine has a /etc/passwd-ossfs; not touching it")
	}
	bin := buildBinary(t)
	s := startServer(t)
	mnt := t.TempDir()
	line := testBucket + ":" + osstest.DefaultAccessKeyID + ":" + osstest.DefaultAccessKeySecret + "\n"
	if err := os.WriteFile(path, []byte(line), 0o640); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(path) })
	os.Chmod(path, 0o640) // whatever the umask
	// No key in the environment, and a HOME without ~/.passwd-ossfs.
	env := s.env("", "")
	args := []string{"mount", "-o", "url=" + s.srv.Endpoint() + ",region=" + s.srv.Region(), testBucket, mnt}
	mountBackground(t, env, bin, args...)
	if err := os.WriteFile(filepath.Join(mnt, "f"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	unmount(t, mnt)
	waitUnmounted(t, mnt)

	os.Chmod(path, 0o644)
	args = append([]string{"mount", "--log-file", filepath.Join(t.TempDir(), "log")}, args[1:]...)
	out, err := runEnv(env, bin, args...)
	if err == nil {
		t.Fatalf("a world-readable /etc/passwd-ossfs was used: %s", out)
	}
	wantOneLine(t, out, "accessible by group or others")
}

// TestUsageErrorsAreOneSentence: bad values, unknown flags and unknown -o
// options are one sentence naming the flag or option, not the help text.
func TestUsageErrorsAreOneSentence(t *testing.T) {
	bin := buildBinary(t)
	mnt := t.TempDir()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"mount", "--stat-ttl", "5", "b", mnt}, `--stat-ttl "5": want a duration with a unit`},
		{[]string{"b", mnt, "--retries", "many"}, `--retries "many": want a whole number`},
		{[]string{"mount", "--no-such-flag", "b", mnt}, "unknown flag --no-such-flag"},
		{[]string{"b", mnt, "-o", "allow_other,use_sse=1"}, "unknown option -o use_sse"},
		{[]string{"b", mnt, "-o", "dbglevel=loud"}, "-o dbglevel=loud"},
		{[]string{"serve", "--latency", "10"}, `--latency "10": want a duration`},
	} {
		out, err := run(t, bin, tc.args...)
		if err == nil {
			t.Errorf("%v succeeded: %s", tc.args, out)
			continue
		}
		wantOneLine(t, out, tc.want)
	}
}

// TestSilentEndpoint: an endpoint that accepts connections and never
// answers fails the mount with one sentence naming it and the time waited.
func TestSilentEndpoint(t *testing.T) {
	requireFUSE(t)
	bin := buildBinary(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan struct{}, 16)
	go func() {
		var conns []net.Conn // held open, never answered
		defer func() {
			for _, c := range conns {
				c.Close()
			}
		}()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
			accepted <- struct{}{}
		}
	}()
	s := startServer(t) // for its credentials only
	mnt := t.TempDir()
	ep := "http://" + ln.Addr().String()
	out, err := runEnv(s.goodEnv(), bin, "mount", "--endpoint", ep, "--region", "cn-hangzhou", "--log-file", filepath.Join(t.TempDir(), "log"),
		"--read-write-timeout", "1s", "--retries", "1", testBucket, mnt)
	if err == nil {
		unmount(t, mnt)
		t.Fatalf("mount against a silent endpoint succeeded: %s", out)
	}
	wantOneLine(t, out, "endpoint "+ep+" did not answer within 1s")
	if len(accepted) == 0 {
		t.Error("the endpoint never got a connection: the fault did not happen")
	}
	if isMounted(mnt) {
		t.Error("left a mount behind")
	}
}
