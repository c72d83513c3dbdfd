package cache

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ossfs/ossfs/ossclient"
	"github.com/ossfs/ossfs/ossclient/osstest"
)

// TestServerMetaPrefetch: the first Stat WithMeta of a listed object starts
// HEADs of the rest of the listing (objects and the markers of its
// subdirectories, not its links), so asking for every entry costs one HEAD
// per entry in all; a later listing of unchanged objects needs no HEAD
// (their metadata is kept by version); a changed object needs one.
func TestServerMetaPrefetch(t *testing.T) {
	e := withReadAt(t, newEnv(t, nil), 2*time.Second)
	const n = 50
	for i := range n {
		if _, err := e.raw.Put(e.ctx, fmt.Sprintf("d/f%02d", i), strings.NewReader("x"),
			ossclient.PutOptions{Meta: map[string]string{"mode": fmt.Sprint(0o100600 + i%8)}}); err != nil {
			t.Fatal(err)
		}
	}
	e.put(t, "d/sub/x", "y") // an implicit directory: its marker HEAD is a 404
	e.link(t, "d/l", "d/f00")
	if _, err := e.b.List(e.ctx, "d/", ossclient.ListOptions{}); err != nil {
		t.Fatal(err)
	}
	e.b.wg.Wait() // the link's prefetch
	e.srv.ResetCounts()
	statAll := func(what string) {
		t.Helper()
		for i := range n {
			o, err := e.b.Stat(e.ctx, fmt.Sprintf("d/f%02d", i), ossclient.WithMeta)
			if err != nil || o.MetaUnknown || o.Meta["mode"] != fmt.Sprint(0o100600+i%8) {
				t.Fatalf("%s: Stat WithMeta d/f%02d = %+v, %v", what, i, o, err)
			}
		}
		if _, err := e.b.Stat(e.ctx, "d/sub/", ossclient.WithMeta); !errors.Is(err, ossclient.ErrNotFound) {
			t.Fatalf("%s: Stat WithMeta of an implicit directory's marker = %v", what, err)
		}
	}
	statAll("cold")
	e.b.wg.Wait() // the prefetch's own goroutines have ended
	e.expect(t, "cold Stat WithMeta of a listed directory", map[string]int64{"HeadObject": n + 1})
	prefetched := e.b.Stats().MetaPrefetches
	if prefetched == 0 {
		t.Errorf("no HEAD came from the prefetch")
	}

	// The listing and the HEAD answers expire; the metadata of unchanged
	// versions is kept: listing again costs the listing only.
	e.clk.Advance(DefaultListTTL + DefaultStatTTL)
	e.put(t, "d/f07", "changed") // another client: new version, no metadata
	e.srv.ResetCounts()
	l, err := e.b.List(e.ctx, "d/", ossclient.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range l.Objects {
		if wantKnown := o.Key != "d/f07" && !o.IsSymlink(); o.MetaUnknown == wantKnown {
			t.Errorf("listing again: %s MetaUnknown = %v", o.Key, o.MetaUnknown)
		}
	}
	if o, err := e.b.Stat(e.ctx, "d/f01"); err != nil || o.MetaUnknown || o.Meta["mode"] != fmt.Sprint(0o100601) {
		t.Errorf("Stat of an unchanged object from a new listing = %+v, %v", o, err)
	}
	e.expect(t, "listing again", map[string]int64{"ListObjectsV2": 1})
	if o, err := e.b.Stat(e.ctx, "d/f07", ossclient.WithMeta); err != nil || o.MetaUnknown || len(o.Meta) != 0 {
		t.Fatalf("Stat WithMeta of the changed object = %+v, %v", o, err)
	}
	e.b.wg.Wait()
	// The changed object only: a single miss does not start the prefetch
	// of the directory (a lone stat must not HEAD a whole directory).
	e.expect(t, "Stat WithMeta of a changed object", map[string]int64{"HeadObject": 1})
	if got := e.b.Stats().MetaPrefetches; got != prefetched {
		t.Errorf("a single Stat WithMeta made %d prefetch HEADs", got-prefetched)
	}
}

// readAt is a Bucket whose HEAD answers say they were read shift after
// their Last-Modified: a HEAD made that long after the object changed.
type readAt struct {
	ossclient.Bucket
	shift time.Duration
}

func (r readAt) Stat(ctx context.Context, key string, opts ...ossclient.StatOption) (*ossclient.Object, error) {
	o, err := r.Bucket.Stat(ctx, key, opts...)
	if o != nil {
		o.ReadAt = o.ModTime.Add(r.shift)
	}
	return o, err
}

// withReadAt gives e a Bucket over readAt{e.raw, shift}.
func withReadAt(t *testing.T, e *env, shift time.Duration) *env {
	opts := DefaultOptions()
	opts.Clock, opts.Logger = e.clk, quiet
	e.b.Close()
	e.b = NewBucket(readAt{e.raw, shift}, opts)
	t.Cleanup(e.b.Close)
	return e
}

// TestServerMetaReadInItsSecond: metadata read within the Last-Modified
// second of its version may have been changed again in that second by
// another client without a new version: it is trusted for StatTTL only,
// then read again.
func TestServerMetaReadInItsSecond(t *testing.T) {
	e := withReadAt(t, newEnv(t, nil), 0)
	e.put(t, "d/f", "x")
	if _, err := e.b.List(e.ctx, "d/", ossclient.ListOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.b.Stat(e.ctx, "d/f", ossclient.WithMeta); err != nil {
		t.Fatal(err)
	}
	e.b.wg.Wait()
	e.clk.Advance(DefaultListTTL + DefaultStatTTL)
	e.srv.ResetCounts()
	if _, err := e.b.List(e.ctx, "d/", ossclient.ListOptions{}); err != nil {
		t.Fatal(err)
	}
	if o, err := e.b.Stat(e.ctx, "d/f", ossclient.WithMeta); err != nil || o.MetaUnknown {
		t.Fatalf("Stat WithMeta = %+v, %v", o, err)
	}
	e.b.wg.Wait()
	e.expect(t, "the listing and the metadata again", map[string]int64{"ListObjectsV2": 1, "HeadObject": 1})
}

// TestServerNamesOnlyNoHead: listing and Stat without WithMeta never start
// a HEAD, however many objects are listed.
func TestServerNamesOnlyNoHead(t *testing.T) {
	e := newEnv(t, nil)
	for i := range 20 {
		e.put(t, fmt.Sprintf("d/f%02d", i), "x")
	}
	e.srv.ResetCounts()
	if _, err := e.b.List(e.ctx, "d/", ossclient.ListOptions{}); err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		if o, err := e.b.Stat(e.ctx, fmt.Sprintf("d/f%02d", i)); err != nil || !o.MetaUnknown {
			t.Fatalf("Stat = %+v, %v", o, err)
		}
	}
	e.b.wg.Wait()
	e.expect(t, "names only", map[string]int64{"ListObjectsV2": 1})
}

// TestServerCopyRemembersMeta: a metadata-replacing copy onto itself (a
// chmod) through the Bucket is remembered for the new version: the next
// listing shows it with no HEAD.
func TestServerCopyRemembersMeta(t *testing.T) {
	e := newEnv(t, nil)
	e.put(t, "d/f", "x")
	if _, err := e.b.Copy(e.ctx, "d/f", "d/f", ossclient.CopyOptions{ReplaceMeta: true,
		Meta: map[string]string{"mode": "33152"}}); err != nil {
		t.Fatal(err)
	}
	e.srv.ResetCounts()
	l, err := e.b.List(e.ctx, "d/", ossclient.ListOptions{})
	if err != nil || len(l.Objects) != 1 {
		t.Fatalf("List = %+v, %v", l, err)
	}
	if o := l.Objects[0]; o.MetaUnknown || o.Meta["mode"] != "33152" {
		t.Errorf("listed after a chmod: %+v", o)
	}
	e.expect(t, "listing after a chmod", map[string]int64{"ListObjectsV2": 1})
}

// frozenEnv is newEnv on a server whose clock stands still: every version
// it makes has the same Last-Modified second.
func frozenEnv(t *testing.T) *env {
	at := time.Now()
	srv, c := startServerWith(t, osstest.Options{Buckets: []string{testBucket}, Clock: func() time.Time { return at }})
	return newEnvOn(t, srv, c, nil)
}

// TestServerCopyForgetsDstMeta: a Copy of the same content onto a key in
// the same second makes a version with the ETag and Last-Modified second of
// the one replaced; the metadata remembered for that one must not be given
// for the copy (a rename over a file showed the replaced file's mode), nor
// after a Delete and a Copy back (a rename there and back).
func TestServerCopyForgetsDstMeta(t *testing.T) {
	e := frozenEnv(t)
	put := func(key, mode string) {
		if _, err := e.b.Put(e.ctx, key, strings.NewReader("same"), ossclient.PutOptions{Meta: map[string]string{"mode": mode}}); err != nil {
			t.Fatal(err)
		}
	}
	mode := func(what, key, want string) {
		t.Helper()
		l, err := e.b.List(e.ctx, "", ossclient.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range l.Objects {
			if o.Key == key && !o.MetaUnknown && o.Meta["mode"] != want {
				t.Errorf("%s: listing gives %s mode %q, want %s or unknown", what, key, o.Meta["mode"], want)
			}
		}
		if o, err := e.b.Stat(e.ctx, key, ossclient.WithMeta); err != nil || o.Meta["mode"] != want {
			t.Errorf("%s: Stat WithMeta %s = %+v, %v; want mode %s", what, key, o, err, want)
		}
	}
	put("victim", "33188") // 0644
	put("moved", "33152")  // 0600
	mode("before", "victim", "33188")
	if _, err := e.b.Copy(e.ctx, "moved", "victim", ossclient.CopyOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := e.b.Delete(e.ctx, "moved"); err != nil {
		t.Fatal(err)
	}
	mode("copy over", "victim", "33152")

	// There and back: "c" to "d", d's metadata replaced, "d" back to "c".
	put("c", "33188")
	mode("before", "c", "33188")
	for _, step := range []func() error{
		func() error { _, err := e.b.Copy(e.ctx, "c", "d", ossclient.CopyOptions{}); return err },
		func() error { return e.b.Delete(e.ctx, "c") },
		func() error {
			_, err := e.b.Copy(e.ctx, "d", "d", ossclient.CopyOptions{ReplaceMeta: true, Meta: map[string]string{"mode": "33184"}})
			return err
		},
		func() error { _, err := e.b.Copy(e.ctx, "d", "c", ossclient.CopyOptions{}); return err },
		func() error { return e.b.Delete(e.ctx, "d") },
	} {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}
	mode("there and back", "c", "33184")
}
