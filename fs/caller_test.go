package fs

import (
	"context"
	"os"
	"runtime"
	"syscall"
	"testing"

	"github.com/hanwen/go-fuse/v2/fuse"
)

// TestProcessOf: FUSE names the calling thread; every thread of a process
// is that process (a Go program closes on whatever thread it runs on).
func TestProcessOf(t *testing.T) {
	tids := make(chan int, 2)
	hold := make(chan struct{})
	defer close(hold)
	for range 2 {
		go func() {
			runtime.LockOSThread() // a thread of its own while held
			tids <- syscall.Gettid()
			<-hold
		}()
	}
	self := uint32(os.Getpid())
	for range 2 {
		tid := <-tids
		ctx := fuse.NewContext(context.Background(), &fuse.Caller{Pid: uint32(tid)})
		if got := processOf(ctx); got != self {
			t.Errorf("thread %d: process %d, want %d", tid, got, self)
		}
	}
	ctx := fuse.NewContext(context.Background(), &fuse.Caller{Pid: self})
	if got := processOf(ctx); got != self {
		t.Errorf("process of the main thread: %d, want %d", got, self)
	}
	if otherProcess(ctx, self) {
		t.Error("the opener's own flush taken for another process")
	}
	if !otherProcess(ctx, self+1<<20) {
		t.Error("another process's flush taken for the opener's")
	}
	if otherProcess(ctx, 0) || otherProcess(context.Background(), self) {
		t.Error("an unknown side must count as the same process")
	}
	if tgid(1<<30) != 0 {
		t.Error("tgid of no process")
	}
}
