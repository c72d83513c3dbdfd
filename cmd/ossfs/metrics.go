package main

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"

	"github.com/ossfs/ossfs/cache"
	ossfs "github.com/ossfs/ossfs/fs"
	"github.com/ossfs/ossfs/metrics"
	"github.com/ossfs/ossfs/ossclient"
)

// mountMetrics is the --metrics-addr endpoint of one mount; nil when the
// flag is not given (every method is then a no-op).
type mountMetrics struct{ m *metrics.Metrics }

// startMetrics serves /metrics on addr and hooks the metrics into the
// client and file system options; "" serves nothing.
func startMetrics(addr string, cfg *ossclient.Config, fo *ossfs.Options, logger *slog.Logger) (*mountMetrics, error) {
	if addr == "" {
		return nil, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--metrics-addr: %w", err)
	}
	m := metrics.New()
	cfg.OnRequest = m.ObserveRequest
	fo.WrapFS = m.WrapFS
	mux := http.NewServeMux()
	mux.Handle("/metrics", m.Handler())
	logger.Info("serving metrics", "url", "http://"+ln.Addr().String()+"/metrics")
	go func() { _ = http.Serve(ln, mux) }()
	return &mountMetrics{m: m}, nil
}

func (mm *mountMetrics) wrapBucket(b ossclient.Bucket) ossclient.Bucket {
	if mm == nil {
		return b
	}
	return mm.m.Bucket(b)
}

func (mm *mountMetrics) watchCache(b *cache.Bucket) {
	if mm != nil {
		mm.m.WatchCache(b.Stats)
	}
}
