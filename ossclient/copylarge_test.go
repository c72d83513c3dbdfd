package ossclient_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/ossfs/ossfs/ossclient"
	"github.com/ossfs/ossfs/ossclient/osstest"
)

// The large-copy tests lower the server's single-CopyObject limit to 5 MiB
// and copy a 12 MiB object in 4 MiB parts (three UploadPartCopy).
const (
	copyLimit = 5 << 20
	bigSize   = 12<<20 - 4321
)

func largeCopyEnv(t *testing.T, sig int, mods ...func(*ossclient.Config)) (*osstest.Server, *ossclient.Client, []byte) {
	t.Helper()
	srv := startServer(t, osstest.Options{MaxCopySize: copyLimit})
	c := newClient(t, srv, sig, "mnt/", append([]func(*ossclient.Config){func(cfg *ossclient.Config) {
		cfg.CopyPartSize = 4 << 20
		cfg.UploadParallelism = 3
		cfg.PartSize = 16 << 20 // one quick PutObject for the source
	}}, mods...)...)
	data := make([]byte, bigSize)
	r := rand.New(rand.NewPCG(1, uint64(sig)))
	for i := 0; i+8 <= len(data); i += 8 {
		binary.LittleEndian.PutUint64(data[i:], r.Uint64())
	}
	if _, err := c.Put(context.Background(), "big", bytes.NewReader(data), ossclient.PutOptions{Meta: map[string]string{"mode": "100644"}}); err != nil {
		t.Fatal(err)
	}
	srv.ResetCounts()
	return srv, c, data
}

func readAll(t *testing.T, c *ossclient.Client, key string) []byte {
	t.Helper()
	rc, err := c.Read(context.Background(), key, 0, -1)
	if err != nil {
		t.Fatalf("Read %q: %v", key, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("Read %q: %v", key, err)
	}
	return b
}

func wantCounts(t *testing.T, srv *osstest.Server, what string, want map[string]int64) {
	t.Helper()
	got := srv.Counts()
	var total int64
	for op, n := range want {
		total += n
		if got[op] != n {
			t.Errorf("%s: %d %s requests, want %d (counts %v)", what, got[op], op, n, got)
		}
	}
	if srv.TotalRequests() != total {
		t.Errorf("%s: %d requests, want %d (counts %v)", what, srv.TotalRequests(), total, got)
	}
	srv.ResetCounts()
}

// TestCopyLarge: a source OSS refuses to copy in one CopyObject is copied
// in parts: same bytes, metadata kept (COPY) or replaced (REPLACE, also
// onto itself, as chmod on a large file does), no upload left open. A
// small object and a link to the large one still cost one CopyObject.
func TestCopyLarge(t *testing.T) {
	bothSignatures(t, func(t *testing.T, sig int) {
		ctx := context.Background()
		srv, c, data := largeCopyEnv(t, sig)
		multipart := map[string]int64{"CopyObject": 1, "HeadObject": 1, "InitiateMultipartUpload": 1,
			"UploadPartCopy": 3, "CompleteMultipartUpload": 1}

		o, err := c.Copy(ctx, "big", "d/big copy", ossclient.CopyOptions{})
		if err != nil {
			t.Fatalf("Copy: %v", err)
		}
		wantCounts(t, srv, "large copy", multipart)
		st, err := c.Stat(ctx, "d/big copy")
		if err != nil || st.Size != bigSize || st.Meta["mode"] != "100644" || st.Type != ossclient.TypeMultipart ||
			o.Key != "d/big copy" || o.Size != -1 || o.ETag != st.ETag || o.ModTime.IsZero() {
			t.Fatalf("Copy = %+v; Stat = %+v, %v", o, st, err)
		}
		if !bytes.Equal(readAll(t, c, "d/big copy"), data) {
			t.Fatal("copied bytes differ")
		}

		if _, err := c.Copy(ctx, "big", "big2", ossclient.CopyOptions{ReplaceMeta: true, Meta: map[string]string{"uid": "7"}}); err != nil {
			t.Fatalf("Copy REPLACE: %v", err)
		}
		if st, _ := c.Stat(ctx, "big2"); st == nil || st.Meta["uid"] != "7" || st.Meta["mode"] != "" {
			t.Fatalf("REPLACE copy: %+v", st)
		}
		if _, err := c.Copy(ctx, "big", "big", ossclient.CopyOptions{ReplaceMeta: true, Meta: map[string]string{"mode": "100600"}}); err != nil {
			t.Fatalf("Copy onto itself: %v", err)
		}
		if st, _ := c.Stat(ctx, "big"); st == nil || st.Meta["mode"] != "100600" || st.Size != bigSize {
			t.Fatalf("after copy onto itself: %+v", st)
		}
		if !bytes.Equal(readAll(t, c, "big"), data) {
			t.Fatal("copy onto itself changed the bytes")
		}
		srv.ResetCounts()

		if err := c.PutSymlink(ctx, "link", "big", ossclient.SymlinkOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Put(ctx, "small", bytes.NewReader(data[:1000]), ossclient.PutOptions{}); err != nil {
			t.Fatal(err)
		}
		srv.ResetCounts()
		if _, err := c.Copy(ctx, "link", "link2", ossclient.CopyOptions{}); err != nil {
			t.Fatalf("Copy link: %v", err)
		}
		if _, err := c.Copy(ctx, "small", "small2", ossclient.CopyOptions{}); err != nil {
			t.Fatalf("Copy small: %v", err)
		}
		wantCounts(t, srv, "link and small copies", map[string]int64{"CopyObject": 2})
		if l, err := c.GetSymlink(ctx, "link2"); err != nil || l.Target != "big" {
			t.Fatalf("copied link: %+v, %v", l, err)
		}
		_, err = c.Copy(ctx, "nope", "x", ossclient.CopyOptions{})
		var oe *ossclient.Error
		if !errors.Is(err, ossclient.ErrNotFound) || !errors.As(err, &oe) || oe.Key != "nope" {
			t.Fatalf("Copy of a missing source: %v", err)
		}
		if n := srv.OpenUploads(bucket); n != 0 {
			t.Fatalf("%d uploads left open", n)
		}
	})
}

// TestCopyLargeFailures: a failing UploadPartCopy or
// CompleteMultipartUpload, the caller's context ending mid-copy, and the
// source changing mid-copy each make Copy fail, leave no upload open, and
// leave the destination as it was (absent, or its old bytes).
func TestCopyLargeFailures(t *testing.T) {
	bothSignatures(t, func(t *testing.T, sig int) {
		ctx := context.Background()
		srv, c, data := largeCopyEnv(t, sig, func(cfg *ossclient.Config) { cfg.MaxAttempts = 1 })
		if _, err := c.Put(ctx, "old", bytes.NewReader([]byte("old bytes")), ossclient.PutOptions{}); err != nil {
			t.Fatal(err)
		}
		check := func(what string, err error, kind error) {
			t.Helper()
			if err == nil || (kind != nil && !errors.Is(err, kind)) {
				t.Fatalf("%s: Copy err = %v, want %v", what, err, kind)
			}
			if n := srv.OpenUploads(bucket); n != 0 {
				t.Fatalf("%s: %d uploads left open", what, n)
			}
			if _, err := c.Stat(ctx, "new"); !errors.Is(err, ossclient.ErrNotFound) {
				t.Fatalf("%s: the destination exists after a failed copy (%v)", what, err)
			}
			if got := readAll(t, c, "old"); string(got) != "old bytes" {
				t.Fatalf("%s: an existing destination changed: %d bytes", what, len(got))
			}
		}
		for _, op := range []string{"UploadPartCopy", "CompleteMultipartUpload"} {
			remove := srv.AddFault(osstest.Fault{Op: op, Status: 500})
			_, err := c.Copy(ctx, "big", "new", ossclient.CopyOptions{})
			check(op+" failing", err, nil)
			_, err = c.Copy(ctx, "big", "old", ossclient.CopyOptions{})
			check(op+" failing over an object", err, nil)
			remove()
		}

		// The context ends while a part is held: not earlier (during the
		// initiation, whose upload id the client would never learn).
		hold := make(chan struct{})
		defer close(hold) // this first channel; the one below is closed in line
		remove := srv.AddFault(osstest.Fault{Op: "UploadPartCopy", Hold: hold})
		srv.ResetCounts()
		cctx, cancel := context.WithCancel(ctx)
		cdone := make(chan error, 1)
		go func() { _, err := c.Copy(cctx, "big", "new", ossclient.CopyOptions{}); cdone <- err }()
		for srv.FaultCounts()["UploadPartCopy"] == 0 {
			time.Sleep(5 * time.Millisecond) // polls for the held request
		}
		cancel()
		err := <-cdone
		check("context ending", err, context.Canceled)
		remove()

		// The source is overwritten (same size, other bytes) while the
		// parts are held back; they go on only once it is.
		hold = make(chan struct{})
		remove = srv.AddFault(osstest.Fault{Op: "UploadPartCopy", Hold: hold})
		srv.ResetCounts()
		done := make(chan error, 1)
		go func() { _, err := c.Copy(ctx, "big", "new", ossclient.CopyOptions{}); done <- err }()
		for srv.FaultCounts()["UploadPartCopy"] == 0 {
			time.Sleep(5 * time.Millisecond) // polls for the held request
		}
		other := bytes.Clone(data)
		for i := range other {
			other[i] ^= 0xff
		}
		if _, err := c.Put(ctx, "big", bytes.NewReader(other), ossclient.PutOptions{}); err != nil {
			t.Fatal(err)
		}
		remove()
		close(hold)
		err = <-done
		check("source changed", err, ossclient.ErrPreconditionFailed)
	})
}
