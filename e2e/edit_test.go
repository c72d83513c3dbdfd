package e2e

import (
	"bytes"
	"io"
	"math/rand"
	"os"
	"path/filepath"
	"testing"

	"github.com/ossfs/ossfs/ossclient"
)

// putRandom stores size random bytes at key through the raw client and
// returns them.
func putRandom(e *env, key string, size int, seed int64) []byte {
	e.t.Helper()
	data := make([]byte, size)
	rand.New(rand.NewSource(seed)).Read(data)
	if _, err := e.raw.Put(e.ctx(), key, bytes.NewReader(data), ossclient.PutOptions{}); err != nil {
		e.t.Fatal(err)
	}
	return data
}

func (e *env) object(key string) []byte {
	e.t.Helper()
	r, err := e.raw.Read(e.ctx(), key, 0, -1)
	if err != nil {
		e.t.Fatal(err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		e.t.Fatal(err)
	}
	return b
}

// TestEditInPlace: 1 MiB written by dd into the middle of a 40 MiB object
// (conv=notrunc), and 1 MiB appended by cat >>, upload the new bytes only:
// no GET of the unchanged bytes, no PutObject, one UploadPart each, the
// rest copied server-side; the object is byte-exact. (docs/benchmarks.md
// has the 6 GiB row.)
func TestEditInPlace(t *testing.T) {
	need(t, "dd", "cat")
	e := newEnv(t, config{})
	const size = 40 << 20
	model := putRandom(e, "big", size, 1)
	patch := make([]byte, 1<<20)
	rand.New(rand.NewSource(2)).Read(patch)
	pf := filepath.Join(t.TempDir(), "patch")
	if err := os.WriteFile(pf, patch, 0o644); err != nil {
		t.Fatal(err)
	}
	check := func(what string, wantCopies bool) {
		t.Helper()
		c := e.srv.Counts()
		if c["GetObject"] != 0 || c["PutObject"] != 0 {
			t.Errorf("%s: %d GetObject, %d PutObject, want 0 (%v)", what, c["GetObject"], c["PutObject"], c)
		}
		if c["UploadPart"] != 1 || c["CompleteMultipartUpload"] != 1 || (wantCopies && c["UploadPartCopy"] == 0) {
			t.Errorf("%s: want 1 UploadPart of the new bytes and the rest UploadPartCopy: %v", what, c)
		}
		if got := e.object("big"); !bytes.Equal(got, model) {
			t.Fatalf("%s: the object (%d bytes) differs from the model (%d bytes)", what, len(got), len(model))
		}
	}

	e.srv.ResetCounts()
	e.sh(`dd if=` + pf + ` of=big bs=1M seek=20 conv=notrunc status=none`)
	copy(model[20<<20:], patch)
	check("dd at 20 MiB", true)

	e.srv.ResetCounts()
	e.sh(`cat ` + pf + ` >> big`)
	model = append(model, patch...)
	check("append", true)
}

// TestEditReadWhileStaged: one descriptor writes into a large object and
// reads around what it wrote before the close: the written bytes and the
// unchanged ones (from the object) read back as one file.
func TestEditReadWhileStaged(t *testing.T) {
	e := newEnv(t, config{})
	const size = 24 << 20
	model := putRandom(e, "big", size, 3)
	f, err := os.OpenFile(e.p("big"), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := bytes.Repeat([]byte("edit"), 50000)
	if _, err := f.WriteAt(w, 9<<20+7); err != nil {
		t.Fatal(err)
	}
	copy(model[9<<20+7:], w)
	for _, r := range [][2]int64{{9<<20 - 4096, 300000}, {0, 8192}, {size - 5000, 5000}, {8 << 20, 4 << 20}} {
		p := make([]byte, r[1])
		if _, err := f.ReadAt(p, r[0]); err != nil && err != io.EOF {
			t.Fatal(err)
		}
		if !bytes.Equal(p, model[r[0]:r[0]+r[1]]) {
			t.Fatalf("read %d@%d differs from the model", r[1], r[0])
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if got := e.object("big"); !bytes.Equal(got, model) {
		t.Fatal("the object differs from the model")
	}
}

// TestAppendSmallNoHead: appending to a small object (below the edit
// threshold) downloads it with one GET and asks no HEAD first (the size
// known from the lookup says it is small).
func TestAppendSmallNoHead(t *testing.T) {
	e := newEnv(t, config{})
	putRandom(e, "small", 1000, 4)
	e.sh(`test -f small`) // the lookup
	e.srv.ResetCounts()
	e.sh(`echo tail >> small`)
	c := e.srv.Counts()
	if c["HeadObject"] != 0 || c["GetObject"] != 1 || c["PutObject"] != 1 {
		t.Errorf("append to a 1000-byte object: %v, want one GET, one PUT, no HEAD", c)
	}
	if got := e.object("small"); len(got) != 1005 || string(got[1000:]) != "tail\n" {
		t.Errorf("object is %d bytes, ending %q", len(got), got[max(len(got)-5, 0):])
	}
}
