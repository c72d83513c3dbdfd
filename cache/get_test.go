package cache

import (
	"io"
	"strings"
	"testing"

	"github.com/ossfs/ossfs/ossclient"
)

// TestGetRefreshesStaleEntries: a GET that shows another version than the
// cached one (changed, or deleted, behind the cache's back) drops the
// key's stat entry and its directory's listing, so the next Stat and List
// ask OSS and see the change; a GET that agrees with the cache changes
// nothing (no extra request).
func TestGetRefreshesStaleEntries(t *testing.T) {
	e := newEnv(t, nil)
	e.put(t, "d/f", "old")
	if _, err := e.b.List(e.ctx, "d/", ossclient.ListOptions{}); err != nil {
		t.Fatal(err)
	}
	get := func() error {
		b, err := e.b.Get(e.ctx, "d/f", 0, 100, ossclient.ReadOptions{})
		if err == nil {
			io.Copy(io.Discard, b)
			b.Close()
		}
		return err
	}
	stat := func() (int64, error) {
		o, err := e.b.Stat(e.ctx, "d/f")
		if err != nil {
			return -1, err
		}
		return o.Size, nil
	}

	if err := get(); err != nil {
		t.Fatal(err)
	}
	e.srv.ResetCounts()
	if n, err := stat(); err != nil || n != 3 {
		t.Fatalf("Stat after an agreeing GET: %d, %v", n, err)
	}
	if c := e.srv.TotalRequests(); c != 0 {
		t.Errorf("an agreeing GET dropped cached entries: %d requests (%v)", c, e.srv.Counts())
	}

	e.put(t, "d/f", "newer!") // behind the cache's back
	if n, _ := stat(); n != 3 {
		t.Fatalf("the cache should still say 3 bytes before the GET, says %d", n)
	}
	if err := get(); err != nil {
		t.Fatal(err)
	}
	if n, err := stat(); err != nil || n != 6 {
		t.Errorf("Stat after a GET saw the new version: %d, %v; want 6", n, err)
	}
	l, err := e.b.List(e.ctx, "d/", ossclient.ListOptions{})
	if err != nil || len(l.Objects) != 1 || l.Objects[0].Size != 6 {
		t.Errorf("List after a GET saw the new version: %+v, %v", l, err)
	}

	if err := e.raw.Delete(e.ctx, "d/f"); err != nil {
		t.Fatal(err)
	}
	if err := get(); err == nil {
		t.Fatal("GET of a deleted key succeeded")
	}
	if _, err := stat(); err == nil {
		t.Error("Stat after a GET found the key gone still answers from the cache")
	}
}

// TestGetIsAsGoodAsHead: a GET's answer (its headers) is kept as the key's
// stat entry with its metadata: a Stat WithMeta right after it costs no
// request, also when the GET showed a new version; once StatTTL has
// passed, the next Stat asks OSS again.
func TestGetIsAsGoodAsHead(t *testing.T) {
	e := newEnv(t, nil)
	e.put(t, "d/f", "old")
	if _, err := e.raw.Put(e.ctx, "d/f", strings.NewReader("newer!"), ossclient.PutOptions{Meta: map[string]string{"mode": "33152"}}); err != nil {
		t.Fatal(err)
	}
	b, err := e.b.Get(e.ctx, "d/f", 0, 100, ossclient.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	b.Close()
	e.srv.ResetCounts()
	if o, err := e.b.Stat(e.ctx, "d/f", ossclient.WithMeta); err != nil || o.Size != 6 || o.Meta["mode"] != "33152" {
		t.Fatalf("Stat WithMeta after the GET = %+v, %v", o, err)
	}
	if c := e.srv.TotalRequests(); c != 0 {
		t.Errorf("Stat WithMeta after a GET: %d requests (%v), want 0", c, e.srv.Counts())
	}
	e.clk.Advance(DefaultStatTTL + DefaultListTTL)
	if _, err := e.b.Stat(e.ctx, "d/f", ossclient.WithMeta); err != nil {
		t.Fatal(err)
	}
	if c := e.srv.Count("HeadObject"); c != 1 {
		t.Errorf("Stat WithMeta after the TTL: %d HEADs (%v), want 1", c, e.srv.Counts())
	}
}
