package osstest_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"

	"github.com/ossfs/ossfs/ossclient/osstest"
)

// rawList returns the XML body of a ListObjects (v1) or ListObjectsV2
// request, as the server sent it.
func rawList(t *testing.T, c *oss.Client, v2 bool, prefix string) string {
	t.Helper()
	params := map[string]string{"prefix": prefix}
	if v2 {
		params["list-type"] = "2"
	}
	out, err := c.InvokeOperation(ctx, &oss.OperationInput{OpName: "ListObjects", Method: "GET",
		Bucket: oss.Ptr(bkt), Parameters: params})
	if err != nil {
		t.Fatal(err)
	}
	defer out.Body.Close()
	body, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(body)
}

var lastModifiedXML = regexp.MustCompile(`<LastModified>([^<]*)</LastModified>`)

// TestTimesAreWholeSeconds: OSS keeps whole seconds and lists them as
// "...:52.000Z"; a listing, HEAD, GET, GetObjectMeta, GetSymlink, the
// CopyObject result and ListParts agree on every object's time.
func TestTimesAreWholeSeconds(t *testing.T) {
	signings(t, func(t *testing.T, extra ...clientOpt) {
		c := newClient(start(t, osstest.Options{}), extra...)
		put(t, c, "times/plain", []byte("plain"), nil)
		if err := putLink(c, "times/link", "times/plain", nil); err != nil {
			t.Fatal(err)
		}
		cp, err := c.CopyObject(ctx, &oss.CopyObjectRequest{Bucket: oss.Ptr(bkt), Key: oss.Ptr("times/copy"),
			SourceKey: oss.Ptr("times/plain")})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.AppendObject(ctx, &oss.AppendObjectRequest{Bucket: oss.Ptr(bkt), Key: oss.Ptr("times/app"),
			Position: oss.Ptr(int64(0)), Body: strings.NewReader("app")}); err != nil {
			t.Fatal(err)
		}
		if cp.LastModified == nil || cp.LastModified.Nanosecond() != 0 {
			t.Errorf("CopyObject LastModified %v is not whole seconds", cp.LastModified)
		}
		init, err := c.InitiateMultipartUpload(ctx, &oss.InitiateMultipartUploadRequest{Bucket: oss.Ptr(bkt), Key: oss.Ptr("times/mp")})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.UploadPart(ctx, &oss.UploadPartRequest{Bucket: oss.Ptr(bkt), Key: oss.Ptr("times/mp"),
			UploadId: init.UploadId, PartNumber: 1, Body: strings.NewReader("part")}); err != nil {
			t.Fatal(err)
		}
		parts, err := c.ListParts(ctx, &oss.ListPartsRequest{Bucket: oss.Ptr(bkt), Key: oss.Ptr("times/mp"), UploadId: init.UploadId})
		if err != nil || len(parts.Parts) != 1 || parts.Parts[0].LastModified.Nanosecond() != 0 {
			t.Errorf("ListParts: %v, %+v", err, parts)
		}

		for _, v2 := range []bool{false, true} {
			body := rawList(t, c, v2, "times/")
			m := lastModifiedXML.FindAllStringSubmatch(body, -1)
			if len(m) != 4 {
				t.Fatalf("v2=%v: %d LastModified elements in %s", v2, len(m), body)
			}
			for _, s := range m {
				if !strings.HasSuffix(s[1], ".000Z") {
					t.Errorf("v2=%v: listed LastModified %q is not whole seconds", v2, s[1])
				}
			}
		}
		lst, err := c.ListObjectsV2(ctx, &oss.ListObjectsV2Request{Bucket: oss.Ptr(bkt), Prefix: oss.Ptr("times/")})
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range lst.Contents {
			key := oss.ToString(o.Key)
			listed := *o.LastModified
			var fromHeaders []time.Time
			meta, err := c.GetObjectMeta(ctx, &oss.GetObjectMetaRequest{Bucket: oss.Ptr(bkt), Key: o.Key})
			if err != nil {
				t.Fatal(err)
			}
			fromHeaders = append(fromHeaders, *meta.LastModified)
			if key == "times/link" {
				res, err := c.GetSymlink(ctx, &oss.GetSymlinkRequest{Bucket: oss.Ptr(bkt), Key: o.Key})
				if err != nil {
					t.Fatal(err)
				}
				lm, err := http.ParseTime(res.Headers.Get("Last-Modified"))
				if err != nil {
					t.Fatal(err)
				}
				fromHeaders = append(fromHeaders, lm)
			} else { // HEAD and GET follow a link: they report the later time of the two
				hd, err := c.HeadObject(ctx, &oss.HeadObjectRequest{Bucket: oss.Ptr(bkt), Key: o.Key})
				if err != nil {
					t.Fatal(err)
				}
				_, g := get(t, c, key)
				fromHeaders = append(fromHeaders, *hd.LastModified, *g.LastModified)
			}
			for i, h := range fromHeaders {
				if !h.Equal(listed) {
					t.Errorf("%s: listed %v, header %d says %v", key, listed, i, h)
				}
			}
		}
	})
}

// TestGetObjectMetaOnSymlink: GetObjectMeta does not follow a link (OSS:
// "If the object is a symbolic link, the information about the symbolic
// link is returned"): ETag, Last-Modified and Content-Length are the
// link's own, the same as its listing entry and GetSymlink, also when the
// target is missing or is itself a link. A link's size, listed and here,
// is the byte length of its target key. HEAD and GET still follow.
func TestGetObjectMetaOnSymlink(t *testing.T) {
	signings(t, func(t *testing.T, extra ...clientOpt) {
		c := newClient(start(t, osstest.Options{}), extra...)
		body := bytes.Repeat([]byte("x"), 1000)
		target := "meta/the target ü"
		tres := put(t, c, target, body, nil)
		for link, to := range map[string]string{"meta/link": target, "meta/dangling": "meta/nothing here",
			"meta/link2": "meta/link"} {
			if err := putLink(c, link, to, nil); err != nil {
				t.Fatal(err)
			}
			sl, err := c.GetSymlink(ctx, &oss.GetSymlinkRequest{Bucket: oss.Ptr(bkt), Key: oss.Ptr(link)})
			if err != nil {
				t.Fatal(err)
			}
			meta, err := c.GetObjectMeta(ctx, &oss.GetObjectMetaRequest{Bucket: oss.Ptr(bkt), Key: oss.Ptr(link)})
			if err != nil {
				t.Fatalf("GetObjectMeta %s: %v", link, err)
			}
			lst, err := c.ListObjectsV2(ctx, &oss.ListObjectsV2Request{Bucket: oss.Ptr(bkt), Prefix: oss.Ptr(link)})
			if err != nil || len(lst.Contents) == 0 || oss.ToString(lst.Contents[0].Key) != link {
				t.Fatalf("list %s: %v", link, err)
			}
			listed := lst.Contents[0]
			if want := int64(len(to)); meta.ContentLength != want || listed.Size != want {
				t.Errorf("%s: GetObjectMeta size %d, listed %d, want %d (the target key's length)",
					link, meta.ContentLength, listed.Size, want)
			}
			if e := oss.ToString(meta.ETag); e != oss.ToString(sl.ETag) || e != oss.ToString(listed.ETag) || e == oss.ToString(tres.ETag) {
				t.Errorf("%s: ETag meta %s, GetSymlink %s, listed %s, target %s", link, e,
					oss.ToString(sl.ETag), oss.ToString(listed.ETag), oss.ToString(tres.ETag))
			}
			if meta.LastAccessTime != nil { // OSS sends it only with access tracking on; the server has none
				t.Errorf("%s: x-oss-last-access-time %v", link, meta.LastAccessTime)
			}
			if lm := sl.Headers.Get("Last-Modified"); !meta.LastModified.Equal(*listed.LastModified) ||
				meta.Headers.Get("Last-Modified") != lm {
				t.Errorf("%s: Last-Modified meta %v, listed %v, GetSymlink %s", link, meta.LastModified, listed.LastModified, lm)
			}
		}
		hd, err := c.HeadObject(ctx, &oss.HeadObjectRequest{Bucket: oss.Ptr(bkt), Key: oss.Ptr("meta/link")})
		if err != nil {
			t.Fatal(err)
		}
		if hd.ContentLength != int64(len(body)) || oss.ToString(hd.ETag) != oss.ToString(tres.ETag) ||
			oss.ToString(hd.ObjectType) != "Symlink" {
			t.Errorf("HEAD on a link: length %d, ETag %s, type %s: want the target's, type Symlink",
				hd.ContentLength, oss.ToString(hd.ETag), oss.ToString(hd.ObjectType))
		}
		if data, _ := get(t, c, "meta/link"); !bytes.Equal(data, body) {
			t.Errorf("GET on a link returned %d bytes", len(data))
		}
		_, err = c.HeadObject(ctx, &oss.HeadObjectRequest{Bucket: oss.Ptr(bkt), Key: oss.Ptr("meta/dangling")})
		wantCode(t, err, 404, "SymlinkTargetNotExist")
	})
}

// TestOlderDirectoryStoreIsNormalized: metadata written by an earlier
// server (sub-second times, a link of size 0) is served as the current
// server would have stored it.
func TestOlderDirectoryStoreIsNormalized(t *testing.T) {
	dir := t.TempDir()
	srv := start(t, osstest.Options{Dir: dir})
	c := newClient(srv)
	put(t, c, "old/plain", []byte("plain"), nil)
	if err := putLink(c, "old/link", "old/plain", nil); err != nil {
		t.Fatal(err)
	}
	_ = srv.Close()
	files, _ := filepath.Glob(filepath.Join(dir, "buckets", bkt, "*.json"))
	if len(files) != 2 {
		t.Fatalf("%d metadata files", len(files))
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatal(err)
		}
		m["modified"] = "2026-01-02T03:04:05.678901234Z"
		if m["type"] == "Symlink" {
			m["size"] = 0
		}
		if data, err = json.Marshal(m); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(f, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	c = newClient(start(t, osstest.Options{Dir: dir}))
	body := rawList(t, c, true, "old/")
	if n := strings.Count(body, "<LastModified>2026-01-02T03:04:05.000Z</LastModified>"); n != 2 {
		t.Errorf("times not truncated on load: %s", body)
	}
	if !strings.Contains(body, "<Size>9</Size>") {
		t.Errorf("the link's size is not its target's length: %s", body)
	}
}
