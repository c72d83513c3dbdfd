package osstest_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"

	"github.com/ossfs/ossfs/ossclient/osstest"
)

func TestConditionalGet(t *testing.T) {
	srv := start(t, osstest.Options{})
	c := newClient(srv, noRetry)
	res := put(t, c, "cond", []byte("v1"), nil)
	etag := oss.ToString(res.ETag)
	_, err := c.GetObject(ctx, &oss.GetObjectRequest{Bucket: oss.Ptr(bkt), Key: oss.Ptr("cond"), IfMatch: oss.Ptr(`"0000"`)})
	wantCode(t, err, 412, "PreconditionFailed")
	if _, err := c.GetObject(ctx, &oss.GetObjectRequest{Bucket: oss.Ptr(bkt), Key: oss.Ptr("cond"), IfMatch: oss.Ptr(etag)}); err != nil {
		t.Fatalf("If-Match with the ETag: %v", err)
	}
	_, err = c.GetObject(ctx, &oss.GetObjectRequest{Bucket: oss.Ptr(bkt), Key: oss.Ptr("cond"), IfNoneMatch: oss.Ptr(etag)})
	if se := svcErr(t, err); se.StatusCode != 304 {
		t.Fatalf("If-None-Match: %d", se.StatusCode)
	}
	future := time.Now().Add(time.Hour).UTC().Format(http.TimeFormat)
	_, err = c.HeadObject(ctx, &oss.HeadObjectRequest{Bucket: oss.Ptr(bkt), Key: oss.Ptr("cond"), IfModifiedSince: oss.Ptr(future)})
	if se := svcErr(t, err); se.StatusCode != 304 {
		t.Fatalf("If-Modified-Since: %d", se.StatusCode)
	}
}

// TestWireForms pins wire details the SDK hides: url-encoded listing keys
// (space %20, "+" %2B), the percent-encoded symlink target header, and the
// part order rule that the SDK's own sorting never exercises.
func TestWireForms(t *testing.T) {
	srv := start(t, osstest.Options{})
	c := newClient(srv, noRetry)
	put(t, c, "top+1", []byte("x"), nil)
	put(t, c, "top 2", []byte("x"), nil)
	if err := putLink(c, "lnk", "a b+c/ü", nil); err != nil {
		t.Fatal(err)
	}
	raw := func(method, query, key string, hdr map[string]string) (*http.Response, string) {
		req, _ := http.NewRequest(method, srv.Endpoint()+"/"+bkt+"/"+key+query, nil)
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		res := "/" + bkt + "/" + key
		if strings.Contains(query, "symlink") {
			res += "?symlink"
		}
		v1Sign(req, res, osstest.DefaultAccessKeyID, osstest.DefaultAccessKeySecret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp, string(b)
	}
	_, body := raw("GET", "?list-type=2&encoding-type=url&prefix=top", "", nil)
	if !strings.Contains(body, "<Key>top%2B1</Key>") || !strings.Contains(body, "<Key>top%202</Key>") || !strings.Contains(body, "<Type>Normal</Type>") {
		t.Fatalf("encoded listing: %s", body)
	}
	_, body = raw("GET", "?prefix=top", "", nil)
	if !strings.Contains(body, "<Key>top+1</Key>") || !strings.Contains(body, "<Key>top 2</Key>") {
		t.Fatalf("plain listing: %s", body)
	}
	resp, _ := raw("GET", "?symlink", "lnk", nil)
	if got := resp.Header.Get("x-oss-symlink-target"); got != "a%20b%2Bc/%C3%BC" {
		t.Fatalf("target header %q", got)
	}
	// A client that encodes "/" too (the PHP SDK's rawurlencode) names the
	// same target; the answer keeps "/" plain.
	if _, err := c.PutSymlink(ctx, &oss.PutSymlinkRequest{Bucket: oss.Ptr(bkt), Key: oss.Ptr("lnk2"),
		Target: oss.Ptr("a%20b%2Bc%2F%C3%BC")}); err != nil {
		t.Fatal(err)
	}
	if resp, _ := raw("GET", "?symlink", "lnk2", nil); resp.Header.Get("x-oss-symlink-target") != "a%20b%2Bc/%C3%BC" {
		t.Fatalf("target header for a %%2F-encoded target: %q", resp.Header.Get("x-oss-symlink-target"))
	}

	init, err := c.InitiateMultipartUpload(ctx, &oss.InitiateMultipartUploadRequest{Bucket: oss.Ptr(bkt), Key: oss.Ptr("mp")})
	if err != nil {
		t.Fatal(err)
	}
	partBody := map[int32]string{1: strings.Repeat("p", 100<<10), 2: "p"}
	for _, n := range []int32{1, 2} {
		if _, err := c.UploadPart(ctx, &oss.UploadPartRequest{Bucket: oss.Ptr(bkt), Key: oss.Ptr("mp"), UploadId: init.UploadId, PartNumber: n, Body: strings.NewReader(partBody[n])}); err != nil {
			t.Fatal(err)
		}
	}
	_, err = c.InvokeOperation(ctx, &oss.OperationInput{OpName: "CompleteMultipartUpload", Method: "POST", Bucket: oss.Ptr(bkt), Key: oss.Ptr("mp"),
		Parameters: map[string]string{"uploadId": oss.ToString(init.UploadId)},
		Body: strings.NewReader(`<CompleteMultipartUpload><Part><PartNumber>2</PartNumber><ETag>"x"</ETag></Part>` +
			`<Part><PartNumber>1</PartNumber><ETag>"y"</ETag></Part></CompleteMultipartUpload>`)})
	wantCode(t, err, 400, "InvalidPartOrder")
	// x-oss-complete-all takes every uploaded part.
	_, err = c.CompleteMultipartUpload(ctx, &oss.CompleteMultipartUploadRequest{Bucket: oss.Ptr(bkt), Key: oss.Ptr("mp"),
		UploadId: init.UploadId, CompleteAll: oss.Ptr("yes")})
	if err != nil {
		t.Fatalf("complete-all: %v", err)
	}
	if got, _ := get(t, c, "mp"); string(got) != partBody[1]+partBody[2] {
		t.Fatalf("complete-all object: %d bytes", len(got))
	}
	// Bucket-level helpers and a quiet multi-delete.
	if _, err := c.GetBucketInfo(ctx, &oss.GetBucketInfoRequest{Bucket: oss.Ptr(bkt)}); err != nil {
		t.Fatalf("GetBucketInfo: %v", err)
	}
	lb, err := c.ListBuckets(ctx, &oss.ListBucketsRequest{})
	if err != nil || len(lb.Buckets) != 1 || oss.ToString(lb.Buckets[0].Name) != bkt {
		t.Fatalf("ListBuckets: %v %+v", err, lb)
	}
	dr, err := c.DeleteMultipleObjects(ctx, &oss.DeleteMultipleObjectsRequest{Bucket: oss.Ptr(bkt), Quiet: true,
		Objects: []oss.DeleteObject{{Key: oss.Ptr("top+1")}, {Key: oss.Ptr("top 2")}}})
	if err != nil || len(dr.DeletedObjects) != 0 {
		t.Fatalf("quiet delete: %v %+v", err, dr)
	}
	if ok, _ := c.IsObjectExist(ctx, bkt, "top 2"); ok {
		t.Fatal("quiet delete did not delete")
	}
}

// TestEndpointOfWildcardListen: a server on every interface gives clients a
// dialable loopback endpoint, not "[::]" or "0.0.0.0".
func TestEndpointOfWildcardListen(t *testing.T) {
	for _, addr := range []string{":0", "0.0.0.0:0"} {
		srv := start(t, osstest.Options{Addr: addr})
		if ep := srv.Endpoint(); !strings.HasPrefix(ep, "http://127.0.0.1:") || strings.HasSuffix(ep, ":0") {
			t.Fatalf("listening on %s, endpoint %q", addr, ep)
		}
		c := newClient(srv)
		put(t, c, "k", []byte("v"), nil)
		if got, _ := get(t, c, "k"); string(got) != "v" {
			t.Fatalf("got %q", got)
		}
	}
}
