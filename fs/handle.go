package fs

import (
	"context"
	"syscall"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// fileHandle is an open regular file. A writable handle holds a reference
// on the file's staging; every handle reads from the staging while there is
// one (so readers see the writers' data) and from OSS otherwise.
type fileHandle struct {
	n     *fileNode
	write bool
	rd    objectReader
	// opener is the process that opened the descriptor (processOf; 0 when
	// unknown or read-only): a flush from another process (a forked child
	// closing its inherited copy) does not end a stream.
	opener uint32
}

var (
	_ gofs.FileReader   = (*fileHandle)(nil)
	_ gofs.FileWriter   = (*fileHandle)(nil)
	_ gofs.FileFlusher  = (*fileHandle)(nil)
	_ gofs.FileFsyncer  = (*fileHandle)(nil)
	_ gofs.FileReleaser = (*fileHandle)(nil)
)

func (n *fileNode) newHandle(ctx context.Context, write bool) *fileHandle {
	n.mu.Lock()
	size := n.size
	n.mu.Unlock()
	h := &fileHandle{n: n, write: write, rd: newPrefetcher(n.f.bucket, size, n.f.opts.ReadAhead, n.f.readBudget)}
	if write {
		h.opener = processOf(ctx)
	}
	return h
}

func (h *fileHandle) Read(ctx context.Context, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	n := h.n
	if st := n.writer(); st != nil { // readers see the writers' data
		c, err := st.ReadAt(ctx, dest, off)
		if err != nil {
			return nil, n.f.errno("read", "", err)
		}
		return fuse.ReadResultData(dest[:c]), 0
	}
	key, ok := n.key()
	if !ok {
		return nil, syscall.ESTALE
	}
	res, err := h.rd.Read(ctx, key, dest, off)
	if err != nil {
		return nil, n.f.errno("read", key, err)
	}
	return res, 0
}

func (h *fileHandle) Write(ctx context.Context, data []byte, off int64) (uint32, syscall.Errno) {
	if !h.write {
		return 0, syscall.EBADF
	}
	n := h.n
	c, err := n.writer().WriteAt(ctx, data, off)
	if err != nil {
		key, _ := n.key()
		return 0, n.f.errno("write", key, err)
	}
	if c > 0 {
		n.mu.Lock()
		n.a.touch()
		n.mu.Unlock()
	}
	return uint32(c), 0
}

// Flush runs at every close(2) of the descriptor, also by every process
// that inherited it: it uploads, so close returns the upload's error. A
// flush from a process other than the opener (a child's close-on-exec or
// exit) leaves a stream in flight running: ending it there would turn one
// upload into two and show an intermediate object. The opener's close,
// an fsync or the last release ends it.
func (h *fileHandle) Flush(ctx context.Context) syscall.Errno {
	if !h.write {
		return 0
	}
	st := h.n.writer()
	var err error
	if otherProcess(ctx, h.opener) {
		err = st.FlushInherited(ctxFor(ctx, true))
	} else {
		err = st.Flush(ctxFor(ctx, true))
	}
	key, _ := h.n.key()
	return h.n.f.errno("flush", key, err)
}

func (h *fileHandle) Fsync(ctx context.Context, flags uint32) syscall.Errno {
	if !h.write {
		return 0
	}
	key, _ := h.n.key()
	return h.n.f.errno("fsync", key, h.n.writer().Flush(ctxFor(ctx, true)))
}

func (h *fileHandle) Release(ctx context.Context) syscall.Errno {
	h.rd.Close()
	if h.write {
		h.n.releaseStage()
	}
	return 0
}
