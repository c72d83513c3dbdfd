package fs

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/ossfs/ossfs/fs/legacy"
	"github.com/ossfs/ossfs/ossclient"
)

// Names of the ossfs 1.x / s3fs user metadata (x-oss-meta-NAME); every
// value is decimal: mode is a whole st_mode (file type included), times are
// Unix seconds.
const (
	metaMode  = "mode"
	metaUID   = "uid"
	metaGID   = "gid"
	metaMtime = "mtime"
	metaCtime = "ctime"
	metaAtime = "atime"
	metaRdev  = "rdev"
)

// blockSize is st_blksize: the preferred I/O size tools such as cp use.
const blockSize = 128 << 10

// attrs are the attributes of a node that OSS itself does not have and that
// ossfs keeps in user metadata.
type attrs struct {
	mode     uint32 // permission bits (07777)
	uid, gid uint32
	// Times are kept, stored and shown at second resolution.
	atime, mtime, ctime time.Time
	// ftype is the file type of a FIFO, socket or device node (S_IFIFO,
	// ...), stored in the mode; 0 for everything else. rdev is a device
	// node's number.
	ftype, rdev uint32
	// xattr is x-oss-meta-xattr as stored (ossfs 1.x's format, package
	// fs/legacy): the user.* extended attributes; "" for none. Every
	// metadata write carries it, so chmod or an upload keeps them.
	xattr string
	// known says these are what OSS stores (read from the object's
	// metadata, or set and stored here), not the defaults shown while the
	// metadata is unknown; etag and vsec name the version they belong to
	// (ETag and Last-Modified second, see ossclient.SameVersion).
	known bool
	etag  string
	vsec  int64
}

// node is what files, directories and symlinks share: the go-fuse Inode, the
// filesystem, and the attributes learned for this inode.
type node struct {
	gofs.Inode
	f *fsys

	mu sync.Mutex
	a  attrs // GUARDED_BY(mu)
}

// key returns the node's key relative to the mount prefix ("" for the root)
// by walking the go-fuse tree, which go-fuse keeps in step with renames.
// ok is false for a node that is no longer in the tree (unlinked while open).
func (n *node) key() (key string, ok bool) {
	in := n.EmbeddedInode()
	root := in.Root()
	var segs []string
	for p := in; p != root; {
		name, parent := p.Parent()
		if parent == nil {
			return "", false
		}
		segs = append(segs, name)
		p = parent
	}
	for i, j := 0, len(segs)-1; i < j; i, j = i+1, j-1 {
		segs[i], segs[j] = segs[j], segs[i]
	}
	return strings.Join(segs, "/"), true
}

func (n *node) attrs() attrs {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.a
}

func (n *node) setAttrs(a attrs) {
	n.mu.Lock()
	n.a = a
	n.mu.Unlock()
}

// sameVersion reports whether a was learned from o's version.
func (a *attrs) sameVersion(o *ossclient.Object) bool {
	return a.etag != "" && a.etag == o.ETag && a.vsec == o.ModTime.Unix()
}

// setVersion records o as the version a belongs to.
func (a *attrs) setVersion(o *ossclient.Object) {
	a.etag, a.vsec = o.ETag, o.ModTime.Unix()
}

// touch sets mtime and ctime to now: a write or a truncation.
func (a *attrs) touch() {
	now := time.Now()
	a.mtime, a.ctime = now, now
}

// learn updates the node's attributes from an object answer. An answer
// with metadata (not MetaUnknown) is authoritative. An answer from a
// listing is marked unknown: it shows what the node knew of that same
// version, else the mount's defaults. (The node does not vouch for a
// version's metadata on its own: the Bucket's cache does, and fills it into
// listing answers while it may.)
func (n *node) learn(o *ossclient.Object, defMode uint32) attrs {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.learnLocked(o, defMode)
}

// learnLocked is learn. LOCKS_REQUIRED(n.mu)
func (n *node) learnLocked(o *ossclient.Object, defMode uint32) attrs {
	switch {
	case !o.MetaUnknown:
		n.a = n.f.attrsFromMeta(o.Meta, o.ModTime, defMode)
	case !n.f.opts.PersistMetadata: // the defaults are all there is
		n.a = n.f.defaultAttrs(o.ModTime, defMode)
		n.a.known = true
	case n.a.sameVersion(o):
		n.a.known = false
	default:
		n.a = n.f.defaultAttrs(o.ModTime, defMode)
	}
	n.a.setVersion(o)
	return n.a
}

// newAttrs are the attributes of a node made here: known, every time now.
func (f *fsys) newAttrs(mode, uid, gid uint32) attrs {
	now := time.Now()
	return attrs{mode: mode & 0o7777, uid: uid, gid: gid, atime: now, mtime: now, ctime: now, known: true}
}

func (f *fsys) defaultAttrs(mtime time.Time, mode uint32) attrs {
	if mtime.IsZero() {
		mtime = f.mountTime
	}
	return attrs{mode: mode, uid: f.opts.UID, gid: f.opts.GID, atime: mtime, mtime: mtime, ctime: mtime}
}

// attrsFromMeta reads ossfs 1.x metadata: mode a decimal st_mode, uid and
// gid decimal ids, times decimal Unix seconds (a fraction is accepted),
// rdev a decimal device number. What is missing is the mount's default
// (times: modTime, the object's Last-Modified). The result is known.
func (f *fsys) attrsFromMeta(m map[string]string, modTime time.Time, defMode uint32) attrs {
	a := f.defaultAttrs(modTime, defMode)
	a.known = true
	if !f.opts.PersistMetadata {
		return a
	}
	if v, err := strconv.ParseUint(m[metaMode], 10, 32); err == nil {
		a.mode = uint32(v) & 0o7777
		switch t := uint32(v) & syscall.S_IFMT; t {
		case syscall.S_IFIFO, syscall.S_IFSOCK, syscall.S_IFCHR, syscall.S_IFBLK:
			a.ftype = t
		case syscall.S_IFLNK:
			// An ossfs 1.x / s3fs link: a plain object holding the
			// target, shown here as a file. Its 0777 is a link's, not
			// the file's (everyone could rewrite the link).
			a.mode = defMode
		}
	}
	if v, err := strconv.ParseUint(m[metaUID], 10, 32); err == nil {
		a.uid = uint32(v)
	}
	if v, err := strconv.ParseUint(m[metaGID], 10, 32); err == nil {
		a.gid = uint32(v)
	}
	if v, err := strconv.ParseUint(m[metaRdev], 10, 32); err == nil {
		a.rdev = uint32(v)
	}
	a.xattr = m[legacy.MetaXattr]
	if t, ok := parseTime(m[metaMtime]); ok {
		a.mtime, a.atime, a.ctime = t, t, t
	}
	if t, ok := parseTime(m[metaCtime]); ok {
		a.ctime = t
	}
	if t, ok := parseTime(m[metaAtime]); ok {
		a.atime = t
	}
	return a
}

func parseTime(s string) (time.Time, bool) {
	if s == "" {
		return time.Time{}, false
	}
	sec, frac, _ := strings.Cut(s, ".")
	v, err := strconv.ParseInt(sec, 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	var ns int64
	if frac != "" {
		frac = (frac + "000000000")[:9]
		if ns, err = strconv.ParseInt(frac, 10, 64); err != nil {
			return time.Time{}, false
		}
	}
	return time.Unix(v, ns), true
}

// metaOf returns the user metadata that persists a (nil when metadata is not
// persisted). typ is the file type stored in mode, as ossfs 1.x does.
func (f *fsys) metaOf(a attrs, typ uint32) map[string]string {
	if !f.opts.PersistMetadata {
		return nil
	}
	sec := func(t time.Time) string { return strconv.FormatInt(t.Unix(), 10) }
	m := map[string]string{
		metaMode:  strconv.FormatUint(uint64(typ|a.mode), 10),
		metaUID:   strconv.FormatUint(uint64(a.uid), 10),
		metaGID:   strconv.FormatUint(uint64(a.gid), 10),
		metaMtime: sec(a.mtime),
		metaCtime: sec(a.ctime),
		metaAtime: sec(a.atime),
	}
	if a.xattr != "" {
		m[legacy.MetaXattr] = a.xattr
	}
	if typ == syscall.S_IFCHR || typ == syscall.S_IFBLK {
		m[metaRdev] = strconv.FormatUint(uint64(a.rdev), 10)
	}
	return m
}

// fill writes a complete attribute set. Times are shown at the second
// resolution they are stored at.
func fill(out *fuse.Attr, typ uint32, size uint64, a attrs) {
	out.Mode = typ | a.mode
	out.Size = size
	out.Blocks = (size + 511) / 512
	out.Blksize = blockSize
	// Directories too report 1 link: "unknown", which keeps find and fts
	// from assuming st_nlink-2 subdirectories.
	out.Nlink = 1
	out.Owner = fuse.Owner{Uid: a.uid, Gid: a.gid}
	out.Rdev = a.rdev
	at, mt, ct := a.atime.Truncate(time.Second), a.mtime.Truncate(time.Second), a.ctime.Truncate(time.Second)
	out.SetTimes(&at, &mt, &ct)
}

// attrTimeout is how long the kernel may keep attributes: AttrTimeout when
// they are what OSS stores (known), 0 otherwise, so that the kernel asks
// again (getattr, which reads the metadata) before it uses them for
// anything, permission checks included.
func (f *fsys) attrTimeout(known bool) time.Duration {
	if known {
		return f.opts.AttrTimeout
	}
	return 0
}

// setEntry sets the timeouts of a lookup answer: the name for
// EntryTimeout, the attributes per attrTimeout. go-fuse is given no
// defaults (Mount), so an answer that forgets this is not cached at all.
func (f *fsys) setEntry(out *fuse.EntryOut, known bool) {
	out.SetEntryTimeout(f.opts.EntryTimeout)
	out.SetAttrTimeout(f.attrTimeout(known))
}

// ctxFor returns the context for a request: reads honour the kernel's
// interrupt (EINTR); mutations are detached from it, so an interrupted
// rename or upload is never left half done.
func ctxFor(ctx context.Context, mutation bool) context.Context {
	if mutation {
		return context.WithoutCancel(ctx)
	}
	return ctx
}

// errROFS is what every mutation returns on a read-only mount.
const errROFS = syscall.EROFS
