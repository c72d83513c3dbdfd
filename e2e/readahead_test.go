package e2e

import (
	"os"
	"strings"
	"testing"
)

// TestKernelReadAhead: the mount's backing device reads ahead 1 MiB (the
// mount's largest request), not the kernel's 128 KiB, so a sequential
// reader's FUSE reads are 1 MiB.
func TestKernelReadAhead(t *testing.T) {
	e := newEnv(t, config{})
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	dev := ""
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) > 4 && f[4] == e.mnt {
			dev = f[2]
		}
	}
	if dev == "" {
		t.Fatalf("%s not in mountinfo", e.mnt)
	}
	kb, err := os.ReadFile("/sys/class/bdi/" + dev + "/read_ahead_kb")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(string(kb)); got != "1024" && os.Geteuid() == 0 {
		t.Errorf("read_ahead_kb of the mount = %s, want 1024", got)
	}
}
