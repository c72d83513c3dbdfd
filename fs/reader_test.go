package fs

import (
	"log/slog"
	"testing"
	"time"

	"github.com/ossfs/ossfs/ossclient"
	"github.com/ossfs/ossfs/ossclient/osstest"
)

// testBucket starts the local server and returns a client on it.
func testBucket(t testing.TB) (*osstest.Server, ossclient.Bucket) {
	t.Helper()
	return testBucketWith(t, func(*ossclient.Config) {})
}

// testBucketWith is testBucket with mod applied to the client's Config
// (resumes after a dropped connection never wait: ResumeBackoff 0).
func testBucketWith(t testing.TB, mod func(*ossclient.Config)) (*osstest.Server, ossclient.Bucket) {
	t.Helper()
	srv, err := osstest.Start(osstest.Options{Buckets: []string{"fs-test"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	cfg := ossclient.Config{
		Endpoint: srv.Endpoint(), Region: srv.Region(), Bucket: "fs-test",
		Credentials: ossclient.Credentials{Source: ossclient.SourceStatic,
			AccessKeyID: osstest.DefaultAccessKeyID, AccessKeySecret: osstest.DefaultAccessKeySecret},
		Logger:        slog.New(slog.DiscardHandler),
		ResumeBackoff: func(int) time.Duration { return 0 },
	}
	mod(&cfg)
	cl, err := ossclient.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return srv, cl
}

func TestAttrsFromMeta(t *testing.T) {
	f := &fsys{opts: Options{UID: 7, GID: 8, PersistMetadata: true}, mountTime: time.Unix(100, 0)}
	mod := time.Unix(200, 0)
	a := f.attrsFromMeta(map[string]string{"mode": "33261", "uid": "1", "gid": "2", "mtime": "1500000000.25"}, mod, 0o644)
	if a.mode != 0o755 || a.uid != 1 || a.gid != 2 || !a.mtime.Equal(time.Unix(1500000000, 250000000)) || !a.known ||
		!a.ctime.Equal(a.mtime) || !a.atime.Equal(a.mtime) || a.ftype != 0 {
		t.Errorf("attrs = %+v", a)
	}
	a = f.attrsFromMeta(map[string]string{"mode": "bad", "mtime": "x"}, mod, 0o644)
	if a.mode != 0o644 || a.uid != 7 || a.gid != 8 || !a.mtime.Equal(mod) {
		t.Errorf("defaults = %+v", a)
	}
	// ctime and atime kept apart; the type of a special file; a device's rdev.
	a = f.attrsFromMeta(map[string]string{"mode": "8612", "mtime": "10", "ctime": "20", "atime": "30", "rdev": "259"}, mod, 0o644)
	if a.mode != 0o644 || a.ftype != 0o020000 || a.rdev != 259 || a.mtime.Unix() != 10 || a.ctime.Unix() != 20 || a.atime.Unix() != 30 {
		t.Errorf("character device = %+v", a)
	}
	m := f.metaOf(attrs{mode: 0o640, uid: 7, gid: 8, mtime: time.Unix(42, 0), ctime: time.Unix(43, 0), atime: time.Unix(44, 0)}, 0o100000)
	want := map[string]string{"mode": "33184", "uid": "7", "gid": "8", "mtime": "42", "ctime": "43", "atime": "44"}
	if len(m) != len(want) {
		t.Errorf("metaOf = %v, want %v", m, want)
	}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("metaOf = %v, want %v", m, want)
		}
	}
	if m := f.metaOf(attrs{mode: 0o600, rdev: 5}, 0o60000); m["rdev"] != "5" || m["mode"] != "24960" {
		t.Errorf("metaOf of a block device = %v", m)
	}
	f.opts.PersistMetadata = false
	if a := f.attrsFromMeta(map[string]string{"mode": "33261"}, mod, 0o644); a.mode != 0o644 || !a.known {
		t.Errorf("without persistence (the defaults are all there is) = %+v", a)
	}
	if m := f.metaOf(a, 0o100000); m != nil {
		t.Errorf("metaOf without persistence = %v", m)
	}
}
