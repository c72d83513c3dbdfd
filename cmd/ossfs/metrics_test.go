package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/ossfs/ossfs/ossclient/osstest"
)

// TestMetrics: after a workload (a 3 MiB file written in three parts and
// read back, a symlink made, once retried, and read twice, an rmdir
// failing), a
// scrape of --metrics-addr shows the OSS requests per operation and status
// exactly as the server counted them, the bytes, the uploads, the cache
// hits and the FUSE operations.
func TestMetrics(t *testing.T) {
	requireFUSE(t)
	bin := buildBinary(t)
	s := startServer(t)
	mnt := t.TempDir()
	addr := freeAddr(t)
	// One 503, retried: the status label tells them apart.
	s.srv.AddFault(osstest.Fault{Op: "PutSymlink", Status: 503, Times: 1})
	s.put("d/x", "X")
	s.srv.ResetCounts()
	mountBackground(t, s.goodEnv(), bin, s.mountArgs(testBucket, mnt,
		"--metrics-addr", addr, "--part-size", "1048576")...)

	const size = 3 << 20
	data := bytes.Repeat([]byte("0123456789abcdef"), size/16)
	if err := os.WriteFile(filepath.Join(mnt, "big"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(filepath.Join(mnt, "big")); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read back: %d bytes, %v", len(got), err)
	}
	if err := os.Symlink("big", filepath.Join(mnt, "link")); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if got, err := os.Readlink(filepath.Join(mnt, "link")); err != nil || got != "big" {
			t.Fatalf("readlink = %q, %v", got, err)
		}
	}
	// d/x was made by another client: its listing carries no metadata, so
	// stat asks OSS for it (a stat cache miss).
	if _, err := os.Stat(filepath.Join(mnt, "d", "x")); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Rmdir(filepath.Join(mnt, "d")); !errors.Is(err, syscall.ENOTEMPTY) {
		t.Fatalf("rmdir of a directory with a file: %v, want ENOTEMPTY", err)
	}

	m := scrape(t, "http://"+addr+"/metrics")
	// Every request the server saw came from the mount: the counts agree
	// per operation, and the latency histograms hold as many samples.
	for op, n := range s.srv.Counts() {
		if got := m.sum("ossfs_oss_requests_total", "op", op); got != float64(n) {
			t.Errorf("ossfs_oss_requests_total{op=%q} = %v, server counted %d", op, got, n)
		}
		if got := m.histCount("ossfs_oss_request_duration_seconds", "op", op); got != uint64(n) {
			t.Errorf("latency samples for %s = %d, want %d", op, got, n)
		}
	}
	for _, c := range []struct {
		what string
		got  float64
		want float64
	}{
		{"UploadPart 200", m.get("ossfs_oss_requests_total", "op", "UploadPart", "status", "200"), 3},
		{"PutSymlink 503", m.get("ossfs_oss_requests_total", "op", "PutSymlink", "status", "503"), 1},
		{"PutSymlink 200", m.get("ossfs_oss_requests_total", "op", "PutSymlink", "status", "200"), 1},
		{"bytes written", m.get("ossfs_oss_written_bytes_total"), size},
		{"uploads", m.get("ossfs_uploads_total"), 1},
		{"uploads failed", m.get("ossfs_uploads_failed_total"), 0},
		{"uploads in flight", m.get("ossfs_uploads_in_flight"), 0},
		{"FUSE symlink", m.get("ossfs_fuse_operations_total", "op", "symlink"), 1},
		{"FUSE create", m.get("ossfs_fuse_operations_total", "op", "create"), 1},
		{"FUSE readlink", m.get("ossfs_fuse_operations_total", "op", "readlink"), 2},
		{"FUSE rmdir errors", m.get("ossfs_fuse_errors_total", "op", "rmdir"), 1},
		{"FUSE bytes written", m.get("ossfs_fuse_written_bytes_total"), size},
	} {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.what, c.got, c.want)
		}
	}
	for _, c := range []struct {
		what     string
		got, min float64
	}{
		{"bytes read from OSS", m.get("ossfs_oss_read_bytes_total"), size},
		{"FUSE bytes read", m.get("ossfs_fuse_read_bytes_total"), size},
		{"symlink cache hits (second readlink)", m.get("ossfs_cache_hits_total", "cache", "symlink"), 1},
		{"stat cache misses", m.get("ossfs_cache_misses_total", "cache", "stat"), 1},
		{"FUSE lookup", m.get("ossfs_fuse_operations_total", "op", "lookup"), 1},
		{"FUSE write latency samples", float64(m.histCount("ossfs_fuse_operation_duration_seconds", "op", "write")), 1},
	} {
		if c.got < c.min {
			t.Errorf("%s = %v, want at least %v", c.what, c.got, c.min)
		}
	}
}

// freeAddr returns a loopback address with a port free right now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

type scraped map[string]*dto.MetricFamily

func scrape(t *testing.T, url string) scraped {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("parsing the scrape: %v\n%s", err, body)
	}
	return fams
}

// matching returns the samples of name whose labels include the pairs.
func (s scraped) matching(name string, pairs ...string) []*dto.Metric {
	f := s[name]
	if f == nil {
		return nil
	}
	var out []*dto.Metric
	for _, m := range f.GetMetric() {
		ok := true
		for i := 0; i < len(pairs); i += 2 {
			found := false
			for _, l := range m.GetLabel() {
				if l.GetName() == pairs[i] && l.GetValue() == pairs[i+1] {
					found = true
				}
			}
			ok = ok && found
		}
		if ok {
			out = append(out, m)
		}
	}
	return out
}

func value(m *dto.Metric) float64 {
	switch {
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	case m.Untyped != nil:
		return m.Untyped.GetValue()
	}
	panic(fmt.Sprintf("no value in %v", m))
}

// get is the value of the one sample of name with the labels (0 if none).
func (s scraped) get(name string, pairs ...string) float64 {
	ms := s.matching(name, pairs...)
	if len(ms) == 0 {
		return 0
	}
	return value(ms[0])
}

// sum adds the samples of name with the labels.
func (s scraped) sum(name string, pairs ...string) float64 {
	var v float64
	for _, m := range s.matching(name, pairs...) {
		v += value(m)
	}
	return v
}

func (s scraped) histCount(name string, pairs ...string) uint64 {
	var n uint64
	for _, m := range s.matching(name, pairs...) {
		n += m.GetHistogram().GetSampleCount()
	}
	return n
}
