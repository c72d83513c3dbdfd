package ossclient_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ossfs/ossfs/ossclient"
	"github.com/ossfs/ossfs/ossclient/osstest"
)

// crcDamager is a front of the local server that changes the CRC-64 OSS
// reports for the operation op (as if the body had been damaged on the
// way), counting the answers it changed.
type crcDamager struct {
	next    http.Handler
	op      string // "part": UploadPart; "put": PutObject; "complete": CompleteMultipartUpload
	damaged atomic.Int64
}

func (d *crcDamager) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	match := false
	switch d.op {
	case "part":
		match = r.Method == http.MethodPut && q.Has("partNumber") && r.Header.Get("x-oss-copy-source") == ""
	case "put":
		match = r.Method == http.MethodPut && !q.Has("partNumber") && !q.Has("uploadId")
	case "complete":
		match = r.Method == http.MethodPost && q.Has("uploadId")
	}
	if match {
		w = &damagingWriter{ResponseWriter: w, d: d}
	}
	d.next.ServeHTTP(w, r)
}

type damagingWriter struct {
	http.ResponseWriter
	d *crcDamager
}

func (w *damagingWriter) WriteHeader(status int) {
	if v := w.Header().Get("x-oss-hash-crc64ecma"); v != "" && status == http.StatusOK {
		w.Header().Set("x-oss-hash-crc64ecma", "12345")
		w.d.damaged.Add(1)
	}
	w.ResponseWriter.WriteHeader(status)
}

// TestPutChecksCRC64: a PutObject, an UploadPart or a completed upload
// whose CRC-64 (as OSS reports it) is not the one of the bytes sent fails
// the Put; a failed multipart upload is aborted, so nothing is stored.
func TestPutChecksCRC64(t *testing.T) {
	for _, c := range []struct {
		op   string
		size int
	}{{"put", 50 << 10}, {"part", 3*partSize + 7}, {"complete", 3*partSize + 7}} {
		t.Run(c.op, func(t *testing.T) {
			srv := startServer(t, osstest.Options{})
			d := &crcDamager{next: srv.Handler(), op: c.op}
			front := httptest.NewServer(d)
			t.Cleanup(front.Close)
			cl := newClient(t, srv, 4, "", func(cfg *ossclient.Config) { cfg.Endpoint = front.URL; cfg.MaxAttempts = 1 })
			_, err := cl.Put(context.Background(), "k", bytes.NewReader(randomBytes(c.size)), ossclient.PutOptions{})
			if d.damaged.Load() == 0 {
				t.Fatal("no CRC-64 was changed: the fault never fired")
			}
			if err == nil || !strings.Contains(err.Error(), "CRC-64 mismatch") {
				t.Fatalf("Put with a damaged CRC-64: %v, want a CRC-64 mismatch", err)
			}
			if c.op != "put" {
				if n := srv.OpenUploads(bucket); n != 0 {
					t.Errorf("%d uploads left open", n)
				}
				if _, err := cl.Stat(context.Background(), "k"); c.op == "part" && !errors.Is(err, ossclient.ErrNotFound) {
					t.Errorf("Stat after the failed upload: %v, want not found", err)
				}
			}
		})
	}
}
