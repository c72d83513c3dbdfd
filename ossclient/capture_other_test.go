//go:build !linux

package ossclient_test

import (
	"bytes"
	"io"
	"log"
	"os"
	"testing"
)

// captureStdio swaps os.Stdout, os.Stderr and the log package's output for a
// pipe until the returned function is called, which restores them and
// returns what was captured. (On Linux the file descriptors themselves are
// redirected.) Call no t.Log or t.Error in between.
func captureStdio(t *testing.T) (stop func() string) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	oldOut, oldErr, oldLog := os.Stdout, os.Stderr, log.Writer()
	os.Stdout, os.Stderr = w, w
	log.SetOutput(w)
	done := make(chan []byte)
	go func() {
		var buf bytes.Buffer
		_, _ = io.Copy(&buf, r)
		done <- buf.Bytes()
	}()
	return func() string {
		os.Stdout, os.Stderr = oldOut, oldErr
		log.SetOutput(oldLog)
		w.Close()
		out := <-done
		r.Close()
		return string(out)
	}
}
