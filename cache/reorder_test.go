package cache

import (
	"context"
	"errors"
	"io"
	"testing"

	"github.com/ossfs/ossfs/ossclient"
)

// gatedMut is gated that can also hold Put and Delete after the inner call
// returned and before the cache hears of it.
type gatedMut struct{ *gated }

func (g gatedMut) Put(ctx context.Context, key string, r io.Reader, opts ossclient.PutOptions) (*ossclient.Object, error) {
	o, err := g.gated.Bucket.Put(ctx, key, r, opts)
	if herr := g.hold(ctx, "Put"); herr != nil {
		return nil, herr
	}
	return o, err
}

func (g gatedMut) Delete(ctx context.Context, key string) error {
	err := g.gated.Bucket.Delete(ctx, key)
	if herr := g.hold(ctx, "Delete"); herr != nil {
		return herr
	}
	return err
}

// TestRaceMutationsOfOneKeyReordered: two mutations of one key whose
// answers reach the cache in the other order than they reached OSS must
// not leave the cache with the first one's outcome (a Put shown as
// deleted, a Delete shown as present) for a whole TTL.
func TestRaceMutationsOfOneKeyReordered(t *testing.T) {
	forEachInner(t, func(t *testing.T, f *raceFixture) {
		g := gatedMut{f.g}
		b := NewBucket(g, f.b.opts)
		t.Cleanup(b.Close)
		f.b = b
		f.put(t, "d/x", "old")
		if _, err := b.List(f.ctx, "d/", ossclient.ListOptions{}); err != nil {
			t.Fatal(err)
		}

		// Delete reaches OSS first, the Put after it; the cache hears of
		// the Put first.
		done := f.hold(t, "Delete", func() { b.Delete(f.ctx, "d/x") })
		f.put(t, "d/x", "new")
		f.releaseAndWait(done)
		if o, err := b.Stat(f.ctx, "d/x"); err != nil || o.Size != 3 {
			t.Errorf("Stat after Delete then Put (heard in reverse) = %v, %v; want the new object", o, err)
		}
		if l, err := b.List(f.ctx, "d/", ossclient.ListOptions{}); err != nil || len(l.Objects) != 1 {
			t.Errorf("List after Delete then Put (heard in reverse) = %+v, %v; want d/x", l, err)
		}

		// Put reaches OSS first, the Delete after it; the cache hears of
		// the Delete first.
		done = f.hold(t, "Put", func() { f.put(t, "d/y", "y") })
		if err := b.Delete(f.ctx, "d/y"); err != nil {
			t.Fatal(err)
		}
		f.releaseAndWait(done)
		if o, err := b.Stat(f.ctx, "d/y"); !errors.Is(err, ossclient.ErrNotFound) {
			t.Errorf("Stat after Put then Delete (heard in reverse) = %v, %v; want not found", o, err)
		}
	})
}
