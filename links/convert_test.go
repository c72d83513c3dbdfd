package links_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/ossfs/ossfs/fs/legacy"
	"github.com/ossfs/ossfs/fs/names"
	"github.com/ossfs/ossfs/links"
	"github.com/ossfs/ossfs/ossclient"
	"github.com/ossfs/ossfs/ossclient/osstest"
	"github.com/ossfs/ossfs/ossclient/osstest/testtarget"
)

const bucket = "links-test"

func start(t testing.TB, prefix string) (*osstest.Server, *ossclient.Client) {
	t.Helper()
	srv, err := osstest.Start(testtarget.LocalOptions(t, osstest.Options{Buckets: []string{bucket}}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv, client(t, srv, prefix)
}

func client(t testing.TB, srv *osstest.Server, prefix string) *ossclient.Client {
	c, err := ossclient.New(ossclient.Config{
		Endpoint: srv.Endpoint(), Region: srv.Region(), Bucket: bucket, Prefix: prefix,
		Credentials: ossclient.Credentials{Source: ossclient.SourceStatic,
			AccessKeyID: osstest.DefaultAccessKeyID, AccessKeySecret: osstest.DefaultAccessKeySecret},
		MaxConnections: 64,
		Logger:         slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func put(t testing.TB, c *ossclient.Client, key, body string, meta map[string]string) *ossclient.Object {
	t.Helper()
	o, err := c.Put(context.Background(), key, strings.NewReader(body), ossclient.PutOptions{Meta: meta})
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// link is a legacy link the bucket holds, with the text it must keep.
type link struct {
	key, text string
	format    legacy.Format
}

const mountpoint = "/mnt/oss"

// mixed fills the bucket with n objects: links in both legacy formats,
// native links, regular files whose body looks like a path (some with a
// regular mode, one with a symlink-target header but a regular mode), big
// files and directory markers. It returns the legacy links and the native
// link keys.
func mixed(t testing.TB, c *ossclient.Client, n int) (legacies []link, natives, tooLong []string) {
	t.Helper()
	ctx := context.Background()
	texts := []string{"../target.txt", "/mnt/oss/d/abs inside", "/etc/passwd", "sp ace+plus%pct/ü", "../../../../way/out", "same-dir"}
	for i := 0; i < n; i++ {
		key := fmt.Sprintf("d%d/obj%04d", i%7, i)
		text := texts[i%len(texts)]
		meta1 := map[string]string{"mode": legacy.LinkMode, "mtime": "1600000000", "uid": "1000", "gid": "1000"}
		switch i % 10 {
		case 0, 1, 2: // format 1 (a trailing newline, as some tools leave, is trimmed)
			body := text
			if i%20 == 0 {
				body += "\n"
			}
			put(t, c, key, body, meta1)
			legacies = append(legacies, link{key, text, legacy.Format1})
		case 3: // format 2, text in the header, no mode type bits
			put(t, c, key, "", map[string]string{"mode": "511", legacy.MetaSymlinkTarget: fmt.Sprintf("header:%d:%s", len(text), names.EncodeMeta(text))})
			legacies = append(legacies, link{key, text, legacy.Format2Header})
		case 4: // format 2, long text in the body
			long := "/srv/" + strings.Repeat("long/", 450) + text
			if i%20 == 14 {
				// Relative: its target key would be over 1,023 bytes, so
				// ln -s refuses it (ENAMETOOLONG) and so does the converter.
				long = long[1:]
				tooLong = append(tooLong, key)
			} else {
				legacies = append(legacies, link{key, long, legacy.Format2Body})
			}
			put(t, c, key, long, map[string]string{"mode": legacy.LinkMode, legacy.MetaSymlinkTarget: "body:0:"})
		case 5: // native links
			if err := c.PutSymlink(ctx, key, "d0/obj0000", ossclient.SymlinkOptions{}); err != nil {
				t.Fatal(err)
			}
			natives = append(natives, key)
		case 6: // a regular file whose body is a path
			put(t, c, key, text, nil)
		case 7: // ... with a regular mode, and with a symlink header but a regular mode
			m := map[string]string{"mode": "33188"}
			if i%20 == 7 {
				m[legacy.MetaSymlinkTarget] = "header:3:abc"
			}
			put(t, c, key, text, m)
		case 8: // too big to be a link
			put(t, c, key, strings.Repeat("x", names.PathMax), map[string]string{"mode": legacy.LinkMode})
		case 9: // a directory marker
			put(t, c, key+"/", "", nil)
		}
	}
	return legacies, natives, tooLong
}

func TestConvertMixedBucket(t *testing.T) {
	srv, c := start(t, "")
	ctx := context.Background()
	legacies, _, tooLong := mixed(t, c, 1000)
	before := map[string]string{} // every object's ETag
	l, err := c.List(ctx, "", ossclient.ListOptions{Recursive: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range l.Objects {
		before[o.Key] = o.ETag
	}
	opts := links.Options{Mapper: names.Mapper{Mountpoint: mountpoint}}

	// Dry run: one listing page, one GET per candidate, no write.
	srv.ResetCounts()
	sum, err := links.Run(ctx, c, opts)
	if err != nil {
		t.Fatal(err)
	}
	candidates := 1000 - 100 - 100 - 100 // minus native links, big files, markers
	want := map[string]int64{"ListObjectsV2": 1, "GetObject": int64(candidates)}
	if got := srv.Counts(); !sameCounts(got, want) {
		t.Errorf("dry-run requests = %v, want %v", got, want)
	}
	if sum.Objects != 1000 || sum.Candidates != candidates || sum.WouldConvert != len(legacies) ||
		sum.Found[legacy.Format1] != 300 || sum.Found[legacy.Format2Header] != 100 || sum.Found[legacy.Format2Body] != 100 ||
		sum.Regular != 200 || sum.Converted != 0 || sum.Invalid != len(tooLong) || sum.Failed+sum.Changed != 0 {
		t.Errorf("dry-run summary = %+v", sum)
	}
	// Texts: /etc/passwd and ../../../../way/out are outside the bucket.
	if sum.Outside == 0 || sum.Inside == 0 || sum.Inside+sum.Outside != len(legacies) {
		t.Errorf("inside %d, outside %d, of %d", sum.Inside, sum.Outside, len(legacies))
	}

	// Apply: the same reads, plus exactly one PutSymlink per link.
	srv.ResetCounts()
	opts.Apply = true
	sum, err = links.Run(ctx, c, opts)
	if err != nil {
		t.Fatal(err)
	}
	want["PutSymlink"] = int64(len(legacies))
	if got := srv.Counts(); !sameCounts(got, want) {
		t.Errorf("apply requests = %v, want %v", got, want)
	}
	if sum.Converted != len(legacies) || sum.Failed != 0 || sum.Invalid != len(tooLong) {
		t.Errorf("apply summary = %+v", sum)
	}
	for _, lk := range legacies {
		s, err := c.GetSymlink(ctx, lk.key)
		if err != nil {
			t.Fatalf("%s not a link after --apply: %v", lk.key, err)
		}
		// Stored as ln -s on a mount at the 1.x mountpoint would store it,
		// and read back exactly.
		n, _ := opts.Mapper.Native(lk.key, lk.text)
		if s.Target != n.Target || opts.Mapper.ReadlinkMeta(lk.key, s.Target, s.Meta) != lk.text {
			t.Errorf("%s: target %q meta %v, want target %q text %q", lk.key, s.Target, s.Meta, n.Target, lk.text)
		}
		if s.Meta[legacy.MetaSymlinkTarget] != "" {
			t.Errorf("%s kept its symlink-target header", lk.key)
		}
		if lk.format == legacy.Format1 && (s.Meta["mode"] != legacy.LinkMode || s.Meta["mtime"] != "1600000000" || s.Meta["uid"] != "1000") {
			t.Errorf("%s lost its mode/mtime/uid metadata: %v", lk.key, s.Meta)
		}
	}
	// Nothing else was touched.
	l, err = c.List(ctx, "", ossclient.ListOptions{Recursive: true})
	if err != nil {
		t.Fatal(err)
	}
	converted := map[string]bool{}
	for _, lk := range legacies {
		converted[lk.key] = true
	}
	for _, o := range l.Objects {
		if !converted[o.Key] && before[o.Key] != o.ETag {
			t.Errorf("%s was changed (ETag %s -> %s)", o.Key, before[o.Key], o.ETag)
		}
	}

	// A rerun converts nothing.
	srv.ResetCounts()
	sum, err = links.Run(ctx, c, opts)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Links() != len(tooLong) || sum.Invalid != len(tooLong) || sum.Converted != 0 || srv.Count("PutSymlink") != 0 {
		t.Errorf("rerun found %d links (%d invalid), sent %d PutSymlink", sum.Links(), sum.Invalid, srv.Count("PutSymlink"))
	}
}

// TestConvertConcurrentChange: an object rewritten as a regular file after
// the listing and before its read is skipped, reported, and left as the
// other writer made it.
func TestConvertConcurrentChange(t *testing.T) {
	srv, c := start(t, "")
	ctx := context.Background()
	put(t, c, "a", "target", map[string]string{"mode": legacy.LinkMode})
	put(t, c, "b", "target", map[string]string{"mode": legacy.LinkMode})
	var items []links.Item
	// OnListed runs after the listing and before any read: another client
	// rewrites b as a regular file there.
	sum, err := links.Run(ctx, c, links.Options{Apply: true,
		OnListed: func(int) { put(t, c, "b", "new regular content", nil) },
		OnItem:   func(it links.Item) { items = append(items, it) }})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Converted != 1 || sum.Changed != 1 || srv.Count("PutSymlink") != 1 {
		t.Fatalf("summary %+v, items %+v", sum, items)
	}
	for _, it := range items {
		if it.Key == "b" && (it.Action != links.Changed || !errors.Is(it.Err, ossclient.ErrPreconditionFailed)) {
			t.Errorf("b: %+v, want skipped on a failed If-Match", it)
		}
	}
	if _, err := c.GetSymlink(ctx, "b"); err == nil {
		t.Error("b, changed behind the converter, became a link")
	}
	rc, err := c.Read(ctx, "b", 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(rc)
	rc.Close()
	if string(body) != "new regular content" {
		t.Errorf("b = %q", body)
	}
}

func TestConvertToLegacyAndBack(t *testing.T) {
	srv, c := start(t, "p/q")
	ctx := context.Background()
	m := names.Mapper{Mountpoint: mountpoint, PrefixDepth: 2}
	texts := map[string]string{"l1": "../up/x", "d/l2": "/mnt/oss/abs", "l3": "/outside/abs", "l4": "sp ace+%ü"}
	for key, text := range texts {
		n, err := m.Native(key, text)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.PutSymlink(ctx, key, n.Target, ossclient.SymlinkOptions{Meta: n.Meta}); err != nil {
			t.Fatal(err)
		}
	}
	put(t, c, "regular", "l1", nil)
	srv.ResetCounts()
	sum, err := links.Run(ctx, c, links.Options{To: links.ToLegacy, Apply: true, Mapper: m})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{"ListObjectsV2": 1, "GetSymlink": 4, "PutObject": 4}
	if got := srv.Counts(); !sameCounts(got, want) || sum.Converted != 4 {
		t.Errorf("to legacy: requests %v, want %v; summary %+v", got, want, sum)
	}
	for key, text := range texts {
		b, err := c.Get(ctx, key, 0, -1, ossclient.ReadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(b)
		b.Close()
		o := b.Object
		if f, _, _ := legacy.Classify(o.Meta); f != legacy.Format1 || string(body) != text || o.Meta[names.MetaSymlink] != "" {
			t.Errorf("%s: format %v body %q meta %v, want format 1 with %q", key, f, body, o.Meta, text)
		}
	}
	// And back: the same links as before.
	sum, err = links.Run(ctx, c, links.Options{Apply: true, Mapper: m})
	if err != nil || sum.Converted != 4 || sum.Regular != 1 {
		t.Fatalf("back to native: %+v, %v", sum, err)
	}
	for key, text := range texts {
		s, err := c.GetSymlink(ctx, key)
		if err != nil || m.ReadlinkMeta(key, s.Target, s.Meta) != text {
			t.Errorf("%s: %+v, %v, want text %q", key, s, err, text)
		}
	}
}

func sameCounts(got map[string]int64, want map[string]int64) bool {
	n := 0
	for k, v := range got {
		if v != 0 {
			n++
			if want[k] != v {
				return false
			}
		}
	}
	return n == len(want)
}
