package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/credentials"

	ossfs "github.com/ossfs/ossfs/fs"
	"github.com/ossfs/ossfs/ossclient"
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

// TestRenameKeepsForeignMtime: objects written by another client carry no
// x-oss-meta-mtime, so the mount shows their Last-Modified as mtime; a
// rename (of the file, and of a directory holding a file, a link and its
// marker) keeps that mtime after a remount, as a local rename does,
// instead of showing the copies' Last-Modified (the rename's time). The
// copy stores the source's Last-Modified as x-oss-meta-mtime and keeps its
// other user metadata and its Content-Type. Found by the model test.
func TestRenameKeepsForeignMtime(t *testing.T) {
	const t0 = 1_600_000_000
	var now atomic.Int64
	now.Store(t0)
	srv, err := osstest.Start(osstest.Options{Buckets: []string{bucketName}, Clock: func() time.Time { return time.Unix(now.Load(), 0) }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	cfg := config{srv: srv}
	e := newEnv(t, cfg)
	ctx := e.ctx()
	for key, meta := range map[string]map[string]string{"f": {"foo": "bar"}, "d/": nil, "d/g": nil} {
		if _, err := e.raw.Put(ctx, key, strings.NewReader(key), ossclient.PutOptions{Meta: meta, ContentType: "image/png"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.raw.PutSymlink(ctx, "d/l", "d/g", ossclient.SymlinkOptions{}); err != nil {
		t.Fatal(err)
	}
	now.Store(t0 + 1000) // the renames' time
	const script = `stat -c '%n %Y' f2 d2 d2/g d2/l`
	e.sh(`mv f f2 && mv d d2`)
	want := fmt.Sprintf("f2 %d\nd2 %d\nd2/g %d\nd2/l %d\n", t0, t0, t0, t0)
	if got := e.remount(cfg).sh(script); got != want {
		t.Errorf("mtimes after renames and a remount:\n%s\nwant:\n%s", got, want)
	}
	if o, err := e.raw.Stat(ctx, "f2", ossclient.WithMeta); err != nil || o.Meta["foo"] != "bar" || o.Meta["mtime"] != fmt.Sprint(t0) {
		t.Errorf("stored f2: %+v, %v; want its foo=bar kept and mtime %d", o, err, t0)
	}
	sdk := oss.NewClient(oss.NewConfig().WithEndpoint(srv.Endpoint()).WithRegion(srv.Region()).
		WithCredentialsProvider(credentials.NewStaticCredentialsProvider(osstest.DefaultAccessKeyID, osstest.DefaultAccessKeySecret)))
	for _, key := range []string{"f2", "d2/g"} {
		h, err := sdk.HeadObject(ctx, &oss.HeadObjectRequest{Bucket: oss.Ptr(bucketName), Key: oss.Ptr(key)})
		if err != nil {
			t.Fatal(err)
		}
		if ct := oss.ToString(h.ContentType); ct != "image/png" {
			t.Errorf("Content-Type of %s after the rename: %q; want the source's image/png", key, ct)
		}
	}
}
