package osstest_test

import (
	"bytes"
	"fmt"
	"hash/crc64"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"

	"github.com/ossfs/ossfs/ossclient/osstest"
)

// TestDirectoryModeSurvivesRestart writes every kind of object, restarts
// the server on the same directory, and finds them all intact.
func TestDirectoryModeSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	opts := osstest.Options{Dir: dir, Buckets: []string{bkt, "second-bucket"}}
	srv, err := osstest.Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	c := newClient(srv)
	long := strings.Repeat("L", 1023)
	weird := []string{"../../escape", "a//b", "./dot", "..", long, "中文 目录/文件+1", "x/../../y"}
	want := map[string][]byte{}
	for i, k := range weird {
		want[k] = []byte(fmt.Sprintf("content %d of %q", i, k))
		put(t, c, k, want[k], map[string]string{"i": fmt.Sprint(i)})
	}
	big := randomBytes(300<<10, 5)
	up := c.NewUploader(func(o *oss.UploaderOptions) { o.PartSize = 100 << 10; o.ParallelNum = 3 })
	if _, err := up.UploadFrom(ctx, &oss.PutObjectRequest{Bucket: oss.Ptr(bkt), Key: oss.Ptr("multi")}, bytes.NewReader(big)); err != nil {
		t.Fatal(err)
	}
	want["multi"] = big
	for pos, piece := range []string{"ab", "cd"} {
		if _, err := c.AppendObject(ctx, &oss.AppendObjectRequest{Bucket: oss.Ptr(bkt), Key: oss.Ptr("app"), Position: oss.Ptr(int64(pos * 2)), Body: strings.NewReader(piece)}); err != nil {
			t.Fatal(err)
		}
	}
	want["app"] = []byte("abcd")
	if _, err := c.CopyObject(ctx, &oss.CopyObjectRequest{Bucket: oss.Ptr(bkt), Key: oss.Ptr("copy"), SourceKey: oss.Ptr("multi")}); err != nil {
		t.Fatal(err)
	}
	want["copy"] = big
	if err := putLink(c, "link", "中文 目录/文件+1", map[string]string{"lit": "t"}); err != nil {
		t.Fatal(err)
	}
	put(t, c, "deleted", []byte("gone"), nil)
	if _, err := c.DeleteObject(ctx, &oss.DeleteObjectRequest{Bucket: oss.Ptr(bkt), Key: oss.Ptr("deleted")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.InitiateMultipartUpload(ctx, &oss.InitiateMultipartUploadRequest{Bucket: oss.Ptr(bkt), Key: oss.Ptr("unfinished")}); err != nil {
		t.Fatal(err)
	}
	before := listAll(t, c, true, "", "", 1000)
	srv.Close()

	// Nothing outside the three top-level directories; no file name is a key.
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		rel, _ := filepath.Rel(dir, p)
		top := strings.Split(rel, string(filepath.Separator))[0]
		if rel != "." && top != "blobs" && top != "buckets" && top != "tmp" {
			t.Errorf("unexpected path %s", rel)
		}
		if len(d.Name()) > 255 {
			t.Errorf("file name too long: %s", rel)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "blobs", "stray"), []byte("orphan"), 0o600); err != nil {
		t.Fatal(err)
	}

	srv2 := start(t, osstest.Options{Dir: dir}) // default bucket list; both buckets come back from disk
	if got := srv2.Buckets(); !slices.Equal(got, []string{"second-bucket", bkt}) {
		t.Fatalf("buckets after restart %v", got)
	}
	c2 := newClient(srv2)
	after := listAll(t, c2, true, "", "", 1000)
	if !slices.Equal(before.keys, after.keys) || after.types["link"] != "Symlink" || after.types["app"] != "Appendable" || after.types["multi"] != "Multipart" {
		t.Fatalf("listing changed across restart:\n%q\n%q", before.keys, after.keys)
	}
	for k, data := range want {
		got, res := get(t, c2, k) // plain GetObject: the SDK does not check the CRC, so do it here
		if !bytes.Equal(got, data) {
			t.Fatalf("%q differs after restart", k)
		}
		if want := fmt.Sprint(crc64.Checksum(data, crc64.MakeTable(crc64.ECMA))); oss.ToString(res.HashCRC64) != want {
			t.Fatalf("%q CRC after restart %s, want %s", k, oss.ToString(res.HashCRC64), want)
		}
		if i := slices.Index(weird, k); i >= 0 && res.Metadata["i"] != fmt.Sprint(i) {
			t.Fatalf("%q metadata %v", k, res.Metadata)
		}
	}
	if tgt, res := readLink(t, c2, "link"); tgt != "中文 目录/文件+1" || res.Metadata["lit"] != "t" {
		t.Fatalf("link after restart: %q %v", tgt, res.Metadata)
	}
	if got, _ := get(t, c2, "link"); !bytes.Equal(got, want["中文 目录/文件+1"]) {
		t.Fatal("link does not resolve after restart")
	}
	if srv2.OpenUploads(bkt) != 0 {
		t.Fatal("open uploads are not kept across restarts (documented)")
	}
	if _, err := os.Stat(filepath.Join(dir, "blobs", "stray")); !os.IsNotExist(err) {
		t.Fatal("unreferenced blob not cleaned up at start")
	}
	// Overwrite and delete in the restarted server free their blobs.
	for k := range want {
		if _, err := c2.DeleteObject(ctx, &oss.DeleteObjectRequest{Bucket: oss.Ptr(bkt), Key: oss.Ptr(k)}); err != nil {
			t.Fatal(err)
		}
	}
	blobs, _ := os.ReadDir(filepath.Join(dir, "blobs"))
	if len(blobs) != 0 {
		t.Fatalf("%d blobs left after deleting every object", len(blobs))
	}
}

// TestConcurrentOverwrites races writers, readers, listers and deleters on
// a few keys: every read must return one whole version, never a mix.
func TestConcurrentOverwrites(t *testing.T) {
	for _, mode := range []string{"memory", "dir"} {
		t.Run(mode, func(t *testing.T) {
			opts := osstest.Options{}
			if mode == "dir" {
				opts.Dir = t.TempDir()
			}
			srv := start(t, opts)
			c := newClient(srv)
			keys := []string{"k0", "k1", "k2"}
			version := func(k string, v int) []byte { return bytes.Repeat([]byte(fmt.Sprintf("%s-v%03d;", k, v)), 2000) }
			var wg sync.WaitGroup
			for w := 0; w < 4; w++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for v := 0; v < 15; v++ {
						k := keys[(v+w)%len(keys)]
						if _, err := c.PutObject(ctx, &oss.PutObjectRequest{Bucket: oss.Ptr(bkt), Key: oss.Ptr(k), Body: bytes.NewReader(version(k, v))}); err != nil {
							t.Error(err)
						}
						if v%5 == 4 {
							_, _ = c.DeleteObject(ctx, &oss.DeleteObjectRequest{Bucket: oss.Ptr(bkt), Key: oss.Ptr(k)})
						}
					}
				}()
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; i < 30; i++ {
						k := keys[i%len(keys)]
						res, err := c.GetObject(ctx, &oss.GetObjectRequest{Bucket: oss.Ptr(bkt), Key: oss.Ptr(k)})
						if err != nil {
							continue // deleted meanwhile
						}
						var buf bytes.Buffer
						_, err = buf.ReadFrom(res.Body)
						res.Body.Close()
						if err != nil {
							t.Error(err)
							continue
						}
						b := buf.Bytes()
						if len(b) == 0 || !bytes.Equal(b, bytes.Repeat(b[:len(k)+6], len(b)/(len(k)+6))) {
							t.Errorf("torn read of %s: %d bytes", k, len(b))
						}
						if _, err := c.ListObjectsV2(ctx, &oss.ListObjectsV2Request{Bucket: oss.Ptr(bkt)}); err != nil {
							t.Error(err)
						}
					}
				}()
			}
			wg.Wait()
		})
	}
}
