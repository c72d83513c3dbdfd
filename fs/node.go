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

	"github.com/ossfs/ossfs/ossclient"
)

// Names of the ossfs 1.x user metadata (x-oss-meta-NAME).
const (
	metaMode  = "mode"
	metaUID   = "uid"
	metaGID   = "gid"
	metaMtime = "mtime"
)

// blockSize is st_blksize: the preferred I/O size tools such as cp use.
const blockSize = 128 << 10

// attrs are the attributes of a node that OSS itself does not have and that
// ossfs keeps in user metadata.
type attrs struct {
	mode     uint32 // permission bits (07777)
	uid, gid uint32
	mtime    time.Time
	// etag is the object these attributes were learned from; fromMeta says
	// they came from a HEAD (or a local change) rather than defaults.
	etag     string
	fromMeta bool
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

// learn updates the node's attributes from an object answer. An answer with
// metadata (a HEAD: Meta non-nil) is authoritative. An answer from a listing
// (Meta nil) keeps what the node knew when it is about the same object
// (ETag), and otherwise falls back to the mount's defaults.
func (n *node) learn(o *ossclient.Object, defMode uint32) attrs {
	n.mu.Lock()
	defer n.mu.Unlock()
	switch {
	case o.Meta != nil:
		n.a = n.f.attrsFromMeta(o.Meta, o.ModTime, defMode)
		n.a.etag = o.ETag
	case n.a.fromMeta && n.a.etag == o.ETag:
	default:
		n.a = n.f.defaultAttrs(o.ModTime, defMode)
		n.a.etag = o.ETag
	}
	return n.a
}

func (f *fsys) defaultAttrs(mtime time.Time, mode uint32) attrs {
	if mtime.IsZero() {
		mtime = f.mountTime
	}
	return attrs{mode: mode, uid: f.opts.UID, gid: f.opts.GID, mtime: mtime}
}

// attrsFromMeta reads ossfs 1.x metadata: mode is a decimal st_mode, uid and
// gid decimal ids, mtime decimal Unix seconds (a fraction is accepted).
func (f *fsys) attrsFromMeta(m map[string]string, modTime time.Time, defMode uint32) attrs {
	a := f.defaultAttrs(modTime, defMode)
	if !f.opts.PersistMetadata {
		return a
	}
	a.fromMeta = true
	if v, err := strconv.ParseUint(m[metaMode], 10, 32); err == nil {
		a.mode = uint32(v) & 0o7777
	}
	if v, err := strconv.ParseUint(m[metaUID], 10, 32); err == nil {
		a.uid = uint32(v)
	}
	if v, err := strconv.ParseUint(m[metaGID], 10, 32); err == nil {
		a.gid = uint32(v)
	}
	if t, ok := parseMtime(m[metaMtime]); ok {
		a.mtime = t
	}
	return a
}

func parseMtime(s string) (time.Time, bool) {
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
// persisted). typ is the file type bits stored in mode, as ossfs 1.x does.
func (f *fsys) metaOf(a attrs, typ uint32) map[string]string {
	if !f.opts.PersistMetadata {
		return nil
	}
	m := map[string]string{
		metaMode:  strconv.FormatUint(uint64(typ|a.mode), 10),
		metaMtime: strconv.FormatInt(a.mtime.Unix(), 10),
	}
	if a.uid != f.opts.UID || a.gid != f.opts.GID {
		m[metaUID] = strconv.FormatUint(uint64(a.uid), 10)
		m[metaGID] = strconv.FormatUint(uint64(a.gid), 10)
	}
	return m
}

// fill writes a complete attribute set.
func fill(out *fuse.Attr, typ uint32, size uint64, a attrs) {
	out.Mode = typ | a.mode
	out.Size = size
	out.Blocks = (size + 511) / 512
	out.Blksize = blockSize
	// Directories too report 1 link: "unknown", which keeps find and fts
	// from assuming st_nlink-2 subdirectories.
	out.Nlink = 1
	out.Owner = fuse.Owner{Uid: a.uid, Gid: a.gid}
	out.SetTimes(&a.mtime, &a.mtime, &a.mtime)
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
