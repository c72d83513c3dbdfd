package main

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	ossfs "github.com/ossfs/ossfs/fs"
)

// TestBenchSmoke runs every workload with tiny sizes, so the benchmark
// cannot rot: it must mount, move the right bytes (each workload checks
// them) and report the request counts the targets are about.
func TestBenchSmoke(t *testing.T) {
	// The checks a mount makes first: /dev/fuse present and openable (it
	// is not, for a non-root user, where it is mode 0600).
	if err := ossfs.CheckMountpoint(t.TempDir()); err != nil {
		if os.Getenv("OSSFS_REQUIRE_FUSE") == "1" {
			t.Fatalf("FUSE is not available (OSSFS_REQUIRE_FUSE=1): %v", err)
		}
		t.Skipf("FUSE is not available: %v; set OSSFS_REQUIRE_FUSE=1 to make this a failure", err)
	}
	cfg := config{
		Rows: []row{{}, {Latency: 2 * time.Millisecond, Bandwidth: 200 << 20}},
		Size: 3<<20 + 12345, Entries: 1500, Links: 30, Files: 24, SmallSize: 4 << 10,
		Writers: 4, RandomReads: 20, SDKParallel: 4,
	}
	rep, err := run(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	rep.print(&out)
	t.Log("\n" + out.String())
	if _, err := json.Marshal(rep); err != nil {
		t.Fatal(err)
	}

	seen := map[string]int{}
	for _, r := range rep.Results {
		seen[r.Workload]++
		switch r.Workload {
		case "readlink-warm":
			if n := total(r.Requests); n != 0 {
				t.Errorf("%s at %s: %d requests, want 0: %v", r.Workload, r.Latency, n, r.Requests)
			}
		case "readlink-cold":
			if n := r.Requests["GetSymlink"]; n > int64(cfg.Links) {
				t.Errorf("readlink-cold: %d GetSymlink for %d links", n, cfg.Links)
			}
		case "ls-l":
			if n := r.Requests["HeadObject"]; n > 1 {
				t.Errorf("ls-l: %d HEAD requests, want at most 1 (the directory's lookup): %v", n, r.Requests)
			}
		case "seqread", "seqwrite":
			if r.Ratio <= 0 || r.PeakRSS <= 0 {
				t.Errorf("%s: ratio %v, peak RSS %d: not measured", r.Workload, r.Ratio, r.PeakRSS)
			}
		}
	}
	for _, w := range []string{"seqread", "seqread-sdk", "seqwrite", "seqwrite-sdk", "ls-l", "readlink-cold",
		"readlink-warm", "smallfiles-write", "smallfiles-read", "randread"} {
		if seen[w] != len(cfg.Rows) {
			t.Errorf("workload %s reported %d times, want %d", w, seen[w], len(cfg.Rows))
		}
	}
	if !strings.Contains(out.String(), "peak RSS") {
		t.Error("table has no peak RSS column")
	}
}

func total(m map[string]int64) int64 {
	var n int64
	for _, v := range m {
		n += v
	}
	return n
}
