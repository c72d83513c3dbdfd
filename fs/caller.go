package fs

import (
	"bytes"
	"context"
	"os"
	"strconv"

	"github.com/hanwen/go-fuse/v2/fuse"
)

// processOf returns the process (thread group) id of the thread that made
// the request: FUSE reports the calling thread, and the threads of one
// process must count as one. 0 when unknown (no caller, or /proc cannot
// tell: the thread is gone, or it is in a pid namespace /proc does not
// show).
func processOf(ctx context.Context) uint32 {
	c, ok := fuse.FromContext(ctx)
	if !ok || c.Pid == 0 {
		return 0
	}
	return tgid(c.Pid)
}

// tgid reads the Tgid line of /proc/PID/status; 0 when it cannot.
func tgid(pid uint32) uint32 {
	b, err := os.ReadFile("/proc/" + strconv.FormatUint(uint64(pid), 10) + "/status")
	if err != nil {
		return 0
	}
	for _, line := range bytes.Split(b, []byte("\n")) {
		if v, ok := bytes.CutPrefix(line, []byte("Tgid:")); ok {
			n, err := strconv.ParseUint(string(bytes.TrimSpace(v)), 10, 32)
			if err != nil {
				return 0
			}
			return uint32(n)
		}
	}
	return 0
}

// otherProcess says the request comes from a process other than opener
// (a processOf result). Unknown on either side counts as the same process:
// the flush then does what it always did.
func otherProcess(ctx context.Context, opener uint32) bool {
	if opener == 0 {
		return false
	}
	p := processOf(ctx)
	return p != 0 && p != opener
}
