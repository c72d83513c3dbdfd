package fs

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ossfs/ossfs/cache"
	"github.com/ossfs/ossfs/ossclient"
	"github.com/ossfs/ossfs/ossclient/osstest"
)

// The tests in this file mount the fs (as root: mount(2); otherwise
// fusermount3) over the local OSS server and drive the FUSE glue with
// system calls: the nodes, handles and their errno. The write path's
// states are tested without FUSE in package writeback; e2e drives the
// mount with real tools.

// tmount is one mount of a fresh bucket.
type tmount struct {
	t   *testing.T
	srv *osstest.Server
	raw ossclient.Bucket // the bucket without cache: what other clients see
	c   *cache.Bucket    // the mount's cache
	dir string
	m   *Mounted
}

func newTmount(t *testing.T, tweak func(*Options)) *tmount {
	t.Helper()
	if _, err := os.Stat("/dev/fuse"); err != nil {
		skipNoFUSE(t, err)
	}
	srv, err := osstest.Start(osstest.Options{Buckets: []string{"fs-test"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	logger := slog.New(slog.DiscardHandler)
	cl, err := ossclient.New(ossclient.Config{
		Endpoint: srv.Endpoint(), Region: srv.Region(), Bucket: "fs-test",
		Credentials: ossclient.Credentials{Source: ossclient.SourceStatic,
			AccessKeyID: osstest.DefaultAccessKeyID, AccessKeySecret: osstest.DefaultAccessKeySecret},
		MaxAttempts: 1,
		Logger:      logger,
	})
	if err != nil {
		t.Fatal(err)
	}
	co := cache.DefaultOptions()
	co.Logger = logger
	cached := cache.NewBucket(cl, co)
	t.Cleanup(cached.Close)
	o := DefaultOptions()
	o.Mountpoint = t.TempDir()
	o.Logger = logger
	o.TempDir = t.TempDir()
	if tweak != nil {
		tweak(&o)
	}
	m, err := Mount(cached, o)
	if err != nil {
		skipNoFUSE(t, err)
	}
	tm := &tmount{t: t, srv: srv, raw: cl, c: cached, dir: o.Mountpoint, m: m}
	t.Cleanup(func() {
		for range 50 {
			if m.Unmount() == nil {
				m.Wait()
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Errorf("unmount %s failed", o.Mountpoint)
		exec.Command("umount", "-l", o.Mountpoint).Run()
	})
	return tm
}

// skipNoFUSE skips where FUSE cannot work, unless OSSFS_REQUIRE_FUSE=1
// makes that a failure.
func skipNoFUSE(t *testing.T, err error) {
	t.Helper()
	if os.Getenv("OSSFS_REQUIRE_FUSE") == "1" {
		t.Fatalf("FUSE is not available: %v (OSSFS_REQUIRE_FUSE=1)", err)
	}
	t.Skipf("FUSE is not available: %v", err)
}

func (m *tmount) p(rel string) string { return filepath.Join(m.dir, rel) }

// object returns the object at key as other clients see it.
func (m *tmount) object(key string) (string, bool) {
	m.t.Helper()
	r, err := m.raw.Read(context.Background(), key, 0, -1)
	if errors.Is(err, ossclient.ErrNotFound) {
		return "", false
	}
	if err != nil {
		m.t.Fatalf("get %s: %v", key, err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		m.t.Fatalf("get %s: %v", key, err)
	}
	return string(b), true
}

// put sets up an object behind the mount's back, and tells the mount's
// cache (which would otherwise see it within its TTLs: visibility of
// changes made elsewhere is e2e's subject, not these tests').
func (m *tmount) put(key, data string) {
	m.t.Helper()
	if _, err := m.raw.Put(context.Background(), key, strings.NewReader(data), ossclient.PutOptions{}); err != nil {
		m.t.Fatal(err)
	}
	m.c.Invalidate(key)
}

func (m *tmount) wantObject(key, want string) {
	m.t.Helper()
	if got, ok := m.object(key); !ok || got != want {
		m.t.Errorf("object %s = %q (exists %v), want %q", key, got, ok, want)
	}
}

func (m *tmount) wantNoObject(key string) {
	m.t.Helper()
	if got, ok := m.object(key); ok {
		m.t.Errorf("object %s exists: %q", key, got)
	}
}

func wantErrno(t *testing.T, what string, err error, want syscall.Errno) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Errorf("%s: %v, want %v", what, err, want)
	}
}

// TestMountFiles: the file operations, each checked in OSS.
func TestMountFiles(t *testing.T) {
	m := newTmount(t, nil)
	tests := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"create, write, close", func(t *testing.T) {
			must(t, os.WriteFile(m.p("a"), []byte("hello"), 0o600))
			m.wantObject("a", "hello")
			st, err := os.Stat(m.p("a"))
			if err != nil || st.Size() != 5 || st.Mode().Perm() != 0o600 {
				t.Errorf("stat: %v %v", st, err)
			}
			b, err := os.ReadFile(m.p("a"))
			if err != nil || string(b) != "hello" {
				t.Errorf("read back %q %v", b, err)
			}
		}},
		{"pwrite into an existing object, read while open", func(t *testing.T) {
			m.put("b", "0123456789")
			f, err := os.OpenFile(m.p("b"), os.O_RDWR, 0)
			must(t, err)
			_, err = f.WriteAt([]byte("XY"), 4)
			must(t, err)
			got := make([]byte, 10)
			_, err = f.ReadAt(got, 0)
			must(t, err)
			if string(got) != "0123XY6789" {
				t.Errorf("read while open: %q", got)
			}
			must(t, f.Sync())
			must(t, f.Close())
			m.wantObject("b", "0123XY6789")
		}},
		{"O_TRUNC and O_APPEND", func(t *testing.T) {
			m.put("c", "old content")
			must(t, os.WriteFile(m.p("c"), []byte("new"), 0o644))
			m.wantObject("c", "new")
			f, err := os.OpenFile(m.p("c"), os.O_WRONLY|os.O_APPEND, 0)
			must(t, err)
			_, err = f.Write([]byte("er"))
			must(t, err)
			must(t, f.Close())
			m.wantObject("c", "newer")
		}},
		{"truncate a closed file", func(t *testing.T) {
			m.put("d", "0123456789")
			must(t, os.Truncate(m.p("d"), 4))
			m.wantObject("d", "0123")
			must(t, os.Truncate(m.p("d"), 0))
			m.wantObject("d", "")
		}},
		{"ftruncate of a streamed file", func(t *testing.T) {
			f, err := os.Create(m.p("e"))
			must(t, err)
			_, err = f.Write([]byte("0123456789"))
			must(t, err)
			must(t, f.Truncate(3))
			must(t, f.Close())
			m.wantObject("e", "012")
		}},
		{"chmod, chown, utimes of a closed file", func(t *testing.T) {
			must(t, os.WriteFile(m.p("f"), []byte("x"), 0o644))
			must(t, os.Chmod(m.p("f"), 0o600))
			must(t, os.Chown(m.p("f"), 1234, 5678))
			mt := time.Unix(1700000000, 0)
			must(t, os.Chtimes(m.p("f"), mt, mt))
			o, err := m.raw.Stat(context.Background(), "f")
			must(t, err)
			if o.Meta["mode"] != "33152" || o.Meta["uid"] != "1234" || o.Meta["gid"] != "5678" || o.Meta["mtime"] != "1700000000" {
				t.Errorf("metadata %v", o.Meta)
			}
			st, err := os.Stat(m.p("f"))
			must(t, err)
			if st.Mode().Perm() != 0o600 || !st.ModTime().Equal(mt) || st.Sys().(*syscall.Stat_t).Uid != 1234 {
				t.Errorf("stat %v %v", st.Mode(), st.ModTime())
			}
		}},
		{"chmod of a file being written", func(t *testing.T) {
			f, err := os.Create(m.p("g"))
			must(t, err)
			_, err = f.Write([]byte("abc"))
			must(t, err)
			must(t, f.Chmod(0o640))
			must(t, f.Close())
			if o, err := m.raw.Stat(context.Background(), "g"); err != nil || o.Meta["mode"] != "33184" {
				t.Errorf("mode after chmod while streaming: %v %v", o, err)
			}
		}},
		{"unlink while open", func(t *testing.T) {
			f, err := os.Create(m.p("h"))
			must(t, err)
			_, err = f.Write([]byte("abc"))
			must(t, err)
			must(t, os.Remove(m.p("h")))
			_, err = f.Write([]byte("def"))
			must(t, err)
			must(t, f.Close())
			m.wantNoObject("h")
			_, err = os.Stat(m.p("h"))
			wantErrno(t, "stat after unlink", err, syscall.ENOENT)
		}},
		{"unlink of a closed file", func(t *testing.T) {
			m.put("i", "x")
			must(t, os.Remove(m.p("i")))
			m.wantNoObject("i")
			wantErrno(t, "unlink missing", os.Remove(m.p("i")), syscall.ENOENT)
		}},
		{"hard links are EPERM; a FIFO is an empty object typed by its mode", func(t *testing.T) {
			must(t, os.WriteFile(m.p("j"), []byte("x"), 0o644))
			wantErrno(t, "link", os.Link(m.p("j"), m.p("j2")), syscall.EPERM)
			must(t, syscall.Mkfifo(m.p("fifo"), 0o640))
			must(t, os.Chmod(m.p("fifo"), 0o640)) // whatever the umask
			fi, err := os.Lstat(m.p("fifo"))
			must(t, err)
			if fi.Mode()&os.ModeNamedPipe == 0 || fi.Mode().Perm() != 0o640 {
				t.Errorf("mkfifo made %v", fi.Mode())
			}
		}},
		{"a fork's close does not end a stream", func(t *testing.T) {
			f, err := os.Create(m.p("k"))
			must(t, err)
			_, err = f.Write([]byte("first"))
			must(t, err)
			must(t, exec.Command("true").Run())
			m.wantNoObject("k")
			_, err = f.Write([]byte(" second"))
			must(t, err)
			must(t, f.Close())
			m.wantObject("k", "first second")
		}},
		{"statfs", func(t *testing.T) {
			var s syscall.Statfs_t
			must(t, syscall.Statfs(m.dir, &s))
			if s.Bavail == 0 || s.Namelen == 0 {
				t.Errorf("statfs %+v", s)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, tc.run)
	}
}

// TestMountNamespace: directories, renames and symlinks.
func TestMountNamespace(t *testing.T) {
	m := newTmount(t, nil)
	m.put("implicit/x", "x") // behind the mount's back, before it looks
	m.put("implicit/y", "y")
	must(t, os.Mkdir(m.p("d"), 0o755))
	m.wantObject("d/", "")
	must(t, os.WriteFile(m.p("d/f"), []byte("f"), 0o644))
	ents, err := os.ReadDir(m.p("implicit"))
	must(t, err)
	if len(ents) != 2 || ents[0].Name() != "x" || ents[1].Name() != "y" {
		t.Errorf("readdir implicit: %v", ents)
	}
	if st, err := os.Stat(m.p("implicit")); err != nil || !st.IsDir() {
		t.Errorf("implicit directory: %v %v", st, err)
	}
	wantErrno(t, "rmdir non-empty", os.Remove(m.p("d")), syscall.ENOTEMPTY)

	must(t, os.Symlink("f", m.p("d/link")))
	if got, err := os.Readlink(m.p("d/link")); err != nil || got != "f" {
		t.Errorf("readlink %q %v", got, err)
	}
	if b, err := os.ReadFile(m.p("d/link")); err != nil || string(b) != "f" {
		t.Errorf("read through the link %q %v", b, err)
	}
	must(t, os.Symlink("../nowhere", m.p("dangling")))
	if got, err := os.Readlink(m.p("dangling")); err != nil || got != "../nowhere" {
		t.Errorf("dangling readlink %q %v", got, err)
	}

	must(t, os.Rename(m.p("d/f"), m.p("d/g")))
	m.wantNoObject("d/f")
	m.wantObject("d/g", "f")
	must(t, os.WriteFile(m.p("victim"), []byte("v"), 0o644))
	must(t, os.Rename(m.p("d/g"), m.p("victim")))
	m.wantObject("victim", "f")
	must(t, os.Rename(m.p("dangling"), m.p("d/dangling")))
	if got, err := os.Readlink(m.p("d/dangling")); err != nil || got != "../nowhere" {
		t.Errorf("moved link %q %v", got, err)
	}

	// A directory rename with a file open for writing below it.
	f, err := os.Create(m.p("d/open"))
	must(t, err)
	_, err = f.Write([]byte("streamed"))
	must(t, err)
	must(t, os.Rename(m.p("d"), m.p("e")))
	must(t, f.Close())
	m.wantObject("e/open", "streamed")
	m.wantNoObject("d/open")
	if got, err := os.Readlink(m.p("e/link")); err != nil || got != "f" {
		t.Errorf("link in the moved directory %q %v", got, err)
	}

	must(t, os.Mkdir(m.p("empty"), 0o755))
	must(t, os.Remove(m.p("empty")))
	m.wantNoObject("empty/")
	wantErrno(t, "rename missing", os.Rename(m.p("missing"), m.p("x")), syscall.ENOENT)
}

// TestMountReadOnly: every mutation is EROFS; reads work.
func TestMountReadOnly(t *testing.T) {
	m := newTmount(t, func(o *Options) { o.ReadOnly = true })
	m.put("a", "x")
	if b, err := os.ReadFile(m.p("a")); err != nil || string(b) != "x" {
		t.Errorf("read %q %v", b, err)
	}
	wantErrno(t, "create", os.WriteFile(m.p("b"), nil, 0o644), syscall.EROFS)
	wantErrno(t, "mkdir", os.Mkdir(m.p("d"), 0o755), syscall.EROFS)
	wantErrno(t, "unlink", os.Remove(m.p("a")), syscall.EROFS)
	wantErrno(t, "symlink", os.Symlink("a", m.p("l")), syscall.EROFS)
	wantErrno(t, "rename", os.Rename(m.p("a"), m.p("c")), syscall.EROFS)
	wantErrno(t, "chmod", os.Chmod(m.p("a"), 0o600), syscall.EROFS)
}

// TestMountUnmountBusy: Unmount fails while a file is open, and the file's
// data reaches OSS at its close.
func TestMountUnmountBusy(t *testing.T) {
	m := newTmount(t, nil)
	f, err := os.Create(m.p("s"))
	must(t, err)
	_, err = f.Write(bytes.Repeat([]byte("x"), 100))
	must(t, err)
	if err := m.m.Unmount(); err == nil {
		t.Fatal("Unmount succeeded with a file open")
	}
	must(t, f.Close())
	m.wantObject("s", strings.Repeat("x", 100))
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
