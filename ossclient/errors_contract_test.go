package ossclient_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/ossfs/ossfs/ossclient"
	"github.com/ossfs/ossfs/ossclient/osstest"
)

// call is one Bucket method on one key, with the OSS operation it sends.
type call struct {
	name, op string
	key      string // the key the error must name ("" for List, DeleteMany)
	do       func(ctx context.Context, b ossclient.Bucket, key string) error
}

func drop[T any](_ T, err error) error { return err }

// calls covers every Bucket method; Put twice (one PutObject, multipart).
var calls = []call{
	{"Stat", "HeadObject", "k", func(ctx context.Context, b ossclient.Bucket, k string) error { return drop(b.Stat(ctx, k)) }},
	{"List", "ListObjectsV2", "", func(ctx context.Context, b ossclient.Bucket, k string) error {
		return drop(b.List(ctx, k, ossclient.ListOptions{}))
	}},
	{"Read", "GetObject", "k", func(ctx context.Context, b ossclient.Bucket, k string) error {
		rc, err := b.Read(ctx, k, 0, -1)
		if err == nil {
			_, err = io.Copy(io.Discard, rc)
			rc.Close()
		}
		return err
	}},
	{"Put", "PutObject", "k", func(ctx context.Context, b ossclient.Bucket, k string) error {
		return drop(b.Put(ctx, k, strings.NewReader("x"), ossclient.PutOptions{}))
	}},
	{"Put multipart", "InitiateMultipartUpload", "k", func(ctx context.Context, b ossclient.Bucket, k string) error {
		return drop(b.Put(ctx, k, bytes.NewReader(randomBytes(partSize+1)), ossclient.PutOptions{}))
	}},
	{"Copy", "CopyObject", "k", func(ctx context.Context, b ossclient.Bucket, k string) error {
		return drop(b.Copy(ctx, "k", k, ossclient.CopyOptions{}))
	}},
	{"Delete", "DeleteObject", "k", func(ctx context.Context, b ossclient.Bucket, k string) error { return b.Delete(ctx, k) }},
	{"DeleteMany", "DeleteMultipleObjects", "k", func(ctx context.Context, b ossclient.Bucket, k string) error {
		return b.DeleteMany(ctx, []string{k, "other"})
	}},
	{"PutSymlink", "PutSymlink", "k", func(ctx context.Context, b ossclient.Bucket, k string) error {
		return b.PutSymlink(ctx, k, "t", ossclient.SymlinkOptions{})
	}},
	{"GetSymlink", "GetSymlink", "k", func(ctx context.Context, b ossclient.Bucket, k string) error {
		return drop(b.GetSymlink(ctx, k))
	}},
}

// TestEveryMethodMapsServiceErrors answers each method's request with each
// OSS error and checks the typed error: its kind, operation, the caller's
// (prefix-relative) key, HTTP status, OSS code and request id.
func TestEveryMethodMapsServiceErrors(t *testing.T) {
	faults := []struct {
		status int
		code   string
		kind   error // nil: ossclient.KindOther
	}{
		{404, "NoSuchKey", ossclient.ErrNotFound},
		{403, "AccessDenied", ossclient.ErrAccessDenied},
		{409, "FileAlreadyExists", ossclient.ErrAlreadyExists},
		{412, "PreconditionFailed", ossclient.ErrPreconditionFailed},
		{400, "InvalidObjectName", ossclient.ErrInvalidName},
		{503, "SlowDown", ossclient.ErrThrottled},
		{500, "InternalError", nil},
	}
	bothSignatures(t, func(t *testing.T, sig int) {
		ctx := context.Background()
		srv := startServer(t, osstest.Options{})
		c := newClient(t, srv, sig, "pre", func(c *ossclient.Config) { c.MaxAttempts = 1 })
		put(t, c, "k", "v", ossclient.PutOptions{})
		for _, m := range calls {
			for _, f := range faults {
				what := fmt.Sprintf("%s answered %d %s", m.name, f.status, f.code)
				remove := srv.AddFault(osstest.Fault{Op: m.op, Status: f.status, Code: f.code})
				err := m.do(ctx, c, m.key)
				remove()
				if m.name == "Delete" && f.status == 404 {
					if err != nil {
						t.Errorf("%s: %v, want nil (deleting a missing key is no error)", what, err)
					}
					continue
				}
				var oe *ossclient.Error
				if !errors.As(err, &oe) {
					t.Errorf("%s: %v (%T), want an *ossclient.Error", what, err, err)
					continue
				}
				if f.kind != nil {
					wantKind(t, what, err, f.kind)
				} else if oe.Kind != ossclient.KindOther {
					t.Errorf("%s: kind %v, want other", what, oe.Kind)
				}
				if oe.Op == "" || oe.Key != m.key || oe.Status != f.status || oe.Code != f.code || oe.RequestID == "" {
					t.Errorf("%s: error %+v, want op, key %q, status, code and request id", what, oe, m.key)
				}
			}
		}
		if n := srv.OpenUploads(bucket); n != 0 {
			t.Errorf("%d uploads left open", n)
		}
	})
}

// TestMissingBucketIsNotMissingFile: NoSuchBucket is never "file not
// found" (a wrong bucket must not look like an empty one).
func TestMissingBucketIsNotMissingFile(t *testing.T) {
	bothSignatures(t, func(t *testing.T, sig int) {
		ctx := context.Background()
		srv := startServer(t, osstest.Options{})
		c := newClient(t, srv, sig, "", func(c *ossclient.Config) { c.Bucket = "no-such-bucket" })
		for _, m := range calls {
			err := m.do(ctx, c, "k")
			var oe *ossclient.Error
			if !errors.As(err, &oe) || oe.Kind != ossclient.KindOther || oe.Code != "NoSuchBucket" || oe.Status != 404 {
				t.Errorf("%s on a missing bucket: %v, want kind other with NoSuchBucket", m.name, err)
			}
		}
	})
}

// TestEveryMethodRefusesBadNames: a key over 1,023 bytes is ErrNameTooLong
// without a request; a key OSS refuses is ErrInvalidName (from the server),
// and so is a symlink target OSS cannot store (without a request).
func TestEveryMethodRefusesBadNames(t *testing.T) {
	bothSignatures(t, func(t *testing.T, sig int) {
		ctx := context.Background()
		srv := startServer(t, osstest.Options{})
		c := newClient(t, srv, sig, "")
		put(t, c, "k", "v", ossclient.PutOptions{})
		long := strings.Repeat("n", 1024)
		for _, m := range calls {
			if m.name == "DeleteMany" {
				continue // skips keys that cannot exist; see below
			}
			srv.ResetCounts()
			wantKind(t, m.name+" of a 1024-byte key", m.do(ctx, c, long), ossclient.ErrNameTooLong)
			if n := srv.TotalRequests(); n != 0 {
				t.Errorf("%s of a 1024-byte key sent %d requests", m.name, n)
			}
			if m.name == "List" {
				continue // any prefix is a valid prefix
			}
			wantKind(t, m.name+` of "\bad"`, m.do(ctx, c, `\bad`), ossclient.ErrInvalidName)
		}
		srv.ResetCounts()
		if err := c.DeleteMany(ctx, []string{long, "k"}); err != nil || srv.Count("DeleteMultipleObjects") != 1 {
			t.Errorf("DeleteMany with a too-long key: %v, %v", err, srv.Counts())
		}
		srv.ResetCounts()
		for _, target := range []string{"/abs", `\back`, "\xff\xfe"} {
			err := c.PutSymlink(ctx, "ln", target, ossclient.SymlinkOptions{})
			wantKind(t, fmt.Sprintf("PutSymlink -> %q", target), err, ossclient.ErrInvalidName)
		}
		if n := srv.TotalRequests(); n != 0 {
			t.Errorf("invalid targets sent %d requests", n)
		}
	})
}
