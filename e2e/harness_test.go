package e2e

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
	"sync/atomic"
	"testing"
	"time"

	"github.com/ossfs/ossfs/cache"
	ossfs "github.com/ossfs/ossfs/fs"
	"github.com/ossfs/ossfs/ossclient"
	"github.com/ossfs/ossfs/ossclient/osstest"
	"github.com/ossfs/ossfs/ossclient/osstest/testtarget"
)

const bucketName = "e2e-bucket"

// env is one mounted bucket.
type env struct {
	t   *testing.T
	srv *osstest.Server
	// raw talks to the bucket root (or a conformance run's prefix), with no
	// cache: what another OSS client sees.
	raw ossclient.Bucket
	mnt string
	m   *ossfs.Mounted
	// gone: the test unmounted it itself (umount -l) and saw Wait return.
	gone bool
}

// config tweaks a mount.
type config struct {
	prefix string
	fs     func(*ossfs.Options)
	cache  func(*cache.Options)
	// client tweaks the mount's ossclient.Config (not that of env.raw).
	client func(*ossclient.Config)
	srv    *osstest.Server // reuse a server (second mount of the same bucket)
	// target mounts that bucket under its run prefix (the conformance runs,
	// possibly on real OSS); default nil: the local server above or a new one.
	target *testtarget.Target
}

// requireFUSE skips (or, with OSSFS_REQUIRE_FUSE=1, fails) when FUSE mounts
// cannot work here.
func requireFUSE(t *testing.T, err error) {
	t.Helper()
	msg := "FUSE is not available"
	if err != nil {
		msg += ": " + err.Error()
	}
	if os.Getenv("OSSFS_REQUIRE_FUSE") == "1" {
		t.Fatalf("%s (OSSFS_REQUIRE_FUSE=1)", msg)
	}
	t.Skipf("%s; set OSSFS_REQUIRE_FUSE=1 to make this a failure", msg)
}

// needRoot skips t as a user other than root: what it checks needs root's
// privileges (another uid's child process, chown to another owner, a
// device node). The README's test command runs as any user; CI runs it as
// root, and also as a user (.ci/run).
func needRoot(t *testing.T, why string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skipf("needs root: %s", why)
	}
}

func newEnv(t *testing.T, c config) *env {
	t.Helper()
	if _, err := os.Stat("/dev/fuse"); err != nil {
		requireFUSE(t, err)
	}
	tw := testWriter{t: t, done: new(atomic.Bool)}
	t.Cleanup(func() { tw.done.Store(true) }) // registered first, runs last
	tg := c.target
	if tg == nil {
		srv := c.srv
		if srv == nil {
			var err error
			srv, err = osstest.Start(osstest.Options{Buckets: []string{bucketName}})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { srv.Close() })
		}
		tg = &testtarget.Target{Endpoint: srv.Endpoint(), Region: srv.Region(), Bucket: bucketName, Server: srv,
			AccessKeyID: osstest.DefaultAccessKeyID, AccessKeySecret: osstest.DefaultAccessKeySecret}
	}
	logger := slog.New(slog.NewTextHandler(tw, &slog.HandlerOptions{Level: slog.LevelWarn}))
	client := func(prefix string, mod func(*ossclient.Config)) *ossclient.Client {
		cfg := tg.Config()
		cfg.Prefix, cfg.Logger = tg.Prefix+prefix, logger
		// A download cut off is resumed at once: no test waits out a
		// backoff (ossclient tests cover the default one).
		cfg.ResumeBackoff = func(int) time.Duration { return 0 }
		if mod != nil {
			mod(&cfg)
		}
		cl, err := ossclient.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		return cl
	}
	co := cache.DefaultOptions()
	co.Logger = logger
	if c.cache != nil {
		c.cache(&co)
	}
	cached := cache.NewBucket(client(c.prefix, c.client), co)
	t.Cleanup(cached.Close)

	mnt := t.TempDir()
	o := ossfs.DefaultOptions()
	o.Mountpoint = mnt
	o.Logger = logger
	o.PrefixDepth = strings.Count(tg.Prefix+c.prefix, "/")
	if c.fs != nil {
		c.fs(&o)
	}
	if o.AllowOther {
		needRoot(t, "an --allow-other mount (fusermount3 refuses allow_other to users unless /etc/fuse.conf has user_allow_other), checked with other users' processes")
	}
	m, err := ossfs.Mount(cached, o)
	if err != nil {
		requireFUSE(t, err)
	}
	trackMount(mnt)
	e := &env{t: t, srv: tg.Server, raw: client("", nil), mnt: mnt, m: m}
	t.Cleanup(e.unmount)
	return e
}

// unmount tears the mount down even after a failure: Unmount, retried while
// busy, then a lazy unmount as the last resort.
func (e *env) unmount() {
	if e.gone {
		return
	}
	var err error
	for range 20 {
		if err = e.m.Unmount(); err == nil {
			done := make(chan struct{})
			go func() { e.m.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				e.t.Errorf("Wait did not return after Unmount")
			}
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	e.t.Errorf("unmount %s: %v; detaching lazily", e.mnt, err)
	exec.Command("umount", "-l", e.mnt).Run()
	exec.Command("fusermount3", "-u", "-z", e.mnt).Run()
}

// p returns the path of rel inside the mount.
func (e *env) p(rel string) string { return filepath.Join(e.mnt, rel) }

// sh runs script with bash in the mount directory (cd in the script, not
// cmd.Dir, so the fork child makes no FUSE request) and returns its output;
// a failure fails the test.
func (e *env) sh(script string, envv ...string) string {
	e.t.Helper()
	out, err := e.trySh(script, envv...)
	if err != nil {
		e.t.Fatalf("script failed: %v\n%s\n--- output:\n%s", err, script, out)
	}
	return out
}

func (e *env) trySh(script string, envv ...string) (string, error) {
	cmd := exec.Command("bash", "-euo", "pipefail", "-c", "cd \"$MNT\"\n"+script)
	cmd.Env = append(os.Environ(), append([]string{"MNT=" + e.mnt, "LC_ALL=C"}, envv...)...)
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	err := cmd.Run()
	return buf.String(), err
}

func (e *env) ctx() context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	e.t.Cleanup(cancel)
	return ctx
}

// put stores an object directly in the bucket (bypassing the mount).
func (e *env) put(key, data string) {
	e.t.Helper()
	if _, err := e.raw.Put(e.ctx(), key, strings.NewReader(data), ossclient.PutOptions{}); err != nil {
		e.t.Fatalf("put %s: %v", key, err)
	}
}

// get reads an object (following links) directly from the bucket.
func (e *env) get(key string) (string, error) {
	r, err := e.raw.Read(e.ctx(), key, 0, -1)
	if err != nil {
		return "", err
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	return string(b), err
}

func (e *env) mustGet(key string) string {
	e.t.Helper()
	s, err := e.get(key)
	if err != nil {
		e.t.Fatalf("get %s: %v", key, err)
	}
	return s
}

func (e *env) exists(key string) bool {
	e.t.Helper()
	_, err := e.raw.Stat(e.ctx(), key)
	if errors.Is(err, ossclient.ErrNotFound) {
		return false
	}
	if err != nil && !errors.Is(err, ossclient.ErrDanglingSymlink) {
		e.t.Fatalf("stat %s: %v", key, err)
	}
	return true
}

func need(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			// CI installs every tool: there a missing one is a failure,
			// never a quiet skip.
			if os.Getenv("OSSFS_REQUIRE_FUSE") == "1" {
				t.Fatalf("%s is not installed (OSSFS_REQUIRE_FUSE=1 requires every tool the mount tests drive)", tool)
			}
			t.Skipf("%s is not installed", tool)
		}
	}
}

// testWriter sends log output to t.Log while the test runs.
type testWriter struct {
	t    *testing.T
	done *atomic.Bool
}

func (w testWriter) Write(p []byte) (int, error) {
	if !w.done.Load() {
		w.t.Log(strings.TrimRight(string(p), "\n"))
	}
	return len(p), nil
}
