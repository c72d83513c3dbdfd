package osstest_test

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"hash/crc64"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"

	"github.com/ossfs/ossfs/ossclient/osstest"
)

func randomBytes(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, seed))
	b := make([]byte, n)
	for i := 0; i+8 <= n; i += 8 {
		v := r.Uint64()
		for j := 0; j < 8; j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	return b
}

// TestUploader64MiB sends 64 MiB through the SDK's Uploader (parts in
// parallel, CRC-64 of the whole object checked against the server's
// combined CRC) and reads it back with the Downloader (parallel ranged GETs,
// CRC checked again).
func TestUploader64MiB(t *testing.T) {
	srv := start(t, osstest.Options{})
	// The SDK talks to the server through a handler that proves the server
	// reads part bodies concurrently (see overlapGate).
	gate := &overlapGate{ready: make(chan struct{})}
	hs := httptest.NewServer(gate.wrap(srv.Handler()))
	t.Cleanup(hs.Close)
	c := newClient(srv, func(c *oss.Config) { c.WithEndpoint(hs.URL) })
	data := randomBytes(64<<20, 1)
	up := c.NewUploader(func(o *oss.UploaderOptions) { o.PartSize = 8 << 20; o.ParallelNum = 4 })
	res, err := up.UploadFrom(timed(t, 60e9), &oss.PutObjectRequest{Bucket: oss.Ptr(bkt), Key: oss.Ptr("big/object.bin")}, bytes.NewReader(data))
	if err != nil {
		t.Fatalf("upload: %v", err)
	}
	if srv.Count("UploadPart") != 8 || srv.Count("CompleteMultipartUpload") != 1 || srv.OpenUploads(bkt) != 0 {
		t.Fatalf("counts %v, open uploads %d", srv.Counts(), srv.OpenUploads(bkt))
	}
	if want := fmt.Sprint(crc64.Checksum(data, crc64.MakeTable(crc64.ECMA))); oss.ToString(res.HashCRC64) != want {
		t.Fatalf("complete CRC %q, want %s", oss.ToString(res.HashCRC64), want)
	}
	if !gate.overlapped.Load() {
		t.Fatal("the server never read two part bodies at the same time")
	}
	h, err := c.HeadObject(ctx, &oss.HeadObjectRequest{Bucket: oss.Ptr(bkt), Key: oss.Ptr("big/object.bin")})
	if err != nil || h.ContentLength != int64(len(data)) || oss.ToString(h.ObjectType) != "Multipart" {
		t.Fatalf("head: %v %+v", err, h)
	}
	path := filepath.Join(t.TempDir(), "down")
	dl := c.NewDownloader(func(o *oss.DownloaderOptions) { o.PartSize = 5 << 20; o.ParallelNum = 4 })
	if _, err := dl.DownloadFile(ctx, &oss.GetObjectRequest{Bucket: oss.Ptr(bkt), Key: oss.Ptr("big/object.bin")}, path); err != nil {
		t.Fatalf("download: %v", err)
	}
	got, err := os.ReadFile(path)
	if err != nil || sha256.Sum256(got) != sha256.Sum256(data) {
		t.Fatalf("downloaded bytes differ (%v)", err)
	}
	// A plain GetObject: the SDK's GetObjectToFile checks the CRC too.
	if _, err := c.GetObjectToFile(ctx, &oss.GetObjectRequest{Bucket: oss.Ptr(bkt), Key: oss.Ptr("big/object.bin")}, path); err != nil {
		t.Fatalf("GetObjectToFile (CRC checked): %v", err)
	}
}

func TestMultipartRules(t *testing.T) {
	srv := start(t, osstest.Options{})
	signings(t, func(t *testing.T, extra ...clientOpt) {
		c := newClient(srv, append(extra, noRetry)...)
		key := "mp/key with space+plus"
		init, err := c.InitiateMultipartUpload(ctx, &oss.InitiateMultipartUploadRequest{Bucket: oss.Ptr(bkt), Key: oss.Ptr(key),
			Metadata: map[string]string{"m": "v"}})
		if err != nil || oss.ToString(init.Key) != key {
			t.Fatalf("initiate: %v %+v", err, init)
		}
		id := init.UploadId
		parts := map[int32][]byte{1: randomBytes(200<<10, 2), 2: randomBytes(100<<10, 3), 3: []byte("tail"), 4: []byte("x")}
		etags := map[int32]string{}
		for _, n := range []int32{3, 1, 4, 2} { // out of order is fine
			r, err := c.UploadPart(ctx, &oss.UploadPartRequest{Bucket: oss.Ptr(bkt), Key: oss.Ptr(key), UploadId: id, PartNumber: n, Body: bytes.NewReader(parts[n])})
			if err != nil {
				t.Fatalf("part %d: %v", n, err)
			}
			etags[n] = oss.ToString(r.ETag)
		}
		lp, err := c.ListParts(ctx, &oss.ListPartsRequest{Bucket: oss.Ptr(bkt), Key: oss.Ptr(key), UploadId: id})
		if err != nil || len(lp.Parts) != 4 || lp.Parts[0].PartNumber != 1 || lp.Parts[2].Size != 4 || oss.ToString(lp.Key) != key {
			t.Fatalf("list parts: %v %+v", err, lp)
		}
		lu, err := c.ListMultipartUploads(ctx, &oss.ListMultipartUploadsRequest{Bucket: oss.Ptr(bkt), Prefix: oss.Ptr("mp/")})
		if err != nil || len(lu.Uploads) != 1 || oss.ToString(lu.Uploads[0].Key) != key {
			t.Fatalf("list uploads: %v %+v", err, lu)
		}
		complete := func(nums ...int32) error {
			var ps []oss.UploadPart
			for _, n := range nums {
				ps = append(ps, oss.UploadPart{PartNumber: n, ETag: oss.Ptr(etags[n])})
			}
			_, err := c.CompleteMultipartUpload(ctx, &oss.CompleteMultipartUploadRequest{Bucket: oss.Ptr(bkt), Key: oss.Ptr(key),
				UploadId: id, CompleteMultipartUpload: &oss.CompleteMultipartUpload{Parts: ps}})
			return err
		}
		wantCode(t, complete(1, 3, 4), 400, "EntityTooSmall") // a 4-byte part that is not the last
		etags[9] = `"00000000000000000000000000000000"`
		wantCode(t, complete(1, 9), 400, "InvalidPart")
		if err := complete(1, 2); err != nil {
			t.Fatalf("complete: %v", err)
		}
		got, res := get(t, c, key)
		if !bytes.Equal(got, append(append([]byte{}, parts[1]...), parts[2]...)) || res.Metadata["m"] != "v" || oss.ToString(res.ObjectType) != "Multipart" {
			t.Fatalf("completed object: %d bytes, meta %v", len(got), res.Metadata)
		}
		wantCode(t, complete(1, 2), 404, "NoSuchUpload")

		ab, err := c.InitiateMultipartUpload(ctx, &oss.InitiateMultipartUploadRequest{Bucket: oss.Ptr(bkt), Key: oss.Ptr("mp/aborted")})
		if err != nil || srv.OpenUploads(bkt) != 1 {
			t.Fatalf("initiate: %v, open %d", err, srv.OpenUploads(bkt))
		}
		if _, err := c.AbortMultipartUpload(ctx, &oss.AbortMultipartUploadRequest{Bucket: oss.Ptr(bkt), Key: oss.Ptr("mp/aborted"), UploadId: ab.UploadId}); err != nil {
			t.Fatal(err)
		}
		_, err = c.UploadPart(ctx, &oss.UploadPartRequest{Bucket: oss.Ptr(bkt), Key: oss.Ptr("mp/aborted"), UploadId: ab.UploadId, PartNumber: 1, Body: bytes.NewReader([]byte("x"))})
		wantCode(t, err, 404, "NoSuchUpload")
		if srv.OpenUploads(bkt) != 0 {
			t.Fatalf("open uploads %d", srv.OpenUploads(bkt))
		}
	})
}

func TestAppendCopyDeleteMultiple(t *testing.T) {
	srv := start(t, osstest.Options{})
	signings(t, func(t *testing.T, extra ...clientOpt) {
		c := newClient(srv, append(extra, noRetry)...)
		key := "ap/log file"
		var crc *string
		var pos int64
		var all []byte
		for i, piece := range []string{"first ", "second ", "third"} {
			req := &oss.AppendObjectRequest{Bucket: oss.Ptr(bkt), Key: oss.Ptr(key), Position: oss.Ptr(pos), Body: bytes.NewReader([]byte(piece))}
			if i == 0 {
				req.InitHashCRC64 = oss.Ptr("0")
				req.Metadata = map[string]string{"kind": "log"}
			} else {
				req.InitHashCRC64 = crc // the SDK checks the combined CRC
			}
			r, err := c.AppendObject(ctx, req)
			if err != nil {
				t.Fatalf("append %d: %v", i, err)
			}
			all = append(all, piece...)
			pos, crc = r.NextPosition, r.HashCRC64
		}
		got, res := get(t, c, key)
		if string(got) != string(all) || oss.ToString(res.ObjectType) != "Appendable" || res.Metadata["kind"] != "log" {
			t.Fatalf("appended object %q type %q", got, oss.ToString(res.ObjectType))
		}
		_, err := c.AppendObject(ctx, &oss.AppendObjectRequest{Bucket: oss.Ptr(bkt), Key: oss.Ptr(key), Position: oss.Ptr(int64(3)), Body: bytes.NewReader([]byte("x"))})
		wantCode(t, err, 409, "PositionNotEqualToLength")
		if se := svcErr(t, err); se.Headers.Get("x-oss-next-append-position") != "18" {
			t.Fatalf("next position header %q", se.Headers.Get("x-oss-next-append-position"))
		}
		put(t, c, "ap/normal", []byte("n"), nil)
		_, err = c.AppendObject(ctx, &oss.AppendObjectRequest{Bucket: oss.Ptr(bkt), Key: oss.Ptr("ap/normal"), Position: oss.Ptr(int64(1)), Body: bytes.NewReader([]byte("x"))})
		wantCode(t, err, 409, "ObjectNotAppendable")

		// Copy: metadata COPY and REPLACE, CRC reported.
		cr, err := c.CopyObject(ctx, &oss.CopyObjectRequest{Bucket: oss.Ptr(bkt), Key: oss.Ptr("ap/copy 1"), SourceKey: oss.Ptr(key)})
		if err != nil || oss.ToString(cr.HashCRC64) != oss.ToString(crc) || oss.ToString(cr.ETag) == "" {
			t.Fatalf("copy: %v %+v", err, cr)
		}
		if _, err := c.CopyObject(ctx, &oss.CopyObjectRequest{Bucket: oss.Ptr(bkt), Key: oss.Ptr("ap/copy 2"), SourceKey: oss.Ptr(key),
			MetadataDirective: oss.Ptr("REPLACE"), Metadata: map[string]string{"kind": "replaced"}}); err != nil {
			t.Fatal(err)
		}
		if got, r := get(t, c, "ap/copy 2"); string(got) != string(all) || r.Metadata["kind"] != "replaced" {
			t.Fatalf("copy 2: %q %v", got, r.Metadata)
		}
		if _, r := get(t, c, "ap/copy 1"); r.Metadata["kind"] != "log" {
			t.Fatalf("copy 1 meta %v", r.Metadata)
		}
		_, err = c.CopyObject(ctx, &oss.CopyObjectRequest{Bucket: oss.Ptr(bkt), Key: oss.Ptr("ap/x"), SourceKey: oss.Ptr("ap/none")})
		wantCode(t, err, 404, "NoSuchKey")
		_, err = c.CopyObject(ctx, &oss.CopyObjectRequest{Bucket: oss.Ptr(bkt), Key: oss.Ptr("ap/copy 1"), SourceKey: oss.Ptr(key), ForbidOverwrite: oss.Ptr("true")})
		wantCode(t, err, 409, "FileAlreadyExists")
		if _, err := c.CopyObject(ctx, &oss.CopyObjectRequest{Bucket: oss.Ptr(bkt), Key: oss.Ptr(fmt.Sprint("ap/copy 3-", len(extra))), SourceKey: oss.Ptr(key),
			ForbidOverwrite: oss.Ptr("true")}); err != nil {
			t.Fatalf("forbid-overwrite copy to a free key: %v", err)
		}
		// Deleting the source leaves the copies intact (shared blobs are counted).
		dr, err := c.DeleteMultipleObjects(ctx, &oss.DeleteMultipleObjectsRequest{Bucket: oss.Ptr(bkt),
			Objects: []oss.DeleteObject{{Key: oss.Ptr(key)}, {Key: oss.Ptr("ap/normal")}, {Key: oss.Ptr("ap/never existed & <xml>")}}})
		if err != nil || len(dr.DeletedObjects) != 3 || oss.ToString(dr.DeletedObjects[2].Key) != "ap/never existed & <xml>" {
			t.Fatalf("delete multiple: %v %+v", err, dr)
		}
		if got, _ := get(t, c, "ap/copy 1"); string(got) != string(all) {
			t.Fatalf("copy lost its data: %q", got)
		}
	})
}

// overlapGate holds the first UploadPart body read until a second part body
// is being read at the same time (or 5 s pass): a server that read bodies
// one at a time never has two in progress, and overlapped stays false.
type overlapGate struct {
	mu         sync.Mutex
	active     int // GUARDED_BY(mu): part bodies started and not finished
	ready      chan struct{}
	overlapped atomic.Bool
}

func (g *overlapGate) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut && r.URL.Query().Has("partNumber") {
			r.Body = &gatedBody{ReadCloser: r.Body, g: g}
		}
		h.ServeHTTP(w, r)
	})
}

type gatedBody struct {
	io.ReadCloser
	g           *overlapGate
	start, done sync.Once
}

func (b *gatedBody) Read(p []byte) (int, error) {
	g := b.g
	b.start.Do(func() {
		g.mu.Lock()
		if g.active++; g.active == 2 && !g.overlapped.Load() {
			g.overlapped.Store(true)
			close(g.ready)
		}
		g.mu.Unlock()
		select {
		case <-g.ready:
		case <-time.After(5 * time.Second):
		}
	})
	n, err := b.ReadCloser.Read(p)
	if err != nil {
		b.finish()
	}
	return n, err
}

func (b *gatedBody) Close() error {
	b.finish()
	return b.ReadCloser.Close()
}

func (b *gatedBody) finish() {
	b.done.Do(func() {
		b.g.mu.Lock()
		b.g.active--
		b.g.mu.Unlock()
	})
}
