package fs

import (
	"context"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fuse"
)

// Writes through a descriptor open only for writing bypass the kernel's
// page cache (FOPEN_DIRECT_IO): each write(2) reaches ossfs straight from
// the writer's memory.
//
// Through the page cache, the kernel first copied every written byte into
// a page of its own, kept it there, and asked for security.capability
// (a GETXATTR round trip) before each write. Those pages were never read
// again: a later open for reading drops them (fileNode.paged), because
// ossfs serves a file being written from its own staging or from OSS. So
// a `cp`, `tar x`, `dd` or `rsync` onto the mount paid a copy per byte and
// a request per write for nothing, and filled memory with dead pages. A
// 1 MiB `dd` now makes one FUSE request per write instead of two.
//
// A descriptor that can also read (O_RDWR) keeps the page cache: mmap
// needs it, and reads through it may be served from it. The kernel drops
// its cached pages of a range written around it, so other descriptors do
// not read the older bytes from there.
//
// Without the page cache path the kernel no longer clears the set-user-ID
// and set-group-ID bits when an unprivileged process writes (it did that
// with a chmod before the write); it asks the file system to, with
// FUSE_WRITE_KILL_SUIDGID on each write. setIDFS notes which writes carry
// it, and the write drops the bits (dropSetID), as the kernel did.

// writeOpenFlags returns the FOPEN flags of a descriptor opened with
// flags for writing.
func writeOpenFlags(flags uint32) uint32 {
	if flags&syscall.O_ACCMODE == syscall.O_WRONLY {
		return fuse.FOPEN_DIRECT_IO
	}
	return 0
}

// setIDFS marks the writes whose caller may not keep the set-ID bits
// (FUSE_WRITE_KILL_SUIDGID: it lacks CAP_FSETID; requestMarks).
type setIDFS struct {
	fuse.RawFileSystem
	f *fsys
}

// Writev is how go-fuse delivers every WRITE (Write only when Writev
// answers ENOSYS).
func (w setIDFS) Writev(cancel <-chan struct{}, in *fuse.WriteIn, data [][]byte) (uint32, fuse.Status) {
	if in.WriteFlags&fuse.WRITE_KILL_SUIDGID != 0 {
		defer w.f.killSetID.mark(cancel)()
	}
	return w.RawFileSystem.Writev(cancel, in, data)
}

func (w setIDFS) Write(cancel <-chan struct{}, in *fuse.WriteIn, data []byte) (uint32, fuse.Status) {
	if in.WriteFlags&fuse.WRITE_KILL_SUIDGID != 0 {
		defer w.f.killSetID.mark(cancel)()
	}
	return w.RawFileSystem.Write(cancel, in, data)
}

// dropSetID clears the set-user-ID bit, and the set-group-ID bit of a
// group-executable file, and stores the mode (with the file's upload, or
// at once by a metadata copy when nothing is written yet). That is the
// rule the kernel's FUSE page cache path applied through a chmod
// (fuse_setattr), which ossfs keeps for both paths; a local file system
// (setattr_should_drop_sgid) also drops a set-group-ID bit without group
// execute when the writer is not in the file's group, which a FUSE file
// system cannot tell (it is not given the writer's groups). The kernel is
// told its cached mode is stale.
func (n *fileNode) dropSetID(ctx context.Context) syscall.Errno {
	a := n.attrs()
	drop := uint32(0)
	if a.mode&syscall.S_ISUID != 0 {
		drop |= syscall.S_ISUID
	}
	if a.mode&(syscall.S_ISGID|syscall.S_IXGRP) == syscall.S_ISGID|syscall.S_IXGRP {
		drop |= syscall.S_ISGID
	}
	if drop == 0 || !n.f.opts.PersistMetadata {
		return 0 // with --no-metadata the mode is the mount's, never stored
	}
	in := &fuse.SetAttrIn{}
	in.Valid = fuse.FATTR_MODE
	in.Mode = a.mode &^ drop
	b, errno := n.f.applySetattr(a, in)
	if errno != 0 {
		return errno
	}
	if errno := n.persistAttrs(ctxFor(ctx, true), b); errno != 0 {
		return errno
	}
	if errno := n.NotifyContent(-1, 0); errno != 0 && errno != syscall.ENOENT && errno != syscall.ENOSYS {
		key, _ := n.key()
		n.f.log.Debug("attribute invalidation failed", "op", "write", "key", key, "errno", errno)
	}
	return 0
}
