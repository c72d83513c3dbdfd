package e2e

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"sync"
	"syscall"
	"testing"
)

// TestModelConcurrent is the concurrent variant of the model test: nprivate
// goroutines each run random ops on files of their own directory, compared
// op by op with a local model of that directory (one goroutine's files are
// nobody else's, so the model is exact whatever the interleaving; their
// fork-closes flush every file of the process, the others' included); each
// also writes, through a descriptor of its own, to one shared file, while
// one more goroutine reads it. The shared file is checked against the
// outcomes the docs allow ("Concurrent writers of one file through this
// mount share one staged copy (last writer wins per byte, as on a local
// disk)"): every byte a read returns is 0 or a value some write of that
// byte had begun to write; at the end each byte is the last value one of
// the goroutines wrote there (0 if none did) and the size is the furthest
// end written, before and after a remount. OSSFS_MODEL_SEED and
// OSSFS_MODEL_OPS (ops per goroutine: OSSFS_MODEL_OPS/10, default 300)
// apply.
func TestModelConcurrent(t *testing.T) {
	needRoot(t, "the model is a local directory, where a user's calls are refused by permission bits and by chown's rules, which a mount without --allow-other does not check (docs/semantics.md); as root neither refuses")
	seed := uint64(envInt(t, "OSSFS_MODEL_SEED", 1))
	perG := envInt(t, "OSSFS_MODEL_OPS", 3000) / 10
	w, done := startWorld(t)
	defer done()
	const nprivate = 3
	sh := newSharedFile(w)
	for _, s := range []*side{w.model, w.mount} {
		for g := range nprivate {
			if err := os.Mkdir(s.path(fmt.Sprintf("g%d", g)), 0o755); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := os.WriteFile(w.mount.path(sharedName), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make([]error, nprivate+1)
	stop := make(chan struct{})
	for g := range nprivate {
		wg.Go(func() {
			errs[g] = runPrivate(w, sh, g, seed*16+uint64(g), perG)
		})
	}
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		errs[nprivate] = sh.readLoop(stop)
	}()
	wg.Wait()
	close(stop)
	<-readerDone
	for g, err := range errs {
		if err != nil {
			t.Errorf("goroutine %d (seed %d): %v", g, seed, err)
		}
	}
	if t.Failed() {
		return
	}
	t.Logf("%d goroutines x %d ops, %d writes to the shared file (%d bytes), %d whole reads of it checked",
		nprivate, perG, sh.writes, sh.end, sh.reads)
	before, err := sh.checkFinal()
	if err != nil {
		t.Fatal(err)
	}
	if err := w.env.remount(); err != nil {
		t.Fatal(err)
	}
	after, err := os.ReadFile(w.mount.path(sharedName))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, after) {
		t.Errorf("shared file after a remount differs from before it%s", dataDiff(before, after))
	}
}

const sharedName = "shared"

// sharedFile logs the writes to the shared file: values[p] are the values
// writes of byte p have begun to write, last[g][p] the last value
// goroutine g wrote there.
type sharedFile struct {
	path   string
	mu     sync.Mutex
	values map[int64]map[byte]bool // GUARDED_BY(mu)
	last   map[int]map[int64]byte  // GUARDED_BY(mu)
	end    int64                   // GUARDED_BY(mu)
	writes int                     // GUARDED_BY(mu)
	reads  int                     // written by readLoop only
}

func newSharedFile(w *world) *sharedFile {
	return &sharedFile{path: w.mount.path(sharedName), values: map[int64]map[byte]bool{}, last: map[int]map[int64]byte{}}
}

// write pwrites n bytes of value v at off through fd, logged before the
// call so that a concurrent read may see them.
func (s *sharedFile) write(fd, g int, off, n int64, v byte) error {
	s.mu.Lock()
	if s.last[g] == nil {
		s.last[g] = map[int64]byte{}
	}
	for p := off; p < off+n; p++ {
		if s.values[p] == nil {
			s.values[p] = map[byte]bool{}
		}
		s.values[p][v] = true
		s.last[g][p] = v
	}
	s.end = max(s.end, off+n)
	s.writes++
	s.mu.Unlock()
	k, err := syscall.Pwrite(fd, bytes.Repeat([]byte{v}, int(n)), off)
	if err != nil || int64(k) != n {
		return fmt.Errorf("pwrite shared off=%d len=%d: n=%d, %v", off, n, k, err)
	}
	return nil
}

// readLoop reads the shared file until stop, checking every byte.
func (s *sharedFile) readLoop(stop <-chan struct{}) error {
	for {
		select {
		case <-stop:
			return nil
		default:
		}
		data, err := os.ReadFile(s.path)
		if err != nil {
			return fmt.Errorf("reading the shared file: %v", err)
		}
		s.reads++
		s.mu.Lock()
		for p, b := range data {
			if b != 0 && !s.values[int64(p)][b] {
				s.mu.Unlock()
				return fmt.Errorf("shared file byte %d = %d: no write of that byte wrote it", p, b)
			}
		}
		s.mu.Unlock()
	}
}

// checkFinal: the size is the furthest end written and every byte the
// last value of some goroutine (0 where none wrote).
func (s *sharedFile) checkFinal() ([]byte, error) {
	data, err := os.ReadFile(s.path)
	if err != nil {
		return nil, err
	}
	if int64(len(data)) != s.end {
		return nil, fmt.Errorf("shared file size %d, want %d", len(data), s.end)
	}
	for p, b := range data {
		ok := false
		wrote := false
		for _, m := range s.last {
			if v, in := m[int64(p)]; in {
				wrote = true
				ok = ok || v == b
			}
		}
		if !ok && (wrote || b != 0) {
			return nil, fmt.Errorf("shared file byte %d = %d: not the last value of any writer", p, b)
		}
	}
	return data, nil
}

// runPrivate runs n random ops on goroutine g's directory, on its own
// model and mount sides, and writes to the shared file.
func runPrivate(w *world, sh *sharedFile, g int, seed uint64, n int) error {
	r := rand.New(rand.NewPCG(seed, 7))
	model, mount := newSide(w.model.root, w.model.forker), newSide(w.mount.root, w.mount.forker)
	defer func() {
		for _, s := range []*side{model, mount} {
			for _, fd := range s.fds {
				if fd >= 0 {
					syscall.Close(fd)
				}
			}
		}
	}()
	shared, err := syscall.Open(sh.path, syscall.O_RDWR|syscall.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer syscall.Close(shared)
	paths := []string{fmt.Sprintf("g%d/f", g), fmt.Sprintf("g%d/s p", g)}
	for i := range n {
		o := privateOp(r, model, paths)
		if o.Kind == opOpen && model.fds[o.Slot] >= 0 || o.Kind != opOpen && o.Kind != opRename && model.fds[o.Slot] < 0 {
			o = op{Kind: opOpen, Slot: o.Slot, Path: paths[0], Flags: syscall.O_RDWR | syscall.O_CREAT, Mode: 0o644}
			if model.fds[o.Slot] >= 0 {
				o = op{Kind: opClose, Slot: o.Slot}
			}
		}
		want, got := model.do(o), mount.do(o)
		if (model.fds[o.Slot] < 0) != (mount.fds[o.Slot] < 0) {
			return fmt.Errorf("op %d %v: model %v, mount %v (descriptor on one side only)", i, o, want, got)
		}
		if want.errno != got.errno || want.n != got.n || !bytes.Equal(want.data, got.data) {
			return fmt.Errorf("op %d %v: model %v, mount %v%s", i, o, want, got, dataDiff(want.data, got.data))
		}
		if r.IntN(4) == 0 {
			off, l := r.Int64N(64<<10), 1+r.Int64N(8<<10)
			if err := sh.write(shared, g, off, l, byte(g*80+i%79+1)); err != nil {
				return err
			}
		}
	}
	for _, p := range paths {
		a, errA := os.ReadFile(model.path(p))
		b, errB := os.ReadFile(mount.path(p))
		if errnoOf(unwrapPathErr(errA)) != errnoOf(unwrapPathErr(errB)) || !bytes.Equal(a, b) {
			return fmt.Errorf("%s at the end: model %v, mount %v%s", p, errA, errB, dataDiff(a, b))
		}
	}
	return nil
}

func unwrapPathErr(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

// privateOp draws an op on a goroutine's own files.
func privateOp(r *rand.Rand, model *side, paths []string) op {
	o := op{Slot: r.IntN(3), Seed: r.Uint32(), Len: 1 + r.Int64N(16<<10), Path: paths[r.IntN(2)]}
	var st syscall.Stat_t
	size := int64(0)
	if fd := model.fds[o.Slot]; fd >= 0 && syscall.Fstat(fd, &st) == nil {
		size = st.Size
	}
	o.Off = r.Int64N(size + 4096)
	switch n := r.IntN(100); {
	case n < 12:
		o.Kind, o.Mode = opOpen, 0o644
		o.Flags = []int{syscall.O_RDWR, syscall.O_WRONLY, syscall.O_RDONLY}[r.IntN(3)] | syscall.O_CREAT
		if o.Flags&syscall.O_ACCMODE != syscall.O_RDONLY {
			// O_TRUNC is safe here: mtimes are not compared.
			o.Flags |= []int{0, 0, syscall.O_APPEND, syscall.O_TRUNC}[r.IntN(4)]
		}
	case n < 40:
		o.Kind = opWrite
	case n < 55:
		o.Kind = opPwrite
	case n < 65:
		o.Kind = opPread
	case n < 70:
		o.Kind = opFtruncate
		if r.IntN(2) == 0 {
			o.Off = 0
		}
	case n < 76:
		o.Kind = opFsync
	case n < 90:
		o.Kind = opClose
	case n < 93:
		o.Kind = opForkClose
	default:
		o.Kind, o.Path, o.Path2 = opRename, paths[r.IntN(2)], paths[r.IntN(2)]
	}
	return o
}
