package metrics

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/ossfs/ossfs/ossclient"
	"github.com/ossfs/ossfs/ossclient/osstest"
)

func newBucket(t *testing.T, m *Metrics) (ossclient.Bucket, *osstest.Server) {
	t.Helper()
	srv, err := osstest.Start(osstest.Options{Buckets: []string{"bkt"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	c, err := ossclient.New(ossclient.Config{
		Endpoint: srv.Endpoint(), Region: srv.Region(), Bucket: "bkt", MaxAttempts: 2,
		Credentials: ossclient.Credentials{Source: ossclient.SourceStatic,
			AccessKeyID: osstest.DefaultAccessKeyID, AccessKeySecret: osstest.DefaultAccessKeySecret},
		Logger:    slog.New(slog.DiscardHandler),
		OnRequest: m.ObserveRequest,
	})
	if err != nil {
		t.Fatal(err)
	}
	return m.Bucket(c), srv
}

// TestUploadsInFlightAndFailed: a Put counts as in flight while OSS holds
// it, a Put that fails after its retries counts as failed, and the bytes
// read and written are counted.
func TestUploadsInFlightAndFailed(t *testing.T) {
	m := New()
	b, srv := newBucket(t, m)
	ctx := context.Background()

	srv.AddFault(osstest.Fault{Op: "PutObject", KeyPrefix: "slow", Stall: time.Hour, Times: 1})
	done := make(chan error, 1)
	go func() {
		_, err := b.Put(ctx, "slow", strings.NewReader("12345"), ossclient.PutOptions{})
		done <- err
	}()
	for i := 0; testutil.ToFloat64(m.uploadsActive) != 1; i++ {
		if i == 1000 {
			t.Fatal("the stalled upload never counted as in flight")
		}
		time.Sleep(5 * time.Millisecond)
	}
	srv.Close() // ends the stall: the upload fails
	if err := <-done; err == nil {
		t.Fatal("the upload to a closed server succeeded")
	}
	if got := testutil.ToFloat64(m.uploadsActive); got != 0 {
		t.Errorf("in flight after the upload ended: %v", got)
	}
	if got := testutil.ToFloat64(m.uploadsFailed); got != 1 {
		t.Errorf("failed uploads = %v, want 1", got)
	}

	b, srv = newBucket(t, m)
	srv.AddFault(osstest.Fault{Op: "PutObject", KeyPrefix: "bad", Status: 503})
	if _, err := b.Put(ctx, "bad", strings.NewReader("x"), ossclient.PutOptions{}); err == nil {
		t.Fatal("Put with every PutObject failing succeeded")
	}
	if _, err := b.Put(ctx, "good", strings.NewReader("hello"), ossclient.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	rc, err := b.Read(ctx, "good", 1, -1)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, rc)
	rc.Close()
	body, err := b.Get(ctx, "good", 0, 2, ossclient.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, body)
	body.Close()
	for _, c := range []struct {
		what      string
		got, want float64
	}{
		{"failed uploads", testutil.ToFloat64(m.uploadsFailed), 2},
		{"uploads", testutil.ToFloat64(m.uploadsDone), 3},
		{"PutObject 503 (2 attempts)", testutil.ToFloat64(m.requests.WithLabelValues("PutObject", "503")), 2},
		{"PutObject 200", testutil.ToFloat64(m.requests.WithLabelValues("PutObject", "200")), 1},
		{"GetObject 206", testutil.ToFloat64(m.requests.WithLabelValues("GetObject", "206")), 2},
		{"bytes read (Read and Get)", testutil.ToFloat64(m.bytesRead), 4 + 2},
	} {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.what, c.got, c.want)
		}
	}
	if n := srv.Count("PutObject"); n != 3 {
		t.Errorf("server saw %d PutObject, want 3 (the fault did not fire as planned)", n)
	}
}
