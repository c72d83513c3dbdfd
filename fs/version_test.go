package fs

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/ossfs/ossfs/ossclient"
)

// heldGet is a Bucket whose next Get, once armed, is held after the inner
// call answered and before the caller sees the answer: an answer that
// arrives late, after one sent later.
type heldGet struct {
	ossclient.Bucket
	armed   chan struct{} // receives once per held Get
	reached chan struct{}
	release chan struct{}
}

func (h *heldGet) Get(ctx context.Context, key string, off, n int64, opts ossclient.ReadOptions) (*ossclient.Body, error) {
	b, err := h.Bucket.Get(ctx, key, off, n, opts)
	select {
	case <-h.armed:
		h.reached <- struct{}{}
		<-h.release
	default:
	}
	return b, err
}

// TestRevalidateNeverGoesBack: two opens' revalidations whose answers
// arrive in the other order than OSS gave them (the older one last) leave
// the node on the newer version: the late, older answer must not make the
// newer version's handles stale (ESTALE) and the older one current (and,
// for a 304, keep a page cache another version filled meanwhile).
func TestRevalidateNeverGoesBack(t *testing.T) {
	for _, cond := range []bool{false, true} {
		name := "200"
		if cond {
			name = "304"
		}
		t.Run(name, func(t *testing.T) {
			_, raw := testBucket(t)
			h := &heldGet{Bucket: raw, armed: make(chan struct{}, 1), reached: make(chan struct{}), release: make(chan struct{})}
			o := DefaultOptions()
			o.Logger, o.Mountpoint = slog.New(slog.DiscardHandler), t.TempDir()
			o, err := o.withDefaults()
			if err != nil {
				t.Fatal(err)
			}
			f := newFsys(h, o)
			n := f.newFile()
			ctx := context.Background()
			put := func(s string) string {
				t.Helper()
				obj, err := raw.Put(ctx, "f", strings.NewReader(s), ossclient.PutOptions{})
				if err != nil {
					t.Fatal(err)
				}
				return obj.ETag
			}
			v1 := put("version one")
			if cond { // an earlier open saw v1 and let the kernel fill its pages
				n.mu.Lock()
				n.seen, n.paged = version{etag: v1, size: 11}, v1
				n.mu.Unlock()
			}
			h.armed <- struct{}{}
			done := make(chan *opened)
			go func() {
				op, err := n.revalidate(ctx, "f", false)
				if err != nil {
					t.Error(err)
				}
				done <- op
			}()
			select {
			case <-h.reached:
			case <-time.After(10 * time.Second):
				t.Fatal("the first open's GET never reached the hold")
			}
			v2 := put("version two, longer")
			later, err := n.revalidate(ctx, "f", false)
			if err != nil || later.v.etag != v2 {
				t.Fatalf("second open: %+v, %v; want v2", later, err)
			}
			close(h.release)
			first := <-done
			if cur, _ := n.current(); cur.etag != v2 {
				t.Errorf("after the late answer the node is on %q, want v2 %q (the first open pinned %+v)", cur.etag, v2, first.v)
			}
			if first != nil && first.v.etag != v2 {
				t.Errorf("the first open pinned %+v, whose reads are stale at once; want v2", first.v)
			}
			if a := n.attrs(); a.etag != v2 {
				t.Errorf("the node's attributes are of %q, want v2's", a.etag)
			}
		})
	}
}
