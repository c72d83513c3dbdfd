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

// unlink runs del, the deletion of the file's object (an unlink, or a
// rename onto the file), so that nothing of the file reaches OSS after it
// (writeback.File.Unlink). A file still open keeps its content for its
// descriptors until the last one closes, as on a local disk: the node
// holds the staged copy (keepForOpen), from which every handle reads.
func (n *fileNode) unlink(ctx context.Context, del func() error) error {
	took := n.keepForOpen(ctx)
	st := n.writer()
	if st == nil {
		return del()
	}
	err := st.Unlink(ctx, del)
	if err != nil && took { // still in the tree: its handles read OSS again
		n.mu.Lock()
		n.kept = false
		n.mu.Unlock()
		n.releaseStage()
	}
	return err
}

// unlinkKeepMax is the largest file that an unlink downloads to keep its
// content for the descriptors still open on it (a file with a staged copy
// is kept whatever its size: nothing is downloaded).
const unlinkKeepMax = 64 << 20

// keepForOpen takes the node's reference on the staged copy, creating it
// with the object's content (a download; an edit is completed by
// writeback.File.Unlink) when none exists, if the file has open handles.
// It reports whether it took one. A file only read, larger than
// unlinkKeepMax, is not downloaded. A failed download is logged, and the
// unlink goes on: the open descriptors then read OSS (ESTALE once the
// object is gone).
func (n *fileNode) keepForOpen(ctx context.Context) bool {
	n.mu.Lock()
	want := n.opens > 0 && !n.kept
	download := n.stage == nil
	size := n.size
	n.mu.Unlock()
	if !want {
		return false
	}
	if download && size > unlinkKeepMax {
		// rm would wait for the whole download: the readers are told
		// ESTALE instead once the object is gone.
		key, _ := n.key()
		n.f.log.Info("unlink of a file open for reading: too large to keep a copy for its descriptors, which get ESTALE", "key", key, "size", size, "max", unlinkKeepMax)
		return false
	}
	if download && n.checkSuperseded(ctx) != nil {
		// Another client replaced the file: its readers' version is gone,
		// and the download would be the newer one (retire.go). They get
		// ESTALE.
		return false
	}
	if errno := n.acquire(ctx, true, false); errno != 0 {
		key, _ := n.key()
		n.f.log.Warn("unlink of an open file: its content could not be kept for the descriptors still open", "key", key, "errno", errno)
		return false
	}
	n.mu.Lock()
	if n.kept || n.opens == 0 { // another took it, or all closed meanwhile
		n.mu.Unlock()
		n.releaseStage()
		return false
	}
	n.kept = true
	n.mu.Unlock()
	return true
}

// closed runs at every release of a handle: the last one drops the
// reference keepForOpen took, which removes the staged copy of an
// unlinked file.
func (n *fileNode) closed() {
	n.mu.Lock()
	n.opens--
	drop := n.opens == 0 && n.kept
	if drop {
		n.kept = false
	}
	n.mu.Unlock()
	if drop {
		n.releaseStage()
	}
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
