package ossclient_test

import (
	"bytes"
	"io"
	"os"
	"syscall"
	"testing"
)

// captureStdio redirects file descriptors 1 and 2 into a pipe until the
// returned function is called, which restores them and returns what was
// captured. Working on the descriptors catches everything: fmt.Print, the
// log package, slog.Default, and writes that bypass os.Stdout/os.Stderr.
// Call no t.Log or t.Error in between: with -v they would be captured too.
func captureStdio(t *testing.T) (stop func() string) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	var saved [3]int
	for _, fd := range []int{1, 2} {
		if saved[fd], err = syscall.Dup(fd); err != nil {
			t.Fatal(err)
		}
		if err := syscall.Dup3(int(w.Fd()), fd, 0); err != nil {
			t.Fatal(err)
		}
	}
	done := make(chan []byte)
	go func() {
		var buf bytes.Buffer
		_, _ = io.Copy(&buf, r)
		done <- buf.Bytes()
	}()
	return func() string {
		for _, fd := range []int{1, 2} {
			_ = syscall.Dup3(saved[fd], fd, 0)
			_ = syscall.Close(saved[fd])
		}
		w.Close()
		out := <-done
		r.Close()
		return string(out)
	}
}
