package fs

import (
	"context"
	"sort"
	"strings"
	"syscall"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/ossfs/ossfs/fs/names"
	"github.com/ossfs/ossfs/ossclient"
)

// dirEntry is one name of a directory listing.
type dirEntry struct {
	name string
	typ  uint32
	obj  *ossclient.Object // files and links
}

// listDir reads the whole directory (every page) and returns its entries in
// byte order: valid names only (others are hidden and logged once), a
// directory winning over a file of the same name, plus files created here
// and not uploaded yet (and the directories that hold them).
func (d *dirNode) listDir(ctx context.Context) ([]dirEntry, syscall.Errno) {
	dk, ok := d.key()
	if !ok {
		return nil, syscall.ENOENT
	}
	prefix := names.DirPrefix(dk)
	lst, err := d.f.bucket.List(ctx, prefix, ossclient.ListOptions{})
	if err != nil {
		return nil, d.f.errno("readdir", prefix, err)
	}
	byName := make(map[string]int, len(lst.Objects)+len(lst.Prefixes))
	ents := make([]dirEntry, 0, len(lst.Objects)+len(lst.Prefixes))
	add := func(e dirEntry, key string) {
		if !names.ValidName(e.name) || names.CheckKeyLen(key) != nil {
			d.f.hide(key, "invalid name segment")
			return
		}
		if i, dup := byName[e.name]; dup {
			if e.typ == syscall.S_IFDIR {
				ents[i] = e // foo/ wins over foo
			}
			return
		}
		byName[e.name] = len(ents)
		ents = append(ents, e)
	}
	for _, p := range lst.Prefixes {
		add(dirEntry{name: strings.TrimSuffix(strings.TrimPrefix(p, prefix), "/"), typ: syscall.S_IFDIR}, p)
	}
	for i := range lst.Objects {
		o := &lst.Objects[i]
		name := strings.TrimPrefix(o.Key, prefix)
		if name == "" {
			d.marker.Store(true) // the directory's own marker
			continue
		}
		typ := d.f.fileTypeOf(o)
		if o.IsSymlink() {
			typ = syscall.S_IFLNK
		}
		add(dirEntry{name: name, typ: typ, obj: o}, o.Key)
	}
	for name, ch := range d.Children() {
		if _, dup := byName[name]; dup {
			continue
		}
		switch n := ch.Operations().(type) {
		case *fileNode:
			if n.staged() {
				byName[name] = len(ents)
				ents = append(ents, dirEntry{name: name, typ: syscall.S_IFREG})
			}
		case *dirNode: // see Lookup: another client deleted its keys
			if n.holdsLocal() {
				byName[name] = len(ents)
				ents = append(ents, dirEntry{name: name, typ: syscall.S_IFDIR})
			}
		}
	}
	sort.Slice(ents, func(i, j int) bool { return ents[i].name < ents[j].name })
	return ents, 0
}

// dirHandle is an open directory. It lists once per opendir (and on
// rewinddir), and answers READDIRPLUS lookups from that listing, so `ls -l`
// costs the listing pages and no request per regular file. go-fuse
// serializes the calls on one handle.
type dirHandle struct {
	d      *dirNode
	ents   []dirEntry // "." and ".." first
	loaded bool
	next   int // index of the next entry to return
}

var (
	_ gofs.FileReaddirenter = (*dirHandle)(nil)
	_ gofs.FileLookuper     = (*dirHandle)(nil)
	_ gofs.FileSeekdirer    = (*dirHandle)(nil)
	_ gofs.FileReleasedirer = (*dirHandle)(nil)
	_ gofs.FileFsyncdirer   = (*dirHandle)(nil)
)

func (d *dirNode) OpendirHandle(ctx context.Context, flags uint32) (gofs.FileHandle, uint32, syscall.Errno) {
	return &dirHandle{d: d}, 0, 0
}

// Fsyncdir succeeds: every change of a directory (mkdir, create's upload,
// rename, unlink) has reached OSS before its call returned, so there is
// nothing left to sync. Programs that fsync a directory after a rename
// (editors, databases, git) must not see ENOTSUP.
func (h *dirHandle) Fsyncdir(ctx context.Context, flags uint32) syscall.Errno { return 0 }

func (h *dirHandle) load(ctx context.Context) syscall.Errno {
	ents, errno := h.d.listDir(ctx)
	if errno != 0 {
		return errno
	}
	h.ents = append([]dirEntry{{name: ".", typ: syscall.S_IFDIR}, {name: "..", typ: syscall.S_IFDIR}}, ents...)
	h.loaded = true
	return 0
}

func (h *dirHandle) Readdirent(ctx context.Context) (*fuse.DirEntry, syscall.Errno) {
	if !h.loaded {
		if errno := h.load(ctx); errno != 0 {
			return nil, errno
		}
	}
	if h.next >= len(h.ents) {
		return nil, 0
	}
	e := h.ents[h.next]
	h.next++
	de := &fuse.DirEntry{Name: e.name, Mode: e.typ, Off: uint64(h.next)}
	if ch := h.d.GetChild(e.name); ch != nil && ch.StableAttr().Mode == e.typ {
		de.Ino = ch.StableAttr().Ino
	}
	return de, 0
}

// Seekdir to 0 (rewinddir) lists again; other offsets are positions in the
// current listing.
func (h *dirHandle) Seekdir(ctx context.Context, off uint64) syscall.Errno {
	if off == 0 {
		h.loaded = false
		h.next = 0
		return 0
	}
	if !h.loaded || off > uint64(len(h.ents)) {
		return syscall.EINVAL
	}
	h.next = int(off)
	return 0
}

// Lookup answers READDIRPLUS for the entry just returned, from the listing:
// no request for a file, whose attributes are marked unknown (validity 0)
// unless the listing carried the metadata of its version (the cache fills
// in what it knows), so a names-only walk costs the listing only and
// `ls -l`'s stat of each entry reads the metadata (getattr).
func (h *dirHandle) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	var e *dirEntry
	if i := h.next - 1; i >= 0 && i < len(h.ents) && h.ents[i].name == name {
		e = &h.ents[i]
	} else {
		return h.d.Lookup(ctx, name, out)
	}
	key, errno := h.d.childKey(name)
	if errno != 0 {
		return nil, errno
	}
	if e.typ == syscall.S_IFREG && e.obj == nil { // created here, not uploaded
		return h.d.Lookup(ctx, name, out)
	}
	if h.d.f.ownersChecked() && (e.typ == syscall.S_IFDIR || e.obj != nil && e.obj.MetaUnknown && e.typ != syscall.S_IFLNK) {
		// No attributes for this entry (go-fuse then sends node id 0): the
		// kernel would hold the defaults' owner for its ownership checks.
		// It looks the name up when it is used; a names-only walk never.
		return nil, syscall.EAGAIN
	}
	ch, errno := h.d.childFor(ctx, name, key, probe{typ: e.typ, obj: e.obj}, out)
	if errno != 0 {
		return nil, errno
	}
	if e.typ == syscall.S_IFREG && e.obj.MetaUnknown && (e.obj.Size == 0 && h.d.f.opts.PersistMetadata || h.d.f.maybeLegacy(e.obj)) {
		// Maybe a FIFO, socket or device node, or a link written by
		// ossfs 1.x, which only its metadata tells: the next lookup of
		// the name asks (Lookup reads the metadata of such objects), not
		// this listing's guess.
		out.SetEntryTimeout(0)
	}
	return ch, 0
}

func (h *dirHandle) Releasedir(ctx context.Context, flags uint32) {}
