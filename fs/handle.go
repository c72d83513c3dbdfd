package fs

import (
	"context"
	"errors"
	"sync"
	"syscall"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/ossfs/ossfs/fs/writeback"
)

// fileHandle is an open regular file. A writable handle holds a reference
// on the file's staging; every handle reads from the staging while there is
// one (so readers see the writers' data) and from OSS otherwise, pinned to
// one version (version.go).
type fileHandle struct {
	n     *fileNode
	write bool

	mu     sync.Mutex
	pinned bool         // GUARDED_BY(mu): rd reads one version, ver
	ver    version      // GUARDED_BY(mu)
	rd     objectReader // GUARDED_BY(mu)

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

// newHandle returns a handle pinned to no version yet: its first read from
// OSS pins one (reader).
func (n *fileNode) newHandle(ctx context.Context, write bool) *fileHandle {
	h := &fileHandle{n: n, write: write, rd: closedReader{}}
	if write {
		h.opener = processOf(ctx)
	}
	n.mu.Lock()
	n.opens++
	n.mu.Unlock()
	return h
}

// pin makes the handle read version o.v, starting from o's first chunk
// (when o has a body), and returns the reader. A handle already pinned to
// o.v keeps its reader.
func (h *fileHandle) pin(key string, o *opened) objectReader {
	h.mu.Lock()
	if h.pinned && h.ver == o.v {
		rd := h.rd
		h.mu.Unlock()
		if o.body != nil {
			o.body.Close()
			o.stop()
		}
		return rd
	}
	p := newPrefetcher(h.n.f.reads, o.v, h.n.f.opts.ReadAhead, h.n.f.readBudget)
	if o.body != nil {
		p.seed(o.ctx, o.stop, key, o.body)
	}
	old, wasPinned, oldVer := h.rd, h.pinned, h.ver
	h.pinned, h.ver, h.rd = true, o.v, p
	h.mu.Unlock()
	h.n.countPin(o.v.etag, 1)
	if wasPinned {
		h.n.countPin(oldVer.etag, -1)
	}
	old.Close()
	return p
}

// reader returns the reader for a read from OSS: the pinned version's while
// it is the newest this mount knows of; the newest one when this mount's
// own upload made it (readers see the writers' data), or when the handle,
// opened while the file was staged here, has none yet; errVersionGone when
// another open saw a newer version.
func (h *fileHandle) reader(ctx context.Context, key string) (objectReader, error) {
	cur, local := h.n.current()
	h.mu.Lock()
	pinned, ver, rd := h.pinned, h.ver, h.rd
	h.mu.Unlock()
	switch {
	case pinned && ver.etag == cur.etag:
		return rd, nil
	case pinned && !local:
		return nil, errVersionGone
	case cur.etag != "" && local:
		return h.pin(key, &opened{v: cur}), nil
	}
	o, err := h.n.revalidate(ctx, key, false)
	if err != nil {
		return nil, err
	}
	return h.pin(key, o), nil
}

// closedReader is the reader of a handle not pinned yet: it reads nothing.
type closedReader struct{}

func (closedReader) Read(context.Context, string, []byte, int64) (fuse.ReadResult, error) {
	return nil, errors.New("fs: read from a handle without a version") // a bug, never silent
}
func (closedReader) Close() {}

func (h *fileHandle) Read(ctx context.Context, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	n := h.n
	if st := n.writer(); st != nil { // readers see the writers' data
		c, err := st.ReadAt(ctx, dest, off)
		switch {
		case err == nil:
			return fuse.ReadResultData(dest[:c]), 0
		case !errors.Is(err, writeback.ErrClosed):
			return nil, n.f.errno("read", "", err)
		}
		// The last writer released the file meanwhile: its upload is
		// the object now.
	}
	key, ok := n.key()
	if !ok {
		return nil, syscall.ESTALE
	}
	rd, err := h.reader(ctx, key)
	if err == nil {
		var res fuse.ReadResult
		if res, err = rd.Read(ctx, key, dest, off); err == nil {
			return res, 0
		}
	}
	return nil, n.f.errno("read", key, versionGone(err))
}

func (h *fileHandle) Write(ctx context.Context, data []byte, off int64) (uint32, syscall.Errno) {
	if !h.write {
		return 0, syscall.EBADF
	}
	n := h.n
	if n.f.killSetID.marked(ctx) {
		// Before the bytes land, as the kernel's page cache path did.
		if errno := n.dropSetID(ctx); errno != 0 {
			return 0, errno
		}
	}
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
	h.mu.Lock()
	rd, pinned, ver := h.rd, h.pinned, h.ver
	h.pinned = false
	h.mu.Unlock()
	if pinned {
		h.n.countPin(ver.etag, -1)
	}
	rd.Close()
	if h.write {
		h.n.releaseStage()
	}
	h.n.closed()
	return 0
}
