package osstest_test

import (
	"bytes"
	"crypto/md5"
	"encoding/base64"
	"fmt"
	"hash/crc64"
	"io"
	"strings"
	"testing"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"

	"github.com/ossfs/ossfs/ossclient/osstest"
)

func TestPutGetHeadDelete(t *testing.T) {
	srv := start(t, osstest.Options{})
	signings(t, func(t *testing.T, extra ...clientOpt) {
		for name, c := range map[string]*oss.Client{"path": newClient(srv, extra...), "vhost": vhostClient(srv, extra...)} {
			t.Run(name, func(t *testing.T) {
				key := "dir/with space+plus%pct/日本語 " + name + fmt.Sprint(len(extra))
				data := []byte("hello, " + key)
				res := put(t, c, key, data, map[string]string{"mode": "0644", "Mtime": "12345"})
				sum := md5.Sum(data)
				wantETag := fmt.Sprintf(`"%X"`, sum)
				if oss.ToString(res.ETag) != wantETag {
					t.Errorf("put ETag %s, want %s", oss.ToString(res.ETag), wantETag)
				}
				if want := fmt.Sprint(crc64.Checksum(data, crc64.MakeTable(crc64.ECMA))); oss.ToString(res.HashCRC64) != want {
					t.Errorf("put CRC %s want %s", oss.ToString(res.HashCRC64), want)
				}
				got, gres := get(t, c, key)
				if !bytes.Equal(got, data) {
					t.Fatalf("get = %q", got)
				}
				if gres.Metadata["mode"] != "0644" || gres.Metadata["mtime"] != "12345" {
					t.Errorf("metadata %v", gres.Metadata)
				}
				if oss.ToString(gres.ObjectType) != "Normal" || oss.ToString(gres.ETag) != wantETag || gres.LastModified == nil {
					t.Errorf("get headers: type %v etag %v", oss.ToString(gres.ObjectType), oss.ToString(gres.ETag))
				}
				h, err := c.HeadObject(ctx, &oss.HeadObjectRequest{Bucket: oss.Ptr(bkt), Key: oss.Ptr(key)})
				if err != nil || h.ContentLength != int64(len(data)) || h.Metadata["mode"] != "0644" {
					t.Fatalf("head: %v %+v", err, h)
				}
				m, err := c.GetObjectMeta(ctx, &oss.GetObjectMetaRequest{Bucket: oss.Ptr(bkt), Key: oss.Ptr(key)})
				if err != nil || m.ContentLength != int64(len(data)) || oss.ToString(m.ETag) != wantETag {
					t.Fatalf("meta: %v %+v", err, m)
				}
				if _, err := c.DeleteObject(ctx, &oss.DeleteObjectRequest{Bucket: oss.Ptr(bkt), Key: oss.Ptr(key)}); err != nil {
					t.Fatal(err)
				}
				_, err = c.HeadObject(ctx, &oss.HeadObjectRequest{Bucket: oss.Ptr(bkt), Key: oss.Ptr(key)})
				wantCode(t, err, 404, "NoSuchKey") // from x-oss-err: HEAD has no body
				_, err = c.GetObject(ctx, &oss.GetObjectRequest{Bucket: oss.Ptr(bkt), Key: oss.Ptr(key)})
				wantCode(t, err, 404, "NoSuchKey")
				if _, err := c.DeleteObject(ctx, &oss.DeleteObjectRequest{Bucket: oss.Ptr(bkt), Key: oss.Ptr(key)}); err != nil {
					t.Fatalf("deleting a missing key must succeed: %v", err)
				}
			})
		}
	})
}

func TestPutChecks(t *testing.T) {
	srv := start(t, osstest.Options{})
	signings(t, func(t *testing.T, extra ...clientOpt) {
		c := newClient(srv, append(extra, noRetry)...)
		data := []byte("content")
		sum := md5.Sum(data)
		good := base64.StdEncoding.EncodeToString(sum[:])
		if _, err := c.PutObject(ctx, &oss.PutObjectRequest{Bucket: oss.Ptr(bkt), Key: oss.Ptr("md5"),
			Body: bytes.NewReader(data), ContentMD5: oss.Ptr(good)}); err != nil {
			t.Fatalf("good Content-MD5 rejected: %v", err)
		}
		bad := base64.StdEncoding.EncodeToString(make([]byte, 16))
		_, err := c.PutObject(ctx, &oss.PutObjectRequest{Bucket: oss.Ptr(bkt), Key: oss.Ptr("md5bad"),
			Body: bytes.NewReader(data), ContentMD5: oss.Ptr(bad)})
		wantCode(t, err, 400, "InvalidDigest")
		if ok, _ := c.IsObjectExist(ctx, bkt, "md5bad"); ok {
			t.Fatal("object stored despite a bad Content-MD5")
		}
		_, err = c.PutObject(ctx, &oss.PutObjectRequest{Bucket: oss.Ptr(bkt), Key: oss.Ptr("md5"),
			Body: strings.NewReader("other"), ContentMD5: oss.Ptr(good)})
		wantCode(t, err, 400, "InvalidDigest")
		if got, _ := get(t, c, "md5"); string(got) != "content" {
			t.Fatalf("a bad Content-MD5 overwrote the object: %q", got)
		}
		if _, err := c.PutObject(ctx, &oss.PutObjectRequest{Bucket: oss.Ptr(bkt), Key: oss.Ptr(fmt.Sprint("fresh", len(extra))),
			Body: strings.NewReader("new"), ForbidOverwrite: oss.Ptr("true")}); err != nil {
			t.Fatalf("forbid-overwrite on a free key: %v", err)
		}
		_, err = c.PutObject(ctx, &oss.PutObjectRequest{Bucket: oss.Ptr(bkt), Key: oss.Ptr("md5"),
			Body: strings.NewReader("other"), ForbidOverwrite: oss.Ptr("true")})
		wantCode(t, err, 409, "FileAlreadyExists")
		if got, _ := get(t, c, "md5"); string(got) != "content" {
			t.Fatalf("forbid-overwrite overwrote: %q", got)
		}
		for _, key := range []string{"/lead", `\lead`, strings.Repeat("k", 1024), "bad\xffutf8"} {
			_, err = c.PutObject(ctx, &oss.PutObjectRequest{Bucket: oss.Ptr(bkt), Key: oss.Ptr(key), Body: strings.NewReader("x")})
			wantCode(t, err, 400, "InvalidObjectName")
		}
		put(t, c, strings.Repeat("k", 1023), []byte("max"), nil)
		put(t, c, "a//b/../c/./d", []byte("odd but legal"), nil)
		if got, _ := get(t, c, "a//b/../c/./d"); string(got) != "odd but legal" {
			t.Fatalf("odd key: %q", got)
		}
		_, err = c.PutObject(ctx, &oss.PutObjectRequest{Bucket: oss.Ptr("no-such-bucket"), Key: oss.Ptr("k"), Body: strings.NewReader("x")})
		wantCode(t, err, 404, "NoSuchBucket")
	})
}

func TestRanges(t *testing.T) {
	srv := start(t, osstest.Options{})
	c := newClient(srv)
	data := []byte("0123456789")
	put(t, c, "r", data, nil)
	cases := []struct {
		rng, behavior string
		status        int
		want          string
	}{
		{"bytes=2-4", "", 206, "234"},
		{"bytes=7-", "", 206, "789"},
		{"bytes=-3", "", 206, "789"},
		{"bytes=5-20", "", 200, "0123456789"},
		{"bytes=5-20", "standard", 206, "56789"},
		{"bytes=10-20", "", 200, "0123456789"},
		{"bytes=10-20", "standard", 416, ""},
		{"bytes=0-1,4-5", "", 206, "01"},
		{"byte=0-1", "", 200, "0123456789"},
	}
	for _, tc := range cases {
		req := &oss.GetObjectRequest{Bucket: oss.Ptr(bkt), Key: oss.Ptr("r"), Range: oss.Ptr(tc.rng)}
		if tc.behavior != "" {
			req.RangeBehavior = oss.Ptr(tc.behavior)
		}
		res, err := c.GetObject(ctx, req)
		if tc.status == 416 {
			wantCode(t, err, 416, "InvalidRange")
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tc.rng, err)
		}
		got, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != tc.status || string(got) != tc.want {
			t.Errorf("%s %s: %d %q, want %d %q", tc.rng, tc.behavior, res.StatusCode, got, tc.status, tc.want)
		}
	}
}
