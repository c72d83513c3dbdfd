package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	"golang.org/x/sys/unix"
)

// The data cache workloads (--cache-dir; docs/benchmarks.md, issue 14):
//
//	cache-seqread     the SIZE object read cold (filling the cache), then
//	                  again with the kernel's pages dropped: from the
//	                  cache's disk, with only the open's 304; then the
//	                  cache's own file read directly (no FUSE), the
//	                  baseline of the warm read's ratio
//	cache-smallfiles  -files objects of -small-size read by -writers
//	                  readers, then again with the kernel's pages dropped

func init() {
	workloads = append(workloads,
		workload{"cache-seqread", (*bench).cacheSeqRead},
		workload{"cache-smallfiles", (*bench).cacheSmallFiles})
}

// workloadArgs holds the extra mount flags of the workloads that need some.
var workloadArgs = map[string]func(*bench) []string{
	"cache-seqread":    (*bench).cacheArgs,
	"cache-smallfiles": (*bench).cacheArgs,
}

// cacheDir is the data cache directory of the workload running.
func (b *bench) cacheDir() string { return filepath.Join(os.TempDir(), "ossfs-bench-cache") }

func (b *bench) cacheArgs() []string {
	os.RemoveAll(b.cacheDir())
	return []string{"--cache-dir", b.cacheDir(), "--cache-size", fmt.Sprint(b.cfg.Size + 256<<20)}
}

// dropCacheFiles drops the kernel's pages of the data cache's files, so
// that reading them reads the disk.
func (b *bench) dropCacheFiles() error {
	files, _ := filepath.Glob(filepath.Join(b.cacheDir(), "ossfs-cache-*", "[0-9]*"))
	for _, p := range files {
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		err = f.Sync() // dirty pages cannot be dropped
		if err == nil {
			err = unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED)
		}
		f.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// readDropping reads path whole through one descriptor (checking the
// pattern when check), then drops the kernel's pages of it, so the next
// read reaches the mount.
func readDropping(path string, check bool, buf []byte) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	var n int64
	for {
		k, err := f.Read(buf)
		if k > 0 && check && !checkPattern(buf[:k], n) {
			return n, fmt.Errorf("%s: wrong bytes at offset %d", path, n)
		}
		n += int64(k)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return n, err
		}
	}
	return n, unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED)
}

func (b *bench) cacheSeqRead() ([]Result, error) {
	path := filepath.Join(b.mnt, bigKey)
	buf := make([]byte, 1<<20)
	var out []Result
	for _, pass := range []string{"cache-seqread-cold", "cache-seqread-warm"} {
		if err := b.dropCacheFiles(); err != nil {
			return out, err
		}
		r, err := b.measure(pass, func(r *Result) error {
			var err error
			r.Bytes, err = readDropping(path, true, buf)
			if err == nil && r.Bytes != b.cfg.Size {
				err = fmt.Errorf("read %d bytes, want %d", r.Bytes, b.cfg.Size)
			}
			return err
		})
		r.Note = fmt.Sprintf("%d GetObject answered 304", b.srv.NotModified())
		out = append(out, r)
		if err != nil {
			return out, err
		}
	}
	files, _ := filepath.Glob(filepath.Join(b.cacheDir(), "ossfs-cache-*", "[0-9]*"))
	if len(files) != 1 {
		return out, fmt.Errorf("cache files %v, want 1", files)
	}
	if err := b.dropCacheFiles(); err != nil {
		return out, err
	}
	disk, err := b.measure("cache-dir-disk", func(r *Result) error {
		var err error
		r.Bytes, err = readDropping(files[0], false, buf)
		r.Note = "the cache's own file read directly, from the disk (its pages dropped first, as before the warm read)"
		return err
	})
	disk.PeakRSS, disk.MountCPU = 0, 0
	out[1].Ratio = out[1].MiBps / disk.MiBps
	out[1].Note += "; vs SDK column: vs cache-dir-disk"
	return append(out, disk), err
}

func (b *bench) cacheSmallFiles() ([]Result, error) {
	dir := "cache-small-" + b.rowName()
	c, cancel := ctx()
	defer cancel()
	data := strings.Repeat("s", int(b.cfg.SmallSize))
	if err := b.parallel(b.cfg.Files, 32, func(i int) error {
		_, err := b.sdk.PutObject(c, &oss.PutObjectRequest{Bucket: oss.Ptr(bucket),
			Key: oss.Ptr(fmt.Sprintf("%s/f-%05d", dir, i)), Body: strings.NewReader(data)})
		return err
	}); err != nil {
		return nil, err
	}
	var out []Result
	for _, pass := range []string{"cache-smallfiles-read", "cache-smallfiles-reread"} {
		r, err := b.measure(pass, func(r *Result) error {
			r.Ops = b.cfg.Files
			return b.parallel(b.cfg.Files, b.cfg.Writers, func(i int) error {
				n, err := readDropping(filepath.Join(b.mnt, dir, fmt.Sprintf("f-%05d", i)), false, make([]byte, 64<<10))
				if err == nil && n != b.cfg.SmallSize {
					err = fmt.Errorf("read %d bytes, want %d", n, b.cfg.SmallSize)
				}
				return err
			})
		})
		r.Note = fmt.Sprintf("%d readers; %d GetObject answered 304", b.cfg.Writers, b.srv.NotModified())
		out = append(out, r)
		if err != nil {
			return out, err
		}
	}
	return out, nil
}
