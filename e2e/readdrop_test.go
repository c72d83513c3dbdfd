package e2e

import (
	"bytes"
	"crypto/rand"
	"os"
	"path/filepath"
	"testing"

	ossfs "github.com/ossfs/ossfs/fs"
	"github.com/ossfs/ossfs/ossclient"
	"github.com/ossfs/ossfs/ossclient/osstest"
)

// Reads survive dropped connections (issue 10, point 3): a GET cut off
// mid-body is resumed from the byte reached, If-Match its version, so cat
// and O_DIRECT reads return the right bytes instead of EIO.

// bigObject stores size random bytes as key and writes them to a local
// file too, for cmp.
func bigObject(t *testing.T, e *env, key string, size int) string {
	t.Helper()
	data := make([]byte, size)
	rand.Read(data)
	if _, err := e.raw.Put(e.ctx(), key, bytes.NewReader(data), ossclient.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(t.TempDir(), "want")
	if err := os.WriteFile(want, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return want
}

// readers are the ways a program reads the file: through the page cache
// with read-ahead, and with O_DIRECT (every read goes to ossfs as is).
var readers = []struct{ name, script string }{
	{"cat", `cat big | cmp - "$WANT"`},
	{"O_DIRECT", `dd if=big iflag=direct bs=1M status=none | cmp - "$WANT"`},
}

// TestReadThreeDropsInARow: three GETs in a row cut after 64 KiB each;
// cat and an O_DIRECT dd read every byte right, and all three drops fired.
func TestReadThreeDropsInARow(t *testing.T) {
	need(t, "dd", "cmp")
	e := newEnv(t, config{})
	want := bigObject(t, e, "big", 24<<20)
	for _, r := range readers {
		t.Run(r.name, func(t *testing.T) {
			fired := e.srv.FaultsFired()
			e.srv.AddFault(osstest.Fault{Op: "GetObject", DropAfter: 64 << 10, Times: 3})
			e.sh(r.script, "WANT="+want)
			if n := e.srv.FaultsFired() - fired; n != 3 {
				t.Errorf("%d drops fired, want 3", n)
			}
		})
	}
}

// TestReadRandomDrops: each GET is cut after 1,000 bytes with probability
// 0.1; eight reads (cat and O_DIRECT dd in turn) all return the right
// bytes. The mount has no read-ahead budget, so every FUSE read is its own
// GET (about 24 per read, ~190 in all: the chance that no drop fires is
// below 1e-8, and the test checks that some did).
func TestReadRandomDrops(t *testing.T) {
	need(t, "dd", "cmp")
	e := newEnv(t, config{fs: func(o *ossfs.Options) { o.ReadAheadTotal = 1 }})
	want := bigObject(t, e, "big", 24<<20)
	fired := e.srv.FaultsFired()
	remove := e.srv.AddFault(osstest.Fault{Op: "GetObject", DropAfter: 1000, Probability: 0.1})
	defer remove()
	for i := range 8 {
		e.sh(readers[i%2].script, "WANT="+want)
	}
	if n := e.srv.FaultsFired() - fired; n == 0 {
		t.Error("no drop fired over eight reads")
	} else {
		t.Logf("%d drops fired and were resumed", n)
	}
}
