package fs

import (
	"bytes"
	"context"
	"syscall"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/ossfs/ossfs/ossclient"
)

// Mknod makes a FIFO, a unix socket's name, a device node or an empty
// regular file. As ossfs 1.x and s3fs do, each is an empty object whose
// x-oss-meta-mode carries the file type (x-oss-meta-rdev the device
// number): one Put. The kernel serves FIFOs, sockets and devices itself
// once it knows the type, so only the name and attributes live in OSS.
// Without metadata persistence nothing can say the type: EPERM, as for
// any type refused.
func (d *dirNode) Mknod(ctx context.Context, name string, mode, dev uint32, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	if d.f.opts.ReadOnly {
		return nil, errROFS
	}
	typ := mode & syscall.S_IFMT
	switch typ {
	case syscall.S_IFIFO, syscall.S_IFSOCK, syscall.S_IFCHR, syscall.S_IFBLK:
		if !d.f.opts.PersistMetadata {
			return nil, syscall.EPERM
		}
	case syscall.S_IFREG:
	default:
		return nil, syscall.EPERM
	}
	key, errno := d.childKey(name)
	if errno != 0 {
		return nil, errno
	}
	uid, gid := d.f.caller(ctx)
	a := d.f.newAttrs(mode, uid, gid)
	if typ != syscall.S_IFREG {
		a.ftype = typ
	}
	if typ == syscall.S_IFCHR || typ == syscall.S_IFBLK {
		a.rdev = dev
	}
	// mknod(2) fails with EEXIST on an existing name; the kernel has
	// looked it up, and forbid-overwrite closes the race with other clients.
	o, err := d.f.bucket.Put(ctxFor(ctx, true), key, bytes.NewReader(nil),
		ossclient.PutOptions{Meta: d.f.metaOf(a, typ), ForbidOverwrite: true})
	if err != nil {
		return nil, d.f.errno("mknod", key, err)
	}
	a.setVersion(o)
	n := d.f.newFile()
	n.a = a
	d.f.setEntry(out, n.fillAttr(&out.Attr))
	return d.NewInode(ctx, n, gofs.StableAttr{Mode: typ}), 0
}
