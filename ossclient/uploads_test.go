package ossclient_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"

	"github.com/ossfs/ossfs/ossclient"
	"github.com/ossfs/ossfs/ossclient/osstest"
)

// TestListAndAbortUploads: ListUploads follows every page of
// ListMultipartUploads (the SDK paginator: key-marker, upload-id-marker,
// encoding-type=url) under the mount prefix only, with keys relative to it
// and the initiation time; AbortUpload ends one, and a second abort of it
// is not an error; StaleUploads never returns an upload younger than the
// age.
func TestListAndAbortUploads(t *testing.T) {
	bothSignatures(t, func(t *testing.T, sig int) {
		ctx := context.Background()
		srv := startServer(t, osstest.Options{})
		sdk := rawSDK(srv)
		initiate := func(key string) string {
			t.Helper()
			r, err := sdk.InitiateMultipartUpload(ctx, &oss.InitiateMultipartUploadRequest{Bucket: oss.Ptr(bucket), Key: oss.Ptr(key)})
			if err != nil {
				t.Fatal(err)
			}
			return oss.ToString(r.UploadId)
		}
		before := time.Now().Add(-time.Second)
		want := []string{"p/a b+c%", "p/dir/é", "p/same", "p/same", "p/z"}
		ids := map[string]bool{}
		for _, k := range want {
			ids[initiate(k)] = true
		}
		initiate("outside")
		initiate("pp/not-under")
		after := time.Now().Add(time.Second)

		defer ossclient.SetUploadsPageSize(2)()
		c := newClient(t, srv, sig, "p/")
		srv.ResetCounts()
		ups, err := c.ListUploads(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		if n := srv.Count("ListMultipartUploads"); n != 3 {
			t.Errorf("%d ListMultipartUploads requests for 5 uploads in pages of 2, want 3", n)
		}
		if len(ups) != len(want) {
			t.Fatalf("ListUploads = %+v, want keys %q", ups, want)
		}
		for i, u := range ups {
			if "p/"+u.Key != want[i] || !ids[u.ID] {
				t.Errorf("upload %d = %+v, want key %q and one of the ids initiated", i, u, want[i])
			}
			if u.Initiated.Before(before) || u.Initiated.After(after) {
				t.Errorf("upload %q initiated %v, not between %v and %v", u.Key, u.Initiated, before, after)
			}
			delete(ids, u.ID)
		}
		sub, err := c.ListUploads(ctx, "dir/")
		if err != nil || len(sub) != 1 || sub[0].Key != "dir/é" {
			t.Errorf("ListUploads(dir/) = %+v, %v", sub, err)
		}

		now := time.Now()
		if stale, err := ossclient.StaleUploads(ctx, c, "", time.Hour, now); err != nil || len(stale) != 0 {
			t.Errorf("StaleUploads(1h) of uploads made now = %+v, %v; want none", stale, err)
		}
		stale, err := ossclient.StaleUploads(ctx, c, "", time.Hour, now.Add(2*time.Hour))
		if err != nil || len(stale) != len(want) {
			t.Errorf("StaleUploads(1h) two hours later = %d uploads, %v; want %d", len(stale), err, len(want))
		}

		for _, u := range ups {
			if err := c.AbortUpload(ctx, u.Key, u.ID); err != nil {
				t.Fatalf("AbortUpload %+v: %v", u, err)
			}
		}
		if err := c.AbortUpload(ctx, ups[0].Key, ups[0].ID); err != nil {
			t.Errorf("second abort of the same upload: %v, want nil", err)
		}
		if n := srv.OpenUploads(bucket); n != 2 {
			t.Errorf("%d uploads open after aborting the 5 under the prefix, want the 2 outside it", n)
		}
		if ups, err := c.ListUploads(ctx, ""); err != nil || len(ups) != 0 {
			t.Errorf("ListUploads after the aborts = %+v, %v", ups, err)
		}
		var oe *ossclient.Error
		if err := newClient(t, srv, sig, "", func(cfg *ossclient.Config) { cfg.Bucket = "no-such-bucket" }).AbortUpload(ctx, "k", "id"); !errors.As(err, &oe) {
			t.Errorf("AbortUpload on a missing bucket: %v, want an *ossclient.Error", err)
		}
	})
}
