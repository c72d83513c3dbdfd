package e2e

import (
	"testing"
	"time"

	"github.com/ossfs/ossfs/ossclient/osstest"
)

// waitFault waits until injected faults have acted on at least n requests
// of op (a held request is then at the server), failing the test after
// 30 s. It polls a counter: it never guesses how long something takes.
func waitFault(t *testing.T, srv *osstest.Server, op string, n int64) {
	t.Helper()
	waitUntil(t, op+" fault fired", func() bool { return srv.FaultCounts()[op] >= n })
}

// waitUntil polls cond every few milliseconds until it holds, failing the
// test (not carrying on) after 30 s.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after 30s waiting for: %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}
