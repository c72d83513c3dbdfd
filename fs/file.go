package fs

import (
	"context"
	"errors"
	"syscall"
	"time"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/ossfs/ossfs/fs/writeback"
	"github.com/ossfs/ossfs/ossclient"
)

// fileNode is a regular file: an object without a trailing "/".
type fileNode struct {
	node
	size     int64           // GUARDED_BY(mu): the object's size as last learned
	stage    *writeback.File // GUARDED_BY(mu): non-nil while open for writing (writer.go)
	uploaded bool            // GUARDED_BY(mu): false for a file created here and never uploaded
	// seen is the newest version of the object this mount knows of: from
	// the last open's revalidation or, seenLocal, this mount's last upload
	// (see version.go).
	seen      version // GUARDED_BY(mu)
	seenLocal bool    // GUARDED_BY(mu)
	// paged is the ETag of the one version whose bytes the kernel's page
	// cache may hold for this file ("" unknown): set by a read open that let
	// the kernel drop its pages, cleared by an open for writing or a
	// truncation. An open that finds this version still current keeps the
	// pages (FOPEN_KEEP_CACHE).
	paged    string // GUARDED_BY(mu)
	setattrs uint64 // GUARDED_BY(mu): attribute changes begun (persistAttrs)
	// pins counts the open handles pinned to each version (by ETag).
	pins map[string]int // GUARDED_BY(mu)
	// opens counts the open handles (read and write); kept says the node
	// holds a reference on stage for them since the file was unlinked
	// while open (writer.go, keepForOpen), dropped by the last release.
	opens int  // GUARDED_BY(mu)
	kept  bool // GUARDED_BY(mu)
	// retired: an open found a newer version while handles of another one
	// were open; the node stays with them, the name gets a new node
	// (retire.go).
	retired bool // GUARDED_BY(mu)
}

var (
	_ gofs.NodeGetattrer = (*fileNode)(nil)
	_ gofs.NodeSetattrer = (*fileNode)(nil)
	_ gofs.NodeOpener    = (*fileNode)(nil)
)

func (f *fsys) newFile() *fileNode {
	n := &fileNode{node: node{f: f}, uploaded: true}
	n.a = f.defaultAttrs(time.Time{}, uint32(f.opts.FileMode))
	return n
}

func (n *fileNode) staged() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.stage != nil
}

func (n *fileNode) neverUploaded() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return !n.uploaded
}

// setRemoteSize records the object's size unless local data overrides it.
func (n *fileNode) setRemoteSize(size int64) {
	n.mu.Lock()
	n.size = size
	n.mu.Unlock()
}

// fillAttr fills out from what the node holds and says whether that is
// known (the stored attributes, or local ones not uploaded yet).
func (n *fileNode) fillAttr(out *fuse.Attr) (known bool) {
	n.mu.Lock()
	size := n.size
	if n.stage != nil {
		size = n.stage.Size()
	}
	a := n.a
	known = a.known || n.stage != nil
	n.mu.Unlock()
	fill(out, n.fileType(a), uint64(size), a)
	return known
}

// fileType is S_IFREG, or the type of a FIFO, socket or device node.
func (n *fileNode) fileType(a attrs) uint32 {
	if a.ftype != 0 {
		return a.ftype
	}
	return syscall.S_IFREG
}

func (n *fileNode) Getattr(ctx context.Context, fh gofs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	if n.staged() {
		out.SetTimeout(n.f.attrTimeout(n.fillAttr(&out.Attr)))
		return 0
	}
	if v, ok := n.currentHandle(fh); ok && n.f.handleNamed(ctx) {
		// The kernel's refresh before a read through a handle on the
		// newest version this mount knows: that version's size. A stat
		// (go-fuse passes an open handle then too) asks the caches below,
		// which the open's GET filled: no request within their TTL, and
		// another client's change shows after it, reader or not.
		fill(&out.Attr, syscall.S_IFREG, uint64(v.size), n.attrs())
		return 0
	}
	if n.staleHandle(fh) && n.f.handleNamed(ctx) {
		// The kernel's attribute refresh before a read (auto_inval_data)
		// through a descriptor whose reads fail with ESTALE: the new
		// version's size would make the kernel end the old version's
		// read there (EOF) without asking.
		key, _ := n.key()
		return n.f.errno("getattr", key, errVersionGone)
	}
	key, ok := n.key()
	if !ok {
		n.fillAttr(&out.Attr) // unlinked while open: what we knew
		return 0
	}
	if n.isRetired() {
		// A stat by path of the older version's node: statx looks the
		// name up again and retries (retire.go).
		return n.f.errno("getattr", key, errRetired)
	}
	if err := n.refresh(ctx, key); err != nil {
		if errors.Is(err, ossclient.ErrNotFound) && n.staged() {
			out.SetTimeout(n.f.attrTimeout(n.fillAttr(&out.Attr)))
			return 0
		}
		return n.f.errno("getattr", key, err)
	}
	out.SetTimeout(n.f.attrTimeout(n.fillAttr(&out.Attr) && !n.otherVersionOpen()))
	return 0
}

// refresh reads the stored attributes and size of the object at key.
func (n *fileNode) refresh(ctx context.Context, key string) error {
	o, err := n.statForAttrs(ctx, key)
	if err != nil {
		return err
	}
	if n.supersede(version{etag: o.ETag, size: o.Size}, "getattr", key) {
		return errRetired // the kernel must not hear of its size on this node
	}
	n.learn(o, uint32(n.f.opts.FileMode))
	n.mu.Lock()
	if n.stage == nil {
		n.size = o.Size
	}
	n.mu.Unlock()
	return nil
}

// statForAttrs is Stat for getattr, which the kernel sends when it needs
// attributes it holds none valid of (all those marked unknown): the answer
// carries the stored metadata. An answer from a listing (MetaUnknown) is
// completed with Stat WithMeta: a HEAD, unless the Bucket knows that
// version's metadata.
func (n *fileNode) statForAttrs(ctx context.Context, key string) (*ossclient.Object, error) {
	o, err := n.f.bucket.Stat(ctx, key)
	if err != nil || !o.MetaUnknown || !n.f.opts.PersistMetadata {
		return o, err
	}
	return n.f.bucket.Stat(ctx, key, ossclient.WithMeta)
}

func (n *fileNode) Setattr(ctx context.Context, fh gofs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	if n.f.opts.ReadOnly {
		return errROFS
	}
	if n.isRetired() { // its attributes are the older version's (retire.go)
		key, _ := n.key()
		return n.f.errno("setattr", key, errRetired)
	}
	ctx = ctxFor(ctx, true)
	if sz, ok := in.GetSize(); ok {
		n.mu.Lock()
		n.paged = ""
		n.mu.Unlock()
		if errno := n.truncate(ctx, int64(sz)); errno != 0 {
			return errno
		}
	}
	if !n.staged() && !n.attrs().known {
		// A change is stored with the attributes it does not change:
		// those must be the stored ones, not the defaults of a listing.
		if key, ok := n.key(); ok {
			if err := n.refresh(ctx, key); err != nil {
				return n.f.errno("setattr", key, err)
			}
		}
	}
	old := n.attrs()
	a, errno := n.f.applySetattr(old, in)
	if errno != 0 {
		return errno
	}
	if a != old {
		if errno := n.persistAttrs(ctx, a); errno != 0 {
			return errno
		}
	}
	out.SetTimeout(n.f.attrTimeout(n.fillAttr(&out.Attr)))
	return 0
}

// persistAttrs stores changed attributes: with the next upload when the
// file has content not uploaded yet (the upload carries them), else at
// once, with a metadata replacing copy of the object onto itself. A file
// still open but clean (closed, its release not processed yet; or open and
// not written) takes the copy too: a chmod after close must not wait for
// the release. The node holds the new attributes before the copy, so an
// upload starting meanwhile carries them whichever lands last. A getattr
// during the copy reads what is stored until it ends; once it has
// succeeded the node holds the new attributes, unless a later change began.
func (n *fileNode) persistAttrs(ctx context.Context, a attrs) syscall.Errno {
	n.mu.Lock()
	n.setattrs++
	gen := n.setattrs
	if st := n.stage; st != nil && st.Dirty() {
		n.a = a
		st.AttrsChanged()
		n.mu.Unlock()
		return 0
	}
	old := n.a
	n.a = a
	n.mu.Unlock()
	key, ok := n.key()
	if !ok {
		return 0
	}
	copyOpts := ossclient.CopyOptions{ReplaceMeta: true, Meta: n.f.metaOf(a, n.fileType(a))}
	// The standard headers (Content-Type...) must be sent again: from the
	// stored object's answer (held by the Bucket since attributes were
	// read), or by extension, as ossfs uploads, when only an upload of
	// this mount's is known.
	if s, err := n.f.bucket.Stat(ctx, key, ossclient.WithMeta); err == nil {
		copyOpts.Headers = s.Headers
	}
	o, err := n.f.bucket.Copy(ctx, key, key, copyOpts)
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.setattrs != gen { // changed meanwhile: the later change decides
		return n.f.errno("setattr", key, err)
	}
	if err != nil {
		n.a = old
		return n.f.errno("setattr", key, err)
	}
	n.a = a
	n.a.setVersion(o)
	n.sawVersionLocked(version{etag: o.ETag, size: n.size}, true) // a copy onto itself may change the ETag
	return 0
}

// applySetattr returns a with the changes of in: mode, uid, gid, atime and
// mtime as asked, and ctime now when anything changed (as POSIX wants for
// chmod, chown and utimes). Without metadata persistence a change is
// ENOTSUP.
func (f *fsys) applySetattr(a attrs, in *fuse.SetAttrIn) (attrs, syscall.Errno) {
	old := a
	if m, ok := in.GetMode(); ok {
		a.mode = m & 0o7777
	}
	if uid, ok := in.GetUID(); ok {
		a.uid = uid
	}
	if gid, ok := in.GetGID(); ok {
		a.gid = gid
	}
	if t, ok := in.GetMTime(); ok {
		a.mtime = t
	}
	if t, ok := in.GetATime(); ok {
		a.atime = t
	}
	if a == old {
		return a, 0
	}
	if !f.opts.PersistMetadata {
		return old, syscall.ENOTSUP
	}
	a.ctime = time.Now()
	a.known = true
	return a, 0
}

// truncate sets the file's size: in the staged copy when open for writing,
// otherwise by staging (downloading only when the new size keeps data),
// truncating and uploading at once.
func (n *fileNode) truncate(ctx context.Context, size int64) syscall.Errno {
	if st := n.writer(); st != nil {
		return n.f.errno("truncate", "", n.truncateStaged(ctx, st, size))
	}
	if errno := n.acquire(ctx, size > 0, false); errno != 0 {
		return errno
	}
	st := n.writer()
	err := n.truncateStaged(ctx, st, size)
	if err == nil {
		err = st.Flush(ctx)
	}
	n.releaseStage()
	return n.f.errno("truncate", "", err)
}

// truncateStaged truncates the written content and sets the mtime.
func (n *fileNode) truncateStaged(ctx context.Context, st *writeback.File, size int64) error {
	err := st.Truncate(ctx, size)
	if err == nil {
		n.mu.Lock()
		n.a.touch()
		n.mu.Unlock()
	}
	return err
}

func (n *fileNode) Open(ctx context.Context, flags uint32) (gofs.FileHandle, uint32, syscall.Errno) {
	write := flags&syscall.O_ACCMODE != syscall.O_RDONLY
	trunc := flags&syscall.O_TRUNC != 0
	if n.f.opts.ReadOnly && (write || trunc) {
		return nil, 0, errROFS
	}
	if n.isRetired() {
		key, _ := n.key()
		return nil, 0, n.f.errno("open", key, errRetired)
	}
	if !write {
		if trunc {
			// Linux truncates on open(O_RDONLY|O_TRUNC) too (the kernel
			// checked write permission): as truncate(2), with a new mtime
			// and ctime, uploaded at once unless a writer holds the file.
			n.mu.Lock()
			n.paged = ""
			n.mu.Unlock()
			if errno := n.truncate(ctxFor(ctx, true), 0); errno != 0 {
				return nil, 0, errno
			}
		}
		return n.openRead(ctx)
	}
	var err error
	if !trunc {
		err = n.checkSuperseded(ctx)
	}
	if err == nil && n.isRetired() {
		err = errRetired
	}
	if err != nil {
		key, _ := n.key()
		return nil, 0, n.f.errno("open", key, err)
	}
	n.mu.Lock()
	n.paged = "" // O_RDWR writes go through the page cache; the next read open drops it
	staged, before := n.stage != nil, n.size
	n.mu.Unlock()
	if errno := n.acquire(ctxFor(ctx, true), !trunc, trunc); errno != 0 {
		return nil, 0, errno
	}
	if trunc { // a truncation, as POSIX says for O_TRUNC: new mtime and ctime
		n.mu.Lock()
		n.a.touch()
		n.mu.Unlock()
	}
	if !staged && !trunc {
		n.syncKernelSize(ctx, before)
	}
	return n.newHandle(ctx, true), writeOpenFlags(flags), 0
}

func (d *dirNode) Create(ctx context.Context, name string, flags, mode uint32, out *fuse.EntryOut) (*gofs.Inode, gofs.FileHandle, uint32, syscall.Errno) {
	if d.f.opts.ReadOnly {
		return nil, nil, 0, errROFS
	}
	if _, errno := d.childKey(name); errno != 0 {
		return nil, nil, 0, errno
	}
	uid, gid := d.f.caller(ctx)
	n := d.f.newFile()
	n.uploaded = false
	n.a = d.f.newAttrs(mode, uid, gid)
	// The file exists only here until its first flush uploads it (empty or
	// not); Lookup and Readdir show such files from the tree.
	// No temp file yet: a sequential writer streams without one.
	n.stage, _ = writeback.Open(ctx, d.f.bucket, host{n}, d.f.wbOptions(), false, true) // no I/O: never fails
	d.f.setEntry(out, n.fillAttr(&out.Attr))
	ch := d.NewInode(ctx, n, gofs.StableAttr{Mode: syscall.S_IFREG})
	return ch, n.newHandle(ctx, true), writeOpenFlags(flags), 0
}
