package osstest_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"

	"github.com/ossfs/ossfs/ossclient/osstest"
)

func TestFaultStatusTimesAndPrefix(t *testing.T) {
	srv := start(t, osstest.Options{})
	c := newClient(srv)
	once := newClient(srv, noRetry)
	put(t, c, "ok/a", []byte("a"), nil)
	put(t, c, "bad/a", []byte("a"), nil)

	srv.AddFault(osstest.Fault{Op: "GetObject", Status: 503, Times: 2})
	srv.ResetCounts()
	if got, _ := get(t, c, "ok/a"); string(got) != "a" { // the SDK retries twice
		t.Fatalf("got %q", got)
	}
	if n := srv.Count("GetObject"); n != 3 {
		t.Fatalf("GetObject count %d, want 3 (two injected 503s, then success)", n)
	}

	remove := srv.AddFault(osstest.Fault{Op: "HeadObject", KeyPrefix: "bad/", Status: 500, Code: "InternalError", Message: "boom"})
	var err error
	for i := 0; i < 3; i++ { // Times 0: every matching request
		_, err = once.HeadObject(ctx, &oss.HeadObjectRequest{Bucket: oss.Ptr(bkt), Key: oss.Ptr("bad/a")})
		wantCode(t, err, 500, "InternalError")
	}
	if _, err := once.HeadObject(ctx, &oss.HeadObjectRequest{Bucket: oss.Ptr(bkt), Key: oss.Ptr("ok/a")}); err != nil {
		t.Fatalf("fault leaked to another prefix: %v", err)
	}
	remove()
	if _, err := once.HeadObject(ctx, &oss.HeadObjectRequest{Bucket: oss.Ptr(bkt), Key: oss.Ptr("bad/a")}); err != nil {
		t.Fatalf("removed fault still fires: %v", err)
	}

	srv.AddFault(osstest.Fault{Op: "HeadObject", Status: 503, Probability: 0.5})
	failed := 0
	for i := 0; i < 200; i++ {
		if _, err := once.HeadObject(ctx, &oss.HeadObjectRequest{Bucket: oss.Ptr(bkt), Key: oss.Ptr("ok/a")}); err != nil {
			failed++
		}
	}
	if failed < 50 || failed > 150 {
		t.Fatalf("probability 0.5 failed %d of 200", failed)
	}
	srv.ClearFaults()
	if _, err := once.HeadObject(ctx, &oss.HeadObjectRequest{Bucket: oss.Ptr(bkt), Key: oss.Ptr("ok/a")}); err != nil {
		t.Fatalf("after ClearFaults: %v", err)
	}
}

func TestFaultStallAndDrop(t *testing.T) {
	srv := start(t, osstest.Options{})
	c := newClient(srv)
	once := newClient(srv, noRetry)
	data := randomBytes(256<<10, 7)
	put(t, c, "obj", data, nil)

	srv.AddFault(osstest.Fault{Op: "HeadObject", Stall: 300 * time.Millisecond, Times: 1})
	t0 := time.Now()
	if _, err := c.HeadObject(ctx, &oss.HeadObjectRequest{Bucket: oss.Ptr(bkt), Key: oss.Ptr("obj")}); err != nil || time.Since(t0) < 300*time.Millisecond {
		t.Fatalf("stall: %v after %v", err, time.Since(t0))
	}
	srv.AddFault(osstest.Fault{Op: "HeadObject", Stall: 5 * time.Second, Times: 1})
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	_, err := once.HeadObject(short, &oss.HeadObjectRequest{Bucket: oss.Ptr(bkt), Key: oss.Ptr("obj")})
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a stalled request must time out on the client: %v", err)
	}

	// A download cut after 1000 bytes: headers arrive, the body breaks.
	srv.AddFault(osstest.Fault{Op: "GetObject", DropAfter: 1000, Times: 1})
	res, err := once.GetObject(ctx, &oss.GetObjectRequest{Bucket: oss.Ptr(bkt), Key: oss.Ptr("obj")})
	if err != nil {
		t.Fatalf("headers should arrive: %v", err)
	}
	got, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err == nil || len(got) != 1000 {
		t.Fatalf("dropped download: read %d bytes, err %v", len(got), err)
	}
	// An upload cut after 1000 request bytes: the SDK sees a broken
	// connection; with retries the second attempt lands the right bytes.
	srv.AddFault(osstest.Fault{Op: "PutObject", DropAfter: 1000, Times: 1})
	_, err = once.PutObject(ctx, &oss.PutObjectRequest{Bucket: oss.Ptr(bkt), Key: oss.Ptr("up"), Body: bytes.NewReader(data)})
	if err == nil {
		t.Fatal("dropped upload reported success")
	}
	if ok, _ := c.IsObjectExist(ctx, bkt, "up"); ok {
		t.Fatal("a dropped upload left an object")
	}
	srv.AddFault(osstest.Fault{Op: "PutObject", DropAfter: 1000, Times: 1})
	put(t, c, "up", data, nil)
	if got, _ := get(t, c, "up"); !bytes.Equal(got, data) {
		t.Fatal("retried upload stored the wrong bytes")
	}
}

func TestLatencyAndBandwidth(t *testing.T) {
	srv := start(t, osstest.Options{})
	c := newClient(srv)
	data := randomBytes(512<<10, 9)
	put(t, c, "obj", data, nil)

	srv.SetLatency(80 * time.Millisecond)
	t0 := time.Now()
	if _, err := c.HeadObject(ctx, &oss.HeadObjectRequest{Bucket: oss.Ptr(bkt), Key: oss.Ptr("obj")}); err != nil || time.Since(t0) < 80*time.Millisecond {
		t.Fatalf("latency: %v after %v", err, time.Since(t0))
	}
	srv.SetLatency(0)

	srv.SetBandwidth(1 << 20) // 1 MiB/s: 512 KiB takes about 0.5 s each way
	t0 = time.Now()
	if got, _ := get(t, c, "obj"); !bytes.Equal(got, data) {
		t.Fatal("throttled download differs")
	}
	if d := time.Since(t0); d < 400*time.Millisecond {
		t.Fatalf("download at 1 MiB/s took only %v", d)
	}
	t0 = time.Now()
	put(t, c, "obj2", data, nil)
	if d := time.Since(t0); d < 400*time.Millisecond {
		t.Fatalf("upload at 1 MiB/s took only %v", d)
	}
	srv.SetBandwidth(0)
	t0 = time.Now()
	get(t, c, "obj")
	if d := time.Since(t0); d > 300*time.Millisecond {
		t.Fatalf("unthrottled download took %v", d)
	}
}

// TestFaultHold: a held request waits for the test to let it go, then is
// served normally; a held request whose client gives up is abandoned.
func TestFaultHold(t *testing.T) {
	srv := start(t, osstest.Options{})
	c := newClient(srv, noRetry)
	put(t, c, "obj", []byte("held"), nil)
	hold := make(chan struct{})
	remove := srv.AddFault(osstest.Fault{Op: "HeadObject", Hold: hold})
	defer remove()
	srv.ResetCounts()
	done := make(chan error, 1)
	go func() {
		_, err := c.HeadObject(ctx, &oss.HeadObjectRequest{Bucket: oss.Ptr(bkt), Key: oss.Ptr("obj")})
		done <- err
	}()
	for srv.Count("HeadObject") == 0 { // wait for the request to arrive
		time.Sleep(time.Millisecond)
	}
	select {
	case err := <-done:
		t.Fatalf("a held request was answered (%v)", err)
	default:
	}
	short, cancel := context.WithCancel(ctx)
	go func() {
		for srv.Count("HeadObject") < 2 {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	_, err := c.HeadObject(short, &oss.HeadObjectRequest{Bucket: oss.Ptr(bkt), Key: oss.Ptr("obj")})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("a held request whose client gave up: %v", err)
	}
	close(hold)
	if err := <-done; err != nil {
		t.Fatalf("released request: %v", err)
	}
}
