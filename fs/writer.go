package fs

import (
	"context"
	"errors"
	"syscall"

	"github.com/ossfs/ossfs/fs/writeback"
	"github.com/ossfs/ossfs/ossclient"
)

// The write path of a file lives in package writeback (one
// writeback.File per file open for writing, shared by its writable
// handles); this file is its glue to the node: the node as its Host, and
// the references that open and release take.

// host is a fileNode seen as a writeback.Host.
type host struct{ n *fileNode }

var _ writeback.Host = host{}

func (h host) Key() (string, bool) { return h.n.key() }

var _ writeback.SizeKnower = host{}

// KnownSize is the object's size as last learned (lookup, getattr,
// upload): Open downloads a small object without a HEAD first.
func (h host) KnownSize() (int64, bool) {
	h.n.mu.Lock()
	defer h.n.mu.Unlock()
	return h.n.size, true
}

func (h host) Meta() map[string]string {
	a := h.n.attrs()
	return h.n.f.metaOf(a, h.n.fileType(a))
}

func (h host) Uploaded(obj *ossclient.Object, size int64) {
	n := h.n
	n.mu.Lock()
	defer n.mu.Unlock()
	n.uploaded = true
	n.size = size
	n.a.setVersion(obj)
	n.a.known = true
	n.sawVersionLocked(version{etag: obj.ETag, size: size}, true)
}

func (h host) MetaStored(obj *ossclient.Object) {
	n := h.n
	n.mu.Lock()
	n.a.setVersion(obj)
	n.sawVersionLocked(version{etag: obj.ETag, size: n.seen.size}, true) // a copy onto itself may change the ETag
	n.mu.Unlock()
}

// wbOptions are the writeback options of this mount.
func (f *fsys) wbOptions() writeback.Options {
	return writeback.Options{TempDir: f.opts.TempDir, Logger: f.log, Streams: &f.streams,
		HeadLimit: f.opts.StreamMemory, EditMin: f.opts.EditMin}
}

// writer returns the file's writeback state (nil when not open for
// writing).
func (n *fileNode) writer() *writeback.File {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.stage
}

// acquire takes a reference on the file's writeback state, creating it if
// needed: empty when trunc or when the content is not needed, otherwise a
// download of the object.
func (n *fileNode) acquire(ctx context.Context, needContent, trunc bool) syscall.Errno {
	n.mu.Lock()
	if st := n.stage; st != nil {
		err := st.Ref(trunc)
		n.mu.Unlock()
		return n.f.errno("open", "", err)
	}
	uploaded := n.uploaded
	n.mu.Unlock()

	key, ok := n.key()
	if !ok {
		return syscall.ENOENT
	}
	// Every upload stores all the attributes: the node must hold the
	// stored ones, not the defaults a listing entry is shown with.
	if uploaded && !n.attrs().known && n.f.opts.PersistMetadata {
		if err := n.refresh(ctx, key); err != nil && !errors.Is(err, ossclient.ErrNotFound) {
			return n.f.errno("open", key, err)
		}
	}
	// The old content is needed: download it. Otherwise the temp file
	// waits until something needs it (a stream may make it unneeded).
	st, err := writeback.Open(ctx, n.f.bucket, host{n}, n.f.wbOptions(), needContent && uploaded, trunc)
	if err != nil {
		return n.f.errno("open", key, err)
	}

	n.mu.Lock()
	defer n.mu.Unlock()
	if cur := n.stage; cur != nil { // another open won the race
		st.Close()
		return n.f.errno("open", key, cur.Ref(trunc))
	}
	n.stage = st
	return 0
}

// releaseStage drops a reference; the last one uploads what is still dirty
// (a file written through mmap, or whose flush failed) and removes the
// staged copy.
func (n *fileNode) releaseStage() {
	n.mu.Lock()
	st := n.stage
	last := st.Unref()
	n.mu.Unlock()
	if !last {
		return
	}
	if st.Dirty() {
		n.f.pending.Add(1)
		err := st.Flush(context.Background())
		n.f.pending.Done()
		if err != nil {
			n.logReleaseFailure(st, err)
		}
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if st.Refs() > 0 || n.stage != st { // reopened meanwhile: the new owner keeps it
		return
	}
	n.stage = nil
	st.Close()
}

// upload sends what the file's writers wrote, if anything (rename, a
// directory rename above it), and makes the staged copy whole: an edit of
// a large object reads its unchanged bytes from the object, which the
// rename is about to move.
func (n *fileNode) upload(ctx context.Context) error {
	if st := n.writer(); st != nil {
		if err := st.Flush(ctx); err != nil {
			return err
		}
		return st.Localize(ctx)
	}
	return nil
}

// unlink runs del, the deletion of the file's object, so that nothing of
// the file reaches OSS after it (writeback.File.Unlink).
func (n *fileNode) unlink(ctx context.Context, del func() error) error {
	if st := n.writer(); st != nil {
		return st.Unlink(ctx, del)
	}
	return del()
}

// logReleaseFailure says what an upload at the last release that failed
// lost, and what OSS still holds: nobody is left to return the error to.
func (n *fileNode) logReleaseFailure(st *writeback.File, err error) {
	key, _ := n.key()
	switch size, ok := st.LastUpload(); {
	case st.Lost() != nil:
		n.f.log.Error("upload at close failed; data written to this file did not reach OSS and is lost", "key", key, "err", err)
	case ok:
		n.f.log.Error("upload at close failed; OSS keeps the earlier upload of this file, the changes since are lost", "key", key, "uploaded_bytes", size, "err", err)
	default:
		n.f.log.Error("upload at close failed; the changes to this file since it was opened are lost, OSS keeps what it had", "key", key, "err", err)
	}
}
