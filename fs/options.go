package fs

import (
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/hanwen/go-fuse/v2/fuse"
)

// Options configure Mount. The zero value of each field means its default,
// except where DefaultOptions differs (PersistMetadata); start from
// DefaultOptions().
type Options struct {
	// Mountpoint is the directory to mount on; it must exist. It is also
	// how absolute symlink texts pointing into the mount are recognised.
	// Required; made absolute and cleaned.
	Mountpoint string

	// UID and GID own every file and directory that carries no ossfs
	// metadata. Default (DefaultOptions): the mounting process's uid and
	// gid; 0 in a zero Options means root.
	UID, GID uint32
	// FileMode and DirMode are the permission bits of files and
	// directories without ossfs metadata, as Unix bits (0o7777 at most; not
	// os.ModeSetuid and friends). Defaults 0644 and 0755; NoPermissions
	// for 0000, since 0 means the default.
	FileMode, DirMode os.FileMode

	// ReadOnly makes every change fail with EROFS. Default false.
	ReadOnly bool
	// AllowOther lets other users use the mount (FUSE allow_other; the
	// kernel then also enforces permission bits, default_permissions, on
	// attributes that are always the stored ones: see the package doc).
	// Default false.
	AllowOther bool

	// EntryTimeout is how long the kernel caches a name→inode lookup,
	// AttrTimeout how long it caches attributes, NegativeTimeout how long it
	// caches "no such name". Defaults: 1s each. The bucket's own caches
	// (package cache) keep OSS answers for their TTLs and answer lookups
	// from listings for free, so longer kernel timeouts would save only
	// kernel↔daemon round trips while delaying, by that much more, the
	// moment a change made by another OSS client becomes visible. 1s is
	// also libfuse's default. Set a negative value for 0 (no caching).
	EntryTimeout, AttrTimeout, NegativeTimeout time.Duration

	// SymlinkForbidOverwrite makes symlink(2) onto an existing key fail
	// with EEXIST (x-oss-forbid-overwrite). Default false.
	SymlinkForbidOverwrite bool
	// SymlinkACL and SymlinkStorageClass are sent with every PutSymlink.
	// Default "": not sent.
	SymlinkACL, SymlinkStorageClass string

	// PersistMetadata stores mode, uid, gid and times in x-oss-meta-mode,
	// -uid, -gid, -mtime, -ctime, -atime (and -rdev for device nodes;
	// ossfs 1.x / s3fs names and formats) and reads them back. When false,
	// those come from the options above and the object's Last-Modified,
	// chmod/chown/utimes fail with ENOTSUP and mknod of anything but a
	// regular file with EPERM. Default (DefaultOptions) true.
	PersistMetadata bool

	// NoLegacyLinks shows links written by ossfs 1.x and s3fs (regular
	// objects whose x-oss-meta-mode has the S_IFLNK type, or that carry
	// x-oss-meta-symlink-target) as the regular files they are stored as.
	// Default false: they are symlinks, at the cost of reading the
	// metadata of any object under 4 KiB a lookup meets without it.
	// Without PersistMetadata no metadata is read, and neither are they.
	NoLegacyLinks bool

	// ReadAhead is the most a handle reading sequentially keeps requested
	// ahead of the reader, in parallel ranged GETs of up to 8 MiB. The
	// window starts at 256 KiB and doubles as the reader keeps up, so short
	// reads never pay for it. Default 64 MiB: at 8 GETs in flight it covers
	// a link of ~5 Gbit/s at 100 ms round trips.
	ReadAhead int64
	// ReadAheadTotal bounds the read-ahead memory of all open files
	// together; a read finding it spent is served without read-ahead.
	// Default 256 MiB.
	ReadAheadTotal int64

	// KernelReadAheadKB is the kernel's read-ahead for this mount, in KiB:
	// how large the FUSE reads of a sequential reader are. The kernel's
	// default, 128 KiB, splits every sequential read into 128 KiB requests;
	// 1024 (the mount's largest request) makes them 8 times fewer. It takes
	// root (writing /sys/class/bdi); otherwise the default stays. Default
	// 1024; negative: leave the kernel's default.
	KernelReadAheadKB int

	// TempDir is where files being written are staged. Default
	// os.TempDir().
	TempDir string

	// StreamMemory is the size up to which a file being streamed (a new or
	// truncated file written sequentially from 0) also keeps its bytes in
	// memory, so that a stream meeting a random write or a read falls back
	// to a staged copy from memory rather than completing its upload and
	// reading it back (package fs/writeback). Default 0 means 8 MiB.
	StreamMemory int
	// EditMin is the size from which an existing object opened for
	// writing without O_TRUNC is edited in place (the staged copy holds
	// only what is written or read; a flush sends the changed ranges and
	// copies the rest server-side) rather than downloaded whole. Default 0
	// means 16 MiB; negative: never.
	EditMin int64

	// CacheDir turns on the local data cache (package fs/datacache): object
	// bytes read are kept on disk under this directory, and read again
	// from there while OSS confirms the version (docs/semantics.md, "Data
	// cache"). Default "": off.
	CacheDir string
	// CacheSize bounds the data cache's bytes on disk; least recently used
	// blocks are evicted past it. Default datacache.DefaultSize (1 GiB).
	CacheSize int64

	// PrefixDepth is the number of "/"-separated segments of the mount
	// prefix ("a/b/" → 2): how far a symlink may climb with "../" above
	// the mount root and still be inside the bucket. Default 0.
	PrefixDepth int

	// Logger receives warnings (hidden keys, failed requests). Default
	// slog.Default().
	Logger *slog.Logger

	// Debug logs every FUSE request (go-fuse tracing). Default false.
	Debug bool

	// RootMode is the permission bits of the mount's root directory (the
	// bucket or prefix has no marker to keep them in). Default 0: DirMode;
	// NoPermissions for 0000.
	RootMode os.FileMode

	// WrapFS, when set, wraps the go-fuse file system that serves the
	// kernel's requests, e.g. to count them per operation for metrics. The
	// wrapper must pass every call through. Default nil.
	WrapFS func(fuse.RawFileSystem) fuse.RawFileSystem
}

// Defaults of Options.
const (
	DefaultFileMode = 0o644
	DefaultDirMode  = 0o755
	DefaultTimeout  = time.Second

	DefaultReadAhead       = 64 << 20
	DefaultKernelReadAhead = 1024 // KiB
	DefaultReadAheadTotal  = 256 << 20

	// NoPermissions, as FileMode, DirMode or RootMode, means mode 0000
	// (ossfs 1.x's umask=0777): their zero value means the default.
	NoPermissions = os.ModeIrregular
)

// DefaultOptions returns Options with every default filled in (Mountpoint
// still empty).
func DefaultOptions() Options {
	return Options{
		UID:               uint32(os.Getuid()),
		GID:               uint32(os.Getgid()),
		FileMode:          DefaultFileMode,
		DirMode:           DefaultDirMode,
		EntryTimeout:      DefaultTimeout,
		AttrTimeout:       DefaultTimeout,
		NegativeTimeout:   DefaultTimeout,
		PersistMetadata:   true,
		TempDir:           os.TempDir(),
		ReadAhead:         DefaultReadAhead,
		KernelReadAheadKB: DefaultKernelReadAhead,
		ReadAheadTotal:    DefaultReadAheadTotal,
	}
}

func (o Options) withDefaults() (Options, error) {
	if o.Mountpoint == "" {
		return o, errors.New("fs: Options.Mountpoint is required")
	}
	mp, err := filepath.Abs(o.Mountpoint)
	if err != nil {
		return o, err
	}
	o.Mountpoint = filepath.Clean(mp)
	if o.FileMode == 0 {
		o.FileMode = DefaultFileMode
	}
	if o.DirMode == 0 {
		o.DirMode = DefaultDirMode
	}
	// Unix permission bits, as the CLI parses them (octal, up to 07777);
	// NoPermissions has none.
	o.FileMode &= 0o7777
	o.DirMode &= 0o7777
	for _, d := range []*time.Duration{&o.EntryTimeout, &o.AttrTimeout, &o.NegativeTimeout} {
		switch {
		case *d == 0:
			*d = DefaultTimeout
		case *d < 0:
			*d = 0
		}
	}
	if o.TempDir == "" {
		o.TempDir = os.TempDir()
	}
	if o.ReadAhead <= 0 {
		o.ReadAhead = DefaultReadAhead
	}
	if o.KernelReadAheadKB == 0 {
		o.KernelReadAheadKB = DefaultKernelReadAhead
	}
	if o.ReadAheadTotal <= 0 {
		o.ReadAheadTotal = DefaultReadAheadTotal
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.PrefixDepth < 0 {
		o.PrefixDepth = 0
	}
	return o, nil
}
