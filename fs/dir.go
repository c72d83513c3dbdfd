package fs

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/ossfs/ossfs/fs/names"
	"github.com/ossfs/ossfs/ossclient"
)

// dirSize is st_size of a directory.
const dirSize = 4096

// dirNode is a directory: a common prefix "d/" and/or a marker object "d/".
type dirNode struct {
	node
	// marker is set once the marker object "d/" is known to exist (seen in a
	// listing or written by us).
	marker atomic.Bool
}

var (
	_ gofs.NodeLookuper       = (*dirNode)(nil)
	_ gofs.NodeOpendirHandler = (*dirNode)(nil)
	_ gofs.NodeGetattrer      = (*dirNode)(nil)
	_ gofs.NodeSetattrer      = (*dirNode)(nil)
	_ gofs.NodeMkdirer        = (*dirNode)(nil)
	_ gofs.NodeRmdirer        = (*dirNode)(nil)
	_ gofs.NodeUnlinker       = (*dirNode)(nil)
	_ gofs.NodeCreater        = (*dirNode)(nil)
	_ gofs.NodeSymlinker      = (*dirNode)(nil)
	_ gofs.NodeRenamer        = (*dirNode)(nil)
	_ gofs.NodeLinker         = (*dirNode)(nil)
	_ gofs.NodeMknoder        = (*dirNode)(nil)
	_ gofs.NodeStatfser       = (*dirNode)(nil)
)

func (f *fsys) newDir() *dirNode {
	d := &dirNode{node: node{f: f}}
	d.a = f.defaultAttrs(time.Time{}, uint32(f.opts.DirMode))
	return d
}

// childKey checks name and returns its key in d. Errors: ENOENT when d is
// gone, EINVAL for a name OSS cannot store, ENAMETOOLONG for a key (with a
// over the OSS limit.
func (d *dirNode) childKey(name string) (string, syscall.Errno) {
	dk, ok := d.key()
	if !ok {
		return "", syscall.ENOENT
	}
	if len(name) > names.MaxNameLen {
		return "", syscall.ENAMETOOLONG
	}
	if !names.ValidName(name) {
		return "", syscall.EINVAL
	}
	key := names.Child(dk, name)
	if names.CheckKeyLen(key) != nil {
		return "", syscall.ENAMETOOLONG
	}
	return key, 0
}

// caller returns the uid and gid of the process making the request.
func (f *fsys) caller(ctx context.Context) (uint32, uint32) {
	if c, ok := ctx.(*fuse.Context); ok {
		return c.Caller.Uid, c.Caller.Gid
	}
	return f.opts.UID, f.opts.GID
}

// probe is what a lookup learns about a key.
type probe struct {
	typ    uint32            // S_IFDIR, S_IFREG, S_IFLNK, or a special file's type; 0: nothing there
	obj    *ossclient.Object // the file or link
	marker bool              // a directory with a marker object
}

// probeKey asks Stat(key) and List(key/, Limit 1) at once; the cache
// answers both from a fresh parent listing, or fetches one page of the
// parent directory for both (ossclient.ForLookup), which then also answers
// the lookups of the names beside key: creating many files costs one
// listing, not a HEAD and a listing each. A directory wins over a file of
// the same name. An empty object whose metadata is unknown is asked again
// with its metadata: it may be a FIFO, socket or device node, whose type
// only the metadata tells (and the kernel takes a node's type from the
// lookup).
func (f *fsys) probeKey(ctx context.Context, key string) (probe, error) {
	var (
		wg   sync.WaitGroup
		obj  *ossclient.Object
		serr error
	)
	wg.Go(func() { obj, serr = f.bucket.Stat(ctx, key, ossclient.ForLookup) })
	lst, lerr := &ossclient.Listing{}, error(nil)
	if names.CheckKeyLen(key+"/") == nil { // else no directory can be there
		lst, lerr = f.bucket.List(ctx, key+"/", ossclient.ListOptions{Limit: 1})
	}
	wg.Wait()
	if lerr != nil {
		return probe{}, lerr
	}
	if len(lst.Objects)+len(lst.Prefixes) > 0 {
		return probe{typ: syscall.S_IFDIR, marker: len(lst.Objects) > 0 && lst.Objects[0].Key == key+"/"}, nil
	}
	if serr == nil && !obj.IsSymlink() && obj.MetaUnknown && (obj.Size == 0 && f.opts.PersistMetadata || f.maybeLegacy(obj)) {
		obj, serr = f.bucket.Stat(ctx, key, ossclient.WithMeta)
	}
	switch {
	case serr == nil && obj.IsSymlink():
		return probe{typ: syscall.S_IFLNK, obj: obj}, nil
	case serr == nil:
		return probe{typ: f.fileTypeOf(obj), obj: obj}, nil
	case errors.Is(serr, ossclient.ErrDanglingSymlink):
		return probe{typ: syscall.S_IFLNK}, nil
	case errors.Is(serr, ossclient.ErrNotFound):
		return probe{}, nil
	case errors.Is(serr, ossclient.ErrUnfollowableSymlink) && f.isLink(ctx, key):
		return probe{typ: syscall.S_IFLNK}, nil
	}
	return probe{}, serr
}

// fileTypeOf is the type of a (non-link) object: S_IFREG, S_IFLNK for a
// link written by ossfs 1.x (legacylink.go), or the type of a FIFO, socket
// or device node its metadata stores.
func (f *fsys) fileTypeOf(o *ossclient.Object) uint32 {
	if f.isLegacyLink(o) {
		return syscall.S_IFLNK
	}
	if o.MetaUnknown || o.Size != 0 {
		return syscall.S_IFREG
	}
	if a := f.attrsFromMeta(o.Meta, o.ModTime, 0); a.ftype != 0 {
		return a.ftype
	}
	return syscall.S_IFREG
}

// isLink asks GetSymlink whether key is a link (the answer is cached, and
// readlink and getattr need it next anyway).
func (f *fsys) isLink(ctx context.Context, key string) bool {
	_, err := f.bucket.GetSymlink(ctx, key)
	return err == nil
}

func (d *dirNode) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	key, errno := d.childKey(name)
	if errno == syscall.EINVAL {
		return nil, syscall.ENOENT // such a key cannot exist
	}
	if errno != 0 {
		return nil, errno
	}
	// A file created here and not uploaded yet exists only in this mount.
	if ch := d.GetChild(name); ch != nil {
		if fn, ok := ch.Operations().(*fileNode); ok && fn.staged() {
			d.f.setEntry(out, fn.fillAttr(&out.Attr))
			return ch, 0
		}
	}
	p, err := d.f.probeKey(ctx, key)
	if err != nil {
		return nil, d.f.errno("lookup", key, err)
	}
	if p.typ == 0 {
		// A directory without a marker whose keys another client
		// deleted stays while it holds a file of this mount's not
		// uploaded yet (whose upload brings it back in OSS).
		if ch := d.GetChild(name); ch != nil {
			if cd, ok := ch.Operations().(*dirNode); ok && cd.holdsLocal() {
				cd.fillAttr(&out.Attr)
				d.f.setEntry(out, true)
				return ch, 0
			}
		}
		return nil, syscall.ENOENT
	}
	if d.f.ownersChecked() {
		if errno := d.f.withStoredAttrs(ctx, key, &p); errno != 0 {
			return nil, errno
		}
	}
	return d.childFor(ctx, name, key, p, out)
}

// ownersChecked reports whether the kernel checks ownership on this mount
// (default_permissions, with --allow-other). It does so (chmod, chown,
// utimes, the sticky bit) on the uid and gid it holds for an inode, without
// asking again even when their validity is 0: there, a lookup must give the
// stored owner, and a READDIRPLUS entry whose metadata is unknown gives no
// attributes at all (dirHandle.Lookup), so that the kernel looks it up.
func (f *fsys) ownersChecked() bool { return f.opts.AllowOther && f.opts.PersistMetadata }

// withStoredAttrs completes p, for a lookup on a mount where owners are
// checked: a file's answer from a listing is replaced by one with its
// metadata (Stat WithMeta); a directory's marker is read by childFor.
func (f *fsys) withStoredAttrs(ctx context.Context, key string, p *probe) syscall.Errno {
	if p.obj == nil || !p.obj.MetaUnknown || p.typ == syscall.S_IFLNK || p.typ == syscall.S_IFDIR {
		return 0
	}
	o, err := f.bucket.Stat(ctx, key, ossclient.WithMeta)
	if err != nil {
		return f.errno("lookup", key, err)
	}
	p.obj = o
	return 0
}

// childFor returns the inode for name: the one the tree already has when it
// is the same kind of object (stable inode numbers while the kernel holds
// it), a new one otherwise; and fills out, timeouts included. A
// directory's attributes are marked unknown here (its getattr reads its
// marker) unless owners are checked (ownersChecked): then its marker is
// read now. A file's are known when its answer carried metadata. Where
// owners are checked, a directory or link whose stored owner cannot be read
// fails the lookup: the kernel would check ownership on the defaults'.
func (d *dirNode) childFor(ctx context.Context, name, key string, p probe, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	ch := d.GetChild(name)
	supersedeChild(ch, p.obj, key)
	if ch == nil || ch.StableAttr().Mode != p.typ || retiredFile(ch) {
		var ops gofs.InodeEmbedder
		switch p.typ {
		case syscall.S_IFDIR:
			ops = d.f.newDir()
		case syscall.S_IFLNK:
			ops = d.f.newLink()
		default:
			ops = d.f.newFile()
		}
		ch = d.NewInode(ctx, ops, gofs.StableAttr{Mode: p.typ})
	}
	known := false
	switch n := ch.Operations().(type) {
	case *dirNode:
		if p.marker {
			n.marker.Store(true)
		}
		if d.f.ownersChecked() {
			if err := n.refresh(ctx, key); err != nil {
				return nil, d.f.errno("lookup", key, err)
			}
			known = true
		}
		n.fillAttr(&out.Attr)
	case *linkNode:
		n.legacy.Store(p.obj != nil && !p.obj.IsSymlink())
		if d.f.ownersChecked() {
			if errno := n.linkAttr(ctx, key, &out.Attr); errno != 0 {
				return nil, errno
			}
			known = true
			break
		}
		known = n.lookupAttr(ctx, key, p.obj, &out.Attr)
	case *fileNode:
		if p.obj != nil && !n.staged() { // local changes not uploaded yet win
			n.learn(p.obj, uint32(d.f.opts.FileMode))
			n.setRemoteSize(p.obj.Size)
		}
		known = n.fillAttr(&out.Attr) && !n.otherVersionOpen()
	}
	d.f.setEntry(out, known)
	return ch, 0
}

// holdsLocal reports whether a file of this mount's that OSS does not
// have yet (staged: created, or being written) is in the directory or
// below it, in the kernel's tree of inodes.
func (d *dirNode) holdsLocal() bool {
	for _, ch := range d.Children() {
		switch n := ch.Operations().(type) {
		case *fileNode:
			if n.staged() {
				return true
			}
		case *dirNode:
			if n.holdsLocal() {
				return true
			}
		}
	}
	return false
}

func (d *dirNode) fillAttr(out *fuse.Attr) {
	fill(out, syscall.S_IFDIR, dirSize, d.attrs())
}

// Getattr reads the directory's marker metadata (Stat WithMeta of "d/",
// which the cache answers while it holds it): a directory without a marker
// (implicit) has the mount's defaults, and so has the root.
func (d *dirNode) Getattr(ctx context.Context, fh gofs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	if key, ok := d.key(); ok {
		if err := d.refresh(ctx, key); err != nil {
			return d.f.errno("getattr", key, err)
		}
	}
	d.fillAttr(&out.Attr)
	out.SetTimeout(d.f.opts.AttrTimeout)
	return 0
}

// refresh reads the stored attributes of the directory at key from its
// marker; without one (and for the root) they are the mount's defaults.
func (d *dirNode) refresh(ctx context.Context, key string) error {
	if key == "" || !d.f.opts.PersistMetadata {
		return nil
	}
	o, err := d.f.bucket.Stat(ctx, key+"/", ossclient.WithMeta)
	switch {
	case err == nil:
		d.marker.Store(true)
		d.setAttrs(d.f.attrsFromMeta(o.Meta, o.ModTime, uint32(d.f.opts.DirMode)))
	case errors.Is(err, ossclient.ErrNotFound):
		a := d.f.defaultAttrs(time.Time{}, uint32(d.f.opts.DirMode))
		a.known = true
		d.setAttrs(a)
	default:
		return err
	}
	return nil
}

func (d *dirNode) Setattr(ctx context.Context, fh gofs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	if d.f.opts.ReadOnly {
		return errROFS
	}
	if key, ok := d.key(); ok {
		// The attributes a change does not touch are stored with it: they
		// must be the stored ones.
		if err := d.refresh(ctx, key); err != nil {
			return d.f.errno("setattr", key, err)
		}
	}
	a, errno := d.f.applySetattr(d.attrs(), in)
	if errno != 0 {
		return errno
	}
	if a != d.attrs() {
		key, ok := d.key()
		if !ok {
			return syscall.ENOENT
		}
		if key == "" && modeOrOwnerChanged(a, d.attrs()) {
			// The root has no marker to keep attributes on: a mode or
			// owner kept here alone would vanish at the next mount
			// (--dir-mode, --uid and --gid set them). Times stay in
			// memory, so that rsync -a into the root works.
			d.f.log.Warn("the mount root's mode and owner come from --dir-mode, --uid and --gid; chmod and chown of it are refused", "op", "setattr")
			return syscall.EPERM
		}
		if key != "" {
			if errno := d.writeMarker(ctx, key+"/", a, true); errno != 0 {
				return errno
			}
		}
		d.setAttrs(a)
	}
	d.fillAttr(&out.Attr)
	out.SetTimeout(d.f.opts.AttrTimeout)
	return 0
}

// modeOrOwnerChanged reports whether a has another mode, uid or gid than old.
func modeOrOwnerChanged(a, old attrs) bool {
	return a.mode != old.mode || a.uid != old.uid || a.gid != old.gid
}

// writeMarker stores the marker "d/" carrying a's metadata: a metadata
// replacing copy onto itself when it exists (replace), else a new empty
// object.
func (d *dirNode) writeMarker(ctx context.Context, marker string, a attrs, replace bool) syscall.Errno {
	ctx = ctxFor(ctx, true)
	meta := d.f.metaOf(a, syscall.S_IFDIR)
	if replace {
		_, err := d.f.bucket.Copy(ctx, marker, marker, ossclient.CopyOptions{ReplaceMeta: true, Meta: meta})
		if err == nil {
			d.marker.Store(true)
			return 0
		}
		if !errors.Is(err, ossclient.ErrNotFound) {
			return d.f.errno("setattr", marker, err)
		}
	}
	_, err := d.f.bucket.Put(ctx, marker, bytes.NewReader(nil), ossclient.PutOptions{Meta: meta, ForbidOverwrite: !replace})
	if err != nil && !(errors.Is(err, ossclient.ErrAlreadyExists) && !replace) {
		return d.f.errno("put marker", marker, err)
	}
	d.marker.Store(true)
	return 0
}

// ensureMarker makes an implicit directory explicit before something is
// deleted or moved out of it, so that removing its last entry does not make
// a directory the user still sees vanish. At most one request per directory
// and mount: afterwards the marker is known.
func (d *dirNode) ensureMarker(ctx context.Context) syscall.Errno {
	if d.marker.Load() {
		return 0
	}
	key, ok := d.key()
	if !ok || key == "" {
		return 0
	}
	return d.writeMarker(ctx, key+"/", d.attrs(), false)
}

func (d *dirNode) Mkdir(ctx context.Context, name string, mode uint32, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	if d.f.opts.ReadOnly {
		return nil, errROFS
	}
	key, errno := d.childKey(name)
	if errno != 0 {
		return nil, errno
	}
	if names.CheckKeyLen(key+"/") != nil {
		return nil, syscall.ENAMETOOLONG
	}
	uid, gid := d.f.caller(ctx)
	nd := d.f.newDir()
	nd.a = d.f.newAttrs(mode, uid, gid)
	_, err := d.f.bucket.Put(ctxFor(ctx, true), key+"/", bytes.NewReader(nil),
		ossclient.PutOptions{Meta: d.f.metaOf(nd.a, syscall.S_IFDIR), ForbidOverwrite: true})
	if err != nil {
		return nil, d.f.errno("mkdir", key, err)
	}
	nd.marker.Store(true)
	nd.fillAttr(&out.Attr)
	d.f.setEntry(out, true)
	return d.NewInode(ctx, nd, gofs.StableAttr{Mode: syscall.S_IFDIR}), 0
}

func (d *dirNode) Rmdir(ctx context.Context, name string) syscall.Errno {
	if d.f.opts.ReadOnly {
		return errROFS
	}
	key, errno := d.childKey(name)
	if errno != 0 {
		return errno
	}
	if ch := d.GetChild(name); ch != nil && hasStagedChild(ch) {
		return syscall.ENOTEMPTY
	}
	prefix := key + "/"
	lst, err := d.f.bucket.List(ctx, prefix, ossclient.ListOptions{Limit: 2})
	if err != nil {
		return d.f.errno("rmdir", key, err)
	}
	marker := false
	for _, o := range lst.Objects {
		if o.Key != prefix {
			return syscall.ENOTEMPTY
		}
		marker = true
	}
	if len(lst.Prefixes) > 0 {
		return syscall.ENOTEMPTY
	}
	if !marker {
		return syscall.ENOENT
	}
	if errno := d.ensureMarker(ctx); errno != 0 {
		return errno
	}
	if err := d.f.bucket.Delete(ctxFor(ctx, true), prefix); err != nil {
		return d.f.errno("rmdir", key, err)
	}
	return 0
}

// hasStagedChild reports whether a directory inode holds a file that exists
// only locally so far (created, not yet uploaded).
func hasStagedChild(dir *gofs.Inode) bool {
	for _, ch := range dir.Children() {
		if fn, ok := ch.Operations().(*fileNode); ok && fn.staged() && fn.neverUploaded() {
			return true
		}
	}
	return false
}

func (d *dirNode) Unlink(ctx context.Context, name string) syscall.Errno {
	if d.f.opts.ReadOnly {
		return errROFS
	}
	key, errno := d.childKey(name)
	if errno != 0 {
		return errno
	}
	if errno := d.ensureMarker(ctx); errno != 0 {
		return errno
	}
	ctx = ctxFor(ctx, true)
	del := func() error { return d.f.bucket.Delete(ctx, key) }
	var err error
	if fn, ok := d.childFile(name); ok {
		err = fn.unlink(ctx, del)
	} else {
		err = del()
	}
	if err != nil {
		return d.f.errno("unlink", key, err)
	}
	return 0
}

// childFile returns the tree's node for the file name, if the kernel has
// one.
func (d *dirNode) childFile(name string) (*fileNode, bool) {
	ch := d.GetChild(name)
	if ch == nil {
		return nil, false
	}
	fn, ok := ch.Operations().(*fileNode)
	return fn, ok
}

func (d *dirNode) Link(ctx context.Context, target gofs.InodeEmbedder, name string, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	if d.f.opts.ReadOnly {
		return nil, errROFS
	}
	// OSS has no hard links: EPERM, what link(2) documents for a
	// filesystem that does not support them.
	return nil, syscall.EPERM
}

func (d *dirNode) Statfs(ctx context.Context, out *fuse.StatfsOut) syscall.Errno {
	// OSS has no capacity limit: report 1 PiB free, and as many inodes.
	const blocks = 1 << 50 / blockSize
	*out = fuse.StatfsOut{
		Blocks: blocks, Bfree: blocks, Bavail: blocks,
		Files: 1 << 40, Ffree: 1 << 40,
		Bsize: blockSize, Frsize: blockSize, NameLen: names.MaxNameLen,
	}
	return 0
}
