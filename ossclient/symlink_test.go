package ossclient_test

import (
	"context"
	"errors"
	"testing"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/credentials"
	"github.com/ossfs/ossfs/ossclient"
	"github.com/ossfs/ossfs/ossclient/osstest"
)

func TestConformanceSymlinkContract(t *testing.T) {
	onTargets(t, func(t *testing.T, c *ossclient.Client) {
		ctx := context.Background()
		put(t, c, "dir/target.txt", "target bytes", ossclient.PutOptions{})

		err := c.PutSymlink(ctx, "ln", "dir/target.txt", ossclient.SymlinkOptions{
			Meta: map[string]string{"Ossfs-Literal": "dir/target.txt"}, ACL: "private", StorageClass: "Standard",
		})
		if err != nil {
			t.Fatal(err)
		}
		s, err := c.GetSymlink(ctx, "ln")
		if err != nil {
			t.Fatal(err)
		}
		if s.Target != "dir/target.txt" || s.Meta["ossfs-literal"] != "dir/target.txt" || s.ETag == "" || s.ModTime.IsZero() {
			t.Errorf("GetSymlink = %+v", s)
		}
		st, err := c.Stat(ctx, "ln")
		if err != nil || st.Type != ossclient.TypeSymlink || !st.IsSymlink() || st.Size != 12 {
			t.Errorf("Stat link = %+v, %v", st, err)
		}
		if got := read(t, c, "ln", 0, -1); got != "target bytes" {
			t.Errorf("Read through link = %q", got)
		}
		if got := read(t, c, "ln", 7, 3); got != "byt" {
			t.Errorf("ranged Read through link = %q", got)
		}

		// Targets that need encoding come back byte for byte.
		for _, target := range []string{"a b", "a+b", "100%", "%20", "ü/日本", "x?y#z", "a//b", "~/.config", "sp ace+plus%pct/ü"} {
			if err := c.PutSymlink(ctx, "enc", target, ossclient.SymlinkOptions{}); err != nil {
				t.Errorf("PutSymlink -> %q: %v", target, err)
				continue
			}
			if s, err := c.GetSymlink(ctx, "enc"); err != nil || s.Target != target {
				t.Errorf("GetSymlink after PutSymlink -> %q = %+v, %v", target, s, err)
			}
		}
		// The target key is what OSS follows: a link to "a b" reads "a b".
		put(t, c, "a b", "spaced", ossclient.PutOptions{})
		if err := c.PutSymlink(ctx, "to-space", "a b", ossclient.SymlinkOptions{}); err != nil {
			t.Fatal(err)
		}
		if got := read(t, c, "to-space", 0, -1); got != "spaced" {
			t.Errorf("Read via link to %q = %q", "a b", got)
		}
		put(t, c, "a+b", "plussed", ossclient.PutOptions{})
		if err := c.PutSymlink(ctx, "to-plus", "a+b", ossclient.SymlinkOptions{}); err != nil {
			t.Fatal(err)
		}
		if got := read(t, c, "to-plus", 0, -1); got != "plussed" {
			t.Errorf("Read via link to %q = %q", "a+b", got)
		}

		// Dangling: Stat says so, GetSymlink still works.
		if err := c.PutSymlink(ctx, "dangling", "no/such", ossclient.SymlinkOptions{}); err != nil {
			t.Fatal(err)
		}
		_, err = c.Stat(ctx, "dangling")
		wantKind(t, "Stat dangling", err, ossclient.ErrDanglingSymlink)
		if errors.Is(err, ossclient.ErrNotFound) {
			t.Errorf("a dangling link reads as not found")
		}
		_, err = c.Read(ctx, "dangling", 0, -1)
		wantKind(t, "Read dangling", err, ossclient.ErrDanglingSymlink)
		if s, err := c.GetSymlink(ctx, "dangling"); err != nil || s.Target != "no/such" {
			t.Errorf("GetSymlink dangling = %+v, %v", s, err)
		}

		// Not a link, missing, forbid-overwrite.
		_, err = c.GetSymlink(ctx, "dir/target.txt")
		wantKind(t, "GetSymlink on a plain object", err, ossclient.ErrNotSymlink)
		_, err = c.GetSymlink(ctx, "missing")
		wantKind(t, "GetSymlink missing", err, ossclient.ErrNotFound)
		err = c.PutSymlink(ctx, "ln", "other", ossclient.SymlinkOptions{ForbidOverwrite: true})
		wantKind(t, "PutSymlink forbid-overwrite on a link", err, ossclient.ErrAlreadyExists)
		err = c.PutSymlink(ctx, "dir/target.txt", "other", ossclient.SymlinkOptions{ForbidOverwrite: true})
		wantKind(t, "PutSymlink forbid-overwrite on an object", err, ossclient.ErrAlreadyExists)
		if err := c.PutSymlink(ctx, "fresh", "x", ossclient.SymlinkOptions{ForbidOverwrite: true}); err != nil {
			t.Errorf("PutSymlink forbid-overwrite on a new key: %v", err)
		}
		// Overwrite without the flag replaces the link.
		if err := c.PutSymlink(ctx, "ln", "other", ossclient.SymlinkOptions{}); err != nil {
			t.Fatal(err)
		}
		if s, _ := c.GetSymlink(ctx, "ln"); s == nil || s.Target != "other" {
			t.Errorf("overwritten link = %+v", s)
		}

		// Copy copies the link itself.
		if err := c.PutSymlink(ctx, "ln2", "dir/target.txt", ossclient.SymlinkOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Copy(ctx, "ln2", "ln2copy", ossclient.CopyOptions{}); err != nil {
			t.Fatal(err)
		}
		if s, err := c.GetSymlink(ctx, "ln2copy"); err != nil || s.Target != "dir/target.txt" {
			t.Errorf("copied link = %+v, %v", s, err)
		}
		if _, err := c.Copy(ctx, "dangling", "dangling2", ossclient.CopyOptions{}); err != nil {
			t.Errorf("Copy of a dangling link: %v", err)
		}
		if s, err := c.GetSymlink(ctx, "dangling2"); err != nil || s.Target != "no/such" {
			t.Errorf("copied dangling link = %+v, %v", s, err)
		}

		// A link to a link: OSS does not follow it; HEAD and GET say so.
		if err := c.PutSymlink(ctx, "ln3", "ln2", ossclient.SymlinkOptions{}); err != nil {
			t.Fatal(err)
		}
		_, err = c.Stat(ctx, "ln3")
		wantKind(t, "Stat of a link to a link", err, ossclient.ErrUnfollowableSymlink)
		_, err = c.Read(ctx, "ln3", 0, -1)
		wantKind(t, "Read of a link to a link", err, ossclient.ErrUnfollowableSymlink)
	})
}

func TestPrefixContract(t *testing.T) {
	bothSignatures(t, func(t *testing.T, sig int) {
		ctx := context.Background()
		srv := startServer(t, osstest.Options{})
		raw := newClient(t, srv, sig, "")
		c := newClient(t, srv, sig, "/p/q")
		if c.Prefix() != "p/q/" {
			t.Fatalf("Prefix() = %q", c.Prefix())
		}

		put(t, c, "f", "in prefix", ossclient.PutOptions{})
		if got := read(t, raw, "p/q/f", 0, -1); got != "in prefix" {
			t.Errorf("raw read of p/q/f = %q", got)
		}
		put(t, raw, "p/q/", "", ossclient.PutOptions{}) // the prefix's marker
		put(t, raw, "p/q/sub/g", "g", ossclient.PutOptions{})
		put(t, raw, "p/x", "outside", ossclient.PutOptions{})
		put(t, raw, "p/qq", "sibling", ossclient.PutOptions{})

		l, err := c.List(ctx, "", ossclient.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var keys []string
		for _, o := range l.Objects {
			keys = append(keys, o.Key)
		}
		if len(keys) != 2 || keys[0] != "" || keys[1] != "f" || len(l.Prefixes) != 1 || l.Prefixes[0] != "sub/" {
			t.Errorf("List in prefix: objects %q prefixes %q", keys, l.Prefixes)
		}
		if st, err := c.Stat(ctx, "sub/g"); err != nil || st.Key != "sub/g" {
			t.Errorf("Stat sub/g = %+v, %v", st, err)
		}

		// Targets inside, one up, two up; three up is above the bucket.
		cases := []struct{ target, key string }{
			{"f", "p/q/f"}, {"sub/g", "p/q/sub/g"}, {"../x", "p/x"}, {"../../top", "top"}, {"../qq", "p/qq"},
		}
		for _, cs := range cases {
			if err := c.PutSymlink(ctx, "ln", cs.target, ossclient.SymlinkOptions{}); err != nil {
				t.Fatalf("PutSymlink -> %q: %v", cs.target, err)
			}
			if s, err := raw.GetSymlink(ctx, "p/q/ln"); err != nil || s.Target != cs.key {
				t.Errorf("target %q: bucket target = %+v, %v; want %q", cs.target, s, err, cs.key)
			}
			if s, err := c.GetSymlink(ctx, "ln"); err != nil || s.Target != cs.target {
				t.Errorf("target %q: read back %+v, %v", cs.target, s, err)
			}
		}
		if got := read(t, c, "ln", 0, -1); got != "sibling" {
			t.Errorf("read via ../qq = %q", got)
		}
		err = c.PutSymlink(ctx, "ln", "../../../x", ossclient.SymlinkOptions{})
		wantKind(t, "PutSymlink above the bucket", err, ossclient.ErrInvalidName)
		// A link made outside (by another client) to a key elsewhere.
		if err := raw.PutSymlink(ctx, "p/q/ext", "other/dir/k", ossclient.SymlinkOptions{}); err != nil {
			t.Fatal(err)
		}
		if s, err := c.GetSymlink(ctx, "ext"); err != nil || s.Target != "../../other/dir/k" {
			t.Errorf("foreign link = %+v, %v", s, err)
		}

		// Copy, Delete and DeleteMany stay inside the prefix.
		if _, err := c.Copy(ctx, "f", "f2", ossclient.CopyOptions{}); err != nil {
			t.Fatal(err)
		}
		if err := c.DeleteMany(ctx, []string{"f", "f2"}); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"p/q/f", "p/q/f2"} {
			if _, err := raw.Stat(ctx, k); !errors.Is(err, ossclient.ErrNotFound) {
				t.Errorf("%s after DeleteMany: %v", k, err)
			}
		}
		if _, err := raw.Stat(ctx, "p/x"); err != nil {
			t.Errorf("object outside the prefix was touched: %v", err)
		}
	})
}

// rawSDK is the official SDK on the local server, to look at what a Bucket
// method stored where the Bucket interface does not show it.
func rawSDK(srv *osstest.Server) *oss.Client {
	return oss.NewClient(oss.NewConfig().
		WithEndpoint(srv.Endpoint()).
		WithRegion(srv.Region()).
		WithCredentialsProvider(credentials.NewStaticCredentialsProvider(osstest.DefaultAccessKeyID, osstest.DefaultAccessKeySecret)))
}

// TestSymlinkACLAndStorageClass: the options reach OSS (read back with the
// SDK: GetObjectAcl of the link, the StorageClass a listing reports).
func TestSymlinkACLAndStorageClass(t *testing.T) {
	bothSignatures(t, func(t *testing.T, sig int) {
		ctx := context.Background()
		srv := startServer(t, osstest.Options{})
		c := newClient(t, srv, sig, "p")
		if err := c.PutSymlink(ctx, "ln", "t", ossclient.SymlinkOptions{ACL: "public-read", StorageClass: "IA"}); err != nil {
			t.Fatal(err)
		}
		if err := c.PutSymlink(ctx, "plain", "t", ossclient.SymlinkOptions{}); err != nil {
			t.Fatal(err)
		}
		raw := rawSDK(srv)
		for key, want := range map[string]string{"p/ln": "public-read", "p/plain": "default"} {
			acl, err := raw.GetObjectAcl(ctx, &oss.GetObjectAclRequest{Bucket: oss.Ptr(bucket), Key: oss.Ptr(key)})
			if err != nil {
				t.Errorf("ACL of %s: %v", key, err)
			} else if got := oss.ToString(acl.ACL); got != want {
				t.Errorf("ACL of %s = %s, want %s", key, got, want)
			}
		}
		l, err := raw.ListObjectsV2(ctx, &oss.ListObjectsV2Request{Bucket: oss.Ptr(bucket), Prefix: oss.Ptr("p/")})
		if err != nil {
			t.Fatal(err)
		}
		classes := map[string]string{}
		for _, o := range l.Contents {
			classes[oss.ToString(o.Key)] = oss.ToString(o.StorageClass)
		}
		if classes["p/ln"] != "IA" || classes["p/plain"] != "Standard" {
			t.Errorf("storage classes %v, want p/ln IA, p/plain Standard", classes)
		}
	})
}
