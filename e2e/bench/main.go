// Command bench measures ossfs against the local OSS-compatible server, in
// one run and side by side with the official SDK on the same server:
//
//	go run ./e2e/bench                    # the full run (1 GiB objects; 0, 10 ms, and 10 ms over a 1 Gbit/s link)
//	go run ./e2e/bench -size 64M -latency 10ms -json out.json
//
// It starts the server in this process (memory storage), builds ossfs and
// runs `ossfs mount --foreground` against it as a separate process, so the
// peak RSS reported is the mount's alone (VmHWM). Every workload gets a
// fresh mount, so none inherits another's caches or memory. Request counts come from the
// server, per workload; bytes served by GetObject from a counting wrapper
// around the server's handler.
//
// Workloads (see docs/benchmarks.md for the targets):
//
//	seqread    sequential read of a SIZE object through the mount, and the
//	           SDK alone (parallel ranged GETs) on the same object: ratio
//	seqwrite   sequential write of SIZE through the mount (-write-size
//	           write(2)s), and the SDK's Uploader with the same bytes: ratio
//	ls-l       ls -l of a directory of -entries objects with ossfs metadata
//	           (each line checked), then again within the TTLs
//	ls-l-bare  ls -l of -entries objects without metadata (another tool's)
//	find-name  find -name over the -entries objects: names only
//	readlink   find -type l -exec readlink over -links links, cold, then warm
//	smallfiles -files files of -small-size by -writers writers, then read back
//	randread   -random-reads 4 KiB reads at random offsets in the SIZE object
//	edit       1 MiB written into the middle of an -edit-size object, then
//	           close: the bytes sent (PUT MiB) and fetched (GET MiB)
//
// It needs root (or fusermount3) and /dev/fuse, as the mount tests do.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"strings"
	"time"

	"github.com/ossfs/ossfs/internal/bytesize"
)

func main() {
	runChildIfAsked()
	cfg := defaultConfig()
	var latencies, sizeStr, smallStr, editStr, writeStr, jsonPath, only string
	flag.StringVar(&latencies, "latency", "0,10ms,10ms@120M", "comma-separated rows, each a per-request latency the server injects, optionally @ a bandwidth cap per direction in bytes/s (10ms@120M: a 1 Gbit/s link); one row of workloads each")
	flag.StringVar(&sizeStr, "size", "1G", "size of the sequential read/write object (K, M, G suffixes: KiB, MiB, GiB)")
	flag.StringVar(&editStr, "edit-size", "1G", "size of the object the edit workload writes 1 MiB into (at its middle); the issue #14 row is 6G, with -store-dir (the server in memory would hold it three times)")
	flag.StringVar(&writeStr, "write-size", "1M", "bytes per write(2) of seqwrite (io.Copy into a file writes 32K)")
	flag.StringVar(&cfg.StoreDir, "store-dir", "", "the server keeps objects in this directory (default: in memory)")
	flag.IntVar(&cfg.Entries, "entries", cfg.Entries, "objects in the ls -l directory")
	flag.IntVar(&cfg.Links, "links", cfg.Links, "symlinks for the readlink workload")
	flag.IntVar(&cfg.Files, "files", cfg.Files, "small files created then read back")
	flag.StringVar(&smallStr, "small-size", "4K", "size of each small file")
	flag.IntVar(&cfg.Writers, "writers", cfg.Writers, "parallel writers (and readers) of small files")
	flag.IntVar(&cfg.RandomReads, "random-reads", cfg.RandomReads, "4 KiB reads at random offsets")
	flag.IntVar(&cfg.SDKParallel, "sdk-parallel", cfg.SDKParallel, "parallel ranged GETs of the SDK read baseline")
	flag.StringVar(&cfg.Ossfs, "ossfs", "", "ossfs binary to mount with (default: go build ./cmd/ossfs)")
	flag.StringVar(&jsonPath, "json", "", "also write the results as JSON to this file")
	flag.StringVar(&only, "only", "", "comma-separated workloads to run (default all)")
	flag.StringVar(&cfg.MountArgs, "mount-args", "", "extra flags for ossfs mount, space-separated")
	flag.Parse()

	var err error
	if cfg.Size, err = parseSize(sizeStr); err != nil {
		log.Fatalf("-size: %v", err)
	}
	if cfg.EditSize, err = parseSize(editStr); err != nil {
		log.Fatalf("-edit-size: %v", err)
	}
	if cfg.WriteSize, err = parseSize(writeStr); err != nil || cfg.WriteSize <= 0 {
		log.Fatalf("-write-size: %v", err)
	}
	if cfg.SmallSize, err = parseSize(smallStr); err != nil {
		log.Fatalf("-small-size: %v", err)
	}
	if cfg.Rows, err = parseLatencies(latencies); err != nil {
		log.Fatalf("-latency: %v", err)
	}
	if only != "" {
		cfg.Only = strings.Split(only, ",")
	}
	cfg.Progress = os.Stderr
	rep, err := run(cfg)
	if err != nil {
		log.Fatalf("bench: %v", err)
	}
	rep.print(os.Stdout)
	if jsonPath != "" {
		data, _ := json.MarshalIndent(rep, "", "  ")
		if err := os.WriteFile(jsonPath, append(data, '\n'), 0o644); err != nil {
			log.Fatalf("-json: %v", err)
		}
	}
}

func parseLatencies(s string) ([]row, error) {
	var out []row
	for _, f := range strings.Split(s, ",") {
		lat, bw, _ := strings.Cut(strings.TrimSpace(f), "@")
		var r row
		if lat != "0" {
			d, err := time.ParseDuration(lat)
			if err != nil || d < 0 {
				return nil, fmt.Errorf("%q is not a latency such as 10ms", lat)
			}
			r.Latency = d
		}
		if bw != "" {
			n, err := parseSize(bw)
			if err != nil {
				return nil, fmt.Errorf("%q: bandwidth %w", f, err)
			}
			r.Bandwidth = n
		}
		out = append(out, r)
	}
	return out, nil
}

// parseSize reads a positive size such as 4K, 64M or 1G.
func parseSize(s string) (int64, error) {
	n, err := bytesize.Parse(s)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%q is not a size such as 4K, 64M or 1G", s)
	}
	return n, nil
}
