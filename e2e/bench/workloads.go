package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"

	"github.com/ossfs/ossfs/internal/bytesize"
	"github.com/ossfs/ossfs/ossclient"
)

type workload struct {
	name string
	run  func(b *bench) ([]Result, error)
}

var workloads = []workload{
	{"seqread", (*bench).seqRead},
	{"seqwrite", (*bench).seqWrite},
	{"ls-l", (*bench).lsL},
	{"ls-l-bare", (*bench).lsLBare},
	{"find-name", (*bench).findName},
	{"readlink", (*bench).readlinks},
	{"smallfiles", (*bench).smallFiles},
	{"randread", (*bench).randRead},
	{"newfiles", (*bench).newFiles},
	{"newtree", (*bench).newTree},
	{"edit", (*bench).edit},
}

// Keys of the objects the workloads share; made once per run by setup.
const (
	bigKey     = "seq/big.bin"
	lsDir      = "ls"      // objects without metadata (another tool's)
	lsMetaDir  = "ls-meta" // objects with ossfs metadata (lsMeta)
	linkDir    = "links"
	linkTarget = "link-targets"
)

// pattern is the content of every benchmark object, repeated: byte o of an
// object is pattern[o%len(pattern)], so reads can be checked cheaply.
var pattern = func() []byte {
	p := make([]byte, 16<<20+4093) // not a power of two: misplaced ranges show
	r := rand.New(rand.NewPCG(1, 2))
	for i := range p {
		p[i] = byte(r.Uint32())
	}
	return p
}()

// patternReader yields n bytes of the pattern.
type patternReader struct{ off, n int64 }

func (r *patternReader) Read(p []byte) (int, error) {
	if r.off >= r.n {
		return 0, io.EOF
	}
	p = p[:min(int64(len(p)), r.n-r.off)]
	c := 0
	for c < len(p) {
		c += copy(p[c:], pattern[(r.off+int64(c))%int64(len(pattern)):])
	}
	r.off += int64(c)
	return c, nil
}

// writeOnly hides every method of w but Write, so that io.CopyBuffer
// writes with the buffer it is given.
type writeOnly struct{ w io.Writer }

func (o writeOnly) Write(p []byte) (int, error) { return o.w.Write(p) }

// checkPattern reports whether p is the pattern's bytes at offset off.
func checkPattern(p []byte, off int64) bool {
	for len(p) > 0 {
		i := off % int64(len(pattern))
		n := min(len(p), len(pattern)-int(i))
		if !bytes.Equal(p[:n], pattern[i:i+int64(n)]) {
			return false
		}
		p, off = p[n:], off+int64(n)
	}
	return true
}

// setup uploads, once per run, what the read workloads need (latency 0).
func (b *bench) setup() error {
	c, cancel := ctx()
	defer cancel()
	if (b.want("seqread") || b.want("randread") || b.want("cache-seqread")) && !b.ready[bigKey] {
		b.progress("uploading %s of %s", bigKey, bytesize.Format(b.cfg.Size))
		_, err := b.sdk.NewUploader().UploadFrom(c, &oss.PutObjectRequest{Bucket: oss.Ptr(bucket), Key: oss.Ptr(bigKey)},
			&patternReader{n: b.cfg.Size})
		if err != nil {
			return err
		}
		b.ready[bigKey] = true
	}
	if err := b.setupEdit(); err != nil {
		return err
	}
	for _, d := range []struct {
		dir, workload string
		meta          map[string]string
	}{{lsDir, "ls-l-bare", nil}, {lsDir, "find-name", nil}, {lsMetaDir, "ls-l", lsMeta}} {
		if !b.want(d.workload) || b.ready[d.dir] {
			continue
		}
		b.progress("creating %d objects in %s/", b.cfg.Entries, d.dir)
		if err := b.parallel(b.cfg.Entries, 32, func(i int) error {
			_, err := b.sdk.PutObject(c, &oss.PutObjectRequest{Bucket: oss.Ptr(bucket),
				Key: oss.Ptr(fmt.Sprintf("%s/f-%05d", d.dir, i)), Body: strings.NewReader("x"), Metadata: d.meta})
			return err
		}); err != nil {
			return err
		}
		b.ready[d.dir] = true
	}
	if b.want("readlink") && !b.ready[linkDir] {
		b.progress("creating %d symlinks in %s/", b.cfg.Links, linkDir)
		if err := b.parallel(b.cfg.Links, 32, func(i int) error {
			_, err := b.sdk.PutSymlink(c, &oss.PutSymlinkRequest{Bucket: oss.Ptr(bucket),
				Key: oss.Ptr(fmt.Sprintf("%s/l-%05d", linkDir, i)), Target: oss.Ptr(fmt.Sprintf("%s/t-%05d", linkTarget, i))})
			return err
		}); err != nil {
			return err
		}
		b.ready[linkDir] = true
	}
	return nil
}

// parallel runs fn(0..n-1) on up to width goroutines; the first error wins.
func (b *bench) parallel(n, width int, fn func(i int) error) error {
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	next := make(chan int)
	for range min(width, max(n, 1)) {
		wg.Go(func() {
			for i := range next {
				if err := fn(i); err != nil {
					mu.Lock()
					firstErr = cmp(firstErr, err)
					mu.Unlock()
				}
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	return firstErr
}

func cmp(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

func (b *bench) seqRead() ([]Result, error) {
	mount, err := b.measure("seqread", func(r *Result) error {
		f, err := os.Open(filepath.Join(b.mnt, bigKey))
		if err != nil {
			return err
		}
		defer f.Close()
		buf := make([]byte, 1<<20)
		for {
			n, err := f.Read(buf)
			if n > 0 && !checkPattern(buf[:n], r.Bytes) {
				return fmt.Errorf("wrong bytes at offset %d", r.Bytes)
			}
			r.Bytes += int64(n)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return err
			}
		}
		if r.Bytes != b.cfg.Size {
			return fmt.Errorf("read %d bytes, want %d", r.Bytes, b.cfg.Size)
		}
		return nil
	})
	if err != nil {
		return []Result{mount}, err
	}
	sdk, err := b.measure("seqread-sdk", func(r *Result) error {
		r.Bytes, r.Note = b.cfg.Size, fmt.Sprintf("%d parallel ranged GETs of 8 MiB", b.cfg.SDKParallel)
		return b.sdkChild(r, "read", bigKey)
	})
	sdk.PeakRSS, sdk.MountCPU = 0, 0 // the mount was idle
	mount.Ratio = mount.MiBps / sdk.MiBps
	return []Result{mount, sdk}, err
}

// sdkRead reads the big object with parallel ranged GetObject calls, the
// best the SDK does for one object, checking the bytes as the mount read is.
func (b *bench) sdkRead() error {
	c, cancel := ctx()
	defer cancel()
	const chunk = 8 << 20
	n := int((b.cfg.Size + chunk - 1) / chunk)
	bufs := sync.Pool{New: func() any { return make([]byte, chunk) }}
	return b.parallel(n, b.cfg.SDKParallel, func(i int) error {
		off := int64(i) * chunk
		end := min(off+chunk, b.cfg.Size)
		res, err := b.sdk.GetObject(c, &oss.GetObjectRequest{Bucket: oss.Ptr(bucket), Key: oss.Ptr(bigKey),
			Range: oss.Ptr(fmt.Sprintf("bytes=%d-%d", off, end-1)), RangeBehavior: oss.Ptr("standard")})
		if err != nil {
			return err
		}
		defer res.Body.Close()
		buf := bufs.Get().([]byte)
		defer bufs.Put(buf)
		if _, err := io.ReadFull(res.Body, buf[:end-off]); err != nil {
			return err
		}
		if !checkPattern(buf[:end-off], off) {
			return fmt.Errorf("SDK read wrong bytes at %d", off)
		}
		return nil
	})
}

func (b *bench) seqWrite() ([]Result, error) {
	key := fmt.Sprintf("write/mount-%s.bin", b.rowName())
	mount, err := b.measure("seqwrite", func(r *Result) error {
		f, err := os.OpenFile(filepath.Join(b.mnt, key), os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
		if err != nil {
			if os.IsNotExist(err) {
				err = os.MkdirAll(filepath.Dir(filepath.Join(b.mnt, key)), 0o755)
				if err == nil {
					f, err = os.OpenFile(filepath.Join(b.mnt, key), os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
				}
			}
			if err != nil {
				return err
			}
		}
		// writeOnly: *os.File's ReadFrom would copy through its own
		// 32 KiB buffer, making 32 KiB write(2)s whatever the buffer.
		n, err := io.CopyBuffer(writeOnly{f}, &patternReader{n: b.cfg.Size}, make([]byte, b.cfg.WriteSize))
		r.Bytes = n
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		return err
	})
	if err != nil {
		return []Result{mount}, err
	}
	if err := b.checkObject(key); err != nil {
		return []Result{mount}, err
	}
	sdkKey := fmt.Sprintf("write/sdk-%s.bin", b.rowName())
	sdk, err := b.measure("seqwrite-sdk", func(r *Result) error {
		r.Bytes = b.cfg.Size
		r.Note = fmt.Sprintf("Uploader, %s parts, %d in parallel (ossfs's defaults)",
			bytesize.Format(ossclient.DefaultPartSize), ossclient.DefaultUploadParallelism)
		return b.sdkChild(r, "write", sdkKey)
	})
	sdk.PeakRSS, sdk.MountCPU = 0, 0
	mount.Ratio = mount.MiBps / sdk.MiBps
	return []Result{mount, sdk}, err
}

// checkObject verifies, outside the timed part, that key holds the pattern.
func (b *bench) checkObject(key string) error {
	c, cancel := ctx()
	defer cancel()
	res, err := b.sdk.GetObject(c, &oss.GetObjectRequest{Bucket: oss.Ptr(bucket), Key: oss.Ptr(key)})
	if err != nil {
		return err
	}
	defer res.Body.Close()
	var off int64
	buf := make([]byte, 1<<20)
	for {
		n, err := io.ReadFull(res.Body, buf)
		if !checkPattern(buf[:n], off) {
			return fmt.Errorf("%s: wrong bytes at %d", key, off)
		}
		off += int64(n)
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			break
		}
		if err != nil {
			return err
		}
	}
	if off != b.cfg.Size {
		return fmt.Errorf("%s: %d bytes, want %d", key, off, b.cfg.Size)
	}
	return nil
}

// lsMeta is the ossfs metadata of the objects of lsMetaDir: mode 0100640,
// owner 1234:5678, mtime 1500000000; lsMetaLine is how ls -ln
// --time-style=+%s shows it.
var (
	lsMeta     = map[string]string{"mode": "33184", "uid": "1234", "gid": "5678", "mtime": "1500000000"}
	lsMetaLine = []string{"-rw-r-----", "1", "1234", "5678", "1", "1500000000"}
)

// lsL lists lsMetaDir with ls -l on a fresh mount, checking that every
// entry shows its stored mode, owner and mtime, then again (within the
// TTLs).
func (b *bench) lsL() ([]Result, error) {
	var out []Result
	for _, pass := range []string{"ls-l", "ls-l-again"} {
		r, err := b.measure(pass, func(r *Result) error {
			got, err := exec.Command("ls", "-ln", "--time-style=+%s", filepath.Join(b.mnt, lsMetaDir)).Output()
			if err != nil {
				return fmt.Errorf("ls -l: %w", err)
			}
			lines := strings.Split(strings.TrimSpace(string(got)), "\n")[1:] // minus "total N"
			r.Ops = len(lines)
			if r.Ops != b.cfg.Entries {
				return fmt.Errorf("ls -l listed %d entries, want %d", r.Ops, b.cfg.Entries)
			}
			for _, l := range lines {
				if f := strings.Fields(l); len(f) != 7 || !slices.Equal(f[:6], lsMetaLine) {
					return fmt.Errorf("ls -l shows %q, want the stored %v", l, lsMetaLine)
				}
			}
			return nil
		})
		out = append(out, r)
		if err != nil {
			return out, err
		}
	}
	return out, nil
}

// lsLBare lists lsDir (objects without metadata) with ls -l.
func (b *bench) lsLBare() ([]Result, error) {
	r, err := b.measure("ls-l-bare", func(r *Result) error {
		out, err := exec.Command("ls", "-l", filepath.Join(b.mnt, lsDir)).Output()
		if err != nil {
			return fmt.Errorf("ls -l: %w", err)
		}
		r.Ops = strings.Count(string(out), "\n") - 1 // minus "total N"
		if r.Ops != b.cfg.Entries {
			return fmt.Errorf("ls -l listed %d entries, want %d", r.Ops, b.cfg.Entries)
		}
		return nil
	})
	return []Result{r}, err
}

// findName walks lsDir with find -name: names only.
func (b *bench) findName() ([]Result, error) {
	r, err := b.measure("find-name", func(r *Result) error {
		out, err := exec.Command("find", filepath.Join(b.mnt, lsDir), "-name", "f-00001").Output()
		if err != nil {
			return fmt.Errorf("find -name: %w", err)
		}
		if got := strings.TrimSpace(string(out)); got != filepath.Join(b.mnt, lsDir, "f-00001") {
			return fmt.Errorf("find -name printed %q", got)
		}
		r.Ops = b.cfg.Entries
		return nil
	})
	return []Result{r}, err
}

func (b *bench) readlinks() ([]Result, error) {
	var out []Result
	for _, pass := range []string{"readlink-cold", "readlink-warm"} {
		r, err := b.measure(pass, func(r *Result) error {
			cmd := exec.Command("find", filepath.Join(b.mnt, linkDir), "-type", "l", "-exec", "readlink", "{}", "+")
			got, err := cmd.Output()
			if err != nil {
				return fmt.Errorf("find -exec readlink: %w", err)
			}
			lines := strings.Split(strings.TrimSpace(string(got)), "\n")
			r.Ops = len(lines)
			if r.Ops != b.cfg.Links || !strings.HasPrefix(lines[0], "../"+linkTarget+"/t-") {
				return fmt.Errorf("readlink printed %d lines (want %d), first %q", r.Ops, b.cfg.Links, lines[0])
			}
			return nil
		})
		out = append(out, r)
		if err != nil {
			return out, err
		}
	}
	return out, nil
}

func (b *bench) smallFiles() ([]Result, error) {
	dir := filepath.Join(b.mnt, fmt.Sprintf("small-%s", b.rowName()))
	if err := os.Mkdir(dir, 0o755); err != nil {
		return nil, err
	}
	data := pattern[:b.cfg.SmallSize]
	name := func(i int) string { return filepath.Join(dir, fmt.Sprintf("f-%05d", i)) }
	w, err := b.measure("smallfiles-write", func(r *Result) error {
		r.Ops, r.Bytes = b.cfg.Files, int64(b.cfg.Files)*b.cfg.SmallSize
		r.Note = fmt.Sprintf("%d writers", b.cfg.Writers)
		return b.parallel(b.cfg.Files, b.cfg.Writers, func(i int) error { return os.WriteFile(name(i), data, 0o644) })
	})
	if err != nil {
		return []Result{w}, err
	}
	out := []Result{w}
	// Every open revalidates (close-to-open across mounts): the first read
	// pass costs one GET per file, which is also the file's first read; the
	// second one conditional GET (304, no body), the kernel keeping its
	// pages.
	for _, pass := range []string{"smallfiles-read", "smallfiles-reread"} {
		rd, err := b.measure(pass, func(r *Result) error {
			r.Ops, r.Bytes = b.cfg.Files, int64(b.cfg.Files)*b.cfg.SmallSize
			r.Note = fmt.Sprintf("%d readers", b.cfg.Writers)
			return b.parallel(b.cfg.Files, b.cfg.Writers, func(i int) error {
				got, err := os.ReadFile(name(i))
				if err == nil && !bytes.Equal(got, data) {
					err = fmt.Errorf("%s: wrong content", name(i))
				}
				return err
			})
		})
		out = append(out, rd)
		if err != nil {
			return out, err
		}
	}
	return out, nil
}

func (b *bench) randRead() ([]Result, error) {
	const size = 4 << 10
	var first time.Duration
	r, err := b.measure("randread", func(r *Result) error {
		f, err := os.Open(filepath.Join(b.mnt, bigKey))
		if err != nil {
			return err
		}
		defer f.Close()
		rng := rand.New(rand.NewPCG(3, 4))
		buf := make([]byte, size)
		blocks := b.cfg.Size / size
		for i := range b.cfg.RandomReads {
			off := rng.Int64N(blocks) * size
			start := time.Now()
			if _, err := f.ReadAt(buf, off); err != nil {
				return err
			}
			if i == 0 {
				first = time.Since(start)
			}
			if !checkPattern(buf, off) {
				return fmt.Errorf("wrong bytes at %d", off)
			}
		}
		r.Ops, r.Bytes = b.cfg.RandomReads, int64(b.cfg.RandomReads)*size
		return nil
	})
	r.Note = fmt.Sprintf("first read %v; GET bytes %.1fx the bytes read", first.Round(10*time.Microsecond),
		float64(r.GetBytes)/float64(max(r.Bytes, 1)))
	return []Result{r}, err
}

// rowName names the row in keys ("10ms-120M").
func (b *bench) rowName() string { return strings.ReplaceAll(b.row.String(), "@", "-") }
