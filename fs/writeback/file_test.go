package writeback

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

// The tests run with a head limit of 8 bytes, so 16 bytes are "past the
// head".
const (
	testHead = 8
	d16      = "0123456789abcdef"
)

// backend is a Store the table runs against, with a way to look at and
// seed its objects.
type backend interface {
	Store
	object(key string) ([]byte, bool)
	seed(key, data string)
}

func (s *fakeStore) seed(key, data string) { s.store(key, []byte(data), nil) }

// logCounter counts the log records that mention a word.
type logCounter struct {
	mu   sync.Mutex
	msgs []string // GUARDED_BY(mu)
}

func (l *logCounter) Enabled(context.Context, slog.Level) bool { return true }
func (l *logCounter) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	l.msgs = append(l.msgs, r.Message)
	l.mu.Unlock()
	return nil
}
func (l *logCounter) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *logCounter) WithGroup(string) slog.Handler      { return l }
func (l *logCounter) saying(word string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, m := range l.msgs {
		if strings.Contains(m, word) {
			n++
		}
	}
	return n
}

// tenv is one File under test.
type tenv struct {
	t    *testing.T
	be   backend
	fake *fakeStore // nil against the local server
	host *fakeHost
	logs *logCounter
	f    *File
}

func newTenv(t *testing.T, be backend, load, trunc bool) *tenv {
	t.Helper()
	e := &tenv{t: t, be: be, host: &fakeHost{key: "k", meta: map[string]string{"mode": "1"}}, logs: &logCounter{}}
	e.fake, _ = be.(*fakeStore)
	o := Options{TempDir: t.TempDir(), HeadLimit: testHead, Logger: slog.New(e.logs)}
	f, err := Open(context.Background(), be, e.host, o, load, trunc)
	if err != nil {
		t.Fatal(err)
	}
	e.f = f
	t.Cleanup(f.Close)
	return e
}

// step is one operation on the File. do is one of write, read, trunc,
// flush, inherited, attrs, unlink, move (to data), gone (unlinked from
// the tree without Unlink), and the fake store's faults putfail (off =
// bytes read first), putok, readfail, readok.
type step struct {
	do    string
	off   int64
	data  string
	err   bool   // the step fails
	want  string // read: the bytes read
	state string // the state after the step, when set
}

type tcase struct {
	name        string
	seed        string // an object at "k" before the open
	load, trunc bool   // Open's arguments; new files: trunc
	steps       []step
	object      string // "k" (or the host's key at the end) after a last Flush
	absent      bool   // no object at the end
	fakeOnly    bool   // uses the fake store's faults
	lostLogged  bool   // data is lost, and the log says so
	// Store calls against the fake, when counts is set.
	counts              bool
	puts, reads, copies int
}

func (e *tenv) run(s step) {
	e.t.Helper()
	ctx := context.Background()
	var err error
	switch s.do {
	case "write":
		var n int
		n, err = e.f.WriteAt(ctx, []byte(s.data), s.off)
		if err == nil && n != len(s.data) {
			e.t.Fatalf("write %q at %d: %d bytes", s.data, s.off, n)
		}
	case "read":
		p := make([]byte, len(s.want)+4)
		var n int
		n, err = e.f.ReadAt(ctx, p, s.off)
		if err == nil && string(p[:n]) != s.want {
			e.t.Fatalf("read at %d: %q, want %q", s.off, p[:n], s.want)
		}
	case "trunc":
		err = e.f.Truncate(ctx, s.off)
	case "flush":
		err = e.f.Flush(ctx)
	case "inherited":
		err = e.f.FlushInherited(ctx)
	case "attrs":
		e.host.set(func(h *fakeHost) { h.meta = map[string]string{"mode": s.data} })
		e.f.AttrsChanged()
	case "unlink":
		err = e.f.Unlink(ctx, func() error {
			if s.data == "fail" {
				return errInjected
			}
			e.host.set(func(h *fakeHost) { h.gone = true })
			return e.be.Delete(ctx, e.host.key)
		})
	case "move":
		e.host.set(func(h *fakeHost) { h.key = s.data })
	case "gone":
		e.host.set(func(h *fakeHost) { h.gone = true })
	case "putfail":
		e.fake.set(func(f *fakeStore) { f.putFail = int(s.off) })
	case "putok":
		e.fake.set(func(f *fakeStore) { f.putFail = -1 })
	case "readfail":
		e.fake.set(func(f *fakeStore) { f.readFail = true })
	case "readok":
		e.fake.set(func(f *fakeStore) { f.readFail = false })
	default:
		e.t.Fatalf("unknown step %q", s.do)
	}
	if (err != nil) != s.err {
		e.t.Fatalf("%s %q at %d: err %v, want an error: %v", s.do, s.data, s.off, err, s.err)
	}
	if s.state != "" {
		if got := e.f.state(); got != s.state {
			e.t.Fatalf("after %s %q at %d: state %s, want %s", s.do, s.data, s.off, got, s.state)
		}
	}
}

// stateCases walk every state and transition of the package doc's
// diagram.
var stateCases = []tcase{
	{name: "new file, empty flush", trunc: true, steps: []step{{do: "flush", state: "Empty"}}, object: "", counts: true, puts: 1},
	{name: "clean open, nothing to flush", seed: "old", steps: []step{{do: "flush", state: "Empty"}}, object: "old", counts: true},
	{name: "stream then flush", trunc: true, steps: []step{
		{do: "write", data: "abc", state: "Streaming"}, {do: "write", off: 3, data: "def", state: "Streaming"},
		{do: "flush", state: "Uploaded"}}, object: "abcdef", counts: true, puts: 1},
	{name: "write elsewhere within the head: staged from memory", trunc: true, steps: []step{
		{do: "write", data: "abcd"}, {do: "write", off: 2, data: "XY", state: "Staged"}},
		object: "abXY", counts: true, puts: 2}, // the abandoned stream and the staged copy
	{name: "write elsewhere past the head: complete and read back", trunc: true, steps: []step{
		{do: "write", data: d16}, {do: "write", data: "XY", state: "Staged"}},
		object: "XY" + d16[2:], counts: true, puts: 2, reads: 1},
	{name: "read within the head", trunc: true, steps: []step{
		{do: "write", data: "abcd"}, {do: "read", want: "abcd", state: "Staged"}}, object: "abcd", counts: true, puts: 2},
	{name: "read past the head: the upload is the content", trunc: true, steps: []step{
		{do: "write", data: d16}, {do: "read", off: 4, want: d16[4:], state: "Staged"}},
		object: d16, counts: true, puts: 1, reads: 1},
	{name: "read past the end", trunc: true, steps: []step{
		{do: "write", data: "abc"}, {do: "read", off: 9, want: ""}}, object: "abc"},
	{name: "truncate > 0 while streaming", trunc: true, steps: []step{
		{do: "write", data: d16}, {do: "trunc", off: 4, state: "Staged"}}, object: "0123", counts: true, puts: 2, reads: 1},
	{name: "truncate 0 starts over", trunc: true, steps: []step{
		{do: "write", data: d16}, {do: "trunc", off: 0, state: "Empty"}, {do: "write", data: "new", state: "Streaming"}},
		object: "new", counts: true, puts: 2},
	{name: "first write not at 0: staged", trunc: true, steps: []step{
		{do: "write", off: 2, data: "x", state: "Staged"}}, object: "\x00\x00x", counts: true, puts: 1},
	{name: "append after a flush reads back", trunc: true, steps: []step{
		{do: "write", data: d16}, {do: "flush", state: "Uploaded"}, {do: "write", off: 16, data: "gh", state: "Staged"}},
		object: d16 + "gh", counts: true, puts: 2, reads: 1},
	{name: "new attributes after a flush: read back, put", trunc: true, steps: []step{
		{do: "write", data: "abc"}, {do: "flush"}, {do: "attrs", data: "2"}},
		object: "abc", counts: true, puts: 2, reads: 1},
	{name: "attributes while streaming: carried by the PutObject sent at the end", trunc: true, steps: []step{
		{do: "write", data: "abc"}, {do: "attrs", data: "2"}}, object: "abc", counts: true, puts: 1},
	{name: "flush inherited by another process keeps the stream", trunc: true, steps: []step{
		{do: "write", data: d16}, {do: "inherited", state: "Streaming"}, {do: "write", off: 16, data: "gh"}},
		object: d16 + "gh", counts: true, puts: 1},
	{name: "flush inherited of a staged copy uploads it", trunc: true, steps: []step{
		{do: "write", off: 1, data: "x"}, {do: "inherited", state: "Staged"}},
		object: "\x00x", counts: true, puts: 1},
	{name: "open with the old content", seed: "old", load: true, steps: []step{
		{do: "read", want: "old", state: "Staged"}, {do: "write", off: 3, data: "er"}},
		object: "older", counts: true, puts: 1, reads: 1},
	{name: "open with the old content, truncate to 2", seed: "old", load: true, steps: []step{
		{do: "trunc", off: 2}}, object: "ol"},
	{name: "unlink while streaming within the head", trunc: true, steps: []step{
		{do: "write", data: "abc"}, {do: "unlink", state: "Staged"}, {do: "read", want: "abc"}, {do: "write", off: 3, data: "d"}},
		absent: true, counts: true, puts: 1}, // the abandoned stream
	{name: "unlink while streaming past the head", trunc: true, steps: []step{
		{do: "write", data: d16}, {do: "unlink", state: "Staged"}, {do: "read", off: 12, want: d16[12:]}},
		absent: true, counts: true, puts: 1, reads: 1},
	{name: "unlink that fails uploads as before", trunc: true, steps: []step{
		{do: "write", data: "abc"}, {do: "unlink", data: "fail", err: true}}, object: "abc"},
	{name: "gone from the tree while streaming: nothing uploaded", trunc: true, steps: []step{
		{do: "write", data: "abc"}, {do: "gone"}, {do: "flush"}}, absent: true},
	{name: "moved while streaming: completed, then moved", trunc: true, steps: []step{
		{do: "write", data: "abc"}, {do: "move", data: "k2"}}, object: "abc", counts: true, puts: 1, copies: 1},
	{name: "moved while streaming past the head, then read", trunc: true, steps: []step{
		{do: "write", data: d16}, {do: "move", data: "k2"}, {do: "read", want: d16}},
		object: d16, counts: true, puts: 2, reads: 1},
	// Faults (the fake store only).
	{name: "stream failed within the head: retried from memory", trunc: true, fakeOnly: true, steps: []step{
		{do: "putfail", off: 2}, {do: "write", data: "abcd", state: "Staged"}, {do: "putok"}},
		object: "abcd", counts: true, puts: 2},
	{name: "stream failed at the flush within the head", trunc: true, fakeOnly: true, steps: []step{
		{do: "putfail", off: 100}, {do: "write", data: "abcd", state: "Streaming"}, {do: "flush", err: true, state: "Staged"},
		{do: "putok"}}, object: "abcd", counts: true, puts: 3}, // the stream, the failed retry, the last flush
	{name: "stream failed past the head: lost until truncated", trunc: true, fakeOnly: true, steps: []step{
		{do: "putfail", off: 4}, {do: "write", data: d16, err: true, state: "Lost"},
		{do: "write", off: 16, data: "x", err: true}, {do: "flush", err: true}, {do: "read", err: true},
		{do: "putok"}, {do: "trunc", off: 0, state: "Empty"}, {do: "write", data: "ok"}},
		object: "ok", counts: true, puts: 2, lostLogged: true},
	{name: "stream failed at the flush past the head", trunc: true, fakeOnly: true, steps: []step{
		{do: "putfail", off: 100}, {do: "write", data: d16}, {do: "flush", err: true, state: "Lost"}, {do: "putok"},
		{do: "trunc", off: 0}}, object: "", counts: true, puts: 2, lostLogged: true},
	{name: "read-back failed: still Uploaded, retried", trunc: true, fakeOnly: true, steps: []step{
		{do: "write", data: d16}, {do: "readfail"}, {do: "write", data: "XY", err: true, state: "Uploaded"},
		{do: "read", err: true, state: "Uploaded"}, {do: "readok"}, {do: "write", data: "XY", state: "Staged"}},
		object: "XY" + d16[2:], counts: true, puts: 2, reads: 3},
	{name: "read-back failed at a flush of new attributes", trunc: true, fakeOnly: true, steps: []step{
		{do: "write", data: d16}, {do: "flush"}, {do: "attrs", data: "2"}, {do: "readfail"},
		{do: "flush", err: true, state: "Uploaded"}, {do: "readok"}},
		object: d16, counts: true, puts: 2, reads: 2},
	{name: "staged upload failed: kept, retried", trunc: true, fakeOnly: true, steps: []step{
		{do: "write", off: 1, data: "x"}, {do: "putfail", off: 0}, {do: "flush", err: true, state: "Staged"}, {do: "putok"}},
		object: "\x00x", counts: true, puts: 2},
}

func TestStates(t *testing.T) {
	for _, c := range stateCases {
		t.Run(c.name, func(t *testing.T) { runCase(t, newFakeStore(), c) })
	}
}

func runCase(t *testing.T, be backend, c tcase) {
	if c.seed != "" {
		be.seed("k", c.seed)
	}
	e := newTenv(t, be, c.load, c.trunc)
	for _, s := range c.steps {
		e.run(s)
	}
	if err := e.f.Flush(context.Background()); err != nil {
		t.Fatalf("last flush: %v", err)
	}
	key, _ := e.host.Key()
	got, ok := be.object(key)
	switch {
	case c.absent && ok:
		t.Errorf("object %s exists: %q", key, got)
	case !c.absent && !ok:
		t.Errorf("object %s missing", key)
	case !c.absent && !bytes.Equal(got, []byte(c.object)):
		t.Errorf("object %s = %q, want %q", key, got, c.object)
	}
	if key != "k" {
		if _, ok := be.object("k"); ok {
			t.Errorf("the object at the old key is left")
		}
	}
	if c.counts && e.fake != nil {
		if p, r, cp := e.fake.count("Put"), e.fake.count("Read"), e.fake.count("Copy"); p != c.puts || r != c.reads || cp != c.copies {
			t.Errorf("Store calls: %d Put, %d Read, %d Copy; want %d, %d, %d", p, r, cp, c.puts, c.reads, c.copies)
		}
	}
	if n := e.logs.saying("lost"); (n > 0) != c.lostLogged {
		t.Errorf("%d log records say lost; want some: %v", n, c.lostLogged)
	}
	if e.f.Dirty() && !c.absent {
		t.Errorf("dirty after the last flush")
	}
}

// TestInterruptedReadBack: a caller interrupted while the read-back it
// waits for stalls gets its ctx's error at once; the read-back goes on,
// and the next write finds the staged copy. Nothing is lost.
func TestInterruptedReadBack(t *testing.T) {
	fs := newFakeStore()
	e := newTenv(t, fs, false, true)
	e.run(step{do: "write", data: d16})
	gate, started := make(chan struct{}), make(chan struct{})
	fs.set(func(s *fakeStore) { s.readGate, s.readStarted = gate, started })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := e.f.WriteAt(ctx, []byte("XY"), 0)
		done <- err
	}()
	<-started
	// A second caller joins the same run.
	joined := make(chan error, 1)
	go func() {
		_, err := e.f.ReadAt(context.Background(), make([]byte, 4), 0)
		joined <- err
	}()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted write: %v, want context.Canceled", err)
	}
	fs.set(func(s *fakeStore) { s.readGate = nil })
	close(gate)
	if err := <-joined; err != nil {
		t.Fatalf("read that joined the read-back: %v", err)
	}
	e.run(step{do: "write", data: "XY", state: "Staged"})
	e.run(step{do: "flush"})
	if got, _ := fs.object("k"); string(got) != "XY"+d16[2:] {
		t.Errorf("object %q", got)
	}
	if fs.count("Read") != 1 {
		t.Errorf("%d reads back, want 1 (the interrupted caller's run, finished)", fs.count("Read"))
	}
	if e.logs.saying("lost") != 0 || e.f.Lost() != nil {
		t.Error("an interrupt was taken for lost data")
	}
}

// TestRefs: handles share one File; an O_TRUNC open truncates it; the
// last Unref says so.
func TestRefs(t *testing.T) {
	e := newTenv(t, newFakeStore(), false, true)
	e.run(step{do: "write", data: "abc"})
	if err := e.f.Ref(false); err != nil {
		t.Fatal(err)
	}
	if e.f.Size() != 3 {
		t.Errorf("size %d", e.f.Size())
	}
	if err := e.f.Ref(true); err != nil {
		t.Fatal(err)
	}
	if e.f.Size() != 0 || e.f.state() != "Empty" || !e.f.Dirty() {
		t.Errorf("after an O_TRUNC open: size %d, %s, dirty %v", e.f.Size(), e.f.state(), e.f.Dirty())
	}
	if e.f.Refs() != 3 || e.f.Unref() || e.f.Unref() || !e.f.Unref() {
		t.Error("references miscounted")
	}
	if e.f.Unlinked() {
		t.Error("unlinked")
	}
	if _, ok := e.f.LastUpload(); ok {
		t.Error("an upload recorded before any")
	}
}

// TestOpenLoadFails: a download that fails at open returns the error and
// leaves no File; an unlinked file cannot be loaded.
func TestOpenLoadFails(t *testing.T) {
	fs := newFakeStore()
	h := &fakeHost{key: "missing"}
	if _, err := Open(context.Background(), fs, h, Options{TempDir: t.TempDir()}, true, false); err == nil {
		t.Error("open of a missing object succeeded")
	}
	h.gone = true
	if _, err := Open(context.Background(), fs, h, Options{}, true, false); err == nil {
		t.Error("open of an unlinked file succeeded")
	}
	if _, err := Open(context.Background(), fs, &fakeHost{key: "k"}, Options{TempDir: "/nonexistent/dir"}, true, false); err == nil {
		t.Error("open without a temp dir succeeded")
	}
}

// TestNoTempDir: without a temp file, a write that needs one fails (never
// a silent loss), and a stream goes on as if that write had not come.
func TestNoTempDir(t *testing.T) {
	fs := newFakeStore()
	f, err := Open(context.Background(), fs, &fakeHost{key: "k"}, Options{TempDir: "/nonexistent/dir", HeadLimit: testHead, Logger: slog.New(&logCounter{})}, false, true)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(context.Background(), []byte("abc"), 0); err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(context.Background(), []byte("x"), 1); err == nil || f.Lost() != nil || f.state() != "Streaming" {
		t.Errorf("fallback without a temp dir: %v, lost %v, %s (want the write to fail, the stream to go on)", err, f.Lost(), f.state())
	}
	if _, err := f.WriteAt(context.Background(), []byte("def"), 3); err != nil {
		t.Fatal(err)
	}
	if err := f.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got, _ := fs.object("k"); string(got) != "abcdef" {
		t.Errorf("object %q", got)
	}
	g, err := Open(context.Background(), fs, &fakeHost{key: "k"}, Options{TempDir: "/nonexistent/dir"}, false, true)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	if _, err := g.WriteAt(context.Background(), []byte("x"), 3); err == nil || g.Lost() != nil {
		t.Errorf("a staged write without a temp dir: %v, lost %v (nothing was written, nothing lost)", err, g.Lost())
	}
}

var _ io.Reader = eofReader{}

// TestMaterializeAfterClose: a materialize run that starts only after the
// File was closed (its caller was interrupted, the last handle released)
// does nothing: no read-back, no temp file.
func TestMaterializeAfterClose(t *testing.T) {
	fs := newFakeStore()
	e := newTenv(t, fs, false, true)
	e.run(step{do: "write", data: d16})
	e.run(step{do: "flush", state: "Uploaded"})
	e.f.upMu.Lock() // a flush in progress
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := e.f.ReadAt(ctx, make([]byte, 4), 0); !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted read: %v", err)
	}
	e.f.mu.Lock()
	run := e.f.materializing // waiting for upMu
	e.f.mu.Unlock()
	if run == nil {
		t.Fatal("no materialize run left behind")
	}
	e.f.Close()
	e.f.upMu.Unlock()
	<-run.done
	if n := fs.count("Read"); n != 0 {
		t.Errorf("%d reads back after Close", n)
	}
	if e.f.state() != "Uploaded" {
		t.Errorf("state %s after Close", e.f.state())
	}
}

// TestFlushIgnoresCancel: a Flush whose ctx has ended still uploads; the
// interrupt is not the file's state.
func TestFlushIgnoresCancel(t *testing.T) {
	fs := newFakeStore()
	e := newTenv(t, fs, false, true)
	e.run(step{do: "write", data: d16})
	e.run(step{do: "flush"})
	e.run(step{do: "attrs", data: "2"}) // the next flush reads back and puts
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := e.f.Flush(ctx); err != nil {
		t.Fatalf("flush with an ended ctx: %v", err)
	}
	if e.f.Dirty() || fs.count("Put") != 2 {
		t.Errorf("dirty %v after %d puts", e.f.Dirty(), fs.count("Put"))
	}
}

// TestReadAfterClose: a reader still reading through a File that its last
// writer closed meanwhile (the kernel's release of the writer raced the
// reader's read) gets ErrClosed, to read the object instead. It spun
// forever (materialize found the File closed, returned nil, and ReadAt
// tried again), which the model test met as a hung close.
func TestReadAfterClose(t *testing.T) {
	e := newTenv(t, newFakeStore(), false, true)
	e.run(step{do: "write", data: d16}) // in the stream only
	e.f.Close()
	done := make(chan error, 1)
	go func() {
		_, err := e.f.ReadAt(context.Background(), make([]byte, 4), 0)
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, ErrClosed) {
			t.Fatalf("read after Close: %v, want ErrClosed", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("read after Close has not returned after 10 s (spinning)")
	}
}
