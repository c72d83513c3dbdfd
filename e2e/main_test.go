package e2e

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The tests serve their FUSE mounts from this very process. When the
// process dies with a call into one of its own mounts in flight (go test's
// -timeout sends SIGQUIT), the kernel waits for an answer that no thread
// is left to give: the process never finishes exiting, keeps its output
// pipe open, and go test (and CI) hang. A -timeout kills the binary with a
// panic at the deadline, and go test sends SIGQUIT a minute later. So the
// mounts of this process are aborted through /sys/fs/fuse/connections
// right before the process panics itself, 3 s before the -timeout deadline
// (no new mount can start in between), and on SIGQUIT before the process
// dies as Go's default SIGQUIT would; both print every goroutine's stack.

// ownMounts holds the mountpoints this process serves.
var ownMounts sync.Map // string -> struct{}

// trackMount records a mountpoint this process serves (temp dirs: never
// reused for another process's mount, so entries are not removed).
func trackMount(mnt string) { ownMounts.Store(mnt, struct{}{}) }

func TestMain(m *testing.M) {
	if os.Getenv(mapperEnv) != "" {
		os.Exit(mapper()) // a child of a test: see startMapper
	}
	flag.Parse()
	if f := flag.Lookup("test.timeout"); f != nil {
		if d, ok := f.Value.(flag.Getter).Get().(time.Duration); ok && d > 10*time.Second {
			time.AfterFunc(d-3*time.Second, func() {
				abortOwnMounts()
				debug.SetTraceback("all")
				panic(fmt.Sprintf("e2e: test timed out: the -timeout of %v is 3 s away; this process's mounts were aborted first", d))
			})
		}
	}
	quit := make(chan os.Signal, 1)
	signal.Notify(quit, syscall.SIGQUIT)
	go func() {
		<-quit
		abortOwnMounts()
		signal.Reset(syscall.SIGQUIT)
		syscall.Kill(os.Getpid(), syscall.SIGQUIT)
	}()
	os.Exit(m.Run())
}

// abortOwnMounts aborts the FUSE connection of every mount in ownMounts,
// found by its device number in /proc/self/mountinfo.
func abortOwnMounts() {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text()) // id parent major:minor root mountpoint ...
		if len(fields) < 5 {
			continue
		}
		if _, ok := ownMounts.Load(fields[4]); !ok {
			continue
		}
		var major, minor int
		if _, err := fmt.Sscanf(fields[2], "%d:%d", &major, &minor); err != nil {
			continue
		}
		os.WriteFile(fmt.Sprintf("/sys/fs/fuse/connections/%d/abort", minor), []byte("1"), 0)
		fmt.Fprintf(os.Stderr, "e2e: aborted the FUSE connection of %s before dying\n", fields[4])
	}
}
