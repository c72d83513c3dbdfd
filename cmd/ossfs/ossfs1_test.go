package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/ossfs/ossfs/ossclient/osstest"
)

// TestRewriteArgs: the 1.x form and "mount" with flags after its arguments
// become one "mount FLAGS -- ARGS" line; other commands pass untouched.
func TestRewriteArgs(t *testing.T) {
	cmds := []string{"mount", "serve", "completion"}
	cases := []struct {
		in   string
		want string
	}{
		{"b /m -o url=http://h:1,allow_other -f", "mount --endpoint=http://h:1 --allow-other -f -- b /m"},
		{"-o ro b:/p /m -d", "mount --read-only --log-level=debug -- b:/p /m"},
		{"b /m -ouid=5,gid=6 -d -d", "mount --uid=5 --gid=6 --log-level=debug --debug-fuse -- b /m"},
		{"mount b /m --read-only --stat-ttl 5s", "mount --read-only --stat-ttl 5s -- b /m"},
		{"mount --local d b /m -o nonempty", "mount --local d --nonempty -- b /m"},
		{"b /m -o rw,dev,suid,_netdev,noauto,x-systemd.automount,enable_symlink", "mount -- b /m"},
		{"b /m -o umask=022,mp_umask=027", "mount --file-mode=0755 --dir-mode=0755 --root-mode=0750 -- b /m"},
		{"b /m -o multipart_size=10,parallel_count=8,stat_cache_expire=30,max_stat_cache_size=9", "mount --part-size=10485760 --upload-parallelism=8 --stat-ttl=30s --list-ttl=30s --stat-cache-entries=9 -- b /m"},
		{"b /m -o dbglevel=err,logfile=/l,passwd_file=/p,use_path_request_style,sigv4,region=cn-x", "mount --log-level=error --log-file=/l --passwd-file=/p --path-style --signature-version=4 --region=cn-x -- b /m"},
		{"--read-only --stat-ttl 5s b /m", "mount --read-only --stat-ttl 5s -- b /m"},
		{"b /m -o use_cache=/var/cache/ossfs,ro", "mount --cache-dir=/var/cache/ossfs --read-only -- b /m"},
		{"serve --addr x", "serve --addr x"},
		{"-h", "-h"},
		{"--version", "--version"},
		{"completion bash", "completion bash"},
	}
	for _, c := range cases {
		got, err := rewriteArgs(append([]string{"ossfs"}, strings.Fields(c.in)...), cmds)
		if err != nil || strings.Join(got[1:], " ") != c.want {
			t.Errorf("%s:\n got %q, %v\nwant %s", c.in, got[1:], err, c.want)
		}
	}
	for in, want := range map[string]string{
		"b /m -o use_sse=1":            "unknown option -o use_sse",
		"b /m -o url":                  "-o url needs a value",
		"b /m -o allow_other=1":        "-o allow_other takes no value",
		"b /m -o umask=999":            "-o umask=999: want octal",
		"b /m -o dbglevel=loud":        "-o dbglevel=loud: want crit",
		"b /m -o":                      "-o needs a value",
		"mount b /m -o bogus,ro":       "unknown option -o bogus",
		"b /m -o stat_cache_expire=-1": "never expire",
	} {
		_, err := rewriteArgs(append([]string{"ossfs"}, strings.Fields(in)...), cmds)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err = %v, want %q", in, err, want)
		}
	}
}

// TestOptionTableDocumented: docs/ossfs1.md has a row for every -o option
// ossfs takes, and the README links it.
func TestOptionTableDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../docs/ossfs1.md")
	if err != nil {
		t.Fatal(err)
	}
	var rows []string
	for _, l := range strings.Split(string(doc), "\n") {
		if strings.HasPrefix(l, "| ") {
			rows = append(rows, l)
		}
	}
	for name, o := range legacyOptions {
		spelled := "`" + name + "`"
		if o.valued {
			spelled = "`" + name + "=`"
		}
		if !slices.ContainsFunc(rows, func(r string) bool { return strings.Contains(r, spelled) }) {
			t.Errorf("docs/ossfs1.md has no table row with %s", spelled)
		}
	}
	if readme, _ := os.ReadFile("../../README.md"); !strings.Contains(string(readme), "docs/ossfs1.md") {
		t.Error("README does not link docs/ossfs1.md")
	}
}

// TestOssfs1CommandLine mounts with the ossfs 1.x command line, -o options
// mapped onto what they mean here, and checks their effect; then "ossfs
// mount" with its flags after the arguments.
func TestOssfs1CommandLine(t *testing.T) {
	requireFUSE(t)
	bin := buildBinary(t)
	s := startServer(t)
	mnt := t.TempDir()
	s.put("plain", "P") // no ossfs metadata: the umask decides its mode
	logFile := filepath.Join(t.TempDir(), "l.log")
	opts := "url=" + s.srv.Endpoint() + ",region=" + s.srv.Region() +
		",umask=022,mp_umask=027,dbglevel=dbg,logfile=" + logFile + ",rw,dev,suid,_netdev,enable_symlink,use_path_request_style,sigv4"
	out, err := runEnv(s.goodEnv(), bin, testBucket, mnt, "-o", opts)
	t.Cleanup(func() { unmount(t, mnt); waitUnmounted(t, mnt) })
	if err != nil || !isMounted(mnt) {
		t.Fatalf("ossfs %s %s -o %s: %v\n%s", testBucket, mnt, opts, err, out)
	}
	if fi, err := os.Stat(mnt); err != nil || fi.Mode().Perm() != 0o750 {
		t.Errorf("mount root: %v %v, want mode 0750 from mp_umask=027", fi.Mode(), err)
	}
	if fi, err := os.Stat(filepath.Join(mnt, "plain")); err != nil || fi.Mode().Perm() != 0o755 {
		t.Errorf("object without metadata: %v %v, want mode 0755 from umask=022", fi.Mode(), err)
	}
	if err := os.Symlink("plain", filepath.Join(mnt, "l")); err != nil {
		t.Fatal(err)
	}
	if log, _ := os.ReadFile(logFile); !strings.Contains(string(log), "level=DEBUG") {
		t.Errorf("dbglevel=dbg,logfile=: no debug records in %s:\n%s", logFile, log)
	}
	unmount(t, mnt)
	waitUnmounted(t, mnt)

	// ossfs mount with flags after the arguments, -o among them.
	out, err = runEnv(s.goodEnv(), bin, "mount", testBucket, mnt, "--endpoint", s.srv.Endpoint(), "--read-only", "-o", "region="+s.srv.Region()+",logfile="+logFile)
	if err != nil || !isMounted(mnt) {
		t.Fatalf("mount with flags after the arguments: %v\n%s", err, out)
	}
	if err := os.WriteFile(filepath.Join(mnt, "new"), nil, 0o644); !errors.Is(err, syscall.EROFS) {
		t.Errorf("write on a --read-only mount given after the arguments: %v, want EROFS", err)
	}
	if got, err := os.Readlink(filepath.Join(mnt, "l")); err != nil || got != "plain" {
		t.Errorf("readlink = %q, %v", got, err)
	}
}

// TestFstab mounts both fstab forms with util-linux mount -T FILE (mount -a
// and mount MOUNTPOINT) and unmounts them with umount. mount(8) runs
// /sbin/mount.fuse (fuse3's mount.fuse3) for type fuse and fuse.ossfs; it
// runs "ossfs SOURCE MOUNTPOINT -o OPTIONS" through /bin/sh with PATH
// removed, so ossfs must be on the shell's default PATH: the test links it
// as /usr/local/sbin/ossfs (root only) and removes the link afterwards.
func TestFstab(t *testing.T) {
	requireFUSE(t)
	if os.Geteuid() != 0 {
		t.Skip("mount -T FILE runs the helpers only for root")
	}
	if _, err := os.Stat("/sbin/mount.fuse"); err != nil {
		t.Fatalf("mount.fuse (fuse3) is needed: %v", err)
	}
	bin := buildBinary(t)
	installOnDefaultPath(t, bin)
	s := startServer(t)
	s.put("pre/in-prefix", "IN")
	dir := t.TempDir()
	pw := filepath.Join(dir, "passwd-ossfs")
	os.WriteFile(pw, []byte(testBucket+":"+osstest.DefaultAccessKeyID+":"+osstest.DefaultAccessKeySecret+"\n"), 0o600)
	legacy, typed := t.TempDir(), t.TempDir()
	common := fmt.Sprintf("url=%s,region=%s,passwd_file=%s", s.srv.Endpoint(), s.srv.Region(), pw)
	fstab := filepath.Join(dir, "fstab")
	os.WriteFile(fstab, []byte(fmt.Sprintf(
		"# the legacy form and the fuse.ossfs form\n"+
			"ossfs#%s:/pre %s fuse _netdev,allow_other,%s,logfile=%s 0 0\n"+
			"%s:/pre %s fuse.ossfs _netdev,nofail,%s,logfile=%s 0 0\n",
		testBucket, legacy, common, filepath.Join(dir, "1.log"),
		testBucket, typed, common, filepath.Join(dir, "2.log"))), 0o644)
	t.Cleanup(func() {
		for _, m := range []string{legacy, typed} {
			exec.Command("umount", "-l", m).Run()
		}
	})
	check := func(how string) {
		t.Helper()
		for _, m := range []string{legacy, typed} {
			if b, err := os.ReadFile(filepath.Join(m, "in-prefix")); err != nil || string(b) != "IN" {
				t.Errorf("%s: %s/in-prefix: %q, %v", how, m, b, err)
			}
			if typ := fsType(m); typ != "fuse.ossfs" {
				t.Errorf("%s: %s has type %q, want fuse.ossfs", how, m, typ)
			}
		}
	}
	if out, err := run(t, "mount", "-a", "-T", fstab); err != nil {
		t.Fatalf("mount -a -T: %v\n%s", err, out)
	}
	check("mount -a")
	for _, m := range []string{legacy, typed} {
		if out, err := run(t, "umount", m); err != nil {
			t.Fatalf("umount %s: %v\n%s", m, err, out)
		}
		waitUnmounted(t, m)
	}
	for _, m := range []string{legacy, typed} {
		if out, err := run(t, "mount", "-T", fstab, m); err != nil {
			t.Fatalf("mount -T %s: %v\n%s", m, err, out)
		}
	}
	check("mount MOUNTPOINT")
	for _, m := range []string{legacy, typed} {
		if out, err := run(t, "umount", m); err != nil {
			t.Fatalf("umount %s: %v\n%s", m, err, out)
		}
		waitUnmounted(t, m)
	}
}

// installOnDefaultPath links bin as /usr/local/sbin/ossfs for the test.
func installOnDefaultPath(t *testing.T, bin string) {
	t.Helper()
	const link = "/usr/local/sbin/ossfs"
	if target, err := os.Readlink(link); err == nil && strings.HasPrefix(target, os.TempDir()) {
		os.Remove(link) // left by an interrupted run of this test
	}
	if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(bin, link); err != nil {
		t.Fatalf("cannot install ossfs for mount(8): %v (is ossfs installed there already?)", err)
	}
	t.Cleanup(func() { os.Remove(link) })
}

// fsType is the type /proc/self/mounts gives the mount on mnt.
func fsType(mnt string) string {
	data, _ := os.ReadFile("/proc/self/mounts")
	typ := ""
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) > 2 && f[1] == mnt {
			typ = f[2]
		}
	}
	return typ
}
