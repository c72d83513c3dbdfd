package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
)

// Background mode. Go cannot fork a running process, so "ossfs mount" without
// --foreground re-executes itself with the same arguments in a new session,
// with daemonChildEnv set and a pipe as file descriptor 3. The child mounts and
// then writes one line to the pipe: "ok", or the error sentence. The parent
// relays that and exits 0 or 1, so the command returns only once the mount is
// ready (or has failed), as s3fs and gcsfuse do.

const daemonChildEnv = "OSSFS_DAEMON_CHILD"

// isDaemonChild reports whether this process is the re-executed child.
func isDaemonChild() bool { return os.Getenv(daemonChildEnv) == "1" }

// runInBackground starts the child and waits for its readiness line. logPath
// receives the child's stdout and stderr ("": this process's stderr).
func runInBackground(logPath string) error {
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("cannot find own executable to run in the background: %w (use --foreground)", err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	defer r.Close()
	logf := os.Stderr // "" under systemd: keep writing to the journal
	if logPath != "" {
		if logf, err = openLogFile(logPath); err != nil {
			w.Close()
			return err
		}
		defer logf.Close()
	}
	cmd := exec.Command(self, os.Args[1:]...)
	cmd.Env = append(os.Environ(), daemonChildEnv+"=1", logPathEnv+"="+logPath)
	cmd.Stdin = nil
	cmd.Stdout = logf
	cmd.Stderr = logf
	cmd.ExtraFiles = []*os.File{w} // fd 3 in the child
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		w.Close()
		return fmt.Errorf("cannot start background process: %w", err)
	}
	w.Close() // the child holds the only write end now
	line, rerr := bufio.NewReader(r).ReadString('\n')
	line = strings.TrimSpace(line)
	if line == "ok" {
		return cmd.Process.Release()
	}
	// The child failed (or died before saying anything): reap it.
	_ = cmd.Wait()
	if line != "" {
		return errors.New(line)
	}
	if rerr != nil && rerr != io.EOF {
		return fmt.Errorf("background process: %w", rerr)
	}
	return fmt.Errorf("the background process exited before the mount was ready; see %s", logPath)
}

// notifyParent tells a waiting parent that the mount is ready (err == nil) or
// why it is not. It is a no-op outside background mode, and says it only once.
func notifyParent(err error) {
	if isDaemonChild() {
		notifyOnce.Do(func() { writeReadiness(err) })
	}
}

var notifyOnce sync.Once

func writeReadiness(err error) {
	f := os.NewFile(3, "ossfs-ready")
	if f == nil {
		return
	}
	if err == nil {
		// Detach from the terminal's stdin for good, and from the directory
		// the command ran in, which would otherwise stay busy (umount of a
		// mount it lies on fails) for as long as this process lives; both
		// before saying "ok", so the parent returns only once they are
		// done. Relative paths of the flags were made absolute before.
		if devnull, derr := os.Open(os.DevNull); derr == nil {
			_ = syscall.Dup2(int(devnull.Fd()), 0)
			devnull.Close()
		}
		_ = os.Chdir("/")
	}
	msg := "ok"
	if err != nil {
		msg = strings.ReplaceAll(err.Error(), "\n", " ")
	}
	fmt.Fprintln(f, msg)
	f.Close()
}
