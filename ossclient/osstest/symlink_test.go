package osstest_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"

	"github.com/ossfs/ossfs/ossclient/osstest"
)

// encodeTarget is the client-side wire encoding of x-oss-symlink-target (as
// ossclient does it): percent-encode all but unreserved bytes and "/".
func encodeTarget(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || strings.IndexByte("-_.~/", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

func putLink(c *oss.Client, link, target string, meta map[string]string) error {
	_, err := c.PutSymlink(ctx, &oss.PutSymlinkRequest{Bucket: oss.Ptr(bkt), Key: oss.Ptr(link),
		Target: oss.Ptr(encodeTarget(target)), Metadata: meta})
	return err
}

func readLink(t *testing.T, c *oss.Client, link string) (string, *oss.GetSymlinkResult) {
	t.Helper()
	res, err := c.GetSymlink(ctx, &oss.GetSymlinkRequest{Bucket: oss.Ptr(bkt), Key: oss.Ptr(link)})
	if err != nil {
		t.Fatalf("GetSymlink %q: %v", link, err)
	}
	raw := oss.ToString(res.Target)
	dec, err := url.PathUnescape(raw)
	if err != nil {
		t.Fatalf("target header %q is not percent-encoded: %v", raw, err)
	}
	return dec, res
}

func TestSymlinkTargetsRoundTrip(t *testing.T) {
	srv := start(t, osstest.Options{})
	targets := []string{
		"plain.txt", "dir/with space/file name", "a+b+c", "100%", "100%25 literal", "what?.txt",
		"hash#tag", "日本語/ファイル.txt", "mixed + %20 ? # 中文/", "../outside/../x", "trailing/",
		"emoji 🎉", "semi;colon,comma=eq&amp",
	}
	signings(t, func(t *testing.T, extra ...clientOpt) {
		c := newClient(srv, extra...)
		for i, target := range targets {
			link := fmt.Sprintf("links/l%d-%d", len(extra), i)
			if err := putLink(c, link, target, map[string]string{"literal": "x"}); err != nil {
				t.Fatalf("PutSymlink %q: %v", target, err)
			}
			got, res := readLink(t, c, link)
			if got != target {
				t.Errorf("target %q came back as %q (raw %q)", target, got, oss.ToString(res.Target))
			}
			if raw := oss.ToString(res.Target); strings.ContainsAny(raw, " +") {
				t.Errorf("raw header %q must encode space and +", raw)
			}
			if res.Metadata["literal"] != "x" || oss.ToString(res.ETag) == "" {
				t.Errorf("link metadata %v etag %q", res.Metadata, oss.ToString(res.ETag))
			}
		}
	})
}

func TestSymlinkSemantics(t *testing.T) {
	srv := start(t, osstest.Options{})
	signings(t, func(t *testing.T, extra ...clientOpt) {
		c := newClient(srv, append(extra, noRetry)...)
		p := fmt.Sprintf("s%d/", len(extra))
		data := []byte("target bytes")
		pres := put(t, c, p+"target file", data, map[string]string{"owner": "target"})
		if err := putLink(c, p+"link", p+"target file", map[string]string{"owner": "link"}); err != nil {
			t.Fatal(err)
		}
		// GET and HEAD follow the link.
		got, gres := get(t, c, p+"link")
		if string(got) != string(data) || oss.ToString(gres.ObjectType) != "Symlink" || oss.ToString(gres.ETag) != oss.ToString(pres.ETag) {
			t.Fatalf("GET via link: %q type %q etag %q", got, oss.ToString(gres.ObjectType), oss.ToString(gres.ETag))
		}
		h, err := c.HeadObject(ctx, &oss.HeadObjectRequest{Bucket: oss.Ptr(bkt), Key: oss.Ptr(p + "link")})
		if err != nil || h.ContentLength != int64(len(data)) || oss.ToString(h.ObjectType) != "Symlink" {
			t.Fatalf("HEAD via link: %v %+v", err, h)
		}
		// Dangling link, link to a link, GetSymlink on a plain object and on nothing.
		if err := putLink(c, p+"dangling", p+"nothing here", nil); err != nil {
			t.Fatal(err)
		}
		_, err = c.HeadObject(ctx, &oss.HeadObjectRequest{Bucket: oss.Ptr(bkt), Key: oss.Ptr(p + "dangling")})
		wantCode(t, err, 404, "SymlinkTargetNotExist")
		_, err = c.GetObject(ctx, &oss.GetObjectRequest{Bucket: oss.Ptr(bkt), Key: oss.Ptr(p + "dangling")})
		wantCode(t, err, 404, "SymlinkTargetNotExist")
		if err := putLink(c, p+"link2", p+"link", nil); err != nil {
			t.Fatal(err)
		}
		_, err = c.GetObject(ctx, &oss.GetObjectRequest{Bucket: oss.Ptr(bkt), Key: oss.Ptr(p + "link2")})
		wantCode(t, err, 400, "InvalidTargetType")
		_, err = c.HeadObject(ctx, &oss.HeadObjectRequest{Bucket: oss.Ptr(bkt), Key: oss.Ptr(p + "link2")})
		wantCode(t, err, 400, "InvalidTargetType")
		_, err = c.GetSymlink(ctx, &oss.GetSymlinkRequest{Bucket: oss.Ptr(bkt), Key: oss.Ptr(p + "target file")})
		wantCode(t, err, 400, "NotSymlink")
		if ec := svcErr(t, err).EC; ec != "0043-00000101" { // documented EC of GetSymlink on a non-link
			t.Errorf("GetSymlink on a plain object: EC %s", ec)
		}
		_, err = c.GetSymlink(ctx, &oss.GetSymlinkRequest{Bucket: oss.Ptr(bkt), Key: oss.Ptr(p + "missing")})
		wantCode(t, err, 404, "NoSuchKey")
		// forbid-overwrite, ACL and storage class.
		_, err = c.PutSymlink(ctx, &oss.PutSymlinkRequest{Bucket: oss.Ptr(bkt), Key: oss.Ptr(p + "link"),
			Target: oss.Ptr("x"), ForbidOverwrite: oss.Ptr("true")})
		wantCode(t, err, 409, "FileAlreadyExists")
		_, err = c.PutSymlink(ctx, &oss.PutSymlinkRequest{Bucket: oss.Ptr(bkt), Key: oss.Ptr(p + "acl"),
			Target: oss.Ptr("x"), Acl: oss.ObjectACLPrivate, StorageClass: oss.StorageClassIA})
		if err != nil {
			t.Fatalf("PutSymlink with ACL and storage class: %v", err)
		}
		checkLinkACLAndClass(t, c, p)
		_, err = c.PutSymlink(ctx, &oss.PutSymlinkRequest{Bucket: oss.Ptr(bkt), Key: oss.Ptr(p + "badacl"),
			Target: oss.Ptr("x"), Acl: "nonsense"})
		wantCode(t, err, 400, "InvalidArgument")
		// Listing shows the type; copy and delete act on the link itself.
		lr, err := c.ListObjectsV2(ctx, &oss.ListObjectsV2Request{Bucket: oss.Ptr(bkt), Prefix: oss.Ptr(p)})
		if err != nil {
			t.Fatal(err)
		}
		types := map[string]string{}
		for _, o := range lr.Contents {
			types[oss.ToString(o.Key)] = oss.ToString(o.Type)
		}
		if types[p+"link"] != "Symlink" || types[p+"target file"] != "Normal" || types[p+"dangling"] != "Symlink" {
			t.Fatalf("listing types: %v", types)
		}
		if _, err := c.CopyObject(ctx, &oss.CopyObjectRequest{Bucket: oss.Ptr(bkt), Key: oss.Ptr(p + "link copy"),
			SourceKey: oss.Ptr(p + "link")}); err != nil {
			t.Fatal(err)
		}
		if tgt, res := readLink(t, c, p+"link copy"); tgt != p+"target file" || res.Metadata["owner"] != "link" {
			t.Fatalf("copied link: %q %v", tgt, res.Metadata)
		}
		if _, err := c.DeleteObject(ctx, &oss.DeleteObjectRequest{Bucket: oss.Ptr(bkt), Key: oss.Ptr(p + "link")}); err != nil {
			t.Fatal(err)
		}
		if got, _ := get(t, c, p+"target file"); string(got) != string(data) {
			t.Fatal("deleting the link touched the target")
		}
	})
}

// checkLinkACLAndClass: the ACL and storage class given to PutSymlink belong
// to the link (GetObjectAcl does not follow it, listings show the class),
// and forbid-overwrite lets a link be created where nothing exists.
func checkLinkACLAndClass(t *testing.T, c *oss.Client, p string) {
	t.Helper()
	acl := func(key string) string {
		r, err := c.GetObjectAcl(ctx, &oss.GetObjectAclRequest{Bucket: oss.Ptr(bkt), Key: oss.Ptr(key)})
		if err != nil {
			t.Fatalf("GetObjectAcl %q: %v", key, err)
		}
		return oss.ToString(r.ACL)
	}
	if got := acl(p + "acl"); got != "private" {
		t.Fatalf("link ACL %q, want private", got)
	}
	if got := acl(p + "target file"); got != "default" {
		t.Fatalf("plain object ACL %q, want default", got)
	}
	_, err := c.GetObjectAcl(ctx, &oss.GetObjectAclRequest{Bucket: oss.Ptr(bkt), Key: oss.Ptr(p + "missing")})
	wantCode(t, err, 404, "NoSuchKey")
	lr, err := c.ListObjectsV2(ctx, &oss.ListObjectsV2Request{Bucket: oss.Ptr(bkt), Prefix: oss.Ptr(p + "acl")})
	if err != nil || len(lr.Contents) != 1 || oss.ToString(lr.Contents[0].StorageClass) != "IA" {
		t.Fatalf("listing of the IA link: %v %+v", err, lr)
	}
	_, err = c.PutSymlink(ctx, &oss.PutSymlinkRequest{Bucket: oss.Ptr(bkt), Key: oss.Ptr(p + "new forbid"),
		Target: oss.Ptr("x"), ForbidOverwrite: oss.Ptr("true")})
	if err != nil {
		t.Fatalf("forbid-overwrite on a free key: %v", err)
	}
}
