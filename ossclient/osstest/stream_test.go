package osstest_test

import (
	"errors"
	"hash/crc64"
	"io"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"

	"github.com/ossfs/ossfs/ossclient/osstest"
)

// patternBody is a seekable body of size bytes computed from the offset, so
// the test itself never holds the data.
type patternBody struct{ size, off int64 }

func patternByte(i int64) byte { return byte(i*7 + i>>13) }

func (p *patternBody) Read(b []byte) (int, error) {
	if p.off >= p.size {
		return 0, io.EOF
	}
	n := int(min(int64(len(b)), p.size-p.off))
	for i := 0; i < n; i++ {
		b[i] = patternByte(p.off + int64(i))
	}
	p.off += int64(n)
	return n, nil
}

func (p *patternBody) Seek(off int64, whence int) (int64, error) {
	switch whence {
	case io.SeekCurrent:
		off += p.off
	case io.SeekEnd:
		off += p.size
	}
	if off < 0 {
		return 0, errors.New("negative offset")
	}
	p.off = off
	return off, nil
}

// heapPeak samples the Go heap until stop is called and returns the highest
// HeapAlloc seen above the level at the start.
func heapPeak() (stop func() uint64) {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base, peak := ms.HeapAlloc, ms.HeapAlloc
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				var m runtime.MemStats
				runtime.ReadMemStats(&m)
				peak = max(peak, m.HeapAlloc)
			}
		}
	}()
	return func() uint64 {
		close(done)
		wg.Wait()
		return peak - min(base, peak)
	}
}

// TestDirectoryModeStreamsBodies: in directory mode a 64 MiB PutObject and
// GetObject never hold the body in memory (the whole process's heap grows
// by far less than the body), and the bytes and CRC-64 come back intact.
func TestDirectoryModeStreamsBodies(t *testing.T) {
	const size = 64 << 20
	const limit = 16 << 20
	srv := start(t, osstest.Options{Dir: t.TempDir()})
	c := newClient(srv)
	want := crc64.New(crc64.MakeTable(crc64.ECMA))
	if _, err := io.Copy(want, &patternBody{size: size}); err != nil {
		t.Fatal(err)
	}

	stop := heapPeak()
	res, err := c.PutObject(timed(t, 2*time.Minute), &oss.PutObjectRequest{Bucket: oss.Ptr(bkt), Key: oss.Ptr("huge"),
		Body: &patternBody{size: size}, ContentLength: oss.Ptr(int64(size))})
	if grew := stop(); err != nil || grew > limit {
		t.Fatalf("put: %v; heap grew by %d MiB (limit %d MiB)", err, grew>>20, limit>>20)
	}
	if oss.ToString(res.HashCRC64) != formatCRC(want.Sum64()) {
		t.Fatalf("put CRC %s, want %d", oss.ToString(res.HashCRC64), want.Sum64())
	}

	stop = heapPeak()
	gres, err := c.GetObject(timed(t, 2*time.Minute), &oss.GetObjectRequest{Bucket: oss.Ptr(bkt), Key: oss.Ptr("huge")})
	if err != nil {
		stop()
		t.Fatal(err)
	}
	got := crc64.New(crc64.MakeTable(crc64.ECMA))
	n, err := io.Copy(got, gres.Body)
	gres.Body.Close()
	if grew := stop(); err != nil || n != size || grew > limit {
		t.Fatalf("get: %d bytes, %v; heap grew by %d MiB (limit %d MiB)", n, err, grew>>20, limit>>20)
	}
	if got.Sum64() != want.Sum64() || oss.ToString(gres.HashCRC64) != formatCRC(want.Sum64()) {
		t.Fatalf("downloaded CRC %d (header %s), want %d", got.Sum64(), oss.ToString(gres.HashCRC64), want.Sum64())
	}
}

func formatCRC(v uint64) string { return strconv.FormatUint(v, 10) }
