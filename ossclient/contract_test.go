package ossclient_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ossfs/ossfs/ossclient"
	"github.com/ossfs/ossfs/ossclient/osstest"
	"github.com/ossfs/ossfs/ossclient/osstest/testtarget"
)

// The contract tests drive the real SDK against the local server over HTTP,
// with both signature versions.

const bucket = "bkt"

func startServer(t *testing.T, opts osstest.Options) *osstest.Server {
	t.Helper()
	if len(opts.Buckets) == 0 {
		opts.Buckets = []string{bucket}
	}
	srv, err := osstest.Start(testtarget.LocalOptions(t, opts))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

func newClient(t *testing.T, srv *osstest.Server, sig int, prefix string, mods ...func(*ossclient.Config)) *ossclient.Client {
	t.Helper()
	cfg := ossclient.Config{
		Endpoint:         srv.Endpoint(),
		Region:           srv.Region(),
		Bucket:           bucket,
		Prefix:           prefix,
		SignatureVersion: sig,
		PartSize:         100 << 10,
		// Retries wait milliseconds, not the SDK's 200ms base: the
		// fault tests retry a lot, and count attempts, not time.
		RetryBaseDelay: time.Millisecond,
		Credentials: ossclient.Credentials{
			Source:          ossclient.SourceStatic,
			AccessKeyID:     osstest.DefaultAccessKeyID,
			AccessKeySecret: osstest.DefaultAccessKeySecret,
		},
		Logger: slog.New(slog.DiscardHandler),
	}
	for _, m := range mods {
		m(&cfg)
	}
	c, err := ossclient.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func bothSignatures(t *testing.T, f func(t *testing.T, sig int)) {
	for _, sig := range []int{1, 4} {
		t.Run(fmt.Sprintf("V%d", sig), func(t *testing.T) { f(t, sig) })
	}
}

func put(t *testing.T, b ossclient.Bucket, key, data string, opts ossclient.PutOptions) *ossclient.Object {
	t.Helper()
	o, err := b.Put(context.Background(), key, strings.NewReader(data), opts)
	if err != nil {
		t.Fatalf("Put %q: %v", key, err)
	}
	return o
}

func read(t *testing.T, b ossclient.Bucket, key string, off, n int64) string {
	t.Helper()
	rc, err := b.Read(context.Background(), key, off, n)
	if err != nil {
		t.Fatalf("Read %q %d+%d: %v", key, off, n, err)
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("Read %q body: %v", key, err)
	}
	return string(data)
}

func wantKind(t *testing.T, what string, err, sentinel error) {
	t.Helper()
	if !errors.Is(err, sentinel) {
		t.Errorf("%s: err = %v, want %v", what, err, sentinel)
	}
}

// onTargets runs f on every conformance target (package testtarget: the
// local server in memory and on a directory, and a real bucket when one is
// configured), with both signature versions. It is for the contract tests
// that need none of the server's hooks.
func onTargets(t *testing.T, f func(t *testing.T, c *ossclient.Client)) {
	testtarget.Each(t, func(t *testing.T, tg *testtarget.Target) {
		bothSignatures(t, func(t *testing.T, sig int) {
			cfg := tg.Config()
			cfg.Prefix += fmt.Sprintf("v%d/", sig) // each version in its own place
			cfg.SignatureVersion, cfg.PartSize = sig, 100<<10
			c, err := ossclient.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			f(t, c)
		})
	})
}

func TestConformanceObjectsContract(t *testing.T) {
	onTargets(t, func(t *testing.T, c *ossclient.Client) {
		ctx := context.Background()

		before := time.Now().Add(-time.Minute)
		o := put(t, c, "dir/a.txt", "hello world", ossclient.PutOptions{Meta: map[string]string{"Mode": "0644"}})
		if o.Key != "dir/a.txt" || o.Size != 11 || o.ETag == "" || strings.Contains(o.ETag, `"`) || o.Type != ossclient.TypeNormal {
			t.Errorf("Put returned %+v", o)
		}
		st, err := c.Stat(ctx, "dir/a.txt")
		if err != nil {
			t.Fatal(err)
		}
		if st.Size != 11 || st.ETag != o.ETag || st.Type != ossclient.TypeNormal || st.Meta["mode"] != "0644" ||
			st.ModTime.Before(before) || st.ModTime.After(time.Now().Add(time.Minute)) {
			t.Errorf("Stat = %+v", st)
		}

		for _, r := range []struct {
			off, n int64
			want   string
		}{
			{0, -1, "hello world"}, {0, 5, "hello"}, {6, -1, "world"}, {6, 100, "world"},
			{10, 1, "d"}, {11, -1, ""}, {11, 5, ""}, {50, -1, ""}, {3, 0, ""},
		} {
			if got := read(t, c, "dir/a.txt", r.off, r.n); got != r.want {
				t.Errorf("Read(%d, %d) = %q, want %q", r.off, r.n, got, r.want)
			}
		}
		put(t, c, "empty", "", ossclient.PutOptions{})
		if got := read(t, c, "empty", 0, -1); got != "" {
			t.Errorf("Read empty = %q", got)
		}
		if got := read(t, c, "empty", 0, 10); got != "" {
			t.Errorf("Read empty range = %q", got)
		}

		_, err = c.Stat(ctx, "dir/missing")
		wantKind(t, "Stat missing", err, ossclient.ErrNotFound)
		_, err = c.Read(ctx, "dir/missing", 0, -1)
		wantKind(t, "Read missing", err, ossclient.ErrNotFound)
		var oe *ossclient.Error
		if errors.As(err, &oe) && (oe.Status != 404 || oe.Code != "NoSuchKey" || oe.RequestID == "" || oe.Key != "dir/missing") {
			t.Errorf("Read missing error = %+v", oe)
		}

		// Overwrite and ForbidOverwrite.
		put(t, c, "dir/a.txt", "v2", ossclient.PutOptions{})
		_, err = c.Put(ctx, "dir/a.txt", strings.NewReader("v3"), ossclient.PutOptions{ForbidOverwrite: true})
		wantKind(t, "Put forbid-overwrite", err, ossclient.ErrAlreadyExists)
		if got := read(t, c, "dir/a.txt", 0, -1); got != "v2" {
			t.Errorf("after refused overwrite: %q", got)
		}

		// Copy, keeping or replacing metadata.
		put(t, c, "src", "copy me", ossclient.PutOptions{Meta: map[string]string{"k": "v"}})
		co, err := c.Copy(ctx, "src", "dst", ossclient.CopyOptions{})
		if err != nil || co.Key != "dst" || co.ETag == "" || co.Size != -1 || co.ModTime.IsZero() {
			t.Fatalf("Copy = %+v, %v", co, err)
		}
		if st, _ := c.Stat(ctx, "dst"); st == nil || st.Meta["k"] != "v" || read(t, c, "dst", 0, -1) != "copy me" {
			t.Errorf("copied object: %+v", st)
		}
		if _, err := c.Copy(ctx, "src", "dst2", ossclient.CopyOptions{ReplaceMeta: true, Meta: map[string]string{"n": "1"}}); err != nil {
			t.Fatal(err)
		}
		if st, _ := c.Stat(ctx, "dst2"); st == nil || st.Meta["n"] != "1" || st.Meta["k"] != "" {
			t.Errorf("copy with REPLACE: %+v", st)
		}
		_, err = c.Copy(ctx, "nope", "dst3", ossclient.CopyOptions{})
		wantKind(t, "Copy missing source", err, ossclient.ErrNotFound)

		// Delete.
		if err := c.Delete(ctx, "dst"); err != nil {
			t.Fatal(err)
		}
		_, err = c.Stat(ctx, "dst")
		wantKind(t, "Stat deleted", err, ossclient.ErrNotFound)
		if err := c.Delete(ctx, "dst"); err != nil {
			t.Errorf("Delete missing: %v", err)
		}
	})
}

func TestNamesContract(t *testing.T) {
	bothSignatures(t, func(t *testing.T, sig int) {
		ctx := context.Background()
		srv := startServer(t, osstest.Options{})
		c := newClient(t, srv, sig, "")
		keys := []string{"d/a b", "d/a+b", "d/100%", "d/ü日本", "d/a//b", "d/x?y#z&w=1", "d/~-._", "d/tab\tx"}
		for _, k := range keys {
			put(t, c, k, k, ossclient.PutOptions{})
			if got := read(t, c, k, 0, -1); got != k {
				t.Errorf("Read %q = %q", k, got)
			}
			if st, err := c.Stat(ctx, k); err != nil || st.Size != int64(len(k)) {
				t.Errorf("Stat %q = %+v, %v", k, st, err)
			}
		}
		l, err := c.List(ctx, "d/", ossclient.ListOptions{Recursive: true})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, o := range l.Objects {
			got = append(got, o.Key)
		}
		want := append([]string(nil), keys...)
		sort.Strings(want)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("List = %q\nwant   %q", got, want)
		}

		// Too long: refused without a request.
		srv.ResetCounts()
		long := strings.Repeat("k", 1024)
		_, err = c.Put(ctx, long, strings.NewReader("x"), ossclient.PutOptions{})
		wantKind(t, "Put 1024-byte key", err, ossclient.ErrNameTooLong)
		_, err = c.Stat(ctx, long)
		wantKind(t, "Stat 1024-byte key", err, ossclient.ErrNameTooLong)
		err = c.PutSymlink(ctx, long, "t", ossclient.SymlinkOptions{})
		wantKind(t, "PutSymlink 1024-byte key", err, ossclient.ErrNameTooLong)
		if n := len(srv.Counts()); n != 0 {
			t.Errorf("too-long keys sent requests: %v", srv.Counts())
		}
		if _, err := c.Stat(ctx, strings.Repeat("k", 1023)); !errors.Is(err, ossclient.ErrNotFound) {
			t.Errorf("Stat 1023-byte key: %v, want not found", err)
		}
		// Refused by the server.
		_, err = c.Put(ctx, "\\backslash", strings.NewReader("x"), ossclient.PutOptions{})
		wantKind(t, "Put invalid name", err, ossclient.ErrInvalidName)
	})
}

func TestListContract(t *testing.T) {
	bothSignatures(t, func(t *testing.T, sig int) {
		ctx := context.Background()
		srv := startServer(t, osstest.Options{})
		c := newClient(t, srv, sig, "")
		for _, k := range []string{"a/", "a/f1", "a/f2", "a/sub/g", "a/sub2/", "b", "c/d/e"} {
			put(t, c, k, "12345", ossclient.PutOptions{})
		}
		if err := c.PutSymlink(ctx, "a/ln", "b", ossclient.SymlinkOptions{}); err != nil {
			t.Fatal(err)
		}
		l, err := c.List(ctx, "a/", ossclient.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var objs []string
		for _, o := range l.Objects {
			objs = append(objs, fmt.Sprintf("%s:%s:%d", o.Key, o.Type, o.Size))
			if o.Meta != nil || o.ETag == "" || o.ModTime.IsZero() {
				t.Errorf("listed object %+v", o)
			}
		}
		// A link's listed size is the length of its target key ("b").
		if got, want := fmt.Sprint(objs), "[a/:Normal:5 a/f1:Normal:5 a/f2:Normal:5 a/ln:Symlink:1]"; got != want {
			t.Errorf("List(a/) objects = %s, want %s", got, want)
		}
		if got := fmt.Sprint(l.Prefixes); got != "[a/sub/ a/sub2/]" {
			t.Errorf("List(a/) prefixes = %s", got)
		}
		top, err := c.List(ctx, "", ossclient.ListOptions{})
		if err != nil || fmt.Sprint(top.Prefixes) != "[a/ c/]" || len(top.Objects) != 1 || top.Objects[0].Key != "b" {
			t.Errorf("List(\"\") = %+v, %v", top, err)
		}
		all, err := c.List(ctx, "", ossclient.ListOptions{Recursive: true})
		if err != nil || len(all.Objects) != 8 || len(all.Prefixes) != 0 {
			t.Errorf("recursive List = %+v, %v", all, err)
		}
		none, err := c.List(ctx, "zzz/", ossclient.ListOptions{})
		if err != nil || len(none.Objects)+len(none.Prefixes) != 0 {
			t.Errorf("List of nothing = %+v, %v", none, err)
		}

		// Limit 1 is one small request.
		srv.ResetCounts()
		one, err := c.List(ctx, "a/", ossclient.ListOptions{Limit: 1})
		if err != nil || len(one.Objects)+len(one.Prefixes) != 1 || srv.Count("ListObjectsV2") != 1 {
			t.Errorf("Limit 1: %+v, %v, %d requests", one, err, srv.Count("ListObjectsV2"))
		}
	})
}

func TestListPaging(t *testing.T) {
	ctx := context.Background()
	srv := startServer(t, osstest.Options{})
	c := newClient(t, srv, 4, "")
	const n = 2005
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("many/k%05d", i)
	}
	putAll(t, c, keys)
	srv.ResetCounts()
	l, err := c.List(ctx, "many/", ossclient.ListOptions{})
	if err != nil || len(l.Objects) != n {
		t.Fatalf("List = %d objects, %v", len(l.Objects), err)
	}
	if got := srv.Count("ListObjectsV2"); got != 3 {
		t.Errorf("listing %d keys took %d requests, want 3", n, got)
	}
	for i, o := range l.Objects {
		if o.Key != keys[i] {
			t.Fatalf("object %d = %q, want %q", i, o.Key, keys[i])
		}
	}
	srv.ResetCounts()
	if l, err := c.List(ctx, "many/", ossclient.ListOptions{Limit: 1500}); err != nil || len(l.Objects) < 1500 || srv.Count("ListObjectsV2") != 2 {
		t.Errorf("Limit 1500: %d objects, %v, %d requests", len(l.Objects), err, srv.Count("ListObjectsV2"))
	}

	srv.ResetCounts()
	if err := c.DeleteMany(ctx, keys); err != nil {
		t.Fatal(err)
	}
	if got := srv.Count("DeleteMultipleObjects"); got != 3 {
		t.Errorf("DeleteMany of %d keys sent %d requests, want 3", n, got)
	}
	if l, err := c.List(ctx, "many/", ossclient.ListOptions{}); err != nil || len(l.Objects) != 0 {
		t.Errorf("after DeleteMany: %d objects, %v", len(l.Objects), err)
	}
}

// putAll writes small objects with a few goroutines.
func putAll(t *testing.T, c ossclient.Bucket, keys []string) {
	t.Helper()
	errs := make(chan error, len(keys))
	sem := make(chan struct{}, 8)
	for _, k := range keys {
		sem <- struct{}{}
		go func() {
			defer func() { <-sem }()
			_, err := c.Put(context.Background(), k, bytes.NewReader([]byte("x")), ossclient.PutOptions{})
			errs <- err
		}()
	}
	for range keys {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

func TestDeleteManyReportsFirstFailureAfterAllBatches(t *testing.T) {
	ctx := context.Background()
	srv := startServer(t, osstest.Options{})
	c := newClient(t, srv, 4, "")
	keys := make([]string, 1500)
	for i := range keys {
		keys[i] = fmt.Sprintf("d/k%04d", i)
	}
	putAll(t, c, keys)
	srv.AddFault(osstest.Fault{Op: "DeleteMultipleObjects", Status: 403, Code: "AccessDenied", Times: 1})
	err := c.DeleteMany(ctx, keys)
	wantKind(t, "DeleteMany with the first batch refused", err, ossclient.ErrAccessDenied)
	l, lerr := c.List(ctx, "d/", ossclient.ListOptions{})
	if lerr != nil || len(l.Objects) != 1000 || l.Objects[999].Key != keys[999] {
		t.Errorf("after a refused first batch: %d objects left, %v; want the first 1000", len(l.Objects), lerr)
	}
}

func TestThrottledAndCancelled(t *testing.T) {
	ctx := context.Background()
	srv := startServer(t, osstest.Options{})
	c := newClient(t, srv, 4, "", func(c *ossclient.Config) { c.MaxAttempts = 1 })
	put(t, c, "k", "v", ossclient.PutOptions{})
	srv.AddFault(osstest.Fault{Op: "HeadObject", Status: 503, Code: "SlowDown", Times: 1})
	_, err := c.Stat(ctx, "k")
	wantKind(t, "Stat throttled", err, ossclient.ErrThrottled)

	// With retries, a passing 503 is invisible.
	r := newClient(t, srv, 4, "")
	srv.AddFault(osstest.Fault{Op: "GetObject", Status: 503, Times: 1})
	if got := read(t, r, "k", 0, -1); got != "v" {
		t.Errorf("Read after a retried 503 = %q", got)
	}

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err = c.Stat(cctx, "k")
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Stat with a cancelled context: %v", err)
	}
	err = c.PutSymlink(cctx, "l", "k", ossclient.SymlinkOptions{})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("PutSymlink with a cancelled context: %v", err)
	}
}
