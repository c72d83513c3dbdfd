package osstest_test

import (
	"bytes"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"

	"github.com/ossfs/ossfs/ossclient/osstest"
)

// listingKeys are 2,500 keys spread over 25 directories (a third of them
// one level deeper), many needing URL encoding, plus a few top-level ones.
func listingKeys() []string {
	specials := []string{"plain", "sp ace", "plus+", "pct%41", "q?", "hash#", "中文", "amp&lt;", "tab\t", "~tilde", "emoji🎉"}
	var keys []string
	for i := 0; i < 2500; i++ {
		dir := fmt.Sprintf("d%02d/", i%25)
		if i%3 == 0 {
			dir += "sub dir/"
		}
		keys = append(keys, fmt.Sprintf("%s%s-%04d", dir, specials[i%len(specials)], i))
	}
	keys = append(keys, "top+1", "top 2", "d05/", "zz/")
	sort.Strings(keys)
	return keys
}

type listed struct {
	keys, prefixes []string
	types          map[string]string
	sizes          map[string]int64
}

func listAll(t *testing.T, c *oss.Client, v2 bool, prefix, delim string, max int32) listed {
	t.Helper()
	l := listed{types: map[string]string{}, sizes: map[string]int64{}}
	add := func(objs []oss.ObjectProperties, cps []oss.CommonPrefix) {
		for _, o := range objs {
			l.keys = append(l.keys, oss.ToString(o.Key))
			l.types[oss.ToString(o.Key)] = oss.ToString(o.Type)
			l.sizes[oss.ToString(o.Key)] = o.Size
		}
		for _, p := range cps {
			l.prefixes = append(l.prefixes, oss.ToString(p.Prefix))
		}
	}
	var pDelim *string
	if delim != "" {
		pDelim = oss.Ptr(delim)
	}
	pages := 0
	if v2 {
		p := c.NewListObjectsV2Paginator(&oss.ListObjectsV2Request{Bucket: oss.Ptr(bkt), Prefix: oss.Ptr(prefix), Delimiter: pDelim, MaxKeys: max})
		for p.HasNext() {
			page, err := p.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if page.KeyCount != len(page.Contents)+len(page.CommonPrefixes) || page.KeyCount > int(max) {
				t.Fatalf("KeyCount %d for %d+%d entries, max %d", page.KeyCount, len(page.Contents), len(page.CommonPrefixes), max)
			}
			add(page.Contents, page.CommonPrefixes)
			pages++
		}
	} else {
		p := c.NewListObjectsPaginator(&oss.ListObjectsRequest{Bucket: oss.Ptr(bkt), Prefix: oss.Ptr(prefix), Delimiter: pDelim, MaxKeys: max})
		for p.HasNext() {
			page, err := p.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			add(page.Contents, page.CommonPrefixes)
			pages++
		}
	}
	if want := 1; pages < want {
		t.Fatalf("no pages")
	}
	return l
}

// expect computes a listing from the key set directly.
func expect(keys []string, prefix, delim string) (objs, prefixes []string) {
	seen := map[string]bool{}
	for _, k := range keys {
		if !strings.HasPrefix(k, prefix) {
			continue
		}
		if delim != "" {
			if i := strings.Index(k[len(prefix):], delim); i >= 0 {
				cp := k[:len(prefix)+i+len(delim)]
				if !seen[cp] {
					seen[cp] = true
					prefixes = append(prefixes, cp)
				}
				continue
			}
		}
		objs = append(objs, k)
	}
	return objs, prefixes
}

func TestListingPagination(t *testing.T) {
	srv := start(t, osstest.Options{})
	keys := listingKeys()
	c := newClient(srv)
	var wg sync.WaitGroup
	work := make(chan string)
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range work {
				if _, err := c.PutObject(ctx, &oss.PutObjectRequest{Bucket: oss.Ptr(bkt), Key: oss.Ptr(k), Body: bytes.NewReader([]byte(k))}); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	for _, k := range keys {
		work <- k
	}
	close(work)
	wg.Wait()
	if err := putLink(c, "d07/a link", "d07/plain-0007", nil); err != nil {
		t.Fatal(err)
	}
	keys = append(keys, "d07/a link")
	sort.Strings(keys)

	cases := []struct {
		prefix, delim string
		max           int32
	}{
		{"", "", 1000}, {"", "", 333}, {"", "/", 7}, {"d03/", "/", 10}, {"d03/sub dir/", "/", 1000},
		{"d1", "", 100}, {"d07/", "", 50}, {"nothing", "/", 10},
	}
	signings(t, func(t *testing.T, extra ...clientOpt) {
		c := newClient(srv, extra...)
		for _, tc := range cases {
			wantObjs, wantPrefixes := expect(keys, tc.prefix, tc.delim)
			for _, v2 := range []bool{true, false} {
				got := listAll(t, c, v2, tc.prefix, tc.delim, tc.max)
				if !slices.Equal(got.keys, wantObjs) || !slices.Equal(got.prefixes, wantPrefixes) {
					t.Fatalf("v2=%v prefix %q delim %q max %d: got %d keys %d prefixes, want %d and %d\nfirst got %q\nfirst want %q",
						v2, tc.prefix, tc.delim, tc.max, len(got.keys), len(got.prefixes), len(wantObjs), len(wantPrefixes),
						head(got.keys), head(wantObjs))
				}
				if tc.prefix == "d07/" && got.types["d07/a link"] != "Symlink" {
					t.Fatalf("link listed as %q", got.types["d07/a link"])
				}
				for k, n := range got.sizes { // each body is its key; a link's size is its target's length
					want := int64(len(k))
					if k == "d07/a link" {
						want = int64(len("d07/plain-0007"))
					}
					if n != want {
						t.Fatalf("%q listed with Size %d, want %d", k, n, want)
					}
				}
			}
		}
	})
	if n := len(keys); n != 2505 {
		t.Fatalf("key count %d", n)
	}
	// A start-after in the middle of a directory, and max-keys limits.
	res, err := c.ListObjectsV2(ctx, &oss.ListObjectsV2Request{Bucket: oss.Ptr(bkt), StartAfter: oss.Ptr("d03/"), Delimiter: oss.Ptr("/"), MaxKeys: 2})
	if err != nil || len(res.CommonPrefixes) != 2 || oss.ToString(res.CommonPrefixes[0].Prefix) != "d04/" || !res.IsTruncated {
		t.Fatalf("start-after: %v %+v", err, res)
	}
	_, err = c.ListObjectsV2(ctx, &oss.ListObjectsV2Request{Bucket: oss.Ptr(bkt), MaxKeys: 1001})
	wantCode(t, err, 400, "InvalidArgument")
}

func head(s []string) []string {
	if len(s) > 5 {
		return s[:5]
	}
	return s
}
