package fs

import (
	"context"
	"errors"
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
}

var (
	_ gofs.FileReader   = (*fileHandle)(nil)
	_ gofs.FileWriter   = (*fileHandle)(nil)
	_ gofs.FileFlusher  = (*fileHandle)(nil)
	_ gofs.FileFsyncer  = (*fileHandle)(nil)
	_ gofs.FileReleaser = (*fileHandle)(nil)
)

func (n *fileNode) newHandle(write bool) *fileHandle {
	n.mu.Lock()
	size := n.size
	n.mu.Unlock()
	return &fileHandle{n: n, write: write, rd: newPrefetcher(n.f.bucket, size, n.f.opts.ReadAhead, n.f.readBudget)}
}

func (h *fileHandle) Read(ctx context.Context, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	n := h.n
	for {
		n.mu.Lock()
		st := n.stage
		if st == nil {
			n.mu.Unlock()
			break
		}
		c, err := st.readAt(dest, off)
		n.mu.Unlock()
		if errors.Is(err, errNeedFile) { // written data is only in a stream
			err = n.materialize(ctx, st)
			if err == nil {
				continue
			}
		}
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
	key, _ := n.key()
	for tries := 0; ; tries++ {
		n.mu.Lock()
		st := n.stage
		c, feed, needFile, err := n.writeLocked(key, data, off)
		if c > 0 {
			n.a.touch()
		}
		n.mu.Unlock()
		switch {
		case feed != nil:
			if n.feed(feed, data) != nil {
				// The upload failed under this write: go on from the copy
				// in memory (which holds this write too), or report it.
				err = n.materialize(ctx, st)
			}
		case needFile && tries == 0:
			if err = n.materialize(ctx, st); err == nil {
				continue
			}
		case needFile:
			err = errors.New("fs: no staged copy after materialize") // a bug, never a silent loss
		}
		if err != nil {
			return 0, n.f.errno("write", key, err)
		}
		return uint32(c), 0
	}
}

// Flush runs at every close(2) of the descriptor: it uploads, so close
// returns the upload's error.
func (h *fileHandle) Flush(ctx context.Context) syscall.Errno {
	if !h.write {
		return 0
	}
	key, _ := h.n.key()
	return h.n.f.errno("flush", key, h.n.upload(ctxFor(ctx, true)))
}

func (h *fileHandle) Fsync(ctx context.Context, flags uint32) syscall.Errno {
	return h.Flush(ctx)
}

func (h *fileHandle) Release(ctx context.Context) syscall.Errno {
	h.rd.Close()
	if h.write {
		h.n.releaseStage()
	}
	return 0
}
