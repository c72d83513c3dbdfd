package ossclient_test

import (
	"context"
	"errors"
	"maps"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"

	"github.com/ossfs/ossfs/ossclient"
	"github.com/ossfs/ossfs/ossclient/osstest"
)

// TestCopyEditMeta: a copy with EditMeta stores what EditMeta returns for
// the source as a HEAD saw it (user metadata, Last-Modified) and keeps the
// source's standard headers, which a REPLACE copy alone drops; a source
// replaced between the HEAD and the copy fails it (ErrPreconditionFailed)
// and leaves no copy.
func TestCopyEditMeta(t *testing.T) {
	bothSignatures(t, func(t *testing.T, sig int) {
		ctx := context.Background()
		srv := startServer(t, osstest.Options{})
		c := newClient(t, srv, sig, "")
		raw := rawSDK(srv)
		if _, err := raw.PutObject(ctx, &oss.PutObjectRequest{
			Bucket: oss.Ptr(bucket), Key: oss.Ptr("src.png"), Body: strings.NewReader("png"),
			ContentType: oss.Ptr("image/png"), CacheControl: oss.Ptr("max-age=60"),
			ContentDisposition: oss.Ptr("inline"), Metadata: map[string]string{"foo": "bar"},
		}); err != nil {
			t.Fatal(err)
		}
		src, err := c.Stat(ctx, "src.png")
		if err != nil {
			t.Fatal(err)
		}
		addMtime := func(o *ossclient.Object) map[string]string {
			m := maps.Clone(o.Meta)
			m["mtime"] = strconv.FormatInt(o.ModTime.Unix(), 10)
			return m
		}
		var saw *ossclient.Object
		if _, err := c.Copy(ctx, "src.png", "dst.png", ossclient.CopyOptions{EditMeta: func(o *ossclient.Object) map[string]string {
			saw = o
			return addMtime(o)
		}}); err != nil {
			t.Fatal(err)
		}
		if saw == nil || saw.ETag != src.ETag || saw.Size != 3 || !saw.ModTime.Equal(src.ModTime) || saw.Meta["foo"] != "bar" {
			t.Errorf("EditMeta saw %+v; want the source %+v", saw, src)
		}
		h, err := raw.HeadObject(ctx, &oss.HeadObjectRequest{Bucket: oss.Ptr(bucket), Key: oss.Ptr("dst.png")})
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]string{"foo": "bar", "mtime": strconv.FormatInt(src.ModTime.Unix(), 10)}
		if d, err := c.Stat(ctx, "dst.png"); err != nil || !maps.Equal(d.Meta, want) {
			t.Errorf("copy's metadata %+v, %v; want %v", d, err, want)
		}
		if oss.ToString(h.ContentType) != "image/png" || oss.ToString(h.CacheControl) != "max-age=60" || oss.ToString(h.ContentDisposition) != "inline" {
			t.Errorf("copy's headers: Content-Type %q, Cache-Control %q, Content-Disposition %q; want the source's",
				oss.ToString(h.ContentType), oss.ToString(h.CacheControl), oss.ToString(h.ContentDisposition))
		}

		// The source replaced while the copy is held after its HEAD.
		hold := make(chan struct{})
		remove := srv.AddFault(osstest.Fault{Op: "CopyObject", Hold: hold})
		done := make(chan error, 1)
		go func() {
			_, err := c.Copy(ctx, "src.png", "other.png", ossclient.CopyOptions{EditMeta: addMtime})
			done <- err
		}()
		for srv.FaultCounts()["CopyObject"] == 0 {
			time.Sleep(5 * time.Millisecond) // polls for the held request
		}
		if _, err := c.Put(ctx, "src.png", strings.NewReader("new bytes"), ossclient.PutOptions{}); err != nil {
			t.Fatal(err)
		}
		remove()
		close(hold)
		if err := <-done; !errors.Is(err, ossclient.ErrPreconditionFailed) {
			t.Errorf("copy of a source replaced after its HEAD: %v, want ErrPreconditionFailed", err)
		}
		if _, err := c.Stat(ctx, "other.png"); !errors.Is(err, ossclient.ErrNotFound) {
			t.Errorf("other.png after the failed copy: %v, want not found", err)
		}
	})
}
