package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/ossfs/ossfs/ossclient/osstest"
)

// mountProc is `ossfs mount --foreground` running as a child process.
type mountProc struct {
	cmd  *exec.Cmd
	mnt  string
	out  *bytes.Buffer
	done chan error
}

// mount starts ossfs on b.mnt against the counting endpoint and waits until
// the kernel has the mount.
func (b *bench) mount() (*mountProc, error) {
	args := []string{"mount", "--foreground", "--endpoint", b.ep, "--region", b.srv.Region(), "--log-level", "warn"}
	args = append(args, strings.Fields(b.cfg.MountArgs)...)
	args = append(args, b.args...)
	args = append(args, bucket, b.mnt)
	cmd := exec.Command(b.cfg.Ossfs, args...)
	cmd.Env = append(os.Environ(),
		"OSS_ACCESS_KEY_ID="+osstest.DefaultAccessKeyID,
		"OSS_ACCESS_KEY_SECRET="+osstest.DefaultAccessKeySecret)
	m := &mountProc{cmd: cmd, mnt: b.mnt, out: new(bytes.Buffer), done: make(chan error, 1)}
	cmd.Stdout, cmd.Stderr = m.out, m.out
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	go func() { m.done <- cmd.Wait() }()
	deadline := time.Now().Add(30 * time.Second)
	for !mounted(b.mnt) {
		select {
		case err := <-m.done:
			return nil, fmt.Errorf("ossfs mount exited: %v\n%s", err, m.out)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			m.stop()
			return nil, fmt.Errorf("ossfs did not mount within 30s\n%s", m.out)
		}
	}
	return m, nil
}

// stop unmounts with SIGTERM (ossfs finishes pending uploads first) and
// falls back to a lazy unmount and SIGKILL.
func (m *mountProc) stop() {
	_ = m.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-m.done:
		return
	case <-time.After(60 * time.Second):
	}
	_ = exec.Command("umount", "-l", m.mnt).Run()
	_ = m.cmd.Process.Kill()
	<-m.done
}

// resetPeakRSS makes VmHWM start again from the current RSS (Linux 4.0+).
func (m *mountProc) resetPeakRSS() {
	_ = os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", m.cmd.Process.Pid), []byte("5"), 0)
}

// peakRSS is the process's VmHWM in bytes, or 0 when unreadable.
func (m *mountProc) peakRSS() int64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", m.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmHWM:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}

func mounted(mnt string) bool {
	data, _ := os.ReadFile("/proc/self/mounts")
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) > 1 && f[1] == mnt {
			return true
		}
	}
	return false
}

// cpuTime is the user plus system CPU time the process has used.
func (m *mountProc) cpuTime() time.Duration {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", m.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	// Fields after the command name (which may hold spaces) in parentheses.
	f := strings.Fields(string(data[bytes.LastIndexByte(data, ')')+1:]))
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / clockTicks
}

// clockTicks is USER_HZ, 100 on every Linux architecture Go supports.
const clockTicks = 100
