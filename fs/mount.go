package fs

import (
	lru "github.com/hashicorp/golang-lru/v2"

	"context"
	"fmt"
	"log"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/ossfs/ossfs/fs/datacache"
	"github.com/ossfs/ossfs/fs/names"
	"github.com/ossfs/ossfs/ossclient"
)

// fsys is the state of one mount, shared by every node.
type fsys struct {
	bucket ossclient.Bucket
	// reads is what file bodies are read through: bucket, or bucket
	// behind the data cache (data, nil when off).
	reads     ossclient.Bucket
	data      *datacache.Cache
	opts      Options
	log       *slog.Logger
	mapper    names.Mapper
	mountTime time.Time

	// hidden holds the keys already logged as unusable file names, so each
	// is logged once per mount.
	hidden sync.Map
	// readBudget bounds the read-ahead memory of every handle.
	readBudget *readBudget
	// pending counts uploads that run after the file was closed (a dirty
	// file released without a flush, e.g. after mmap); unmount waits.
	pending pendingGroup
	// streams counts the uploads of streamed writes (stream.go), which run
	// while their file is open: Unmount must not wait for them before it
	// tries (an open file makes it fail with EBUSY), only after.
	streams pendingGroup
	// legacyTexts keeps the texts of links written by ossfs 1.x
	// (legacylink.go), each with the version it was read from.
	legacyTexts *lru.Cache[string, legacyText]
	// namedFH marks the getattrs in progress whose file handle the kernel
	// named (getattrfh.go).
	namedFH requestMarks
	// killSetID marks the writes in progress that must drop the file's
	// set-ID bits (directwrite.go).
	killSetID requestMarks
}

// pendingGroup counts operations in progress and lets a caller wait for
// none to be left. Unlike sync.WaitGroup, Add may come at any time, also
// while someone waits.
type pendingGroup struct {
	mu   sync.Mutex
	cond *sync.Cond
	n    int // GUARDED_BY(mu)
}

func (g *pendingGroup) Add(d int) {
	g.mu.Lock()
	if g.cond == nil {
		g.cond = sync.NewCond(&g.mu)
	}
	g.n += d
	if g.n == 0 {
		g.cond.Broadcast()
	}
	g.mu.Unlock()
}

func (g *pendingGroup) Done() { g.Add(-1) }

func (g *pendingGroup) Wait() {
	g.mu.Lock()
	if g.cond == nil {
		g.cond = sync.NewCond(&g.mu)
	}
	for g.n > 0 {
		g.cond.Wait()
	}
	g.mu.Unlock()
}

func newFsys(bucket ossclient.Bucket, o Options) *fsys {
	return &fsys{
		bucket:      bucket,
		reads:       bucket,
		opts:        o,
		log:         o.Logger,
		mapper:      names.Mapper{Mountpoint: o.Mountpoint, PrefixDepth: o.PrefixDepth},
		mountTime:   time.Now(),
		readBudget:  &readBudget{limit: o.ReadAheadTotal},
		legacyTexts: newLegacyTexts(),
	}
}

// hide logs, once per key, that a key cannot be shown as a file name.
func (f *fsys) hide(key, why string) {
	if _, loaded := f.hidden.LoadOrStore(key, struct{}{}); !loaded {
		f.log.Warn("key hidden: it cannot be a file name", "key", key, "why", why)
	}
}

// Mounted is a live mount.
type Mounted struct {
	server *fuse.Server
	f      *fsys
}

// Mount mounts bucket on opts.Mountpoint and returns once the kernel has the
// mount. As root it mounts directly (mount(2)); otherwise through
// fusermount3. Serve requests until Unmount or an external umount. It
// fails, with one sentence, where CheckMountpoint does.
func Mount(bucket ossclient.Bucket, opts Options) (*Mounted, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	if err := CheckMountpoint(o.Mountpoint); err != nil {
		return nil, err
	}
	f := newFsys(bucket, o)
	if o.CacheDir != "" {
		if f.data, err = datacache.Open(datacache.Options{Dir: o.CacheDir, Size: o.CacheSize, Logger: o.Logger}); err != nil {
			return nil, err
		}
		f.reads = f.data.Bucket(bucket)
	}
	root := f.newDir()
	if o.RootMode != 0 {
		root.a.mode = uint32(o.RootMode & 0o7777)
	}
	fo := &gofs.Options{
		MountOptions: fuse.MountOptions{
			AllowOther:  o.AllowOther,
			FsName:      "ossfs",
			Name:        "ossfs",
			DirectMount: os.Geteuid() == 0,
			Debug:       o.Debug,
			MaxWrite:    1 << 20,
			// Read answers are bytes in memory, never a file descriptor:
			// with splice on, go-fuse would first try to splice each one
			// (a pipe, a resize, a writev of the header into it, then the
			// fallback), three wasted syscalls per read.
			DisableSplice: true,
			// xattrs: user.* stored, system.oss.* shown (xattr.go); the
			// kernel's security.capability check before every write is
			// answered by go-fuse at once, never by a request to OSS.
			IgnoreSecurityLabels: true,
			// open(O_TRUNC) arrives as such, not as a truncating setattr
			// (an extra upload) followed by an open (a download).
			ExtraCapabilities: fuse.CAP_ATOMIC_O_TRUNC,
			Logger:            log.New(slogWriter{o.Logger, traceLevel(o.Debug)}, "", 0),
		},
		// No default entry and attribute timeouts: every answer sets its
		// own (fsys.setEntry, attrTimeout), 0 for attributes whose
		// metadata is unknown; go-fuse would replace that 0 with its
		// default. An answer that sets none is not cached.
		NegativeTimeout: &o.NegativeTimeout,
		// Mode 0000 is shown as 0000 (go-fuse would add 0644), and uid and
		// gid 0 as root: no UID/GID here, since go-fuse puts those in place
		// of 0, making root-owned objects the mounting user's.
		NullPermissions: true,
		// Small inode numbers: some 32-bit programs fail stat(2) with
		// EOVERFLOW on numbers above 2^32; the counter never goes back.
		FirstAutomaticIno: 2,
		Logger:            log.New(slogWriter{o.Logger, slog.LevelWarn}, "go-fuse: ", 0),
	}
	if o.ReadOnly {
		fo.MountOptions.Options = append(fo.MountOptions.Options, "ro")
	}
	if o.AllowOther {
		fo.MountOptions.Options = append(fo.MountOptions.Options, "default_permissions")
		if !o.PersistMetadata {
			o.Logger.Warn("--no-metadata with --allow-other: every user gets access by --file-mode, --dir-mode, --uid and --gid, whatever mode and owner are stored with each object")
		}
	}
	srv, err := serve(o, f, root, fo)
	if err != nil {
		f.closeData()
		return nil, fmt.Errorf("mount %s: %w", o.Mountpoint, err)
	}
	if o.KernelReadAheadKB > 0 {
		if err := setKernelReadAhead(o.Mountpoint, o.KernelReadAheadKB); err != nil {
			o.Logger.Debug("kernel read-ahead left at its default", "err", err)
		}
	}
	return &Mounted{server: srv, f: f}, nil
}

// serve is go-fuse's fs.Mount, with Options.WrapFS applied.
func serve(o Options, f *fsys, root gofs.InodeEmbedder, fo *gofs.Options) (*fuse.Server, error) {
	// Getattr is told which handles the kernel named (getattrfh.go).
	// Metadata reads are not interrupted (interrupts.go).
	// Writes are told whether to drop set-ID bits (directwrite.go).
	var raw fuse.RawFileSystem = metadataFS{namingFS{setIDFS{gofs.NewNodeFS(root, fo), f}, f}}
	if o.WrapFS != nil {
		raw = o.WrapFS(raw)
	}
	srv, err := fuse.NewServer(raw, o.Mountpoint, &fo.MountOptions)
	if err != nil {
		return nil, err
	}
	go srv.Serve()
	if err := srv.WaitMount(); err != nil {
		return nil, err
	}
	return srv, nil
}

// Wait blocks until the filesystem is unmounted (Unmount, umount,
// fusermount3 -u), then until the uploads still pending have finished.
func (m *Mounted) Wait() {
	m.server.Wait()
	m.f.pending.Wait()
	m.f.streams.Wait()
	m.f.closeData()
}

// closeData removes the data cache's files (once the mount is gone).
func (f *fsys) closeData() {
	if f.data != nil {
		if err := f.data.Close(); err != nil {
			f.log.Warn("could not remove the data cache", "dir", f.data.Dir(), "err", err)
		}
	}
}

// Unmount finishes the pending uploads, then unmounts. It fails (EBUSY)
// while files on the mount are open or a process has its working directory
// there.
func (m *Mounted) Unmount() error {
	m.f.pending.Wait()
	if err := m.server.Unmount(); err != nil {
		return err
	}
	m.f.streams.Wait()
	return nil
}

// slogWriter lets go-fuse's log.Logger write into slog at one level.
type slogWriter struct {
	l     *slog.Logger
	level slog.Level
}

func (w slogWriter) Write(p []byte) (int, error) {
	w.l.Log(context.Background(), w.level, strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// traceLevel is the level of go-fuse's request trace: visible at the
// default level when Options.Debug asks for it.
func traceLevel(debug bool) slog.Level {
	if debug {
		return slog.LevelInfo
	}
	return slog.LevelDebug
}
