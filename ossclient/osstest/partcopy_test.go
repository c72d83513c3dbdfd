package osstest_test

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"hash/crc64"
	"strings"
	"testing"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"

	"github.com/ossfs/ossfs/ossclient/osstest"
)

func crcOf(b []byte) string { return fmt.Sprint(crc64.Checksum(b, crc64.MakeTable(crc64.ECMA))) }

func md5ETag(b []byte) string {
	s := md5.Sum(b)
	return `"` + strings.ToUpper(hex.EncodeToString(s[:])) + `"`
}

// TestUploadPartCopy builds an object from ranges of another through raw
// UploadPartCopy calls: each part's ETag is the MD5 of its range, the
// completed object has the source's bytes and CRC, and the errors are
// OSS's (missing source or upload, failed copy-source precondition, bad
// part number).
func TestUploadPartCopy(t *testing.T) {
	srv := start(t, osstest.Options{})
	signings(t, func(t *testing.T, extra ...clientOpt) {
		c := newClient(srv, append(extra, noRetry)...)
		src := fmt.Sprintf("pc/source 中文+%d", len(extra)) // needs escaping in x-oss-copy-source
		data := randomBytes(300<<10, 7)
		sp := put(t, c, src, data, nil)
		dst := fmt.Sprintf("pc/dst %d", len(extra))
		init, err := c.InitiateMultipartUpload(ctx, &oss.InitiateMultipartUploadRequest{Bucket: oss.Ptr(bkt), Key: oss.Ptr(dst)})
		if err != nil {
			t.Fatal(err)
		}
		partCopy := func(n int32, rng string, mod func(*oss.UploadPartCopyRequest)) (*oss.UploadPartCopyResult, error) {
			req := &oss.UploadPartCopyRequest{Bucket: oss.Ptr(bkt), Key: oss.Ptr(dst), UploadId: init.UploadId,
				PartNumber: n, SourceKey: oss.Ptr(src)}
			if rng != "" {
				req.Range = oss.Ptr(rng)
			}
			if mod != nil {
				mod(req)
			}
			return c.UploadPartCopy(ctx, req)
		}
		cut := int64(200 << 10)
		var parts []oss.UploadPart
		for i, r := range []struct {
			rng  string
			want []byte
		}{{fmt.Sprintf("bytes=0-%d", cut-1), data[:cut]}, {fmt.Sprintf("bytes=%d-%d", cut, len(data)-1), data[cut:]}} {
			res, err := partCopy(int32(i+1), r.rng, func(q *oss.UploadPartCopyRequest) { q.IfMatch = sp.ETag })
			if err != nil {
				t.Fatalf("part %d (%s): %v", i+1, r.rng, err)
			}
			if got := oss.ToString(res.ETag); got != md5ETag(r.want) || res.LastModified == nil {
				t.Fatalf("part %d: ETag %s (want %s), LastModified %v", i+1, got, md5ETag(r.want), res.LastModified)
			}
			parts = append(parts, oss.UploadPart{PartNumber: int32(i + 1), ETag: res.ETag})
		}
		lp, err := c.ListParts(ctx, &oss.ListPartsRequest{Bucket: oss.Ptr(bkt), Key: oss.Ptr(dst), UploadId: init.UploadId})
		if err != nil || len(lp.Parts) != 2 || lp.Parts[0].Size != cut || lp.Parts[1].Size != int64(len(data))-cut {
			t.Fatalf("ListParts: %v %+v", err, lp)
		}
		// Errors leave the upload as it was.
		_, err = partCopy(3, "", func(q *oss.UploadPartCopyRequest) { q.SourceKey = oss.Ptr("pc/none") })
		wantCode(t, err, 404, "NoSuchKey")
		_, err = partCopy(3, "", func(q *oss.UploadPartCopyRequest) { q.IfMatch = oss.Ptr(`"0123"`) })
		wantCode(t, err, 412, "PreconditionFailed")
		_, err = partCopy(3, "", func(q *oss.UploadPartCopyRequest) { q.IfNoneMatch = sp.ETag })
		wantCode(t, err, 412, "PreconditionFailed")
		_, err = partCopy(3, "", func(q *oss.UploadPartCopyRequest) { q.UploadId = oss.Ptr("NOSUCHUPLOAD") })
		wantCode(t, err, 404, "NoSuchUpload")
		_, err = partCopy(10001, "", nil)
		wantCode(t, err, 400, "InvalidArgument")
		cr, err := c.CompleteMultipartUpload(ctx, &oss.CompleteMultipartUploadRequest{Bucket: oss.Ptr(bkt), Key: oss.Ptr(dst),
			UploadId: init.UploadId, CompleteMultipartUpload: &oss.CompleteMultipartUpload{Parts: parts}})
		if err != nil {
			t.Fatal(err)
		}
		if got := oss.ToString(cr.HashCRC64); got != crcOf(data) {
			t.Fatalf("complete CRC %s, want %s", got, crcOf(data))
		}
		if got, res := get(t, c, dst); !bytes.Equal(got, data) || oss.ToString(res.HashCRC64) != crcOf(data) {
			t.Fatalf("copied object differs (%d bytes, CRC %s)", len(got), oss.ToString(res.HashCRC64))
		}
		if srv.OpenUploads(bkt) != 0 {
			t.Fatalf("%d uploads left open", srv.OpenUploads(bkt))
		}
	})
}

// TestUploadPartCopyWholeAndLinks: without a range, or with one OSS cannot
// satisfy, a part is the whole source; a symlink source, dangling or not,
// is refused with the EC OSS documents for it (0042-00000308).
func TestUploadPartCopyWholeAndLinks(t *testing.T) {
	srv := start(t, osstest.Options{})
	c := newClient(srv, noRetry)
	data := []byte("the whole source object")
	put(t, c, "w/src", data, nil)
	if err := putLink(c, "w/link", "w/src", nil); err != nil {
		t.Fatal(err)
	}
	if err := putLink(c, "w/dangling", "w/none", nil); err != nil {
		t.Fatal(err)
	}
	init, err := c.InitiateMultipartUpload(ctx, &oss.InitiateMultipartUploadRequest{Bucket: oss.Ptr(bkt), Key: oss.Ptr("w/dst")})
	if err != nil {
		t.Fatal(err)
	}
	for i, tc := range []struct{ src, rng string }{
		{"w/src", ""}, {"w/src", "bytes=5-1"}, {"w/src", "bytes=100-200"}, {"w/src", "bytes=0-1000"},
	} {
		req := &oss.UploadPartCopyRequest{Bucket: oss.Ptr(bkt), Key: oss.Ptr("w/dst"), UploadId: init.UploadId,
			PartNumber: int32(i + 1), SourceKey: oss.Ptr(tc.src)}
		if tc.rng != "" {
			req.Range = oss.Ptr(tc.rng)
		}
		res, err := c.UploadPartCopy(ctx, req)
		if err != nil || oss.ToString(res.ETag) != md5ETag(data) {
			t.Fatalf("%s %q: %v, ETag %s (want %s)", tc.src, tc.rng, err, oss.ToString(res.ETag), md5ETag(data))
		}
	}
	for _, link := range []string{"w/link", "w/dangling"} {
		_, err = c.UploadPartCopy(ctx, &oss.UploadPartCopyRequest{Bucket: oss.Ptr(bkt), Key: oss.Ptr("w/dst"), UploadId: init.UploadId,
			PartNumber: 9, SourceKey: oss.Ptr(link)})
		wantCode(t, err, 400, "InvalidArgument")
		if ec := svcErr(t, err).EC; ec != "0042-00000308" {
			t.Errorf("UploadPartCopy from %s: EC %s, want 0042-00000308", link, ec)
		}
	}
	res, err := c.UploadPartCopy(ctx, &oss.UploadPartCopyRequest{Bucket: oss.Ptr(bkt), Key: oss.Ptr("w/dst"), UploadId: init.UploadId,
		PartNumber: 9, SourceKey: oss.Ptr("w/src"), Range: oss.Ptr("bytes=4-8")})
	if err != nil || oss.ToString(res.ETag) != md5ETag(data[4:9]) {
		t.Fatalf("bytes=4-8: %v %+v", err, res)
	}
	if n := srv.Count("UploadPartCopy"); n != 7 {
		t.Fatalf("server counted %d UploadPartCopy, want 7", n)
	}
}

// TestCopyObjectMaxCopySize: CopyObject refuses a source over the limit
// with 400 EntityTooLarge (the code the SDK's Copier falls back on) and
// copies one at the limit; a symlink to a large object is still copied, as
// a link.
func TestCopyObjectMaxCopySize(t *testing.T) {
	const limit = 256 << 10
	srv := start(t, osstest.Options{MaxCopySize: limit})
	signings(t, func(t *testing.T, extra ...clientOpt) {
		c := newClient(srv, append(extra, noRetry)...)
		put(t, c, "lim/at", randomBytes(limit, 1), nil)
		put(t, c, "lim/over", randomBytes(limit+1, 2), nil)
		if err := putLink(c, "lim/link", "lim/over", nil); err != nil {
			t.Fatal(err)
		}
		copyTo := func(src, dst string) error {
			_, err := c.CopyObject(ctx, &oss.CopyObjectRequest{Bucket: oss.Ptr(bkt), Key: oss.Ptr(dst), SourceKey: oss.Ptr(src)})
			return err
		}
		if err := copyTo("lim/at", "lim/at2"); err != nil {
			t.Fatalf("copy at the limit: %v", err)
		}
		wantCode(t, copyTo("lim/over", "lim/over2"), 400, "EntityTooLarge")
		if _, err := c.HeadObject(ctx, &oss.HeadObjectRequest{Bucket: oss.Ptr(bkt), Key: oss.Ptr("lim/over2")}); err == nil {
			t.Fatal("a refused copy created its destination")
		}
		if err := copyTo("lim/link", "lim/link2"); err != nil {
			t.Fatalf("copy of a link to a large object: %v", err)
		}
		if target, _ := readLink(t, c, "lim/link2"); target != "lim/over" {
			t.Fatalf("copied link points at %q", target)
		}
	})
}

// TestCopierMultipartCopy drives the SDK's Copier the way it meets real
// OSS with a large object: HEAD, a CopyObject refused with EntityTooLarge,
// then InitiateMultipartUpload, UploadPartCopy per part and
// CompleteMultipartUpload, whose CRC the Copier checks against the
// source's. Metadata is carried over (directive COPY). Memory and
// directory storage, V4 and V1.
func TestCopierMultipartCopy(t *testing.T) {
	for _, mode := range []string{"memory", "dir"} {
		t.Run(mode, func(t *testing.T) {
			opts := osstest.Options{MaxCopySize: 1 << 20}
			if mode == "dir" {
				opts.Dir = t.TempDir()
			}
			srv := start(t, opts)
			signings(t, func(t *testing.T, extra ...clientOpt) {
				c := newClient(srv, extra...)
				data := randomBytes(3<<20+12345, 9)
				src, dst := "cp/big "+fmt.Sprint(len(extra)), "cp/big copy "+fmt.Sprint(len(extra))
				put(t, c, src, data, map[string]string{"mode": "644"})
				srv.ResetCounts()
				cp := c.NewCopier(func(o *oss.CopierOptions) {
					o.MultipartCopyThreshold, o.PartSize, o.ParallelNum = 1<<20, 1<<20, 3
				})
				res, err := cp.Copy(ctx, &oss.CopyObjectRequest{Bucket: oss.Ptr(bkt), Key: oss.Ptr(dst), SourceKey: oss.Ptr(src)})
				if err != nil {
					t.Fatalf("Copier: %v", err)
				}
				if oss.ToString(res.UploadId) == "" || oss.ToString(res.HashCRC64) != crcOf(data) {
					t.Fatalf("Copier result %+v: not a multipart copy, or CRC differs", res)
				}
				want := map[string]int64{"HeadObject": 1, "CopyObject": 1, "InitiateMultipartUpload": 1, "UploadPartCopy": 4, "CompleteMultipartUpload": 1}
				for op, n := range want {
					if srv.Count(op) != n {
						t.Fatalf("counts %v, want %v", srv.Counts(), want)
					}
				}
				got, gr := get(t, c, dst)
				if !bytes.Equal(got, data) || gr.Metadata["mode"] != "644" || oss.ToString(gr.ObjectType) != "Multipart" {
					t.Fatalf("copy: %d bytes (equal %v), meta %v, type %s", len(got), bytes.Equal(got, data), gr.Metadata, oss.ToString(gr.ObjectType))
				}
				if srv.OpenUploads(bkt) != 0 {
					t.Fatalf("%d uploads left open", srv.OpenUploads(bkt))
				}
			})
		})
	}
}
