package writeback

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"math/rand"
	"testing"

	"github.com/ossfs/ossfs/ossclient"
	"github.com/ossfs/ossfs/ossclient/osstest"
)

const (
	kib = 1 << 10
	mib = 1 << 20
)

// editEnv is a File opened on an existing object of the local server,
// large enough (EditMin 1 MiB) to be edited in place, and a model of the
// content it must have.
type editEnv struct {
	t     *testing.T
	be    *serverBackend
	srv   *osstest.Server
	f     *File
	model []byte
	logs  *logCounter
}

func newEditEnv(t *testing.T, size int) *editEnv {
	t.Helper()
	be, srv := newServerBackend(t)
	model := make([]byte, size)
	rand.New(rand.NewSource(int64(size))).Read(model)
	be.seed("k", string(model))
	srv.ResetCounts()
	e := &editEnv{t: t, be: be, srv: srv, model: model, logs: &logCounter{}}
	o := Options{TempDir: t.TempDir(), Logger: slog.New(e.logs), EditMin: mib}
	f, err := Open(context.Background(), be, &fakeHost{key: "k"}, o, true, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Close)
	e.f = f
	return e
}

func (e *editEnv) write(off int64, n int) {
	e.t.Helper()
	p := bytes.Repeat([]byte{byte(off)}, n)
	if _, err := e.f.WriteAt(context.Background(), p, off); err != nil {
		e.t.Fatal(err)
	}
	if end := int(off) + n; end > len(e.model) {
		e.model = append(e.model, make([]byte, end-len(e.model))...)
	}
	copy(e.model[off:], p)
}

func (e *editEnv) truncate(size int64) {
	e.t.Helper()
	if err := e.f.Truncate(context.Background(), size); err != nil {
		e.t.Fatal(err)
	}
	if int(size) <= len(e.model) {
		e.model = e.model[:size]
	} else {
		e.model = append(e.model, make([]byte, int(size)-len(e.model))...)
	}
}

// read checks the File's bytes at [off, off+n) against the model.
func (e *editEnv) read(off int64, n int) {
	e.t.Helper()
	p := make([]byte, n)
	c, err := e.f.ReadAt(context.Background(), p, off)
	if err != nil {
		e.t.Fatal(err)
	}
	want := e.model[min(int(off), len(e.model)):min(int(off)+n, len(e.model))]
	if !bytes.Equal(p[:c], want) {
		e.t.Fatalf("read %d@%d: %d bytes differ from the model's %d", n, off, c, len(want))
	}
}

// flush uploads and checks the object against the model.
func (e *editEnv) flush() {
	e.t.Helper()
	if err := e.f.Flush(context.Background()); err != nil {
		e.t.Fatal(err)
	}
	got, _ := e.be.object("k")
	if !bytes.Equal(got, e.model) {
		e.t.Fatalf("object (%d bytes) differs from the model (%d bytes)", len(got), len(e.model))
	}
}

// counts returns the server's counts of the upload's requests, without the
// GET of the check in flush.
func (e *editEnv) counts() map[string]int64 {
	c := e.srv.Counts()
	c["GetObject"]--
	return c
}

func (e *editEnv) want(op string, n int64) {
	e.t.Helper()
	if got := e.counts()[op]; got != n {
		e.t.Errorf("%s: %d requests, want %d (%v)", op, got, n, e.counts())
	}
}

// TestEditSendsOnlyChanges: an edit of an existing 20 MiB object sends
// the changed bytes only and copies the rest server-side, with no GET of
// unchanged ranges and no PutObject, whatever the part boundaries.
func TestEditSendsOnlyChanges(t *testing.T) {
	const size = 20 * mib // parts of 8 MiB, copies of up to 64 MiB
	for _, c := range []struct {
		name            string
		do              func(e *editEnv)
		parts, copies   int64
		gets            int64 // GETs of unchanged bytes (a gap too short for a part)
		dontCheckCopies bool
	}{
		{"1 MiB in the middle", func(e *editEnv) { e.write(10*mib, mib) }, 1, 2, 0, false},
		{"across the 8 MiB part boundary", func(e *editEnv) { e.write(8*mib-300*kib, 600*kib) }, 1, 2, 0, false},
		{"append", func(e *editEnv) { e.write(size, 300*kib) }, 1, 1, 0, false},
		{"append 4 KiB", func(e *editEnv) { e.write(size, 4*kib) }, 1, 1, 0, false},
		{"4 KiB grows to 100 KiB, read from the base", func(e *editEnv) { e.write(5*mib, 4*kib) }, 1, 2, 1, false},
		{"in the last 50 KiB", func(e *editEnv) { e.write(size-20*kib, 10*kib) }, 1, 1, 1, false},
		{"at 0", func(e *editEnv) { e.write(0, 200*kib) }, 1, 1, 0, false},
		{"two edits 10 KiB apart", func(e *editEnv) { e.write(mib, mib); e.write(2*mib+10*kib, mib) }, 1, 2, 1, false},
		{"truncate, then write past the end", func(e *editEnv) { e.truncate(12 * mib); e.write(14*mib, 200*kib) }, 1, 1, 0, false},
		{"truncate up", func(e *editEnv) { e.truncate(size + 3*mib) }, 1, 1, 0, false},
		{"truncate down only", func(e *editEnv) { e.truncate(size - 3*mib) }, 0, 1, 0, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newEditEnv(t, size)
			e.want("HeadObject", 1)
			e.want("GetObject", -1) // the open downloaded nothing
			c.do(e)
			e.flush()
			e.want("PutObject", 0)
			e.want("UploadPart", c.parts)
			e.want("UploadPartCopy", c.copies)
			e.want("GetObject", c.gets)
			e.want("CompleteMultipartUpload", 1)
		})
	}
}

// TestEditReadsWhilePartlyStaged: reads of an edited file take the written
// bytes from the temp file and the rest from the base version (one GET a
// MiB, then held), and keep working after a flush made a new version.
func TestEditReadsWhilePartlyStaged(t *testing.T) {
	e := newEditEnv(t, 12*mib)
	e.write(3*mib+100, 2*mib)
	e.read(3*mib-5000, 2*mib+10000) // spans base, staged, base
	e.read(0, 4096)
	gets := e.counts()["GetObject"] + 1
	e.read(0, 4096)       // held now
	e.read(3*mib, 64*kib) // held now
	if n := e.counts()["GetObject"] + 1; n != gets {
		t.Errorf("re-reads made %d GETs", n-gets)
	}
	e.flush()
	e.write(9*mib, 10)
	e.read(8*mib, 2*mib) // from the new version
	e.read(12*mib-10, 100)
	e.flush()
}

// TestEditBaseChangedBehind: another client replaces the object while it
// is edited here. A read of an unchanged range and the flush fail
// (PreconditionFailed) rather than mix two versions, and the other
// client's object is left as it wrote it, with no upload left open.
func TestEditBaseChangedBehind(t *testing.T) {
	e := newEditEnv(t, 4*mib)
	e.write(mib, 200*kib)
	e.be.seed("k", "theirs")
	p := make([]byte, 100)
	if _, err := e.f.ReadAt(context.Background(), p, 3*mib); !errors.Is(err, ossclient.ErrPreconditionFailed) {
		t.Errorf("read of the replaced base: %v, want ErrPreconditionFailed", err)
	}
	if err := e.f.Flush(context.Background()); !errors.Is(err, ossclient.ErrPreconditionFailed) {
		t.Errorf("flush over the replaced base: %v, want ErrPreconditionFailed", err)
	}
	if got, _ := e.be.object("k"); string(got) != "theirs" {
		t.Errorf("object %q, want theirs", got)
	}
	if n := e.srv.OpenUploads("wb-test"); n != 0 {
		t.Errorf("%d uploads left open", n)
	}
}

// TestEditFaultLeavesOldObject: a part copy failing mid-way fails the
// flush, leaves the old object intact and no upload open; the next flush
// sends it.
func TestEditFaultLeavesOldObject(t *testing.T) {
	e := newEditEnv(t, 20*mib)
	old := append([]byte(nil), e.model...)
	e.write(10*mib, mib)
	remove := e.srv.AddFault(osstest.Fault{Op: "UploadPartCopy", Status: 500, Times: 10})
	if err := e.f.Flush(context.Background()); err == nil {
		t.Fatal("flush succeeded despite the failing part copies")
	}
	remove()
	if e.srv.Count("UploadPartCopy") == 0 {
		t.Fatal("the fault never fired")
	}
	if got, _ := e.be.object("k"); !bytes.Equal(got, old) {
		t.Error("a failed edit changed the object")
	}
	if n := e.srv.OpenUploads("wb-test"); n != 0 {
		t.Errorf("%d uploads left open", n)
	}
	e.flush()
}

// TestEditUnlinkKeepsContent: an unlink reads the unchanged bytes into the
// temp file first, so the descriptors still open read the whole content.
func TestEditUnlinkKeepsContent(t *testing.T) {
	e := newEditEnv(t, 5*mib)
	e.write(2*mib, 10)
	if err := e.f.Unlink(context.Background(), func() error { return e.be.Delete(context.Background(), "k") }); err != nil {
		t.Fatal(err)
	}
	if _, ok := e.be.object("k"); ok {
		t.Fatal("object still there")
	}
	e.read(0, 5*mib)
}

// TestEditRandomAgainstModel: random writes, truncates, reads and flushes
// on an edited object match a model byte for byte.
func TestEditRandomAgainstModel(t *testing.T) {
	e := newEditEnv(t, 6*mib)
	rng := rand.New(rand.NewSource(7))
	for i := 0; i < 60; i++ {
		size := int64(len(e.model))
		switch r := rng.Intn(10); {
		case r < 5:
			e.write(rng.Int63n(size+300*kib), rng.Intn(400*kib)+1)
		case r < 6:
			e.truncate(rng.Int63n(8*mib) + 1)
		case r < 8:
			e.read(rng.Int63n(size+10), rng.Intn(2*mib)+1)
		default:
			e.flush()
		}
	}
	e.flush()
}

// TestEditConcurrent: writers of disjoint ranges, readers and flushes of
// one edited file at once (run with -race): every flush succeeds, and the
// object ends with each writer's bytes in its range and the base's
// elsewhere.
func TestEditConcurrent(t *testing.T) {
	e := newEditEnv(t, 8*mib)
	ctx := context.Background()
	const writers, each = 4, 40
	done := make(chan error, writers+3)
	for w := range writers {
		go func() {
			base := int64(w) * 2 * mib
			for i := range each {
				p := bytes.Repeat([]byte{byte(w + 1)}, 20*kib)
				if _, err := e.f.WriteAt(ctx, p, base+int64(i)*30*kib); err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
	}
	for range 2 {
		go func() {
			p := make([]byte, 300*kib)
			for i := range 30 {
				if _, err := e.f.ReadAt(ctx, p, int64(i)*250*kib); err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
	}
	go func() {
		for range 3 {
			if err := e.f.Flush(ctx); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	for range writers + 3 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	for w := range writers {
		for i := range each {
			off := w*2*mib + i*30*kib
			copy(e.model[off:off+20*kib], bytes.Repeat([]byte{byte(w + 1)}, 20*kib))
		}
	}
	e.flush()
}
