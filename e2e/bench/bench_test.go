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
		Size: 3<<20 + 12345, EditSize: 40<<20 + 777, Entries: 1500, Links: 30, Files: 24, SmallSize: 4 << 10,
		Writers: 4, RandomReads: 20, SDKParallel: 4, WriteSize: 1 << 20,
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
		case "ls-l", "ls-l-bare":
			// One HEAD per object (its metadata), plus the directory's
			// marker (its attributes); the directory's pages, plus the
			// page of its parent that its lookup reads.
			if n := r.Requests["HeadObject"]; n > int64(cfg.Entries)+1 {
				t.Errorf("%s: %d HEAD requests for %d objects: %v", r.Workload, n, cfg.Entries, r.Requests)
			}
			if n, pages := total(r.Requests), listPages(r.Requests); n-pages-r.Requests["HeadObject"] != 0 || pages > int64(cfg.Entries/1000+2) {
				t.Errorf("%s: requests %v, want listing pages and HEADs only", r.Workload, r.Requests)
			}
		case "newfiles":
			// One Put per file, and a listing page per directory of the
			// path (read again if the run outlasts --negative-ttl): issue
			// #14's target is at most 1.1 requests per file. The exact
			// count is asserted with a fake clock in e2e/newfiles_test.go.
			if n := total(r.Requests); n > int64(cfg.Files)*11/10+3 || r.Requests["PutObject"] != int64(cfg.Files) || r.Requests["HeadObject"] != 0 {
				t.Errorf("newfiles: %d requests for %d files: %v, want one Put each and a few listing pages", n, cfg.Files, r.Requests)
			}
		case "ls-l-again":
			if n := total(r.Requests); n != 0 {
				t.Errorf("ls-l-again: %d requests, want 0: %v", n, r.Requests)
			}
		case "find-name":
			// Listing pages, and the lookup of the directory's name.
			if n, pages := total(r.Requests), listPages(r.Requests); n-pages > 1 || r.Requests["HeadObject"] > 1 {
				t.Errorf("find-name: requests %v, want the listing pages (and the directory's lookup) only", r.Requests)
			}
		case "smallfiles-read", "smallfiles-reread":
			// One GET per open (the revalidation, which is also the first
			// read); at most one HEAD (the directory's lookup, once the
			// kernel's entry timeout ran out); the re-read's GETs are 304s
			// without a body.
			if r.Requests["GetObject"] != int64(cfg.Files) || r.Requests["HeadObject"] > 1 ||
				total(r.Requests) > int64(cfg.Files)+1 {
				t.Errorf("%s at %s: %v, want %d GetObject and at most one HEAD", r.Workload, r.Latency, r.Requests, cfg.Files)
			}
			if r.Workload == "smallfiles-reread" && r.GetBytes >= int64(cfg.Files)*cfg.SmallSize {
				t.Errorf("smallfiles-reread at %s: %d GET body bytes: the files were downloaded again, not revalidated (304)", r.Latency, r.GetBytes)
			}
		case "edit":
			// 1 MiB into a 40 MiB object: the new bytes only, no GET.
			if r.PutBytes != 1<<20 || r.Requests["GetObject"] != 0 || r.Requests["PutObject"] != 0 {
				t.Errorf("edit at %s: sent %d bytes: %v", r.Latency, r.PutBytes, r.Requests)
			}
		case "cache-seqread-warm":
			// Only the open's GET, answered 304; every byte from the cache.
			if total(r.Requests) != 1 || r.Requests["GetObject"] != 1 || r.GetBytes != 0 {
				t.Errorf("%s at %s: %v, %d GET body bytes; want one 304 and no bytes", r.Workload, r.Latency, r.Requests, r.GetBytes)
			}
		case "cache-smallfiles-reread":
			if r.Requests["GetObject"] != int64(cfg.Files) || total(r.Requests) > int64(cfg.Files)+1 || r.GetBytes != 0 {
				t.Errorf("%s at %s: %v, %d GET body bytes; want one 304 per file, no bytes", r.Workload, r.Latency, r.Requests, r.GetBytes)
			}
		case "seqread", "seqwrite":
			if r.Ratio <= 0 || r.PeakRSS <= 0 {
				t.Errorf("%s: ratio %v, peak RSS %d: not measured", r.Workload, r.Ratio, r.PeakRSS)
			}
		case "seqread-sdk", "seqwrite-sdk":
			if r.ClientCPU <= 0 {
				t.Errorf("%s: the SDK's CPU time was not measured", r.Workload)
			}
		}
	}
	for _, r := range rep.Results {
		if capped := strings.Contains(r.Latency, "@"); capped && r.Bytes > 0 && r.LinkFraction <= 0 {
			t.Errorf("%s at %s: no fraction of the link", r.Workload, r.Latency)
		}
	}
	for _, w := range []string{"seqread", "seqread-sdk", "seqwrite", "seqwrite-sdk", "ls-l", "ls-l-again", "ls-l-bare", "find-name", "readlink-cold",
		"readlink-warm", "smallfiles-write", "smallfiles-read", "smallfiles-reread", "randread", "newfiles", "mkdir-p", "cp-r", "tar-x", "edit", "edit-copy-sdk"} {
		if seen[w] != len(cfg.Rows) {
			t.Errorf("workload %s reported %d times, want %d", w, seen[w], len(cfg.Rows))
		}
	}
	if !strings.Contains(out.String(), "peak RSS") {
		t.Error("table has no peak RSS column")
	}
}

func listPages(m map[string]int64) int64 { return m["ListObjects"] + m["ListObjectsV2"] }

func total(m map[string]int64) int64 {
	var n int64
	for _, v := range m {
		n += v
	}
	return n
}

// TestMain runs an SDK baseline when this test binary is the bench's child
// process (child.go).
func TestMain(m *testing.M) {
	runChildIfAsked()
	os.Exit(m.Run())
}
