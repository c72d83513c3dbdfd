package fs

import (
	"context"
	"syscall"
	"time"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/ossfs/ossfs/fs/names"
	"github.com/ossfs/ossfs/ossclient"
)

// linkNode is a symlink: a native OSS symlink object. Its text is never kept
// here: readlink asks the Bucket (whose cache answers warm readlinks).
type linkNode struct {
	node
}

var (
	_ gofs.NodeReadlinker = (*linkNode)(nil)
	_ gofs.NodeGetattrer  = (*linkNode)(nil)
	_ gofs.NodeSetattrer  = (*linkNode)(nil)
)

func (f *fsys) newLink() *linkNode {
	l := &linkNode{node: node{f: f}}
	l.a = f.defaultAttrs(time.Time{}, 0o777)
	return l
}

// readlinkKey returns the text of the link at key and the link itself: the
// text stored in its metadata while still consistent, else the relative
// path to its target (package names).
func (f *fsys) readlinkKey(ctx context.Context, key string) (string, *ossclient.Symlink, error) {
	s, err := f.bucket.GetSymlink(ctx, key)
	if err != nil {
		return "", nil, err
	}
	lit, has := "", false
	if v, ok := s.Meta[names.MetaSymlink]; ok {
		lit, has = names.DecodeMeta(v)
	}
	return f.mapper.Readlink(key, s.Target, lit, has), s, nil
}

func (l *linkNode) Readlink(ctx context.Context) ([]byte, syscall.Errno) {
	key, ok := l.key()
	if !ok {
		return nil, syscall.ENOENT
	}
	text, _, err := l.f.readlinkKey(ctx, key)
	if err != nil {
		return nil, l.f.errno("readlink", key, err)
	}
	return []byte(text), 0
}

// linkAttrs are the attributes of link s: mode 0777, as every symlink's;
// owner and times from the link's own metadata (x-oss-meta-uid, ...), else
// the mount's defaults and the link's Last-Modified. Known: GetSymlink
// always returns the link's metadata.
func (f *fsys) linkAttrs(s *ossclient.Symlink) attrs {
	a := f.attrsFromMeta(s.Meta, s.ModTime, 0o777)
	a.mode, a.ftype, a.rdev = 0o777, 0, 0
	return a
}

// linkAttr fills the attributes of the link at key: st_size is the length
// of its text, as POSIX wants, which costs a GetSymlink (the cache prefetches
// the links a listing reports, and readlink needs the same answer).
func (l *linkNode) linkAttr(ctx context.Context, key string, out *fuse.Attr) syscall.Errno {
	text, s, err := l.f.readlinkKey(ctx, key)
	if err != nil {
		return l.f.errno("getattr", key, err)
	}
	a := l.f.linkAttrs(s)
	l.setAttrs(a)
	fill(out, syscall.S_IFLNK, uint64(len(text)), a)
	return 0
}

// lookupAttr is linkAttr for a lookup: a failure to read the link (it just
// changed) still shows a link, of size 0, with attributes marked unknown.
func (l *linkNode) lookupAttr(ctx context.Context, key string, obj *ossclient.Object, out *fuse.Attr) (known bool) {
	if errno := l.linkAttr(ctx, key, out); errno != 0 {
		fill(out, syscall.S_IFLNK, 0, l.attrs())
		return false
	}
	return true
}

func (l *linkNode) Getattr(ctx context.Context, fh gofs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	key, ok := l.key()
	if !ok {
		fill(&out.Attr, syscall.S_IFLNK, 0, l.attrs())
		return 0
	}
	if errno := l.linkAttr(ctx, key, &out.Attr); errno != 0 {
		return errno
	}
	out.SetTimeout(l.f.opts.AttrTimeout)
	return 0
}

// Setattr on a link (lchown, lutimes from tar, cp -a and rsync) stores the
// new owner and times in the link's own metadata: a PutSymlink of the same
// target with the metadata changed (OSS has no other way to change a
// link's metadata), so the link's ACL becomes the mount's SymlinkACL.
func (l *linkNode) Setattr(ctx context.Context, fh gofs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	if l.f.opts.ReadOnly {
		return errROFS
	}
	key, ok := l.key()
	if !ok {
		return syscall.ENOENT
	}
	ctx = ctxFor(ctx, true)
	s, err := l.f.bucket.GetSymlink(ctx, key)
	if err != nil {
		return l.f.errno("setattr", key, err)
	}
	old := l.f.linkAttrs(s)
	a, errno := l.f.applySetattr(old, in)
	if errno != 0 {
		return errno
	}
	a.mode = 0o777 // a link's mode never changes (Linux has no lchmod)
	if a != old {
		meta := map[string]string{}
		for k, v := range s.Meta {
			meta[k] = v
		}
		for k, v := range l.f.metaOf(a, syscall.S_IFLNK) {
			meta[k] = v
		}
		o := l.f.symlinkOptions(false)
		o.Meta = meta
		if err := l.f.bucket.PutSymlink(ctx, key, s.Target, o); err != nil {
			return l.f.errno("setattr", key, err)
		}
	}
	return l.Getattr(ctx, fh, out)
}

// attrMeta keeps the attribute names (mode, uid, gid, times) of a link's
// metadata: what a rename carries over to the new link.
func attrMeta(m map[string]string) map[string]string {
	out := map[string]string{}
	for _, k := range []string{metaMode, metaUID, metaGID, metaMtime, metaCtime, metaAtime} {
		if v, ok := m[k]; ok {
			out[k] = v
		}
	}
	return out
}

// symlinkOptions are the mount's PutSymlink options.
func (f *fsys) symlinkOptions(forbid bool) ossclient.SymlinkOptions {
	return ossclient.SymlinkOptions{
		ForbidOverwrite: forbid,
		ACL:             f.opts.SymlinkACL,
		StorageClass:    f.opts.SymlinkStorageClass,
	}
}

// putLink writes the link at key with text lit and the attribute metadata
// meta (plus the text when the target cannot give it back): exactly one
// PutSymlink.
func (f *fsys) putLink(ctx context.Context, key, lit string, forbid bool, meta map[string]string) error {
	target, store, err := f.mapper.Target(key, lit)
	if err != nil {
		return err
	}
	o := f.symlinkOptions(forbid)
	o.Meta = map[string]string{}
	for k, v := range meta {
		o.Meta[k] = v
	}
	if store {
		o.Meta[names.MetaSymlink] = names.EncodeMeta(lit)
	}
	if len(o.Meta) == 0 {
		o.Meta = nil
	}
	return f.bucket.PutSymlink(ctx, key, target, o)
}

func (d *dirNode) Symlink(ctx context.Context, target, name string, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	if d.f.opts.ReadOnly {
		return nil, errROFS
	}
	key, errno := d.childKey(name)
	if errno != 0 {
		return nil, errno
	}
	uid, gid := d.f.caller(ctx)
	a := d.f.newAttrs(0o777, uid, gid)
	if err := d.f.putLink(ctxFor(ctx, true), key, target, d.f.opts.SymlinkForbidOverwrite, d.f.metaOf(a, syscall.S_IFLNK)); err != nil {
		return nil, d.f.errno("symlink", key, err)
	}
	l := d.f.newLink()
	l.a = a
	fill(&out.Attr, syscall.S_IFLNK, uint64(len(target)), l.a)
	d.f.setEntry(out, true)
	return d.NewInode(ctx, l, gofs.StableAttr{Mode: syscall.S_IFLNK}), 0
}
