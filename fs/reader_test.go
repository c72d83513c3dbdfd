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
	if a.mode != 0o755 || a.uid != 1 || a.gid != 2 || !a.mtime.Equal(time.Unix(1500000000, 250000000)) || !a.fromMeta {
		t.Errorf("attrs = %+v", a)
	}
	a = f.attrsFromMeta(map[string]string{"mode": "bad", "mtime": "x"}, mod, 0o644)
	if a.mode != 0o644 || a.uid != 7 || a.gid != 8 || !a.mtime.Equal(mod) {
		t.Errorf("defaults = %+v", a)
	}
	m := f.metaOf(attrs{mode: 0o640, uid: 7, gid: 8, mtime: time.Unix(42, 0)}, 0o100000)
	if len(m) != 2 || m["mode"] != "33184" || m["mtime"] != "42" {
		t.Errorf("metaOf = %v", m)
	}
	if m := f.metaOf(attrs{mode: 0o600, uid: 9, gid: 8}, 0o40000); m["uid"] != "9" || m["gid"] != "8" {
		t.Errorf("metaOf with another owner = %v", m)
	}
	f.opts.PersistMetadata = false
	if a := f.attrsFromMeta(map[string]string{"mode": "33261"}, mod, 0o644); a.mode != 0o644 || a.fromMeta {
		t.Errorf("without persistence = %+v", a)
	}
	if m := f.metaOf(a, 0o100000); m != nil {
		t.Errorf("metaOf without persistence = %v", m)
	}
}
