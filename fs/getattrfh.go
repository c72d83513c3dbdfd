package fs

import (
	"context"
	"sync"

	"github.com/hanwen/go-fuse/v2/fuse"
)

// requestMarks tells a node method something its go-fuse signature does
// not carry, which only the raw request shows (the getattr's
// FUSE_GETATTR_FH, a write's FUSE_WRITE_KILL_SUIDGID): a raw wrapper marks
// the request by its cancel channel, unique while it is in flight, which
// the bridge passes on as the method's context's Cancel.
type requestMarks struct{ m sync.Map }

// mark marks the request of cancel until the returned func is called.
func (r *requestMarks) mark(cancel <-chan struct{}) (unmark func()) {
	if cancel == nil {
		return func() {}
	}
	r.m.Store(cancel, struct{}{})
	return func() { r.m.Delete(cancel) }
}

// marked reports whether the request whose context is ctx is marked.
func (r *requestMarks) marked(ctx context.Context) bool {
	c, ok := ctx.(*fuse.Context)
	if !ok || c.Cancel == nil {
		return false
	}
	_, ok = r.m.Load(c.Cancel)
	return ok
}

// go-fuse hands Getattr a file handle also when the kernel named none (a
// stat by path): one of the node's open handles, whichever. Getattr must
// tell the two apart where the answer depends on the handle (a handle
// whose version was replaced, version.go). namingFS marks the getattrs
// whose handle the kernel named (FUSE_GETATTR_FH: fstat, and the attribute
// refresh before a read) (requestMarks).
type namingFS struct {
	fuse.RawFileSystem
	f *fsys
}

func (w namingFS) GetAttr(cancel <-chan struct{}, in *fuse.GetAttrIn, out *fuse.AttrOut) fuse.Status {
	if in.Flags()&fuse.FUSE_GETATTR_FH != 0 {
		defer w.f.namedFH.mark(cancel)()
	}
	return w.RawFileSystem.GetAttr(cancel, in, out)
}

// handleNamed reports whether the kernel named the file handle of the
// getattr whose context is ctx (see namingFS).
func (f *fsys) handleNamed(ctx context.Context) bool { return f.namedFH.marked(ctx) }
