package fs

import (
	"context"
	"errors"
	"syscall"

	gofs "github.com/hanwen/go-fuse/v2/fs"

	"github.com/ossfs/ossfs/ossclient"
)

// A newer version under open handles of an older one (docs/semantics.md,
// "Consistency across mounts").
//
// The kernel keeps one page cache and one size (i_size) per inode, shared
// by every descriptor of the file. read(2) asks ossfs for the attributes
// first (auto_inval_data), through its own descriptor, so a replaced
// version's handle gets ESTALE there (Getattr); but mmap and splice
// (sendfile) are served from the page cache and cut at i_size without
// asking. Had a newer version's bytes entered that cache, or its size
// i_size, the older handles would read them, or stop at its end.
//
// So when an open on this mount finds a newer version while handles
// pinned to another one are open on the node, the node is retired: it
// stays with those handles, for which the version is gone (their reads,
// splice included, fail with ESTALE; their pages are dropped, so an
// mmap's next access raises SIGBUS), and its page cache and i_size never
// hold the newer version. The name gets a new node (a new inode, with its
// own page cache) for the newer version: the open, and every later open
// or stat by path on the retired node, fails with errRetired (ESTALE),
// which makes the kernel look the name up again (LOOKUP_REVAL) and retry
// once; the lookup gives the new node (childFor). A chmod or an xattr
// call on the retired node fails the same way (the kernel retries
// path-based calls too). That costs the open one GET and one listing page
// more (the lookup, and its own GET on the new node), only in this case.
// A newer version made by this mount's own upload retires nothing: the
// handles follow it (handle.reader).
//
// A stat or a lookup that finds a newer version does the same
// (supersede), and so do an open for writing, an unlink and a rename
// (checkSuperseded), which would otherwise give the readers the newer
// version: downloaded into the staging they read from, or copied by the
// rename, which they follow (movedTo).

// errRetired is the error of an open or stat on a retired node; toErrno
// maps it to ESTALE, silently.
var errRetired = errors.New("a newer version of the file is on another node")

// supersedeLocked reports whether v, found in OSS by an open, is a newer
// version than that of handles open on the node, and if so retires the
// node: v is then the newest version it knows, so those handles fail with
// ESTALE (staleHandle, handle.reader).
// LOCKS_REQUIRED(n.mu)
func (n *fileNode) supersedeLocked(v version) bool {
	if n.stage != nil || n.seenLocal && n.seen.etag == v.etag {
		return false // read from the staging, or this mount's own upload
	}
	for etag := range n.pins {
		if etag != v.etag {
			n.retired = true
			n.sawVersionLocked(v, false)
			return true
		}
	}
	return false
}

// supersede is supersedeLocked for a version found by a stat or a listing
// (the bucket cache keeps an open's answer, so these are never older than
// the version an open pinned); it drops the retired node's pages.
func (n *fileNode) supersede(v version, op, key string) bool {
	if v.etag == "" {
		return false
	}
	n.mu.Lock()
	retired := n.supersedeLocked(v)
	n.mu.Unlock()
	if retired {
		n.dropKernelCache(op, key)
	}
	return retired
}

// supersedeChild is supersede for ch, when it is a file node, and the
// version o a lookup or a listing found (o may be nil): a newer version
// than its open handles' must not reach the kernel on their inode, so the
// lookup then makes a new node.
func supersedeChild(ch *gofs.Inode, o *ossclient.Object, key string) {
	if fn, ok := fileOf(ch); ok && o != nil {
		fn.supersede(version{etag: o.ETag, size: o.Size}, "lookup", key)
	}
}

// isRetired reports whether the node was retired (supersedeLocked).
func (n *fileNode) isRetired() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.retired
}

// retiredFile reports whether ch is a retired file node, which a lookup of
// its name must replace.
func retiredFile(ch *gofs.Inode) bool {
	fn, ok := fileOf(ch)
	return ok && fn.isRetired()
}

// fileOf returns ch's file node, if it is one (ch may be nil).
func fileOf(ch *gofs.Inode) (*fileNode, bool) {
	if ch == nil {
		return nil, false
	}
	fn, ok := ch.Operations().(*fileNode)
	return fn, ok
}

// dropKernelCache invalidates the kernel's attributes and pages of the
// file (FUSE NOTIFY_INVAL_INODE). Never call it from a read (the kernel
// holds the page being read: invalidating it would wait for the read).
func (n *fileNode) dropKernelCache(op, key string) {
	if errno := n.NotifyContent(0, 0); errno != 0 && errno != syscall.ENOENT && errno != syscall.ENOSYS {
		n.f.log.Warn("could not invalidate the kernel's attributes and pages", "op", op, "key", key, "errno", errno)
	}
}

// checkSuperseded runs before an open for writing (without O_TRUNC), an
// unlink and a rename of a file with read handles open, and not staged:
// the download that makes the staging (the rename's copy) would be of the
// current version, which the readers, reading from the staging (following
// the copy), would get after the bytes of theirs. One GET of one byte,
// If-None-Match the newest version this mount knows (304 when unchanged);
// none when no read handle is open. errRetired when the file was replaced.
func (n *fileNode) checkSuperseded(ctx context.Context) error {
	n.mu.Lock()
	seen, readers := n.seen, len(n.pins) > 0 && n.stage == nil
	n.mu.Unlock()
	key, ok := n.key()
	if !readers || !ok {
		return nil
	}
	body, err := n.f.reads.Get(ctx, key, 0, 1, ossclient.ReadOptions{IfNoneMatch: seen.etag})
	if errors.Is(err, ossclient.ErrNotFound) {
		return nil // the open goes on as it does for a deleted file
	}
	if err != nil {
		return err
	}
	body.Close()
	if !body.NotModified && n.supersede(version{etag: body.Object.ETag, size: body.Object.Size}, "open", key) {
		return errRetired
	}
	return nil
}
