package datacache

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/ossfs/ossfs/ossclient"
	"github.com/ossfs/ossfs/ossclient/osstest"
)

const testBucket = "datacache-test"

// warnCounter counts the warnings logged.
type warnCounter struct {
	slog.Handler
	n *atomic.Int64
}

func (w warnCounter) Handle(ctx context.Context, r slog.Record) error {
	if r.Level >= slog.LevelWarn {
		w.n.Add(1)
	}
	return nil
}
func (w warnCounter) Enabled(context.Context, slog.Level) bool { return true }

type env struct {
	srv   *osstest.Server
	raw   *ossclient.Client
	c     *Cache
	b     ossclient.Bucket
	warns atomic.Int64
	ctx   context.Context
}

func newEnv(t *testing.T, dir string, size int64) *env {
	t.Helper()
	srv, err := osstest.Start(osstest.Options{Buckets: []string{testBucket}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	raw, err := ossclient.New(ossclient.Config{
		Endpoint: srv.Endpoint(), Region: srv.Region(), Bucket: testBucket,
		Credentials: ossclient.Credentials{Source: ossclient.SourceStatic,
			AccessKeyID: osstest.DefaultAccessKeyID, AccessKeySecret: osstest.DefaultAccessKeySecret},
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{srv: srv, raw: raw, ctx: context.Background()}
	e.c, err = Open(Options{Dir: dir, Size: size, Logger: slog.New(warnCounter{slog.DiscardHandler, &e.warns})})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.c.Close() })
	e.b = e.c.Bucket(raw)
	return e
}

func (e *env) put(t *testing.T, key string, data []byte) string {
	t.Helper()
	o, err := e.raw.Put(e.ctx, key, bytes.NewReader(data), ossclient.PutOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return o.ETag
}

// read reads [off, off+n) of key through the cache, If-Match etag.
func (e *env) read(t *testing.T, key, etag string, off, n int64) ([]byte, error) {
	t.Helper()
	body, err := e.b.Get(e.ctx, key, off, n, ossclient.ReadOptions{IfMatch: etag})
	if err != nil {
		return nil, err
	}
	defer body.Close()
	return io.ReadAll(body)
}

func (e *env) gets() int64 { return e.srv.Count("GetObject") }

func randBytes(n int) []byte {
	b := make([]byte, n)
	r := rand.New(rand.NewPCG(uint64(n), 7))
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func mustRead(t *testing.T, e *env, key, etag string, off, n int64, want []byte) {
	t.Helper()
	got, err := e.read(t, key, etag, off, n)
	if err != nil {
		t.Fatalf("read [%d,+%d): %v", off, n, err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("read [%d,+%d): %d bytes, not the object's %d", off, n, len(got), len(want))
	}
}

func TestSecondReadFromDisk(t *testing.T) {
	e := newEnv(t, t.TempDir(), 0)
	data := randBytes(3*BlockSize + 123)
	etag := e.put(t, "f", data)
	mustRead(t, e, "f", "", 0, -1, data)
	if !e.c.Has("f", etag) || e.c.Used() != int64(len(data)) {
		t.Fatalf("after a whole read: Has %v, Used %d, want %d", e.c.Has("f", etag), e.c.Used(), len(data))
	}
	before := e.gets()
	mustRead(t, e, "f", etag, 0, -1, data)
	mustRead(t, e, "f", etag, 1000, 2*BlockSize, data[1000:1000+2*BlockSize])
	mustRead(t, e, "f", etag, 3*BlockSize+100, 1000, data[3*BlockSize+100:])
	mustRead(t, e, "f", etag, int64(len(data))+5, 10, nil)
	if n := e.gets() - before; n != 0 {
		t.Fatalf("reads of a cached version made %d GetObject, want 0", n)
	}
	if e.warns.Load() != 0 {
		t.Fatalf("%d warnings", e.warns.Load())
	}
}

func TestRandomReaderCachesWhatItRead(t *testing.T) {
	e := newEnv(t, t.TempDir(), 0)
	data := randBytes(64 * BlockSize)
	etag := e.put(t, "big", data)
	off := int64(10*BlockSize + 500)
	mustRead(t, e, "big", etag, off, 100, data[off:off+100])
	if e.c.Used() != BlockSize {
		t.Fatalf("a 100-byte read cached %d bytes, want one block (%d)", e.c.Used(), BlockSize)
	}
	before := e.gets()
	mustRead(t, e, "big", etag, 10*BlockSize, BlockSize, data[10*BlockSize:11*BlockSize])
	if n := e.gets() - before; n != 0 {
		t.Fatalf("a cached block made %d GetObject", n)
	}
	mustRead(t, e, "big", etag, 11*BlockSize-10, 20, data[11*BlockSize-10:11*BlockSize+10])
	if n := e.gets() - before; n != 1 {
		t.Fatalf("a read reaching an uncached block made %d GetObject, want 1", n)
	}
}

func TestNewVersionNeverMixed(t *testing.T) {
	e := newEnv(t, t.TempDir(), 0)
	v1 := randBytes(4 * BlockSize)
	etag1 := e.put(t, "f", v1)
	mustRead(t, e, "f", "", 0, 2*BlockSize, v1[:2*BlockSize]) // blocks 0 and 1 cached
	v2 := bytes.Repeat([]byte("2"), 5*BlockSize)
	etag2 := e.put(t, "f", v2) // another client replaces it

	// A reader pinned to v1 gets v1's cached blocks, and a 412 (never v2's
	// bytes) past them.
	mustRead(t, e, "f", etag1, 0, 2*BlockSize, v1[:2*BlockSize])
	if _, err := e.read(t, "f", etag1, 0, -1); !errors.Is(err, ossclient.ErrPreconditionFailed) {
		t.Fatalf("reading all of the replaced version: %v, want ErrPreconditionFailed", err)
	}
	// A GET finding v2 replaces the entry.
	mustRead(t, e, "f", "", 0, -1, v2)
	if e.c.Has("f", etag1) || !e.c.Has("f", etag2) || e.c.Used() != int64(len(v2)) {
		t.Fatalf("after v2 was read: Has v1 %v, Has v2 %v, Used %d", e.c.Has("f", etag1), e.c.Has("f", etag2), e.c.Used())
	}
	if _, err := e.read(t, "f", etag1, 0, BlockSize); !errors.Is(err, ossclient.ErrPreconditionFailed) {
		t.Fatalf("reading v1 once v2 is cached: %v, want ErrPreconditionFailed", err)
	}
}

func TestCorruptBlockReadFromOSS(t *testing.T) {
	e := newEnv(t, t.TempDir(), 0)
	data := randBytes(4 * BlockSize)
	etag := e.put(t, "f", data)
	mustRead(t, e, "f", "", 0, -1, data)
	files, _ := filepath.Glob(filepath.Join(e.c.Dir(), "[0-9]*"))
	if len(files) != 1 {
		t.Fatalf("cache files %v, want 1", files)
	}
	f, err := os.OpenFile(files[0], os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteAt([]byte("garbage"), 2*BlockSize+10) // one flipped range, same size
	f.Close()
	before := e.gets()
	mustRead(t, e, "f", etag, 0, -1, data)
	if n := e.gets() - before; n != 1 {
		t.Fatalf("the corrupt block's read made %d GetObject, want 1 (the rest from OSS)", n)
	}
	if w := e.warns.Load(); w != 1 {
		t.Fatalf("%d warnings, want 1", w)
	}
	// The fallback GET cached the rest again: read twice more, no request.
	mustRead(t, e, "f", etag, 2*BlockSize, -1, data[2*BlockSize:])
	if n := e.gets() - before; n != 1 {
		t.Fatalf("%d GetObject after the recovery, want 1", n)
	}
}

func TestFullDiskDegrades(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting a tiny tmpfs needs root")
	}
	dir := t.TempDir()
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "size=256k"); err != nil {
		t.Fatalf("mount a 256 KiB tmpfs: %v", err)
	}
	t.Cleanup(func() { unix.Unmount(dir, unix.MNT_DETACH) })
	e := newEnv(t, dir, 64<<20) // the limit is far above the disk
	data := randBytes(32 * BlockSize)
	etag := e.put(t, "f", data)
	for range 3 {
		mustRead(t, e, "f", etag, 0, -1, data)
	}
	if w := e.warns.Load(); w != 1 {
		t.Fatalf("%d warnings, want 1", w)
	}
	if used := e.c.Used(); used <= 0 || used > 256<<10 {
		t.Fatalf("Used %d: the disk was not full where expected", used)
	}
	// Every read after the first hit the full disk: three whole GETs.
	if n := e.gets(); n != 3 {
		t.Fatalf("%d GetObject, want 3", n)
	}
}

func TestEvictsLeastRecentlyUsed(t *testing.T) {
	e := newEnv(t, t.TempDir(), 4*BlockSize)
	data := randBytes(8 * BlockSize)
	etag := e.put(t, "f", data)
	mustRead(t, e, "f", "", 0, -1, data)
	if e.c.Used() != 4*BlockSize {
		t.Fatalf("Used %d, want %d", e.c.Used(), 4*BlockSize)
	}
	before := e.gets()
	mustRead(t, e, "f", etag, 4*BlockSize, -1, data[4*BlockSize:])
	if n := e.gets() - before; n != 0 {
		t.Fatalf("the newest blocks made %d GetObject", n)
	}
	mustRead(t, e, "f", etag, 0, BlockSize, data[:BlockSize])
	if n := e.gets() - before; n != 1 {
		t.Fatalf("an evicted block made %d GetObject, want 1", n)
	}
	var st unix.Stat_t
	files, _ := filepath.Glob(filepath.Join(e.c.Dir(), "[0-9]*"))
	if len(files) != 1 || unix.Stat(files[0], &st) != nil || st.Blocks*512 > 5*BlockSize {
		t.Fatalf("cache files %v, %d bytes on disk: eviction did not free the space", files, st.Blocks*512)
	}
}

func TestStaleDirectoriesRemoved(t *testing.T) {
	dir := t.TempDir()
	a, err := Open(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	stale := filepath.Join(dir, "ossfs-cache-dead")
	os.MkdirAll(stale, 0o700)
	os.WriteFile(filepath.Join(stale, "lock"), nil, 0o600)
	b, err := Open(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a dead cache's directory was kept: %v", err)
	}
	if _, err := os.Stat(a.Dir()); err != nil {
		t.Fatalf("an open cache's directory was removed: %v", err)
	}
	b.Close()
	if _, err := os.Stat(b.Dir()); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Close left %s", b.Dir())
	}
}
