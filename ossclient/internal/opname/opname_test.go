package opname

import (
	"net/url"
	"testing"
)

func TestOf(t *testing.T) {
	cases := []struct {
		method, query string
		bucket, key   bool
		copySource    bool
		want          string
	}{
		{"GET", "", false, false, false, "ListBuckets"},
		{"PUT", "", false, false, false, Unknown},
		{"GET", "prefix=a&delimiter=%2F&max-keys=10&encoding-type=url", true, false, false, "ListObjects"},
		{"GET", "list-type=2&continuation-token=x", true, false, false, "ListObjectsV2"},
		{"GET", "uploads", true, false, false, "ListMultipartUploads"},
		{"GET", "bucketInfo", true, false, false, "GetBucketInfo"},
		{"GET", "location", true, false, false, "GetBucketLocation"},
		{"GET", "cors", true, false, false, Unknown},
		{"POST", "delete", true, false, false, "DeleteMultipleObjects"},
		{"PUT", "", true, true, false, "PutObject"},
		{"PUT", "", true, true, true, "CopyObject"},
		{"PUT", "symlink", true, true, false, "PutSymlink"},
		{"PUT", "partNumber=1&uploadId=u", true, true, false, "UploadPart"},
		{"PUT", "partNumber=1&uploadId=u", true, true, true, "UploadPartCopy"},
		{"PUT", "acl", true, true, false, Unknown},
		{"GET", "", true, true, false, "GetObject"},
		{"GET", "response-content-type=x", true, true, false, "GetObject"},
		{"GET", "symlink", true, true, false, "GetSymlink"},
		{"GET", "uploadId=u", true, true, false, "ListParts"},
		{"GET", "acl", true, true, false, "GetObjectAcl"},
		{"HEAD", "", true, true, false, "HeadObject"},
		{"HEAD", "objectMeta", true, true, false, "GetObjectMeta"},
		{"POST", "append&position=0", true, true, false, "AppendObject"},
		{"POST", "uploads", true, true, false, "InitiateMultipartUpload"},
		{"POST", "uploadId=u", true, true, false, "CompleteMultipartUpload"},
		{"DELETE", "", true, true, false, "DeleteObject"},
		{"DELETE", "uploadId=u", true, true, false, "AbortMultipartUpload"},
	}
	for _, c := range cases {
		q, err := url.ParseQuery(c.query)
		if err != nil {
			t.Fatal(err)
		}
		got := Of(Request{Method: c.method, HasBucket: c.bucket, HasKey: c.key, Query: q, CopySource: c.copySource})
		if got != c.want {
			t.Errorf("%s ?%s bucket=%v key=%v copy=%v: %s, want %s", c.method, c.query, c.bucket, c.key, c.copySource, got, c.want)
		}
	}
}
