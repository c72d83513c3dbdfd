package fs

import (
	"context"
	"sort"
	"strings"
	"syscall"
	"time"

	gofs "github.com/hanwen/go-fuse/v2/fs"

	"github.com/ossfs/ossfs/fs/legacy"
	"github.com/ossfs/ossfs/ossclient"
)

// Extended attributes.
//
// user.* attributes of files and directories are stored in the object's
// x-oss-meta-xattr in ossfs 1.x's format (package fs/legacy), as one more
// field of the node's attrs: every metadata write (chmod's metadata copy,
// an upload, a directory marker) carries them, and setxattr is stored by
// that same one-request copy.
//
// What OSS holds about an object is shown read-only under system.oss.*: a
// namespace getfattr -d leaves out (its default pattern is ^user\.), rsync
// -X never copies (it skips system.*), and cp -a tries to copy onto
// filesystems that refuse it with ENOTSUP, an error cp -a does not report.
// Other namespaces are neither stored nor shown (ENODATA, ENOTSUP), without
// a request: ls -l asks for security.selinux and system.posix_acl_access of
// every file.
const (
	xattrUser       = "user."
	xattrOSS        = "system.oss."
	xattrETag       = xattrOSS + "etag"
	xattrClass      = xattrOSS + "storage_class"
	xattrType       = xattrOSS + "object_type"
	xattrLinkTarget = xattrOSS + "symlink_target"
	// maxUserMeta is OSS's limit on an object's user metadata, names
	// (with x-oss-meta-) and values together.
	maxUserMeta = 8 << 10
)

var (
	_ gofs.NodeGetxattrer    = (*fileNode)(nil)
	_ gofs.NodeSetxattrer    = (*fileNode)(nil)
	_ gofs.NodeRemovexattrer = (*fileNode)(nil)
	_ gofs.NodeListxattrer   = (*fileNode)(nil)
	_ gofs.NodeGetxattrer    = (*dirNode)(nil)
	_ gofs.NodeSetxattrer    = (*dirNode)(nil)
	_ gofs.NodeRemovexattrer = (*dirNode)(nil)
	_ gofs.NodeListxattrer   = (*dirNode)(nil)
	_ gofs.NodeGetxattrer    = (*linkNode)(nil)
	_ gofs.NodeListxattrer   = (*linkNode)(nil)
)

// copyOut answers a getxattr or listxattr: the size alone for a size probe
// (dest empty), ERANGE when dest is too small.
func copyOut(dest, v []byte) (uint32, syscall.Errno) {
	if len(dest) < len(v) {
		return uint32(len(v)), syscall.ERANGE
	}
	return uint32(copy(dest, v)), 0
}

func listOut(dest []byte, names []string) (uint32, syscall.Errno) {
	var b []byte
	for _, n := range names {
		b = append(append(b, n...), 0)
	}
	return copyOut(dest, b)
}

// userNames lists the user.* attributes of a, in byte order.
func userNames(a attrs) []string {
	var names []string
	for k := range legacy.ParseXattrs(a.xattr) {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

func getUser(a attrs, name string, dest []byte) (uint32, syscall.Errno) {
	v, ok := legacy.ParseXattrs(a.xattr)[name]
	if !ok {
		return 0, syscall.ENODATA
	}
	return copyOut(dest, v)
}

// settable checks a setxattr or removexattr of name: only user.* is stored.
func (f *fsys) settable(name string) syscall.Errno {
	switch {
	case f.opts.ReadOnly:
		return errROFS
	case !strings.HasPrefix(name, xattrUser) || !f.opts.PersistMetadata:
		return syscall.ENOTSUP
	case !legacy.ValidXattrName(name):
		return syscall.EINVAL // 1.x's format cannot hold `"`, "," or ":"
	}
	return 0
}

// withXattr returns a with name set to data (remove: deleted), as
// setxattr(2) flags say, and checks that the metadata it makes for type
// typ fits OSS's 8 KiB (E2BIG otherwise: never truncated).
func (f *fsys) withXattr(a attrs, typ uint32, name string, data []byte, flags uint32, remove bool) (attrs, syscall.Errno) {
	x := legacy.ParseXattrs(a.xattr)
	_, had := x[name]
	switch {
	case remove && !had, !remove && !had && flags&xattrReplace != 0:
		return a, syscall.ENODATA
	case !remove && had && flags&xattrCreate != 0:
		return a, syscall.EEXIST
	case remove:
		delete(x, name)
	default:
		x[name] = append([]byte(nil), data...)
	}
	a.xattr = legacy.BuildXattrs(x)
	a.ctime = time.Now()
	a.known = true
	n := 0
	for k, v := range f.metaOf(a, typ) {
		n += len("x-oss-meta-") + len(k) + len(v)
	}
	if n > maxUserMeta {
		return a, syscall.E2BIG
	}
	return a, 0
}

// setxattr(2) flags.
const (
	xattrCreate  = 1
	xattrReplace = 2
)

// ossValue is the system.oss.* attribute name of o; "" when o has none.
func ossValue(o *ossclient.Object, name string) string {
	switch name {
	case xattrETag:
		return o.ETag
	case xattrClass:
		return o.StorageClass
	case xattrType:
		return string(o.Type)
	}
	return ""
}

// storedAttrs are the node's attributes as stored, read first when the node
// holds a listing's defaults.
func (n *fileNode) storedAttrs(ctx context.Context) (attrs, syscall.Errno) {
	if n.isRetired() { // the older version's (retire.go)
		key, _ := n.key()
		return attrs{}, n.f.errno("getxattr", key, errRetired)
	}
	if n.staged() || n.attrs().known || !n.f.opts.PersistMetadata {
		return n.attrs(), 0
	}
	if key, ok := n.key(); ok {
		if err := n.refresh(ctx, key); err != nil {
			return attrs{}, n.f.errno("getxattr", key, err)
		}
	}
	return n.attrs(), 0
}

func (n *fileNode) Getxattr(ctx context.Context, name string, dest []byte) (uint32, syscall.Errno) {
	switch {
	case strings.HasPrefix(name, xattrUser):
		a, errno := n.storedAttrs(ctx)
		if errno != 0 {
			return 0, errno
		}
		return getUser(a, name, dest)
	case strings.HasPrefix(name, xattrOSS):
		key, ok := n.key()
		if !ok || n.neverUploaded() {
			return 0, syscall.ENODATA
		}
		o, err := n.f.bucket.Stat(ctx, key)
		if err != nil {
			return 0, n.f.errno("getxattr", key, err)
		}
		if v := ossValue(o, name); v != "" {
			return copyOut(dest, []byte(v))
		}
	}
	return 0, syscall.ENODATA
}

func (n *fileNode) Listxattr(ctx context.Context, dest []byte) (uint32, syscall.Errno) {
	a, errno := n.storedAttrs(ctx)
	if errno != 0 {
		return 0, errno
	}
	names := userNames(a)
	if !n.neverUploaded() {
		names = append(names, xattrETag, xattrType, xattrClass)
	}
	return listOut(dest, names)
}

func (n *fileNode) Setxattr(ctx context.Context, name string, data []byte, flags uint32) syscall.Errno {
	return n.changeXattr(ctx, name, data, flags, false)
}

func (n *fileNode) Removexattr(ctx context.Context, name string) syscall.Errno {
	return n.changeXattr(ctx, name, nil, 0, true)
}

// changeXattr stores a changed user.* attribute the way chmod stores a
// mode (persistAttrs): with a metadata copy, or with the pending upload.
func (n *fileNode) changeXattr(ctx context.Context, name string, data []byte, flags uint32, remove bool) syscall.Errno {
	if errno := n.f.settable(name); errno != 0 {
		return errno
	}
	ctx = ctxFor(ctx, true)
	a, errno := n.storedAttrs(ctx)
	if errno != 0 {
		return errno
	}
	if a, errno = n.f.withXattr(a, n.fileType(a), name, data, flags, remove); errno != 0 {
		return errno
	}
	return n.persistAttrs(ctx, a)
}

// storedAttrs of a directory: its marker's metadata (the cache answers
// while fresh); the root and implicit directories have none.
func (d *dirNode) storedAttrs(ctx context.Context) (attrs, syscall.Errno) {
	if key, ok := d.key(); ok {
		if err := d.refresh(ctx, key); err != nil {
			return attrs{}, d.f.errno("getxattr", key, err)
		}
	}
	return d.attrs(), 0
}

func (d *dirNode) Getxattr(ctx context.Context, name string, dest []byte) (uint32, syscall.Errno) {
	if !strings.HasPrefix(name, xattrUser) {
		return 0, syscall.ENODATA
	}
	a, errno := d.storedAttrs(ctx)
	if errno != 0 {
		return 0, errno
	}
	return getUser(a, name, dest)
}

func (d *dirNode) Listxattr(ctx context.Context, dest []byte) (uint32, syscall.Errno) {
	a, errno := d.storedAttrs(ctx)
	if errno != 0 {
		return 0, errno
	}
	return listOut(dest, userNames(a))
}

func (d *dirNode) Setxattr(ctx context.Context, name string, data []byte, flags uint32) syscall.Errno {
	return d.changeXattr(ctx, name, data, flags, false)
}

func (d *dirNode) Removexattr(ctx context.Context, name string) syscall.Errno {
	return d.changeXattr(ctx, name, nil, 0, true)
}

// changeXattr stores a directory's attribute on its marker (made when the
// directory was implicit). The root has no marker: ENOTSUP.
func (d *dirNode) changeXattr(ctx context.Context, name string, data []byte, flags uint32, remove bool) syscall.Errno {
	if errno := d.f.settable(name); errno != 0 {
		return errno
	}
	key, ok := d.key()
	if !ok {
		return syscall.ENOENT
	}
	if key == "" {
		return syscall.ENOTSUP
	}
	ctx = ctxFor(ctx, true)
	a, errno := d.storedAttrs(ctx)
	if errno != 0 {
		return errno
	}
	if a, errno = d.f.withXattr(a, syscall.S_IFDIR, name, data, flags, remove); errno != 0 {
		return errno
	}
	if errno := d.writeMarker(ctx, key+"/", a, true); errno != 0 {
		return errno
	}
	d.setAttrs(a)
	return 0
}

// A link has no user.* attributes (Linux allows them on files and
// directories only); it shows its own ETag, its type and its raw
// x-oss-symlink-target, from the GetSymlink readlink makes (cached).
func (l *linkNode) Getxattr(ctx context.Context, name string, dest []byte) (uint32, syscall.Errno) {
	if name != xattrETag && name != xattrType && name != xattrLinkTarget {
		return 0, syscall.ENODATA
	}
	key, ok := l.key()
	if !ok {
		return 0, syscall.ENODATA
	}
	s, err := l.f.bucket.GetSymlink(ctx, key)
	if err != nil {
		return 0, l.f.errno("getxattr", key, err)
	}
	v := map[string]string{xattrETag: s.ETag, xattrType: string(ossclient.TypeSymlink), xattrLinkTarget: s.RawTarget}[name]
	if v == "" {
		return 0, syscall.ENODATA
	}
	return copyOut(dest, []byte(v))
}

func (l *linkNode) Listxattr(ctx context.Context, dest []byte) (uint32, syscall.Errno) {
	return listOut(dest, []string{xattrETag, xattrType, xattrLinkTarget})
}
