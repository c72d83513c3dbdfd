package fs

import (
	"context"

	"github.com/hanwen/go-fuse/v2/fuse"
)

// go-fuse hands Getattr a file handle also when the kernel named none (a
// stat by path): one of the node's open handles, whichever. Getattr must
// tell the two apart where the answer depends on the handle (a handle
// whose version was replaced, version.go). namingFS marks the getattrs
// whose handle the kernel named (FUSE_GETATTR_FH: fstat, and the attribute
// refresh before a read) by their request's cancel channel, which the
// bridge passes on as the Getattr context's Cancel.
type namingFS struct {
	fuse.RawFileSystem
	f *fsys
}

func (w namingFS) GetAttr(cancel <-chan struct{}, in *fuse.GetAttrIn, out *fuse.AttrOut) fuse.Status {
	if in.Flags()&fuse.FUSE_GETATTR_FH != 0 {
		w.f.namedFH.Store(cancel, struct{}{})
		defer w.f.namedFH.Delete(cancel)
	}
	return w.RawFileSystem.GetAttr(cancel, in, out)
}

// handleNamed reports whether the kernel named the file handle of the
// getattr whose context is ctx (see namingFS).
func (f *fsys) handleNamed(ctx context.Context) bool {
	c, ok := ctx.(*fuse.Context)
	if !ok || c.Cancel == nil {
		return false
	}
	_, named := f.namedFH.Load(c.Cancel)
	return named
}
