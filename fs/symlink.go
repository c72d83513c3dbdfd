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

// linkAttr fills the attributes of the link at key: st_size is the length
// of its text, as POSIX wants, which costs a GetSymlink (the cache prefetches
// the links a listing reports, and readlink needs the same answer).
func (l *linkNode) linkAttr(ctx context.Context, key string, out *fuse.Attr) syscall.Errno {
	text, s, err := l.f.readlinkKey(ctx, key)
	if err != nil {
		return l.f.errno("getattr", key, err)
	}
	a := l.attrs()
	if !s.ModTime.IsZero() {
		a.mtime = s.ModTime
		l.setAttrs(a)
	}
	fill(out, syscall.S_IFLNK, uint64(len(text)), a)
	return 0
}

// lookupAttr is linkAttr for a lookup: a failure to read the link (it just
// changed) still shows a link, of size 0.
func (l *linkNode) lookupAttr(ctx context.Context, key string, obj *ossclient.Object, out *fuse.Attr) {
	if errno := l.linkAttr(ctx, key, out); errno != 0 {
		fill(out, syscall.S_IFLNK, 0, l.attrs())
	}
}

func (l *linkNode) Getattr(ctx context.Context, fh gofs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	key, ok := l.key()
	if !ok {
		fill(&out.Attr, syscall.S_IFLNK, 0, l.attrs())
		return 0
	}
	return l.linkAttr(ctx, key, &out.Attr)
}

// Setattr on a link (lchown, lutimes from tar and cp -a) is accepted and not
// kept: a link's own metadata holds only its text, and rewriting the link
// for a timestamp would change its identity for other clients.
func (l *linkNode) Setattr(ctx context.Context, fh gofs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	if l.f.opts.ReadOnly {
		return errROFS
	}
	return l.Getattr(ctx, fh, out)
}

// symlinkOptions are the PutSymlink options for a link with text lit that
// must be stored (store) because the target cannot give it back.
func (f *fsys) symlinkOptions(lit string, store, forbid bool) ossclient.SymlinkOptions {
	o := ossclient.SymlinkOptions{
		ForbidOverwrite: forbid,
		ACL:             f.opts.SymlinkACL,
		StorageClass:    f.opts.SymlinkStorageClass,
	}
	if store {
		o.Meta = map[string]string{names.MetaSymlink: names.EncodeMeta(lit)}
	}
	return o
}

// putLink writes the link at key with text lit: exactly one PutSymlink.
func (f *fsys) putLink(ctx context.Context, key, lit string, forbid bool) error {
	target, store, err := f.mapper.Target(key, lit)
	if err != nil {
		return err
	}
	return f.bucket.PutSymlink(ctx, key, target, f.symlinkOptions(lit, store, forbid))
}

func (d *dirNode) Symlink(ctx context.Context, target, name string, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	if d.f.opts.ReadOnly {
		return nil, errROFS
	}
	key, errno := d.childKey(name)
	if errno != 0 {
		return nil, errno
	}
	if err := d.f.putLink(ctxFor(ctx, true), key, target, d.f.opts.SymlinkForbidOverwrite); err != nil {
		return nil, d.f.errno("symlink", key, err)
	}
	l := d.f.newLink()
	l.a.mtime = time.Now()
	fill(&out.Attr, syscall.S_IFLNK, uint64(len(target)), l.a)
	return d.NewInode(ctx, l, gofs.StableAttr{Mode: syscall.S_IFLNK}), 0
}
