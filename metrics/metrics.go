// Package metrics exposes what a mount does as Prometheus metrics
// (github.com/prometheus/client_golang), served by ossfs --metrics-addr.
//
// It observes each layer from outside, through hooks the layers offer, so
// that none of them depends on Prometheus:
//
//   - OSS requests: ossclient.Config.OnRequest, called once per HTTP request
//     (each retry counts) with the operation, status and latency;
//   - bytes and uploads: Bucket wraps the ossclient.Bucket below the cache,
//     counting the bytes of Read and Get streams and Put bodies and the Puts (one
//     per file upload: PutObject or a whole multipart upload) in flight and
//     failed;
//   - caches: WatchCache reads cache.Bucket's counters at each scrape;
//   - FUSE: WrapFS wraps go-fuse's RawFileSystem (fs.Options.WrapFS),
//     counting and timing every kernel request by operation.
//
// docs/metrics.md lists every metric.
package metrics

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/hanwen/go-fuse/v2/fuse"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/ossfs/ossfs/cache"
	"github.com/ossfs/ossfs/ossclient"
)

// Metrics holds the metrics of one mount in their own registry.
type Metrics struct {
	reg *prometheus.Registry

	requests       *prometheus.CounterVec
	requestLatency *prometheus.HistogramVec
	bytesRead      prometheus.Counter
	bytesWritten   prometheus.Counter
	uploadsActive  prometheus.Gauge
	uploadsFailed  prometheus.Counter
	uploadsDone    prometheus.Counter
	fuseOps        *prometheus.CounterVec
	fuseErrors     *prometheus.CounterVec
	fuseLatency    *prometheus.HistogramVec
	fuseRead       prometheus.Counter
	fuseWritten    prometheus.Counter
}

// latencyBuckets spans a loopback request (0.5 ms) to a stalled one (30 s).
var latencyBuckets = prometheus.ExponentialBuckets(0.0005, 2.5, 14)

// New returns Metrics registered in a fresh registry, with the Go runtime
// and process collectors.
func New() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	f := factory{m.reg}
	m.requests = f.counterVec("ossfs_oss_requests_total", "HTTP requests sent to OSS, retries included, by operation and HTTP status (0: no response).", "op", "status")
	m.requestLatency = f.histogramVec("ossfs_oss_request_duration_seconds", "Time from sending an OSS request to its response headers, by operation.", "op")
	m.bytesRead = f.counter("ossfs_oss_read_bytes_total", "Object bytes received from OSS (GetObject bodies).")
	m.bytesWritten = f.counter("ossfs_oss_written_bytes_total", "Object bytes sent to OSS as uploads (PutObject and UploadPart bodies).")
	m.uploadsActive = f.gauge("ossfs_uploads_in_flight", "File uploads in progress (a PutObject or a whole multipart upload).")
	m.uploadsFailed = f.counter("ossfs_uploads_failed_total", "File uploads that failed after their retries (the writer got an error).")
	m.uploadsDone = f.counter("ossfs_uploads_total", "File uploads finished, failed ones included.")
	m.fuseOps = f.counterVec("ossfs_fuse_operations_total", "Requests from the kernel, by FUSE operation.", "op")
	m.fuseErrors = f.counterVec("ossfs_fuse_errors_total", "Requests from the kernel answered with an error, by FUSE operation.", "op")
	m.fuseLatency = f.histogramVec("ossfs_fuse_operation_duration_seconds", "Time to answer a request from the kernel, by FUSE operation.", "op")
	m.fuseRead = f.counter("ossfs_fuse_read_bytes_total", "Bytes returned to programs by read(2) on the mount.")
	m.fuseWritten = f.counter("ossfs_fuse_written_bytes_total", "Bytes programs wrote with write(2) on the mount.")
	m.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

type factory struct{ reg *prometheus.Registry }

func (f factory) counter(name, help string) prometheus.Counter {
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help})
	f.reg.MustRegister(c)
	return c
}

func (f factory) gauge(name, help string) prometheus.Gauge {
	g := prometheus.NewGauge(prometheus.GaugeOpts{Name: name, Help: help})
	f.reg.MustRegister(g)
	return g
}

func (f factory) counterVec(name, help string, labels ...string) *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
	f.reg.MustRegister(c)
	return c
}

func (f factory) histogramVec(name, help string, labels ...string) *prometheus.HistogramVec {
	h := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: name, Help: help, Buckets: latencyBuckets}, labels)
	f.reg.MustRegister(h)
	return h
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// ObserveRequest records one OSS request; it is ossclient.Config.OnRequest.
func (m *Metrics) ObserveRequest(op string, status int, d time.Duration) {
	m.requests.WithLabelValues(op, strconv.Itoa(status)).Inc()
	m.requestLatency.WithLabelValues(op).Observe(d.Seconds())
}

// WrapFS is fs.Options.WrapFS: it counts every FUSE request.
func (m *Metrics) WrapFS(raw fuse.RawFileSystem) fuse.RawFileSystem {
	return &countingFS{RawFileSystem: raw, m: m}
}

func (m *Metrics) fuseOp(op string, start time.Time, st fuse.Status) {
	m.fuseOps.WithLabelValues(op).Inc()
	m.fuseLatency.WithLabelValues(op).Observe(time.Since(start).Seconds())
	if st != fuse.OK {
		m.fuseErrors.WithLabelValues(op).Inc()
	}
}

// WatchCache exports the hit and miss counters of a cache.Bucket, read at
// each scrape.
func (m *Metrics) WatchCache(stats func() cache.Stats) {
	desc := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc(name, help, []string{"cache"}, nil)
	}
	m.reg.MustRegister(cacheCollector{
		stats:  stats,
		hits:   desc("ossfs_cache_hits_total", "Lookups answered from a cache: stat (HEAD answers and listings), list (directory listings), symlink (targets)."),
		misses: desc("ossfs_cache_misses_total", "Lookups that went to OSS (or waited on a request already going), by cache."),
	})
}

type cacheCollector struct {
	stats        func() cache.Stats
	hits, misses *prometheus.Desc
}

func (c cacheCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.hits; ch <- c.misses }

func (c cacheCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.stats()
	for _, v := range []struct {
		cache        string
		hits, misses uint64
	}{
		{"stat", s.StatHits, s.StatMisses},
		{"list", s.ListHits + s.ProbeHits, s.ListMisses + s.ProbeMisses},
		{"symlink", s.SymlinkHits, s.SymlinkMisses},
	} {
		ch <- prometheus.MustNewConstMetric(c.hits, prometheus.CounterValue, float64(v.hits), v.cache)
		ch <- prometheus.MustNewConstMetric(c.misses, prometheus.CounterValue, float64(v.misses), v.cache)
	}
}

// Bucket wraps inner, counting object bytes and uploads.
func (m *Metrics) Bucket(inner ossclient.Bucket) ossclient.Bucket {
	return &bucket{Bucket: inner, m: m}
}

type bucket struct {
	ossclient.Bucket
	m *Metrics
}

func (b *bucket) Read(ctx context.Context, key string, off, length int64) (io.ReadCloser, error) {
	rc, err := b.Bucket.Read(ctx, key, off, length)
	if err != nil {
		return nil, err
	}
	return &countingReadCloser{ReadCloser: rc, c: b.m.bytesRead}, nil
}

func (b *bucket) Get(ctx context.Context, key string, off, length int64, opts ossclient.ReadOptions) (*ossclient.Body, error) {
	body, err := b.Bucket.Get(ctx, key, off, length, opts)
	if err != nil {
		return nil, err
	}
	body.ReadCloser = &countingReadCloser{ReadCloser: body.ReadCloser, c: b.m.bytesRead}
	return body, nil
}

func (b *bucket) Put(ctx context.Context, key string, r io.Reader, opts ossclient.PutOptions) (*ossclient.Object, error) {
	b.m.uploadsActive.Inc()
	defer b.m.uploadsActive.Dec()
	o, err := b.Bucket.Put(ctx, key, &countingReader{r: r, c: b.m.bytesWritten}, opts)
	b.m.uploadsDone.Inc()
	if err != nil {
		b.m.uploadsFailed.Inc()
	}
	return o, err
}

type countingReader struct {
	r io.Reader
	c prometheus.Counter
}

func (r *countingReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	r.c.Add(float64(n))
	return n, err
}

type countingReadCloser struct {
	io.ReadCloser
	c prometheus.Counter
}

func (r *countingReadCloser) Read(p []byte) (int, error) {
	n, err := r.ReadCloser.Read(p)
	r.c.Add(float64(n))
	return n, err
}
