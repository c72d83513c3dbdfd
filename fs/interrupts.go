package fs

import "github.com/hanwen/go-fuse/v2/fuse"

// metadataFS runs the kernel's metadata reads — lookup, getattr, statx,
// access, readlink, opendir, readdir, xattr reads, statfs — and open
// (whose only interruptible work is the first chunk's GET) to completion
// whatever signal the calling process receives: go-fuse cancels a
// request's context on the kernel's FUSE_INTERRUPT, which would fail the
// call with EINTR, and programs do not expect EINTR from stat(2),
// readlink(2) or the open(2) of a regular file (a make -j gets SIGCHLD all
// the time; glibc and coreutils do not retry). Those requests are bounded by the request timeouts
// instead, as gcsfuse does by default. read(2) and a write's wait for its
// file's shared work still honour an interrupt (docs/semantics.md,
// "Errors"); mutations never do (ctxFor).
type metadataFS struct {
	fuse.RawFileSystem
}

func (w metadataFS) Lookup(_ <-chan struct{}, h *fuse.InHeader, name string, out *fuse.EntryOut) fuse.Status {
	return w.RawFileSystem.Lookup(nil, h, name, out)
}

// GetAttr passes a channel of its own, never closed: namingFS keys the
// request by it.
func (w metadataFS) GetAttr(_ <-chan struct{}, in *fuse.GetAttrIn, out *fuse.AttrOut) fuse.Status {
	return w.RawFileSystem.GetAttr(make(chan struct{}), in, out)
}

func (w metadataFS) Statx(_ <-chan struct{}, in *fuse.StatxIn, out *fuse.StatxOut) fuse.Status {
	return w.RawFileSystem.Statx(nil, in, out)
}

func (w metadataFS) Access(_ <-chan struct{}, in *fuse.AccessIn) fuse.Status {
	return w.RawFileSystem.Access(nil, in)
}

func (w metadataFS) Readlink(_ <-chan struct{}, h *fuse.InHeader) ([]byte, fuse.Status) {
	return w.RawFileSystem.Readlink(nil, h)
}

func (w metadataFS) GetXAttr(_ <-chan struct{}, h *fuse.InHeader, attr string, dest []byte) (uint32, fuse.Status) {
	return w.RawFileSystem.GetXAttr(nil, h, attr, dest)
}

func (w metadataFS) ListXAttr(_ <-chan struct{}, h *fuse.InHeader, dest []byte) (uint32, fuse.Status) {
	return w.RawFileSystem.ListXAttr(nil, h, dest)
}

func (w metadataFS) OpenDir(_ <-chan struct{}, in *fuse.OpenIn, out *fuse.OpenOut) fuse.Status {
	return w.RawFileSystem.OpenDir(nil, in, out)
}

func (w metadataFS) ReadDir(_ <-chan struct{}, in *fuse.ReadIn, out *fuse.DirEntryList) fuse.Status {
	return w.RawFileSystem.ReadDir(nil, in, out)
}

func (w metadataFS) ReadDirPlus(_ <-chan struct{}, in *fuse.ReadIn, out *fuse.DirEntryList) fuse.Status {
	return w.RawFileSystem.ReadDirPlus(nil, in, out)
}

func (w metadataFS) StatFs(_ <-chan struct{}, h *fuse.InHeader, out *fuse.StatfsOut) fuse.Status {
	return w.RawFileSystem.StatFs(nil, h, out)
}

func (w metadataFS) Open(_ <-chan struct{}, in *fuse.OpenIn, out *fuse.OpenOut) fuse.Status {
	return w.RawFileSystem.Open(nil, in, out)
}
