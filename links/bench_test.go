package links_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/ossfs/ossfs/fs/legacy"
	"github.com/ossfs/ossfs/fs/names"
	"github.com/ossfs/ossfs/links"
)

// BenchmarkConvert10kLegacyLinks converts 10,000 format 1 links with 10 ms
// of latency injected on every request, at the default parallelism of 32
// (the target: under 30 s). Run with
// -benchtime=1x; it reports the requests per operation.
//
//	go test -run '^$' -bench Convert10k -benchtime=1x ./links
func BenchmarkConvert10kLegacyLinks(b *testing.B) {
	const n = 10000
	for range b.N {
		b.StopTimer()
		srv, c := start(b, "")
		var wg sync.WaitGroup
		sem := make(chan struct{}, 32)
		for i := range n {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer func() { <-sem; wg.Done() }()
				put(b, c, fmt.Sprintf("d%02d/link%05d", i%50, i), fmt.Sprintf("../d%02d/file%05d", (i+1)%50, i),
					map[string]string{"mode": legacy.LinkMode, "mtime": "1600000000"})
			}()
		}
		wg.Wait()
		srv.SetLatency(10 * time.Millisecond)
		srv.ResetCounts()
		b.StartTimer()
		t0 := time.Now()
		sum, err := links.Run(context.Background(), c, links.Options{Apply: true, Mapper: names.Mapper{}})
		el := time.Since(t0)
		b.StopTimer()
		if err != nil || sum.Converted != n {
			b.Fatalf("converted %d of %d: %v (%+v)", sum.Converted, n, err, sum)
		}
		counts := srv.Counts()
		if counts["ListObjectsV2"] != n/1000 || counts["GetObject"] != n || counts["PutSymlink"] != n {
			b.Errorf("requests %v, want %d pages, %d GETs, %d PutSymlink", counts, n/1000, n, n)
		}
		b.ReportMetric(el.Seconds(), "s/10k-links")
		b.ReportMetric(float64(counts["ListObjectsV2"]), "list-pages")
		b.ReportMetric(float64(counts["GetObject"]), "GETs")
		b.ReportMetric(float64(counts["PutSymlink"]), "PutSymlinks")
		srv.Close()
		b.StartTimer()
	}
}
