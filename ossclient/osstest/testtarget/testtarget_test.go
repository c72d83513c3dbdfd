package testtarget

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"

	"github.com/ossfs/ossfs/ossclient/osstest"
)

// TestCleanup: everything under the run's prefix goes, objects and open
// multipart uploads; nothing outside it is touched.
func TestCleanup(t *testing.T) {
	ctx := context.Background()
	tg := local(t, "")
	tg.Prefix = "ossfs-conformance/run/"
	c := tg.SDK()
	keys := []string{"ossfs-conformance/run/a", "ossfs-conformance/run/d/b", "ossfs-conformance/other", "outside"}
	for i := range 1100 { // more than one page of DeleteMultipleObjects
		keys = append(keys, "ossfs-conformance/run/many/"+strings.Repeat("x", i%7)+string(rune('a'+i%26))+"-"+strconv.Itoa(i))
	}
	for _, k := range keys {
		if _, err := c.PutObject(ctx, &oss.PutObjectRequest{Bucket: &tg.Bucket, Key: oss.Ptr(k), Body: strings.NewReader(k)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.InitiateMultipartUpload(ctx, &oss.InitiateMultipartUploadRequest{Bucket: &tg.Bucket,
		Key: oss.Ptr("ossfs-conformance/run/upload")}); err != nil {
		t.Fatal(err)
	}
	tg.cleanup(t)
	if n := tg.Server.OpenUploads(tg.Bucket); n != 0 {
		t.Errorf("%d uploads left open", n)
	}
	lst, err := c.ListObjectsV2(ctx, &oss.ListObjectsV2Request{Bucket: &tg.Bucket})
	if err != nil {
		t.Fatal(err)
	}
	var left []string
	for _, o := range lst.Contents {
		left = append(left, oss.ToString(o.Key))
	}
	if strings.Join(left, " ") != "ossfs-conformance/other outside" {
		t.Errorf("left after cleanup: %q", left)
	}
}

func TestLocalOptions(t *testing.T) {
	t.Setenv(EnvStorage, "")
	if o := LocalOptions(t, osstest.Options{}); o.Dir != "" {
		t.Errorf("memory storage by default, got Dir %q", o.Dir)
	}
	t.Setenv(EnvStorage, "dir")
	if o := LocalOptions(t, osstest.Options{}); o.Dir == "" {
		t.Error("OSSFS_TEST_STORAGE=dir gave no Dir")
	}
	if o := LocalOptions(t, osstest.Options{Dir: "/mine"}); o.Dir != "/mine" {
		t.Errorf("a test's own Dir was replaced by %q", o.Dir)
	}
}
