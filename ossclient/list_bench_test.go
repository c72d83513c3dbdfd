package ossclient_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/ossfs/ossfs/ossclient"
	"github.com/ossfs/ossfs/ossclient/osstest"
)

// BenchmarkListPage lists one full page (1,000 keys, with prefixes) from
// the local server: the request, the SDK's XML decoding and our
// conversion, per page.
func BenchmarkListPage(b *testing.B) {
	srv, err := osstest.Start(osstest.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	c, err := ossclient.New(ossclient.Config{
		Endpoint: srv.Endpoint(), Region: srv.Region(), Bucket: "test-bucket",
		Credentials: ossclient.Credentials{Source: ossclient.SourceStatic,
			AccessKeyID: osstest.DefaultAccessKeyID, AccessKeySecret: osstest.DefaultAccessKeySecret},
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for i := range 1000 {
		key := fmt.Sprintf("d/file-with-a-longish-name-%04d.txt", i)
		if i%10 == 0 {
			key = fmt.Sprintf("d/sub%04d/x", i)
		}
		if _, err := c.Put(ctx, key, strings.NewReader("x"), ossclient.PutOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		l, err := c.List(ctx, "d/", ossclient.ListOptions{})
		if err != nil || len(l.Objects)+len(l.Prefixes) != 1000 {
			b.Fatalf("%d entries, %v", len(l.Objects)+len(l.Prefixes), err)
		}
	}
}
