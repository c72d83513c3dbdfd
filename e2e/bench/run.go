package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/credentials"

	"github.com/ossfs/ossfs/internal/bytesize"
	"github.com/ossfs/ossfs/ossclient/osstest"
)

// config is one benchmark run.
type config struct {
	Rows        []row
	Size        int64  // sequential read/write and random-read object
	EditSize    int64  // the object the edit workload writes into
	StoreDir    string // the server keeps objects here; "" in memory
	Entries     int    // ls -l directory
	Links       int    // readlink workload
	Files       int    // small files
	SmallSize   int64
	Writers     int
	RandomReads int
	SDKParallel int
	WriteSize   int64    // bytes per write(2) of seqwrite
	Ossfs       string   // binary; built when empty
	MountArgs   string   // extra mount flags
	Only        []string // workloads to run; all when empty
	Progress    io.Writer
}

func defaultConfig() config {
	return config{
		Rows: []row{{}, {Latency: 10 * time.Millisecond}},
		Size: 1 << 30, Entries: 10_000, Links: 1_000, Files: 1_000, SmallSize: 4 << 10,
		Writers: 8, RandomReads: 500, SDKParallel: 8, WriteSize: 1 << 20,
	}
}

const bucket = "bench"

// bench is the state shared by the workloads of one run.
type bench struct {
	cfg   config
	srv   *osstest.Server
	sdk   *oss.Client
	get   *atomic.Int64 // bytes of GetObject response bodies served
	put   *atomic.Int64 // bytes of PUT request bodies received (PutObject, UploadPart; not copies)
	ep    string        // endpoint of the counting front of srv
	row   row           // this row's network
	mnt   string
	m     *mountProc
	args  []string        // extra mount flags of the workload running
	ready map[string]bool // objects already uploaded (shared by rows)
}

// Report is the whole run, as printed and as written to JSON.
type Report struct {
	Start   time.Time `json:"start"`
	Machine string    `json:"machine"`
	Config  string    `json:"config"`
	Results []Result  `json:"results"`
}

// Result is one workload at one latency.
type Result struct {
	Workload  string           `json:"workload"`
	Latency   string           `json:"row"` // latency[@bandwidth]
	Wall      time.Duration    `json:"wall_ns"`
	Bytes     int64            `json:"bytes,omitempty"`
	MiBps     float64          `json:"mib_per_s,omitempty"`
	Ops       int              `json:"ops,omitempty"`
	OpsPerSec float64          `json:"ops_per_s,omitempty"`
	Ratio     float64          `json:"ratio_to_sdk,omitempty"`
	Requests  map[string]int64 `json:"requests"`
	GetBytes  int64            `json:"get_bytes"`
	PutBytes  int64            `json:"put_bytes"`
	PeakRSS   int64            `json:"peak_rss_bytes,omitempty"`
	MountCPU  time.Duration    `json:"mount_cpu_ns,omitempty"`
	// ClientCPU is the CPU time of an SDK baseline (its own process).
	ClientCPU time.Duration `json:"client_cpu_ns,omitempty"`
	// LinkFraction is the throughput as a fraction of the row's bandwidth
	// cap (capped rows only).
	LinkFraction float64 `json:"link_fraction,omitempty"`

	childWall time.Duration // set by an SDK baseline: its own wall time
	Note      string        `json:"note,omitempty"`
}

func (b *bench) progress(format string, args ...any) {
	if b.cfg.Progress != nil {
		fmt.Fprintf(b.cfg.Progress, "bench: "+format+"\n", args...)
	}
}

func (b *bench) want(w string) bool { return len(b.cfg.Only) == 0 || slices.Contains(b.cfg.Only, w) }

// run executes every selected workload at every latency.
func run(cfg config) (*Report, error) {
	b := &bench{cfg: cfg, get: new(atomic.Int64), put: new(atomic.Int64), ready: map[string]bool{}}
	if err := b.startServer(); err != nil {
		return nil, err
	}
	defer b.srv.Close()
	if b.cfg.Ossfs == "" {
		bin, cleanup, err := buildOssfs()
		if err != nil {
			return nil, err
		}
		defer cleanup()
		b.cfg.Ossfs = bin
	}
	rep := &Report{Start: time.Now(), Machine: machine(), Config: b.describe()}
	for _, r := range cfg.Rows {
		res, err := b.runRow(r)
		rep.Results = append(rep.Results, res...)
		if err != nil {
			return rep, err
		}
	}
	return rep, nil
}

// row is the network one row of workloads runs over.
type row struct {
	Latency   time.Duration // added to every request
	Bandwidth int64         // bytes/s per direction; 0: unlimited
}

func (r row) String() string {
	if r.Bandwidth == 0 {
		return r.Latency.String()
	}
	return r.Latency.String() + "@" + bytesize.Format(r.Bandwidth)
}

// runRow runs the workloads over one row's network, each on a fresh
// mount: no workload inherits another's caches, and the peak RSS of one is
// not the memory the Go runtime kept from the one before.
func (b *bench) runRow(r row) ([]Result, error) {
	b.row = r
	b.srv.SetLatency(0)
	b.srv.SetBandwidth(0)
	if err := b.setup(); err != nil {
		return nil, err
	}
	defer b.srv.SetBandwidth(0)
	var out []Result
	for _, w := range workloads {
		if !b.want(w.name) {
			continue
		}
		b.progress("%s over %v", w.name, r)
		b.args = nil
		if args := workloadArgs[w.name]; args != nil {
			b.args = args(b)
		}
		rs, err := b.onFreshMount(func() ([]Result, error) { return w.run(b) })
		out = append(out, rs...)
		if err != nil {
			return out, fmt.Errorf("%s over %v: %w", w.name, r, err)
		}
	}
	return out, nil
}

// onFreshMount mounts, runs fn with the row's network shaping on, and
// unmounts.
func (b *bench) onFreshMount(fn func() ([]Result, error)) ([]Result, error) {
	b.srv.SetLatency(0)
	b.srv.SetBandwidth(0)
	mnt, err := os.MkdirTemp("", "ossfs-bench-mnt-")
	if err != nil {
		return nil, err
	}
	defer os.Remove(mnt)
	b.mnt = mnt
	if b.m, err = b.mount(); err != nil {
		return nil, err
	}
	defer b.m.stop()
	b.srv.SetLatency(b.row.Latency)
	b.srv.SetBandwidth(b.row.Bandwidth)
	return fn()
}

// measure runs fn as one workload: counters and the mount's peak RSS are
// reset first, and the result gets the wall time, requests and RSS.
func (b *bench) measure(name string, fn func(r *Result) error) (Result, error) {
	r := Result{Workload: name, Latency: b.row.String()}
	b.srv.ResetCounts()
	b.get.Store(0)
	b.put.Store(0)
	b.m.resetPeakRSS()
	cpu0 := b.m.cpuTime()
	start := time.Now()
	err := fn(&r)
	r.Wall = time.Since(start)
	if r.childWall > 0 {
		r.Wall = r.childWall // the child process's start-up excluded
	}
	r.MountCPU = b.m.cpuTime() - cpu0
	r.Requests = b.srv.Counts()
	r.GetBytes = b.get.Load()
	r.PutBytes = b.put.Load()
	r.PeakRSS = b.m.peakRSS()
	if r.Bytes > 0 {
		r.MiBps = float64(r.Bytes) / (1 << 20) / r.Wall.Seconds()
		if b.row.Bandwidth > 0 {
			r.LinkFraction = float64(r.Bytes) / r.Wall.Seconds() / float64(b.row.Bandwidth)
		}
	}
	if r.Ops > 0 {
		r.OpsPerSec = float64(r.Ops) / r.Wall.Seconds()
	}
	return r, err
}

// startServer runs the local server in memory, fronted by a listener whose
// handler counts the bytes GetObject serves.
func (b *bench) startServer() error {
	srv, err := osstest.Start(osstest.Options{Buckets: []string{bucket}, Dir: b.cfg.StoreDir})
	if err != nil {
		return err
	}
	b.srv = srv
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	front := &http.Server{Handler: countingHandler{srv.Handler(), b.get, b.put}}
	go func() { _ = front.Serve(ln) }()
	b.ep = "http://" + ln.Addr().String()
	b.sdk = oss.NewClient(oss.LoadDefaultConfig().
		WithEndpoint(b.ep).WithRegion(srv.Region()).WithUsePathStyle(true).
		WithCredentialsProvider(credentials.NewStaticCredentialsProvider(
			osstest.DefaultAccessKeyID, osstest.DefaultAccessKeySecret)))
	return nil
}

// countingHandler adds the body bytes of every GET response to n, and of
// every PUT request that carries data (not a server-side copy) to put.
type countingHandler struct {
	next http.Handler
	n    *atomic.Int64
	put  *atomic.Int64
}

func (h countingHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet {
		w = &countingWriter{ResponseWriter: w, n: h.n}
	}
	if r.Method == http.MethodPut && r.Header.Get("x-oss-copy-source") == "" && r.ContentLength > 0 {
		h.put.Add(r.ContentLength)
	}
	h.next.ServeHTTP(w, r)
}

type countingWriter struct {
	http.ResponseWriter
	n *atomic.Int64
}

func (w *countingWriter) Write(p []byte) (int, error) {
	n, err := w.ResponseWriter.Write(p)
	w.n.Add(int64(n))
	return n, err
}

func (w *countingWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// buildOssfs builds the ossfs binary of this checkout.
func buildOssfs() (string, func(), error) {
	dir, err := os.MkdirTemp("", "ossfs-bench-bin-")
	if err != nil {
		return "", nil, err
	}
	bin := filepath.Join(dir, "ossfs")
	root, err := moduleRoot()
	if err != nil {
		return "", nil, err
	}
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/ossfs")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", nil, fmt.Errorf("go build ./cmd/ossfs: %v\n%s", err, out)
	}
	return bin, func() { os.RemoveAll(dir) }, nil
}

func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil || strings.TrimSpace(string(out)) == "" || strings.TrimSpace(string(out)) == os.DevNull {
		return "", fmt.Errorf("run the benchmark from inside the ossfs module (go env GOMOD: %v)", err)
	}
	return filepath.Dir(strings.TrimSpace(string(out))), nil
}

func (b *bench) describe() string {
	c := b.cfg
	return fmt.Sprintf("rows=%v size=%s entries=%d links=%d files=%d small-size=%s writers=%d random-reads=%d sdk-parallel=%d write-size=%s mount-args=%q",
		c.Rows, bytesize.Format(c.Size), c.Entries, c.Links, c.Files, bytesize.Format(c.SmallSize), c.Writers, c.RandomReads, c.SDKParallel, bytesize.Format(c.WriteSize), c.MountArgs)
}

// machine describes the CPU, core count and kernel.
func machine() string {
	cpu := "unknown CPU"
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if strings.HasPrefix(line, "model name") {
				cpu = strings.TrimSpace(strings.SplitN(line, ":", 2)[1])
				break
			}
		}
	}
	kernel, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	return fmt.Sprintf("%s, %d cores, Linux %s, %s", cpu, runtime.NumCPU(), strings.TrimSpace(string(kernel)), runtime.Version())
}

func ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 30*time.Minute)
}
