package metrics

// The methods below follow go-fuse's fuse.RawFileSystem; every
// method counts and times one operation and passes it through.

import (
	"time"

	"github.com/hanwen/go-fuse/v2/fuse"
)

// countingFS passes every request to the file system it wraps, counting
// and timing each by operation. String, SetDebug, Init and OnUnmount pass
// through uncounted (embedded).
type countingFS struct {
	fuse.RawFileSystem
	m *Metrics
}

var _ fuse.RawFileSystem = (*countingFS)(nil)

func (w *countingFS) Forget(nodeid, nlookup uint64) {
	defer w.m.fuseOp("forget", time.Now(), fuse.OK)
	w.RawFileSystem.Forget(nodeid, nlookup)
}

func (w *countingFS) Lookup(cancel <-chan struct{}, header *fuse.InHeader, name string, out *fuse.EntryOut) fuse.Status {
	start := time.Now()
	st := w.RawFileSystem.Lookup(cancel, header, name, out)
	w.m.fuseOp("lookup", start, st)
	return st
}

func (w *countingFS) GetAttr(cancel <-chan struct{}, input *fuse.GetAttrIn, out *fuse.AttrOut) fuse.Status {
	start := time.Now()
	st := w.RawFileSystem.GetAttr(cancel, input, out)
	w.m.fuseOp("getattr", start, st)
	return st
}

func (w *countingFS) SetAttr(cancel <-chan struct{}, input *fuse.SetAttrIn, out *fuse.AttrOut) fuse.Status {
	start := time.Now()
	st := w.RawFileSystem.SetAttr(cancel, input, out)
	w.m.fuseOp("setattr", start, st)
	return st
}

func (w *countingFS) Mknod(cancel <-chan struct{}, input *fuse.MknodIn, name string, out *fuse.EntryOut) fuse.Status {
	start := time.Now()
	st := w.RawFileSystem.Mknod(cancel, input, name, out)
	w.m.fuseOp("mknod", start, st)
	return st
}

func (w *countingFS) Mkdir(cancel <-chan struct{}, input *fuse.MkdirIn, name string, out *fuse.EntryOut) fuse.Status {
	start := time.Now()
	st := w.RawFileSystem.Mkdir(cancel, input, name, out)
	w.m.fuseOp("mkdir", start, st)
	return st
}

func (w *countingFS) Unlink(cancel <-chan struct{}, header *fuse.InHeader, name string) fuse.Status {
	start := time.Now()
	st := w.RawFileSystem.Unlink(cancel, header, name)
	w.m.fuseOp("unlink", start, st)
	return st
}

func (w *countingFS) Rmdir(cancel <-chan struct{}, header *fuse.InHeader, name string) fuse.Status {
	start := time.Now()
	st := w.RawFileSystem.Rmdir(cancel, header, name)
	w.m.fuseOp("rmdir", start, st)
	return st
}

func (w *countingFS) Rename(cancel <-chan struct{}, input *fuse.RenameIn, oldName string, newName string) fuse.Status {
	start := time.Now()
	st := w.RawFileSystem.Rename(cancel, input, oldName, newName)
	w.m.fuseOp("rename", start, st)
	return st
}

func (w *countingFS) Link(cancel <-chan struct{}, input *fuse.LinkIn, filename string, out *fuse.EntryOut) fuse.Status {
	start := time.Now()
	st := w.RawFileSystem.Link(cancel, input, filename, out)
	w.m.fuseOp("link", start, st)
	return st
}

func (w *countingFS) Symlink(cancel <-chan struct{}, header *fuse.InHeader, pointedTo string, linkName string, out *fuse.EntryOut) fuse.Status {
	start := time.Now()
	st := w.RawFileSystem.Symlink(cancel, header, pointedTo, linkName, out)
	w.m.fuseOp("symlink", start, st)
	return st
}

func (w *countingFS) Readlink(cancel <-chan struct{}, header *fuse.InHeader) ([]byte, fuse.Status) {
	start := time.Now()
	r, st := w.RawFileSystem.Readlink(cancel, header)
	w.m.fuseOp("readlink", start, st)
	return r, st
}

func (w *countingFS) Access(cancel <-chan struct{}, input *fuse.AccessIn) fuse.Status {
	start := time.Now()
	st := w.RawFileSystem.Access(cancel, input)
	w.m.fuseOp("access", start, st)
	return st
}

func (w *countingFS) GetXAttr(cancel <-chan struct{}, header *fuse.InHeader, attr string, dest []byte) (uint32, fuse.Status) {
	start := time.Now()
	r, st := w.RawFileSystem.GetXAttr(cancel, header, attr, dest)
	w.m.fuseOp("getxattr", start, st)
	return r, st
}

func (w *countingFS) ListXAttr(cancel <-chan struct{}, header *fuse.InHeader, dest []byte) (uint32, fuse.Status) {
	start := time.Now()
	r, st := w.RawFileSystem.ListXAttr(cancel, header, dest)
	w.m.fuseOp("listxattr", start, st)
	return r, st
}

func (w *countingFS) SetXAttr(cancel <-chan struct{}, input *fuse.SetXAttrIn, attr string, data []byte) fuse.Status {
	start := time.Now()
	st := w.RawFileSystem.SetXAttr(cancel, input, attr, data)
	w.m.fuseOp("setxattr", start, st)
	return st
}

func (w *countingFS) RemoveXAttr(cancel <-chan struct{}, header *fuse.InHeader, attr string) fuse.Status {
	start := time.Now()
	st := w.RawFileSystem.RemoveXAttr(cancel, header, attr)
	w.m.fuseOp("removexattr", start, st)
	return st
}

func (w *countingFS) Create(cancel <-chan struct{}, input *fuse.CreateIn, name string, out *fuse.CreateOut) fuse.Status {
	start := time.Now()
	st := w.RawFileSystem.Create(cancel, input, name, out)
	w.m.fuseOp("create", start, st)
	return st
}

func (w *countingFS) Tmpfile(cancel <-chan struct{}, input *fuse.CreateIn, out *fuse.CreateOut) fuse.Status {
	start := time.Now()
	st := w.RawFileSystem.Tmpfile(cancel, input, out)
	w.m.fuseOp("tmpfile", start, st)
	return st
}

func (w *countingFS) Open(cancel <-chan struct{}, input *fuse.OpenIn, out *fuse.OpenOut) fuse.Status {
	start := time.Now()
	st := w.RawFileSystem.Open(cancel, input, out)
	w.m.fuseOp("open", start, st)
	return st
}

func (w *countingFS) Read(cancel <-chan struct{}, input *fuse.ReadIn, buf []byte) (fuse.ReadResult, fuse.Status) {
	start := time.Now()
	r, st := w.RawFileSystem.Read(cancel, input, buf)
	w.m.fuseOp("read", start, st)
	if st == fuse.OK && r != nil {
		w.m.fuseRead.Add(float64(r.Size()))
	}
	return r, st
}

func (w *countingFS) Lseek(cancel <-chan struct{}, in *fuse.LseekIn, out *fuse.LseekOut) fuse.Status {
	start := time.Now()
	st := w.RawFileSystem.Lseek(cancel, in, out)
	w.m.fuseOp("lseek", start, st)
	return st
}

func (w *countingFS) GetLk(cancel <-chan struct{}, input *fuse.LkIn, out *fuse.LkOut) fuse.Status {
	start := time.Now()
	st := w.RawFileSystem.GetLk(cancel, input, out)
	w.m.fuseOp("getlk", start, st)
	return st
}

func (w *countingFS) SetLk(cancel <-chan struct{}, input *fuse.LkIn) fuse.Status {
	start := time.Now()
	st := w.RawFileSystem.SetLk(cancel, input)
	w.m.fuseOp("setlk", start, st)
	return st
}

func (w *countingFS) SetLkw(cancel <-chan struct{}, input *fuse.LkIn) fuse.Status {
	start := time.Now()
	st := w.RawFileSystem.SetLkw(cancel, input)
	w.m.fuseOp("setlkw", start, st)
	return st
}

func (w *countingFS) Release(cancel <-chan struct{}, input *fuse.ReleaseIn) {
	defer w.m.fuseOp("release", time.Now(), fuse.OK)
	w.RawFileSystem.Release(cancel, input)
}

func (w *countingFS) Write(cancel <-chan struct{}, input *fuse.WriteIn, data []byte) (uint32, fuse.Status) {
	start := time.Now()
	r, st := w.RawFileSystem.Write(cancel, input, data)
	w.m.fuseOp("write", start, st)
	if st == fuse.OK {
		w.m.fuseWritten.Add(float64(r))
	}
	return r, st
}

func (w *countingFS) Writev(cancel <-chan struct{}, input *fuse.WriteIn, data [][]byte) (uint32, fuse.Status) {
	start := time.Now()
	r, st := w.RawFileSystem.Writev(cancel, input, data)
	w.m.fuseOp("write", start, st) // one name for both ways the kernel writes
	if st == fuse.OK {
		w.m.fuseWritten.Add(float64(r))
	}
	return r, st
}

func (w *countingFS) CopyFileRange(cancel <-chan struct{}, input *fuse.CopyFileRangeIn) (uint32, fuse.Status) {
	start := time.Now()
	r, st := w.RawFileSystem.CopyFileRange(cancel, input)
	w.m.fuseOp("copyfilerange", start, st)
	return r, st
}

func (w *countingFS) Ioctl(cancel <-chan struct{}, input *fuse.IoctlIn, inbuf []byte, output *fuse.IoctlOut, outbuf []byte) fuse.Status {
	start := time.Now()
	st := w.RawFileSystem.Ioctl(cancel, input, inbuf, output, outbuf)
	w.m.fuseOp("ioctl", start, st)
	return st
}

func (w *countingFS) Flush(cancel <-chan struct{}, input *fuse.FlushIn) fuse.Status {
	start := time.Now()
	st := w.RawFileSystem.Flush(cancel, input)
	w.m.fuseOp("flush", start, st)
	return st
}

func (w *countingFS) Fsync(cancel <-chan struct{}, input *fuse.FsyncIn) fuse.Status {
	start := time.Now()
	st := w.RawFileSystem.Fsync(cancel, input)
	w.m.fuseOp("fsync", start, st)
	return st
}

func (w *countingFS) Fallocate(cancel <-chan struct{}, input *fuse.FallocateIn) fuse.Status {
	start := time.Now()
	st := w.RawFileSystem.Fallocate(cancel, input)
	w.m.fuseOp("fallocate", start, st)
	return st
}

func (w *countingFS) OpenDir(cancel <-chan struct{}, input *fuse.OpenIn, out *fuse.OpenOut) fuse.Status {
	start := time.Now()
	st := w.RawFileSystem.OpenDir(cancel, input, out)
	w.m.fuseOp("opendir", start, st)
	return st
}

func (w *countingFS) ReadDir(cancel <-chan struct{}, input *fuse.ReadIn, out *fuse.DirEntryList) fuse.Status {
	start := time.Now()
	st := w.RawFileSystem.ReadDir(cancel, input, out)
	w.m.fuseOp("readdir", start, st)
	return st
}

func (w *countingFS) ReadDirPlus(cancel <-chan struct{}, input *fuse.ReadIn, out *fuse.DirEntryList) fuse.Status {
	start := time.Now()
	st := w.RawFileSystem.ReadDirPlus(cancel, input, out)
	w.m.fuseOp("readdirplus", start, st)
	return st
}

func (w *countingFS) ReleaseDir(input *fuse.ReleaseIn) {
	defer w.m.fuseOp("releasedir", time.Now(), fuse.OK)
	w.RawFileSystem.ReleaseDir(input)
}

func (w *countingFS) FsyncDir(cancel <-chan struct{}, input *fuse.FsyncIn) fuse.Status {
	start := time.Now()
	st := w.RawFileSystem.FsyncDir(cancel, input)
	w.m.fuseOp("fsyncdir", start, st)
	return st
}

func (w *countingFS) StatFs(cancel <-chan struct{}, input *fuse.InHeader, out *fuse.StatfsOut) fuse.Status {
	start := time.Now()
	st := w.RawFileSystem.StatFs(cancel, input, out)
	w.m.fuseOp("statfs", start, st)
	return st
}

func (w *countingFS) Statx(cancel <-chan struct{}, input *fuse.StatxIn, out *fuse.StatxOut) fuse.Status {
	start := time.Now()
	st := w.RawFileSystem.Statx(cancel, input, out)
	w.m.fuseOp("statx", start, st)
	return st
}
