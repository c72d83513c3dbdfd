package e2e

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
)

// TestReadlinkWarmIsFree: a cold readlink costs at most one GetSymlink; a
// warm one makes no request at all.
func TestReadlinkWarmIsFree(t *testing.T) {
	e := newEnv(t, config{})
	e.sh(`mkdir d && echo x > d/t && ln -s t d/l`)
	e.srv.ResetCounts()
	if got, err := os.Readlink(e.p("d/l")); err != nil || got != "t" {
		t.Fatalf("readlink: %q %v", got, err)
	}
	if n := e.srv.Count("GetSymlink"); n > 1 {
		t.Errorf("cold readlink made %d GetSymlink requests, want at most 1", n)
	}
	e.srv.ResetCounts()
	for range 3 {
		if got := e.sh(`readlink d/l`); got != "t\n" {
			t.Fatalf("readlink: %q", got)
		}
	}
	if n := e.srv.TotalRequests(); n != 0 {
		t.Errorf("warm readlink made %d requests (%v), want 0", n, e.srv.Counts())
	}
}

// TestLsLargeDirectory: `ls -l` of a 1,000-entry directory costs the
// listing only: no HEAD, GetSymlink or GetObject per regular file.
func TestLsLargeDirectory(t *testing.T) {
	e := newEnv(t, config{})
	const n = 1000
	var wg sync.WaitGroup
	sem := make(chan struct{}, 32)
	for i := range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			e.put(fmt.Sprintf("big/f%04d", i), "x")
		})
	}
	wg.Wait()
	e.sh(`test -d big`) // the directory itself is looked up first
	e.srv.ResetCounts()
	out := e.sh(`ls -l big`)
	lines := strings.Count(out, "\n")
	if lines != n+1 { // "total" + one line per entry
		t.Fatalf("ls -l printed %d lines, want %d", lines, n+1)
	}
	c := e.srv.Counts()
	lists := c["ListObjects"] + c["ListObjectsV2"]
	if lists < 1 || lists > 2 {
		t.Errorf("ls -l made %d listing requests, want 1 (or 2 pages)", lists)
	}
	for _, op := range []string{"HeadObject", "GetSymlink", "GetObject", "GetObjectMeta"} {
		if c[op] != 0 {
			t.Errorf("ls -l made %d %s requests, want 0 (counts %v)", c[op], op, c)
		}
	}
	if extra := e.srv.TotalRequests() - lists; extra != 0 {
		t.Errorf("ls -l made %d requests besides listings: %v", extra, c)
	}
}
