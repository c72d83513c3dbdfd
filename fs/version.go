package fs

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/ossfs/ossfs/ossclient"
)

// Close-to-open consistency (docs/semantics.md, "Consistency across
// mounts").
//
// Every open for reading of a file this mount does not hold locally asks
// OSS once which version is current: a GET of the first chunk (the first
// read's bytes, so a file read from its start pays no extra request), or,
// when the kernel's page cache may hold the bytes of the version this mount
// saw last, the same GET with If-None-Match that version, whose 304 lets
// the kernel keep its pages (FOPEN_KEEP_CACHE). Likewise when the data
// cache (package datacache, Options.CacheDir) holds bytes of a version: a
// 304 pins that version, and the handle's GETs (If-Match it) are answered
// from the cache's disk where it holds the bytes. The handle pins the
// version the open saw; all its later GETs are If-Match that ETag, so no read mixes
// two versions or cuts one to another's size. An open that finds a new
// version invalidates the kernel's attributes and pages of the file
// (NotifyContent), so the size the kernel clamps reads to is the new one.
//
// A file open for writing here (staged), or created here and not uploaded
// yet, is read from the staging without any request: this mount holds the
// newest bytes.
//
// When a handle's version is no longer the newest this mount knows of
// (another open saw a newer one) or OSS no longer has it (a GET answers 412
// or 404), its reads fail with ESTALE (errVersionGone); bytes it already
// holds in its read-ahead are of its version, and are never served once a
// newer version is known (docs/semantics.md promises ESTALE at once). The
// newer version gets a node of its own (retire.go): the kernel's page
// cache and size are per inode, and mmap and sendfile use them without
// asking. A newer version uploaded by this mount is
// not a reason for ESTALE: the handle moves on to it (readers of a local
// file see its writers' data).

// version is one state of an object's bytes: what a read handle pins.
type version struct {
	etag string
	size int64
}

// errVersionGone is the error of a read whose version was replaced or
// deleted in OSS; toErrno maps it to ESTALE.
var errVersionGone = errors.New("the file changed in OSS since it was opened")

// versionGone wraps err (412 or 404 on a read pinned to a version) as
// errVersionGone; other errors pass unchanged.
func versionGone(err error) error {
	if errors.Is(err, ossclient.ErrPreconditionFailed) || errors.Is(err, ossclient.ErrNotFound) {
		return fmt.Errorf("%w: %w", errVersionGone, err)
	}
	return err
}

// sawVersionLocked records v as the newest version of the file this mount
// knows; local says an upload of this mount made it (see handle.current).
// Called by opens and, as the upload hook, where uploads complete.
// LOCKS_REQUIRED(n.mu)
func (n *fileNode) sawVersionLocked(v version, local bool) {
	n.seen, n.seenLocal = v, local
}

// opened is what revalidate found: the version to pin, the first chunk's
// body (nil when none was fetched) and the FUSE open flags.
type opened struct {
	v     version
	body  *ossclient.Body
	ctx   context.Context    // body's request's
	stop  context.CancelFunc // ends body's request
	flags uint32
}

// revalidate asks OSS for the current version of key at open, with one GET
// of the first chunk (conditional on the version whose pages the kernel may
// hold) and learns it (size, attributes, the newest version seen). With
// notify it tells the kernel when its view of the file is stale; never
// from a read (the kernel holds the page being read: invalidating it would
// wait for the read itself).
//
// Two revalidations in flight may be answered in one order and processed
// in the other: an answer whose request was in flight while another
// version was recorded (by another open, or this mount's upload) may be
// the older one, and must not take the node back to it. Such an open asks
// again (up to revalidateTries times).
func (n *fileNode) revalidate(ctx context.Context, key string, notify bool) (*opened, error) {
	for try := 1; ; try++ {
		o, err := n.revalidateOnce(ctx, key, notify, try < revalidateTries)
		if o != nil || err != nil {
			return o, err
		}
	}
}

// revalidateTries bounds the GETs of one open that keeps meeting other
// versions recorded meanwhile (see revalidate).
const revalidateTries = 3

// revalidateOnce is one try of revalidate; with retry set it returns nil,
// nil instead of an answer that may be older than the version recorded
// meanwhile.
func (n *fileNode) revalidateOnce(ctx context.Context, key string, notify, retry bool) (*opened, error) {
	n.mu.Lock()
	seen, paged, size, etag := n.seen, n.paged, n.size, n.a.etag
	n.mu.Unlock()
	held, keep := n.heldVersion(key, seen, paged)
	var opts ossclient.ReadOptions
	opts.IfNoneMatch = held.etag
	// The body outlives the open: its request must not end with the FUSE
	// request's context, but an interrupt during the open still ends it.
	gctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	stop := context.AfterFunc(ctx, cancel)
	body, err := n.f.reads.Get(gctx, key, 0, firstChunk, opts)
	interrupted := !stop()
	if err == nil && interrupted {
		body.Close()
		err = ctx.Err()
	}
	if err != nil {
		cancel()
		return nil, err
	}
	o := &opened{body: body, ctx: gctx, stop: cancel, v: held}
	if !body.NotModified {
		o.v = version{etag: body.Object.ETag, size: body.Object.Size}
	}
	n.mu.Lock()
	if retry && n.seen != seen && n.seen.etag != o.v.etag {
		n.mu.Unlock() // another version was recorded meanwhile: ask again
		body.Close()
		cancel()
		return nil, nil
	}
	if notify && n.supersedeLocked(o.v) {
		n.mu.Unlock() // the node stays with the older handles (retire.go)
		body.Close()
		cancel()
		n.dropKernelCache("open", key)
		return nil, errRetired
	}
	attrsChanged := false
	if body.NotModified {
		body.Close()
		cancel()
		o.body, o.stop = nil, nil
		if notify && keep {
			o.flags = fuse.FOPEN_KEEP_CACHE
		}
	} else {
		before := n.a
		// A changed mtime seen later would make the kernel drop the pages
		// (auto_inval_data): tell it now, before any is read.
		attrsChanged = n.learnLocked(&body.Object, uint32(n.f.opts.FileMode)) != before
	}
	// Still the version this mount uploaded: its readers may still follow
	// it (handle.reader).
	n.sawVersionLocked(o.v, n.seenLocal && n.seen.etag == o.v.etag)
	if notify {
		n.paged = o.v.etag // without KEEP_CACHE the kernel drops its pages now
	}
	if n.stage == nil {
		n.size = o.v.size
	}
	n.mu.Unlock()
	if notify && (o.v.size != size || o.v.etag != etag || attrsChanged) {
		// The kernel may hold the old size (it clamps reads to it) and old
		// attributes: drop them, and the pages. Answered by Getattr from
		// the new version without a request.
		n.dropKernelCache("open", key)
	}
	return o, nil
}

// heldVersion returns the version whose bytes this mount may hold without
// asking OSS for them — the one the kernel's pages are of (keep: the open
// may let the kernel keep them), else one the data cache holds — or the
// zero version when none: the open's GET is If-None-Match it, and a 304
// lets the reads be served from there.
func (n *fileNode) heldVersion(key string, seen version, paged string) (v version, keep bool) {
	if paged != "" && paged == seen.etag {
		return seen, true
	}
	if d := n.f.data; d != nil {
		if seen.etag != "" && d.Has(key, seen.etag) {
			return seen, false
		}
		if etag, size, ok := d.Latest(key); ok {
			return version{etag: etag, size: size}, false
		}
	}
	return version{}, false
}

// openRead opens the file for reading: from the staging when this mount
// holds the newest bytes, else pinned to the version revalidate finds.
func (n *fileNode) openRead(ctx context.Context) (gofs.FileHandle, uint32, syscall.Errno) {
	key, ok := n.key()
	if n.isRetired() {
		return nil, 0, n.f.errno("open", key, errRetired)
	}
	if !ok || n.staged() || n.neverUploaded() {
		return n.newHandle(ctx, false), 0, 0
	}
	o, err := n.revalidate(ctx, key, true)
	if err != nil {
		return nil, 0, n.f.errno("open", key, err)
	}
	h := n.newHandle(ctx, false)
	h.pin(key, o)
	return h, o.flags, 0
}

// current returns the newest version this mount knows of the file, and
// whether this mount's upload made it.
func (n *fileNode) current() (version, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.seen, n.seenLocal
}

// currentHandle reports whether fh reads the newest version this mount
// knows of, and returns it: getattr then answers from it, with no request.
func (n *fileNode) currentHandle(fh gofs.FileHandle) (version, bool) {
	h, ok := fh.(*fileHandle)
	if !ok {
		return version{}, false
	}
	h.mu.Lock()
	pinned, v := h.pinned, h.ver
	h.mu.Unlock()
	cur, _ := n.current()
	return v, pinned && v.etag != "" && v == cur
}

// staleHandle reports whether fh's reads fail with errVersionGone (see
// handle.reader): it is pinned to a version another open on this mount
// found replaced (not by this mount's upload).
func (n *fileNode) staleHandle(fh gofs.FileHandle) bool {
	h, ok := fh.(*fileHandle)
	if !ok {
		return false
	}
	h.mu.Lock()
	pinned, v := h.pinned, h.ver
	h.mu.Unlock()
	cur, local := n.current()
	return pinned && v.etag != cur.etag && !local
}

// countPin counts a handle pinned to (delta 1) or leaving (-1) the
// version etag.
func (n *fileNode) countPin(etag string, delta int) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.pins == nil {
		n.pins = map[string]int{}
	}
	if n.pins[etag] += delta; n.pins[etag] <= 0 {
		delete(n.pins, etag)
	}
}

// otherVersionOpen reports whether a handle is open on a version other
// than the one the node's attributes describe: attributes (the size)
// given to the kernel then get validity 0, so that it asks again, through
// the reader's descriptor, before that reader's next read (see Getattr);
// a size valid in the kernel would cut the reader's version short.
func (n *fileNode) otherVersionOpen() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	for etag := range n.pins {
		if etag != n.a.etag {
			return true
		}
	}
	return false
}

// movedTo records the copy a rename made of the file (same bytes, possibly
// another ETag) as a version of this mount's making, so that handles open
// on the file follow it instead of failing with ESTALE.
func (n *fileNode) movedTo(o *ossclient.Object) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if !n.retired && n.seen.etag != "" && o != nil && o.ETag != "" && o.ETag != n.seen.etag {
		n.sawVersionLocked(version{etag: o.ETag, size: n.seen.size}, true)
	}
}

// syncKernelSize runs after an open for writing has downloaded the current
// content: the kernel may still believe the size it heard of before
// (before), and it places O_APPEND writes there, and cuts reads there,
// without asking. A larger size is pushed to it by storing the content's
// last page in its page cache (FUSE NOTIFY_STORE moves its size up to the
// end of what is stored; the page itself is dropped when the open returns,
// since the open keeps no cache). A smaller one cannot be pushed: the
// attributes are invalidated, which fstat and lseek honour.
func (n *fileNode) syncKernelSize(ctx context.Context, before int64) {
	st := n.writer()
	if st == nil {
		return
	}
	size := st.Size()
	if size == before {
		return
	}
	if size > before {
		start := (size - 1) &^ int64(os.Getpagesize()-1)
		last := make([]byte, size-start)
		k, err := st.ReadAt(ctx, last, start)
		if err == nil && k == len(last) {
			if errno := n.WriteCache(start, last); errno == 0 || errno == syscall.ENOENT || errno == syscall.ENOSYS {
				return
			}
		}
	}
	if errno := n.NotifyContent(0, 0); errno != 0 && errno != syscall.ENOENT && errno != syscall.ENOSYS {
		key, _ := n.key()
		n.f.log.Warn("could not invalidate the kernel's attributes", "op", "open", "key", key, "errno", errno)
	}
}
