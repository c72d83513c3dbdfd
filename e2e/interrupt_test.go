package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	ossfs "github.com/ossfs/ossfs/fs"
	"github.com/ossfs/ossfs/ossclient/osstest"
)

// logRecorder keeps the messages logged by a mount, so a test can assert
// what was (not) said, and passes them on to the test log.
type logRecorder struct {
	next slog.Handler
	mu   sync.Mutex
	msgs []string // GUARDED_BY(mu)
}

func (r *logRecorder) Enabled(ctx context.Context, l slog.Level) bool { return r.next.Enabled(ctx, l) }
func (r *logRecorder) Handle(ctx context.Context, rec slog.Record) error {
	r.mu.Lock()
	r.msgs = append(r.msgs, rec.Message)
	r.mu.Unlock()
	return r.next.Handle(ctx, rec)
}
func (r *logRecorder) WithAttrs(as []slog.Attr) slog.Handler { return r }
func (r *logRecorder) WithGroup(string) slog.Handler         { return r }

// saying returns the messages that contain word.
func (r *logRecorder) saying(word string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, m := range r.msgs {
		if strings.Contains(m, word) {
			out = append(out, m)
		}
	}
	return out
}

// recordLogs makes the mount log through a recorder.
func recordLogs(c *config) *logRecorder {
	rec := &logRecorder{}
	c.fs = func(o *ossfs.Options) {
		rec.next = o.Logger.Handler()
		o.Logger = slog.New(rec)
	}
	return rec
}

// waitCount polls (bounded) until the server has seen n requests of op.
func waitCount(t *testing.T, srv *osstest.Server, op string, n int64) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for srv.Count(op) < n {
		if time.Now().After(deadline) {
			t.Fatalf("the server saw %d %s requests, want %d", srv.Count(op), op, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestInterruptedReadBackDoesNotPoisonFile: a file is streamed past the
// in-memory head; a second writer's pwrite at 0 needs the upload read back,
// and that process is killed while the read-back GET stalls. The kill ends
// that one write; the file goes on: the first descriptor's later writes
// and close succeed, the object holds every acknowledged byte, and nothing
// is logged as lost (the streamed bytes are in OSS).
func TestInterruptedReadBackDoesNotPoisonFile(t *testing.T) {
	need(t, "python3")
	var c config
	logs := recordLogs(&c)
	e := newEnv(t, c)
	// The second writer (python3: dd would flush its descriptor at once,
	// which ends the stream) starts first and waits for a line on stdin: a
	// fork after the file is open would flush the descriptor from the child.
	dd := exec.Command("python3", "-c", `import os, sys
sys.stdin.readline()
fd = os.open(sys.argv[1], os.O_WRONLY)
os.pwrite(fd, b"HEADER", 0)`, e.p("f"))
	dd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // killed as a group
	start, err := dd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := dd.Start(); err != nil {
		t.Fatal(err)
	}
	data := make([]byte, 10<<20)
	rand.Read(data)
	f, err := os.Create(e.p("f"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for off := 0; off < len(data); off += 1 << 20 {
		if _, err := f.Write(data[off : off+1<<20]); err != nil {
			t.Fatal(err)
		}
	}
	e.srv.ResetCounts()
	e.srv.AddFault(osstest.Fault{Op: "GetObject", KeyPrefix: "f", Stall: 3 * time.Second, Times: 1})
	start.Write([]byte("go\n"))
	waitCount(t, e.srv, "GetObject", 1) // the read-back has started and stalls
	syscall.Kill(-dd.Process.Pid, syscall.SIGKILL)
	// Its exit closes its descriptor: that flush waits for the read-back
	// (a close returns the upload's error, and is not interruptible).
	dd.Wait()

	// The first descriptor: raw syscalls, so an EINTR is seen, not retried.
	tail := []byte("TAIL")
	if _, err := syscall.Pwrite(int(f.Fd()), tail, int64(len(data))); err != nil {
		t.Fatalf("pwrite after the other writer was killed: %v", err)
	}
	if err := syscall.Fsync(int(f.Fd())); err != nil {
		t.Fatalf("fsync after the other writer was killed: %v", err)
	}
	if err := f.Close(); err != nil {
		t.Fatalf("close after the other writer was killed: %v", err)
	}
	if got := e.mustGet("f"); !bytes.Equal([]byte(got), append(data, tail...)) {
		t.Errorf("object: %d bytes, want %d (the streamed bytes and the tail)", len(got), len(data)+len(tail))
	}
	if n := e.srv.Count("GetObject"); n < 1 {
		t.Errorf("the stalled read-back never ran (%d GetObject)", n)
	}
	if lost := logs.saying("lost"); len(lost) != 0 {
		t.Errorf("logged as lost though nothing was: %q", lost)
	}
}

// TestForkedChildCloseKeepsStream: a Go program writes 20 MiB and runs
// one exec.Command("true") in the middle. The child's close-on-exec
// flushes the inherited descriptor; that flush, from another process than
// the one that opened the file, must not end the streamed upload: one
// multipart upload of 3 parts, no read-back, and no intermediate object.
func TestForkedChildCloseKeepsStream(t *testing.T) {
	need(t, "true")
	e := newEnv(t, config{})
	data := make([]byte, 20<<20)
	rand.Read(data)
	e.srv.ResetCounts()
	f, err := os.Create(e.p("forked"))
	if err != nil {
		t.Fatal(err)
	}
	half := len(data) / 2
	if _, err := f.Write(data[:half]); err != nil {
		t.Fatal(err)
	}
	if err := exec.Command("true").Run(); err != nil {
		t.Fatal(err)
	}
	if e.exists("forked") {
		t.Error("the child's close made the first half visible as an object")
	}
	if _, err := f.Write(data[half:]); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if got := e.mustGet("forked"); !bytes.Equal([]byte(got), data) {
		t.Error("object differs")
	}
	c := e.srv.Counts()
	if c["InitiateMultipartUpload"] != 1 || c["UploadPart"] != 3 || c["CompleteMultipartUpload"] != 1 ||
		c["PutObject"] != 0 || c["GetObject"] != 1 { // the one GET is mustGet's
		t.Errorf("requests for a 20 MiB file written around a fork: %v", c)
	}
}

// TestFailedReadBackIsNotLoss: a file streamed past the in-memory head is
// complete in OSS once its upload is completed for a read-back; when that
// read-back fails, the write that needed it fails (EIO), but nothing is
// lost or said to be: once OSS answers again, the same descriptor writes,
// and close stores the streamed bytes with the change.
func TestFailedReadBackIsNotLoss(t *testing.T) {
	var c config
	logs := recordLogs(&c)
	e := newEnv(t, c)
	data := make([]byte, 10<<20)
	rand.Read(data)
	f, err := os.Create(e.p("f"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(data); err != nil {
		t.Fatal(err)
	}
	e.srv.ResetCounts()
	remove := e.srv.AddFault(osstest.Fault{Op: "GetObject", KeyPrefix: "f", Status: 503})
	if _, err := syscall.Pwrite(int(f.Fd()), []byte("HEADER"), 0); err != syscall.EIO {
		t.Fatalf("pwrite needing a read-back that fails: %v, want EIO", err)
	}
	remove()
	if n := e.srv.Count("GetObject"); n < 1 {
		t.Fatalf("the read-back fault never fired (%d GetObject)", n)
	}
	if _, err := syscall.Pwrite(int(f.Fd()), []byte("HEADER"), 0); err != nil {
		t.Fatalf("pwrite once OSS answers again: %v", err)
	}
	if err := f.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	want := append([]byte("HEADER"), data[6:]...)
	if got := e.mustGet("f"); !bytes.Equal([]byte(got), want) {
		t.Errorf("object: %d bytes, not the streamed bytes with the header", len(got))
	}
	if lost := logs.saying("lost"); len(lost) != 0 {
		t.Errorf("logged as lost though nothing was: %q", lost)
	}
}

// TestStatNotInterrupted: a signal that a program handles (SIGCHLD in a
// make -j, here SIGUSR1), arriving while its lstat waits for OSS, does
// not fail the lstat with EINTR, which programs do not expect from
// stat(2): the lookup runs to completion (fs/interrupts.go).
func TestStatNotInterrupted(t *testing.T) {
	e := newEnv(t, config{})
	e.put("d/f", "x")
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGUSR1) // handled: not fatal to the test
	defer signal.Stop(sigs)
	e.srv.AddFault(osstest.Fault{Op: "ListObjectsV2", Stall: 2 * time.Second, Times: 1})
	tids := make(chan int)
	done := make(chan error)
	go func() {
		runtime.LockOSThread() // the thread the signal goes to; it dies with the goroutine
		tids <- syscall.Gettid()
		var st syscall.Stat_t
		done <- syscall.Lstat(e.p("d"), &st) // raw: an EINTR is seen, not retried
	}()
	tid := <-tids
	waitCount(t, e.srv, "ListObjectsV2", 1) // the lookup waits for the stalled listing
	if err := syscall.Tgkill(os.Getpid(), tid, syscall.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Errorf("lstat with a signal arriving during its lookup: %v, want success", err)
	}
	if n := e.srv.FaultsFired(); n != 1 {
		t.Errorf("the stall fired %d times, want 1", n)
	}
	select {
	case <-sigs:
	case <-time.After(10 * time.Second):
		t.Error("the signal was not delivered")
	}
}
