package ossclient_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"

	"github.com/ossfs/ossfs/ossclient"
	"github.com/ossfs/ossfs/ossclient/osstest/testtarget"
)

// The conformance tests check, through this package and the SDK, each OSS
// behaviour the filesystem depends on (the list is in the osstest package
// doc). They run against the local server in memory and on a directory,
// and against a real bucket when the environment names one (package
// testtarget; docs/testing.md): a difference between the server and OSS
// fails here.

func upperMD5(s string) string {
	sum := md5.Sum([]byte(s))
	return strings.ToUpper(hex.EncodeToString(sum[:]))
}

// TestConformanceObjects: put, stat, ranged reads, metadata, overwrite
// protection, copy and delete, as a file system uses them.
func TestConformanceObjects(t *testing.T) {
	testtarget.Each(t, func(t *testing.T, tg *testtarget.Target) {
		ctx := context.Background()
		c := tg.Client(t)
		meta := map[string]string{"Mode": "0100644", "uid": "1000", "mtime": "1700000000"}
		o := put(t, c, "f", "0123456789", ossclient.PutOptions{Meta: meta})
		// The ETag of a PutObject is the MD5 of the content (documented).
		if o.ETag != upperMD5("0123456789") || o.Size != 10 {
			t.Errorf("Put = %+v, want ETag %s", o, upperMD5("0123456789"))
		}
		st, err := c.Stat(ctx, "f")
		if err != nil {
			t.Fatal(err)
		}
		// Metadata names come back in lower case, values as sent.
		if st.Size != 10 || st.ETag != o.ETag || st.Type != ossclient.TypeNormal ||
			st.Meta["mode"] != "0100644" || st.Meta["uid"] != "1000" || st.Meta["mtime"] != "1700000000" {
			t.Errorf("Stat = %+v", st)
		}
		for _, r := range []struct {
			off, n int64
			want   string
		}{{0, -1, "0123456789"}, {3, 4, "3456"}, {8, 100, "89"}, {10, 5, ""}, {50, -1, ""}} {
			if got := read(t, c, "f", r.off, r.n); got != r.want {
				t.Errorf("Read(%d, %d) = %q, want %q", r.off, r.n, got, r.want)
			}
		}
		_, err = c.Put(ctx, "f", strings.NewReader("x"), ossclient.PutOptions{ForbidOverwrite: true})
		wantKind(t, "Put forbid-overwrite on an existing key", err, ossclient.ErrAlreadyExists)
		if got := read(t, c, "f", 0, -1); got != "0123456789" {
			t.Errorf("a refused Put changed the object: %q", got)
		}
		if _, err := c.Copy(ctx, "f", "copy", ossclient.CopyOptions{}); err != nil {
			t.Fatal(err)
		}
		if cp, err := c.Stat(ctx, "copy"); err != nil || cp.Meta["uid"] != "1000" || cp.Size != 10 {
			t.Errorf("Copy kept %+v, %v", cp, err)
		}
		if _, err := c.Copy(ctx, "f", "copy", ossclient.CopyOptions{ReplaceMeta: true, Meta: map[string]string{"uid": "7"}}); err != nil {
			t.Fatal(err)
		}
		if cp, err := c.Stat(ctx, "copy"); err != nil || cp.Meta["uid"] != "7" || cp.Meta["mode"] != "" {
			t.Errorf("Copy with ReplaceMeta = %+v, %v", cp, err)
		}
		_, err = c.Stat(ctx, "missing")
		wantKind(t, "Stat missing", err, ossclient.ErrNotFound)
		_, err = c.Read(ctx, "missing", 0, -1)
		wantKind(t, "Read missing", err, ossclient.ErrNotFound)
		if err := c.Delete(ctx, "missing"); err != nil {
			t.Errorf("Delete of a missing key: %v", err)
		}
		if err := c.DeleteMany(ctx, []string{"f", "copy", "never-was"}); err != nil {
			t.Fatal(err)
		}
		_, err = c.Stat(ctx, "f")
		wantKind(t, "Stat deleted", err, ossclient.ErrNotFound)
	})
}

// TestConformanceMultipart: a body over the part size becomes a multipart
// object with the right bytes and size.
func TestConformanceMultipart(t *testing.T) {
	testtarget.Each(t, func(t *testing.T, tg *testtarget.Target) {
		cfg := tg.Config()
		cfg.PartSize = 100 << 10
		c, err := ossclient.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		body := bytes.Repeat([]byte("0123456789abcdef"), (250<<10)/16)
		o, err := c.Put(context.Background(), "big", onlyReader{bytes.NewReader(body)}, ossclient.PutOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if o.Size != int64(len(body)) || o.Type != ossclient.TypeMultipart {
			t.Errorf("Put = %+v", o)
		}
		if got := read(t, c, "big", 0, -1); got != string(body) {
			t.Errorf("read back %d bytes, want %d", len(got), len(body))
		}
		l, err := c.List(context.Background(), "", ossclient.ListOptions{})
		if err != nil || len(l.Objects) != 1 || l.Objects[0].Size != int64(len(body)) {
			t.Errorf("List = %+v, %v", l, err)
		}
	})
}

// TestConformanceListing: one directory level with "/" as delimiter, keys
// in byte order, common prefixes, directory markers, awkward bytes in
// keys, Limit and StartAfter.
func TestConformanceListing(t *testing.T) {
	testtarget.Each(t, func(t *testing.T, tg *testtarget.Target) {
		ctx := context.Background()
		c := tg.Client(t)
		keys := []string{"d/", "d/a b", "d/a+b", "d/100%", "d/ü", "d/Z", "d/sub/x", "d/sub2/", "d/a//b", "e"}
		for _, k := range keys {
			put(t, c, k, k, ossclient.PutOptions{})
		}
		l, err := c.List(ctx, "d/", ossclient.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, o := range l.Objects {
			got = append(got, o.Key)
			if o.Size != int64(len(o.Key)) || o.Type != ossclient.TypeNormal || o.ETag != upperMD5(o.Key) {
				t.Errorf("listed %+v", o)
			}
		}
		if want := []string{"d/", "d/100%", "d/Z", "d/a b", "d/a+b", "d/ü"}; fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("objects %q, want %q", got, want)
		}
		if want := []string{"d/a/", "d/sub/", "d/sub2/"}; fmt.Sprint(l.Prefixes) != fmt.Sprint(want) {
			t.Errorf("prefixes %q, want %q", l.Prefixes, want)
		}
		l, err = c.List(ctx, "d/", ossclient.ListOptions{Recursive: true, StartAfter: "d/a b", Limit: 3})
		if err != nil {
			t.Fatal(err)
		}
		got = got[:0]
		for _, o := range l.Objects {
			got = append(got, o.Key)
		}
		if want := []string{"d/a+b", "d/a//b", "d/sub/x"}; fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("recursive after \"d/a b\", limit 3: %q, want %q", got, want)
		}
		if l, err := c.List(ctx, "nothing/", ossclient.ListOptions{}); err != nil || len(l.Objects)+len(l.Prefixes) != 0 {
			t.Errorf("empty prefix: %+v, %v", l, err)
		}
	})
}

// TestConformanceSymlinks: the symlink behaviour the mount is built on.
// The target travels percent-encoded and comes back byte for byte; HEAD
// and GET follow a link (Type Symlink, the target's size and ETag); a
// dangling link is SymlinkTargetNotExist, not a missing key; a link to a
// link is refused but is not "not found"; GetSymlink on a plain object is
// an error of its own; listings show Type Symlink with the target key's
// length as Size; GetObjectMeta reports the link itself; forbid-overwrite
// applies; the link's metadata is its own; Copy copies the link.
func TestConformanceSymlinks(t *testing.T) {
	testtarget.Each(t, func(t *testing.T, tg *testtarget.Target) {
		ctx := context.Background()
		c := tg.Client(t)
		target := "dir/the target + 100% ü"
		o := put(t, c, target, "target body", ossclient.PutOptions{Meta: map[string]string{"who": "target"}})
		links := map[string]string{"ln": target, "dangling": "no such key", "ln2": "ln"}
		for link, to := range links {
			if err := c.PutSymlink(ctx, link, to, ossclient.SymlinkOptions{Meta: map[string]string{"who": link}}); err != nil {
				t.Fatalf("PutSymlink %s: %v", link, err)
			}
			s, err := c.GetSymlink(ctx, link)
			if err != nil {
				t.Fatalf("GetSymlink %s: %v", link, err)
			}
			if s.Target != to || s.Meta["who"] != link || s.ETag == "" || s.ModTime.IsZero() {
				t.Errorf("GetSymlink %s = %+v, want target %q", link, s, to)
			}
		}
		st, err := c.Stat(ctx, "ln")
		if err != nil {
			t.Fatal(err)
		}
		if st.Type != ossclient.TypeSymlink || st.Size != o.Size || st.ETag != o.ETag {
			t.Errorf("Stat through the link = %+v, want type Symlink, size %d, ETag %s", st, o.Size, o.ETag)
		}
		if got := read(t, c, "ln", 0, -1); got != "target body" {
			t.Errorf("Read through the link = %q", got)
		}
		_, err = c.Stat(ctx, "dangling")
		wantKind(t, "Stat of a dangling link", err, ossclient.ErrDanglingSymlink)
		_, err = c.Stat(ctx, "ln2")
		if err == nil || errors.Is(err, ossclient.ErrNotFound) {
			t.Errorf("Stat of a link to a link: %v, want a refusal that is not ErrNotFound", err)
		}
		_, err = c.GetSymlink(ctx, target)
		wantKind(t, "GetSymlink of a plain object", err, ossclient.ErrNotSymlink)
		_, err = c.GetSymlink(ctx, "missing")
		wantKind(t, "GetSymlink of a missing key", err, ossclient.ErrNotFound)
		err = c.PutSymlink(ctx, "ln", "elsewhere", ossclient.SymlinkOptions{ForbidOverwrite: true})
		wantKind(t, "PutSymlink forbid-overwrite", err, ossclient.ErrAlreadyExists)

		l, err := c.List(ctx, "", ossclient.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		sdk := tg.SDK()
		for _, e := range l.Objects {
			to, isLink := links[e.Key]
			if !isLink {
				continue
			}
			// Size: the byte length of the full target key (the prefix is
			// part of it).
			want := int64(len(tg.Prefix + to))
			if e.Type != ossclient.TypeSymlink || e.Size != want {
				t.Errorf("listed %s: type %s size %d, want Symlink %d", e.Key, e.Type, e.Size, want)
			}
			s, err := c.GetSymlink(ctx, e.Key)
			if err != nil {
				t.Fatal(err)
			}
			m, err := sdk.GetObjectMeta(ctx, &oss.GetObjectMetaRequest{Bucket: &tg.Bucket, Key: oss.Ptr(tg.Prefix + e.Key)})
			if err != nil {
				t.Fatalf("GetObjectMeta %s: %v", e.Key, err)
			}
			if m.ContentLength != want || strings.Trim(oss.ToString(m.ETag), `"`) != s.ETag || e.ETag != s.ETag ||
				!m.LastModified.Equal(e.ModTime) || !s.ModTime.Equal(e.ModTime) {
				t.Errorf("%s: GetObjectMeta %d %s %v; GetSymlink %s %v; listed %s %v", e.Key, m.ContentLength,
					oss.ToString(m.ETag), m.LastModified, s.ETag, s.ModTime, e.ETag, e.ModTime)
			}
		}

		if _, err := c.Copy(ctx, "ln", "ln-copy", ossclient.CopyOptions{}); err != nil {
			t.Fatal(err)
		}
		if s, err := c.GetSymlink(ctx, "ln-copy"); err != nil || s.Target != target {
			t.Errorf("Copy of a link: %+v, %v", s, err)
		}
		if err := c.Delete(ctx, "ln"); err != nil {
			t.Fatal(err)
		}
		if got := read(t, c, target, 0, -1); got != "target body" {
			t.Errorf("deleting the link touched the target: %q", got)
		}
	})
}

// TestConformanceTimes: a listing's times and HEAD's agree to the second
// (OSS keeps whole seconds), so a mount's mtime does not change between
// readdir and stat.
func TestConformanceTimes(t *testing.T) {
	testtarget.Each(t, func(t *testing.T, tg *testtarget.Target) {
		ctx := context.Background()
		c := tg.Client(t)
		for i := range 3 {
			put(t, c, fmt.Sprintf("t%d", i), "x", ossclient.PutOptions{})
		}
		if err := c.PutSymlink(ctx, "tl", "t0", ossclient.SymlinkOptions{}); err != nil {
			t.Fatal(err)
		}
		l, err := c.List(ctx, "", ossclient.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range l.Objects {
			if o.ModTime.Nanosecond() != 0 {
				t.Errorf("%s listed at %v: not whole seconds", o.Key, o.ModTime)
			}
			if o.IsSymlink() {
				s, err := c.GetSymlink(ctx, o.Key)
				if err != nil || !s.ModTime.Equal(o.ModTime) {
					t.Errorf("%s: GetSymlink time %v, listed %v (%v)", o.Key, s.ModTime, o.ModTime, err)
				}
				continue
			}
			st, err := c.Stat(ctx, o.Key)
			if err != nil || !st.ModTime.Equal(o.ModTime) {
				t.Errorf("%s: Stat time %v, listed %v (%v)", o.Key, st.ModTime, o.ModTime, err)
			}
		}
	})
}
