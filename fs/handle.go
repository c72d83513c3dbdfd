package fs

import (
	"context"
	"errors"
	"sync"
	"syscall"
	"time"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
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
func (n *fileNode) newHandle(write bool) *fileHandle {
	return &fileHandle{n: n, write: write, rd: closedReader{}}
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
	p := newPrefetcher(h.n.f.bucket, o.v, h.n.f.opts.ReadAhead, h.n.f.readBudget)
	if o.body != nil {
		p.seed(o.ctx, o.stop, key, o.body)
	}
	old := h.rd
	h.pinned, h.ver, h.rd = true, o.v, p
	h.mu.Unlock()
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
	key, _ := n.key()
	for tries := 0; ; tries++ {
		n.mu.Lock()
		st := n.stage
		c, feed, needFile, err := n.writeLocked(key, data, off)
		if c > 0 {
			n.a.mtime = time.Now()
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
	h.mu.Lock()
	rd := h.rd
	h.mu.Unlock()
	rd.Close()
	if h.write {
		h.n.releaseStage()
	}
	return 0
}
