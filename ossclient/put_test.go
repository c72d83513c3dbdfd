package ossclient_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ossfs/ossfs/ossclient"
	"github.com/ossfs/ossfs/ossclient/osstest"
)

const partSize = 100 << 10 // newClient's PartSize

// onlyReader hides every method but Read (no Len, no Seek, no ReadAt).
type onlyReader struct{ r io.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }

// failingReader yields n bytes and then fails.
type failingReader struct {
	n   int
	err error
}

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n == 0 {
		return 0, f.err
	}
	k := min(len(p), f.n)
	for i := range p[:k] {
		p[i] = 'x'
	}
	f.n -= k
	return k, nil
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.New(rand.NewSource(int64(n))).Read(b)
	return b
}

func TestPutSizes(t *testing.T) {
	bothSignatures(t, func(t *testing.T, sig int) {
		ctx := context.Background()
		srv := startServer(t, osstest.Options{})
		c := newClient(t, srv, sig, "")
		for _, tc := range []struct {
			size      int
			multipart bool
			parts     int
		}{
			{partSize - 1, false, 0},
			{partSize, false, 0},
			{partSize + 1, true, 2},
			{3*partSize + 7, true, 4},
		} {
			data := randomBytes(tc.size)
			srv.ResetCounts()
			o, err := c.Put(ctx, "obj", onlyReader{bytes.NewReader(data)}, ossclient.PutOptions{Meta: map[string]string{"m": "1"}})
			if err != nil {
				t.Fatalf("Put %d bytes: %v", tc.size, err)
			}
			wantType := ossclient.TypeNormal
			if tc.multipart {
				wantType = ossclient.TypeMultipart
			}
			if o.Size != int64(tc.size) || o.Type != wantType || o.ETag == "" {
				t.Errorf("Put %d bytes returned %+v", tc.size, o)
			}
			if got := srv.Count("UploadPart"); got != int64(tc.parts) {
				t.Errorf("Put %d bytes: %d UploadPart requests, want %d", tc.size, got, tc.parts)
			}
			if tc.multipart && srv.Count("PutObject") != 0 {
				t.Errorf("Put %d bytes also sent PutObject", tc.size)
			}
			if got := read(t, c, "obj", 0, -1); got != string(data) {
				t.Errorf("Put %d bytes: read back %d bytes, differing", tc.size, len(got))
			}
			st, err := c.Stat(ctx, "obj")
			if err != nil || st.Size != int64(tc.size) || st.ETag != o.ETag || st.Type != wantType || st.Meta["m"] != "1" {
				t.Errorf("Stat after Put %d bytes = %+v, %v (put ETag %s)", tc.size, st, err, o.ETag)
			}
		}
		_, err := c.Put(ctx, "obj", onlyReader{bytes.NewReader(randomBytes(2 * partSize))}, ossclient.PutOptions{ForbidOverwrite: true})
		wantKind(t, "multipart Put with forbid-overwrite", err, ossclient.ErrAlreadyExists)
		if n := srv.OpenUploads(bucket); n != 0 {
			t.Errorf("%d uploads left open", n)
		}
	})
}

func TestPutFailuresLeaveNothing(t *testing.T) {
	bothSignatures(t, func(t *testing.T, sig int) {
		ctx := context.Background()
		srv := startServer(t, osstest.Options{})
		c := newClient(t, srv, sig, "")
		boom := errors.New("disk on fire")
		assertNothing := func(what, key string) {
			t.Helper()
			if _, err := c.Stat(ctx, key); !errors.Is(err, ossclient.ErrNotFound) {
				t.Errorf("%s: Stat = %v, want not found", what, err)
			}
			if n := srv.OpenUploads(bucket); n != 0 {
				t.Errorf("%s: %d multipart uploads left open", what, n)
			}
		}

		// The reader fails before the first part is full: nothing is sent.
		srv.ResetCounts()
		_, err := c.Put(ctx, "small", &failingReader{n: 1000, err: boom}, ossclient.PutOptions{})
		if !errors.Is(err, boom) {
			t.Errorf("small failing reader: err = %v, want it to wrap %v", err, boom)
		}
		if len(srv.Counts()) != 0 {
			t.Errorf("small failing reader sent requests: %v", srv.Counts())
		}
		assertNothing("small failing reader", "small")

		// The reader fails part-way through a multipart upload.
		_, err = c.Put(ctx, "big", &failingReader{n: 3*partSize + 10, err: boom}, ossclient.PutOptions{})
		if !errors.Is(err, boom) {
			t.Errorf("multipart failing reader: err = %v, want it to wrap %v", err, boom)
		}
		if srv.Count("AbortMultipartUpload") == 0 {
			t.Errorf("multipart failing reader: no AbortMultipartUpload sent: %v", srv.Counts())
		}
		assertNothing("multipart failing reader", "big")

		// The server fails an UploadPart (every retry too).
		srv.AddFault(osstest.Fault{Op: "UploadPart", KeyPrefix: "faulty", Status: 500, Code: "InternalError", Times: 100})
		_, err = c.Put(ctx, "faulty", onlyReader{bytes.NewReader(randomBytes(4 * partSize))}, ossclient.PutOptions{})
		var oe *ossclient.Error
		if !errors.As(err, &oe) || oe.Status != 500 || oe.Code != "InternalError" {
			t.Errorf("UploadPart fault: err = %v", err)
		}
		assertNothing("UploadPart fault", "faulty")

		// The caller gives up mid-upload: the upload is still aborted.
		cctx, cancel := context.WithCancel(ctx)
		r := &cancelingReader{r: bytes.NewReader(randomBytes(5 * partSize)), after: 2*partSize + 10, cancel: cancel}
		_, err = c.Put(cctx, "cancelled", r, ossclient.PutOptions{})
		if !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled Put: err = %v, want context.Canceled", err)
		}
		assertNothing("cancelled Put", "cancelled")
	})
}

// cancelingReader cancels its context once after bytes were read.
type cancelingReader struct {
	r      io.Reader
	after  int
	read   int
	cancel func()
}

func (c *cancelingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.read += n
	if c.read >= c.after && c.cancel != nil {
		c.cancel()
		c.cancel = nil
	}
	return n, err
}

// TestPutFaultsKeepTheOldObject injects a server fault at each step of a
// multipart upload, over a key that already holds an object: every failure
// is returned, the old object is intact, and no upload is left open.
func TestPutFaultsKeepTheOldObject(t *testing.T) {
	bothSignatures(t, func(t *testing.T, sig int) {
		ctx := context.Background()
		srv := startServer(t, osstest.Options{})
		c := newClient(t, srv, sig, "", func(c *ossclient.Config) { c.MaxAttempts = 2 })
		put(t, c, "keep", "old bytes", ossclient.PutOptions{})
		for _, f := range []osstest.Fault{
			{Op: "InitiateMultipartUpload", Status: 500},
			{Op: "UploadPart", Status: 403, Code: "AccessDenied"},
			{Op: "UploadPart", DropAfter: 1000},
			{Op: "CompleteMultipartUpload", Status: 500},
			{Op: "CompleteMultipartUpload", Status: 409, Code: "FileAlreadyExists"},
		} {
			remove := srv.AddFault(f)
			srv.ResetCounts()
			_, err := c.Put(ctx, "keep", onlyReader{bytes.NewReader(randomBytes(3 * partSize))}, ossclient.PutOptions{})
			remove()
			if err == nil {
				t.Errorf("fault %+v: Put succeeded", f)
			}
			if got := read(t, c, "keep", 0, -1); got != "old bytes" {
				t.Errorf("fault %+v: old object now %d bytes", f, len(got))
			}
			if n := srv.OpenUploads(bucket); n != 0 {
				t.Errorf("fault %+v: %d uploads left open", f, n)
			}
			if f.Op != "InitiateMultipartUpload" && srv.Count("AbortMultipartUpload") != 1 {
				t.Errorf("fault %+v: %d AbortMultipartUpload requests, want 1", f, srv.Count("AbortMultipartUpload"))
			}
		}
		_, err := c.Put(ctx, "keep", &failingReader{n: 2*partSize + 5, err: errors.New("boom")}, ossclient.PutOptions{})
		if err == nil || read(t, c, "keep", 0, -1) != "old bytes" || srv.OpenUploads(bucket) != 0 {
			t.Errorf("failing reader over an old object: err %v, %d uploads open", err, srv.OpenUploads(bucket))
		}
	})
}

// TestPutAbortIsRetriedAndReported: the clean-up abort goes through the
// SDK's retryer; when it fails for good, Put still returns the upload's
// error and logs a warning naming the upload left open.
func TestPutAbortIsRetriedAndReported(t *testing.T) {
	ctx := context.Background()
	srv := startServer(t, osstest.Options{})
	var logs syncBuffer
	c := newClient(t, srv, 4, "", func(c *ossclient.Config) {
		c.MaxAttempts = 3
		c.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	})
	body := func() io.Reader { return onlyReader{bytes.NewReader(randomBytes(2*partSize + 1))} }
	srv.AddFault(osstest.Fault{Op: "UploadPart", Status: 403, Code: "AccessDenied"})

	srv.AddFault(osstest.Fault{Op: "AbortMultipartUpload", Status: 500, Times: 2})
	srv.ResetCounts()
	_, err := c.Put(ctx, "k", body(), ossclient.PutOptions{})
	wantKind(t, "Put with UploadPart refused", err, ossclient.ErrAccessDenied)
	if n := srv.OpenUploads(bucket); n != 0 || srv.Count("AbortMultipartUpload") != 3 {
		t.Errorf("abort failing twice: %d uploads open after %d aborts, want 0 after 3", n, srv.Count("AbortMultipartUpload"))
	}

	srv.AddFault(osstest.Fault{Op: "AbortMultipartUpload", Status: 500})
	_, err = c.Put(ctx, "k", body(), ossclient.PutOptions{})
	wantKind(t, "Put with UploadPart and abort refused", err, ossclient.ErrAccessDenied)
	if n := srv.OpenUploads(bucket); n != 1 {
		t.Errorf("abort failing for good: %d uploads open, want 1", n)
	}
	if l := logs.String(); !strings.Contains(l, "level=WARN") || !strings.Contains(l, "uploadId=") {
		t.Errorf("no warning about the upload left open:\n%s", l)
	}
}

// TestPutStreamsPartsInParallel: parts go out while the body is still
// being written, UploadParallelism at a time.
func TestPutStreamsPartsInParallel(t *testing.T) {
	ctx := context.Background()
	srv := startServer(t, osstest.Options{})
	var inFlight, maxInFlight atomic.Int64
	port := serveWrapped(t, srv, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPut && r.URL.Query().Has("partNumber") {
				n := inFlight.Add(1)
				for m := maxInFlight.Load(); n > m && !maxInFlight.CompareAndSwap(m, n); m = maxInFlight.Load() {
				}
				time.Sleep(50 * time.Millisecond)
				defer inFlight.Add(-1)
			}
			h.ServeHTTP(w, r)
		})
	}, nil)
	for _, par := range []int{1, 4} {
		c := newClient(t, srv, 4, "", func(c *ossclient.Config) {
			c.Endpoint = fmt.Sprintf("http://127.0.0.1:%d", port)
			c.UploadParallelism = par
		})
		maxInFlight.Store(0)
		srv.ResetCounts()
		pr, pw := io.Pipe()
		go func() {
			data := randomBytes(8 * partSize)
			_, _ = pw.Write(data[:3*partSize])
			for deadline := time.Now().Add(10 * time.Second); srv.Count("UploadPart") == 0; time.Sleep(5 * time.Millisecond) {
				if time.Now().After(deadline) {
					pw.CloseWithError(errors.New("no part was sent while the body was still being written"))
					return
				}
			}
			_, _ = pw.Write(data[3*partSize:])
			pw.Close()
		}()
		o, err := c.Put(ctx, fmt.Sprintf("par%d", par), pr, ossclient.PutOptions{})
		if err != nil || o.Size != 8*partSize {
			t.Fatalf("UploadParallelism %d: Put = %+v, %v", par, o, err)
		}
		got := maxInFlight.Load()
		if par == 1 && got != 1 || par > 1 && got < 2 {
			t.Errorf("UploadParallelism %d: at most %d parts in flight", par, got)
		}
	}
}
