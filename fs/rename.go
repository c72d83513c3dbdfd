package fs

import (
	"context"
	"errors"
	"maps"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	gofs "github.com/hanwen/go-fuse/v2/fs"

	"github.com/ossfs/ossfs/fs/names"
	"github.com/ossfs/ossfs/ossclient"
)

// renameParallelism is how many copies a directory rename runs at once.
const renameParallelism = 8

// Rename moves name to newParent/newName: copy then delete (files), a new
// PutSymlink with the same text then delete (links, so the OSS target is
// recomputed for the new place), every key copied then every old key
// deleted (directories). Not atomic: see docs/semantics.md.
// RENAME_NOREPLACE is checked by the kernel (it has looked the target up);
// RENAME_EXCHANGE and RENAME_WHITEOUT are EINVAL.
func (d *dirNode) Rename(ctx context.Context, name string, newParent gofs.InodeEmbedder, newName string, flags uint32) syscall.Errno {
	if d.f.opts.ReadOnly {
		return errROFS
	}
	if flags&^uint32(renameNoReplace) != 0 {
		return syscall.EINVAL
	}
	np, ok := newParent.(*dirNode)
	if !ok {
		return syscall.EXDEV
	}
	src, errno := d.childKey(name)
	if errno != 0 {
		return errno
	}
	dst, errno := np.childKey(newName)
	if errno != 0 {
		return errno
	}
	ctx = ctxFor(ctx, true)
	typ, ch, errno := d.childType(ctx, name, src)
	if errno != 0 {
		return errno
	}
	if typ == syscall.S_IFDIR {
		// Onto a directory that holds a file not uploaded yet: not empty,
		// though the bucket shows nothing below it (as rmdir checks).
		if victim := np.GetChild(newName); victim != nil && victim.IsDir() && hasStagedChild(victim) {
			return syscall.ENOTEMPTY
		}
	}
	if errno := d.ensureMarker(ctx); errno != 0 {
		return errno
	}
	// The kernel looks the new name up before a rename: when it is not in
	// the tree, nothing is there to be replaced.
	fresh := np.GetChild(newName) == nil
	move := func() error { return d.f.move(ctx, typ, ch, src, dst, fresh) }
	var err error
	if victim, ok := np.childFile(newName); ok && victim != ch {
		// The file replaced is, to its open descriptors, unlinked: its
		// writes must not land on the moved object afterwards.
		err = victim.unlink(ctx, move)
	} else {
		err = move()
	}
	return d.f.errno("rename", src, err)
}

// move copies the object(s) at src to dst and deletes src, by kind. fresh
// says nothing was at dst: a file or link whose source cannot be deleted is
// then removed from dst again, so that a failed rename leaves the bucket as
// it was (a replaced dst cannot be restored, so the copy stays there).
func (f *fsys) move(ctx context.Context, typ uint32, ch gofs.InodeEmbedder, src, dst string, fresh bool) error {
	switch typ {
	case syscall.S_IFDIR:
		// Data still being written below goes up first, at the old names,
		// so that the copy takes it.
		if ch != nil {
			if err := uploadOpenFilesUnder(ctx, ch.EmbeddedInode()); err != nil {
				return err
			}
		}
		return f.renameDir(ctx, src, dst)
	case syscall.S_IFLNK:
		return f.undoCopy(ctx, dst, fresh, f.renameLink(ctx, src, dst))
	}
	fn, _ := ch.(*fileNode)
	if fn != nil {
		// Data still being written goes up first, at the old name.
		if err := fn.upload(ctx); err != nil {
			return err
		}
		// The copy is of the current object: if another client replaced
		// the file its readers opened, their version is gone (retire.go),
		// and they must not follow the copy.
		if err := fn.checkSuperseded(ctx); err != nil && !errors.Is(err, errRetired) {
			return err
		}
	}
	o, err := f.renameFile(ctx, src, dst)
	if err == nil && fn != nil {
		fn.movedTo(o) // the copy may have a new ETag: its readers stay current
	}
	return f.undoCopy(ctx, dst, fresh, err)
}

// errSourceKept marks a rename whose copy succeeded but whose source could
// not be deleted.
type errSourceKept struct{ err error }

func (e errSourceKept) Error() string { return e.err.Error() }
func (e errSourceKept) Unwrap() error { return e.err }

// undoCopy deletes dst again when err says the source of a rename to a
// fresh dst could not be deleted after the copy; it returns err.
func (f *fsys) undoCopy(ctx context.Context, dst string, fresh bool, err error) error {
	var kept errSourceKept
	if !fresh || !errors.As(err, &kept) {
		return err
	}
	if derr := f.bucket.Delete(context.WithoutCancel(ctx), dst); derr != nil {
		f.opts.Logger.Warn("rename failed after its copy and the copy could not be removed: the file is at both names", "dst", dst, "err", derr)
	}
	return err
}

// childType returns the kind of the child: from the tree (the kernel looked
// it up before renaming) or by asking OSS.
func (d *dirNode) childType(ctx context.Context, name, key string) (uint32, gofs.InodeEmbedder, syscall.Errno) {
	if ch := d.GetChild(name); ch != nil {
		return ch.StableAttr().Mode, ch.Operations(), 0
	}
	p, err := d.f.probeKey(ctx, key)
	if err != nil {
		return 0, nil, d.f.errno("rename", key, err)
	}
	if p.typ == 0 {
		return 0, nil, syscall.ENOENT
	}
	return p.typ, nil, 0
}

func (f *fsys) renameFile(ctx context.Context, src, dst string) (*ossclient.Object, error) {
	o, err := f.copyObject(ctx, src, dst)
	if err != nil {
		return nil, err
	}
	if err := f.bucket.Delete(ctx, src); err != nil {
		return o, errSourceKept{err}
	}
	return o, nil
}

func (f *fsys) renameLink(ctx context.Context, src, dst string) error {
	if err := f.relink(ctx, src, dst); err != nil {
		return err
	}
	if err := f.bucket.Delete(ctx, src); err != nil {
		return errSourceKept{err}
	}
	return nil
}

// copyObject copies the object at src to dst so that dst shows src's
// mtime, as a rename keeps it: an object without x-oss-meta-mtime (written
// by another client) shows its Last-Modified, which the copy's would
// replace with the rename's time, so the copy stores the source's
// Last-Modified as x-oss-meta-mtime, keeping its other user metadata and
// standard headers (CopyOptions.EditMeta: a HEAD of src and a conditional
// copy, asked again when src changed in between). Whether src has an mtime
// is asked first (a HEAD, none when the Bucket knows its metadata). Without
// metadata persistence a plain copy.
func (f *fsys) copyObject(ctx context.Context, src, dst string) (*ossclient.Object, error) {
	if !f.opts.PersistMetadata {
		return f.bucket.Copy(ctx, src, dst, ossclient.CopyOptions{})
	}
	s, err := f.bucket.Stat(ctx, src, ossclient.WithMeta)
	if err != nil {
		return nil, err
	}
	if _, ok := withMtime(s.Meta, s.ModTime); ok {
		return f.bucket.Copy(ctx, src, dst, ossclient.CopyOptions{})
	}
	edit := ossclient.CopyOptions{EditMeta: func(o *ossclient.Object) map[string]string {
		m, _ := withMtime(o.Meta, o.ModTime)
		return m
	}}
	for try := 1; ; try++ {
		o, err := f.bucket.Copy(ctx, src, dst, edit)
		if !errors.Is(err, ossclient.ErrPreconditionFailed) || try == copyTries {
			return o, err
		}
	}
}

// copyTries bounds the copies of one object a rename tries while another
// client keeps replacing it (copyObject).
const copyTries = 3

// withMtime returns m and true when m holds a valid mtime; else a copy of
// m with modTime (the object's Last-Modified, which a mount shows as its
// mtime) as the mtime, and false.
func withMtime(m map[string]string, modTime time.Time) (map[string]string, bool) {
	if _, ok := parseTime(m[metaMtime]); ok {
		return m, true
	}
	out := maps.Clone(m)
	if out == nil {
		out = map[string]string{}
	}
	out[metaMtime] = strconv.FormatInt(modTime.Unix(), 10)
	return out, false
}

// relink writes at dst a link with the same text as the link at src, its
// OSS target recomputed for dst's place: never a plain copy of a link.
func (f *fsys) relink(ctx context.Context, src, dst string) error {
	text, s, err := f.readlinkKey(ctx, src)
	if err != nil {
		return err
	}
	meta := s.Meta
	if f.opts.PersistMetadata {
		meta, _ = withMtime(meta, s.ModTime) // a rename keeps the link's mtime
	}
	return f.putLink(ctx, dst, text, false, attrMeta(meta))
}

// renameDir copies every key under src/ to dst/ (links re-targeted), then
// deletes the old keys. An existing dst must be an empty directory.
func (f *fsys) renameDir(ctx context.Context, src, dst string) error {
	dl, err := f.bucket.List(ctx, dst+"/", ossclient.ListOptions{Limit: 2})
	if err != nil {
		return err
	}
	dstMarker := false
	for _, o := range dl.Objects {
		if o.Key != dst+"/" {
			return syscall.ENOTEMPTY
		}
		dstMarker = true
	}
	if len(dl.Prefixes) > 0 {
		return syscall.ENOTEMPTY
	}
	lst, err := f.bucket.List(ctx, src+"/", ossclient.ListOptions{Recursive: true})
	if err != nil {
		return err
	}
	olds := make([]string, 0, len(lst.Objects)+1)
	marker := false
	for _, o := range lst.Objects {
		if names.CheckKeyLen(dst+strings.TrimPrefix(o.Key, src)) != nil {
			return syscall.ENAMETOOLONG
		}
		olds = append(olds, o.Key)
		marker = marker || o.Key == src+"/"
	}
	if !marker {
		// An implicit directory has no marker to delete, yet its name must
		// go: deleting the (absent) marker tells the bucket cache that the
		// parent's listing no longer holds it (deleting a missing key is
		// a success in OSS).
		olds = append(olds, src+"/")
		if dstMarker {
			// The empty directory it replaces had a marker, whose mode,
			// owner and times are not the renamed directory's: dst
			// becomes implicit as src was (its entries keep it).
			olds = append(olds, dst+"/")
		}
	}
	copied, err := f.copyAll(ctx, lst.Objects, src, dst)
	if err != nil {
		f.undoCopies(ctx, copied, dst, dstMarker)
		return err
	}
	return f.bucket.DeleteMany(ctx, olds)
}

// undoCopies deletes the copies a failed directory rename made, so that the
// failure leaves the bucket as it was: the source whole, no half-filled
// destination. The marker of a destination that existed before stays.
func (f *fsys) undoCopies(ctx context.Context, copied []string, dst string, dstMarker bool) {
	keys := copied[:0:0]
	for _, k := range copied {
		if !(dstMarker && k == dst+"/") {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return
	}
	if err := f.bucket.DeleteMany(ctx, keys); err != nil {
		f.log.Error("rename failed and its copies could not all be removed", "dst", dst, "keys", len(keys), "err", err)
	}
}

// copyAll copies objs from under src/ to under dst/, renameParallelism at a
// time. It returns the keys it created and the first error, after all
// copies ended.
func (f *fsys) copyAll(ctx context.Context, objs []ossclient.Object, src, dst string) ([]string, error) {
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		first  error
		copied []string // GUARDED_BY(mu)
	)
	sem := make(chan struct{}, renameParallelism)
	for _, o := range objs {
		nk := dst + strings.TrimPrefix(o.Key, src)
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			var err error
			if o.IsSymlink() {
				err = f.relink(ctx, o.Key, nk)
			} else {
				_, err = f.copyObject(ctx, o.Key, nk)
			}
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				copied = append(copied, nk)
			case first == nil:
				first = err
			}
		})
	}
	wg.Wait()
	return copied, first
}

// renameNoReplace is renameat2's RENAME_NOREPLACE.
const renameNoReplace = 0x1

// uploadOpenFilesUnder finishes the uploads of the files open for writing
// below dir (streams and staged copies), as a file rename does for the file.
func uploadOpenFilesUnder(ctx context.Context, dir *gofs.Inode) error {
	for _, ch := range dir.Children() {
		switch n := ch.Operations().(type) {
		case *fileNode:
			if n.staged() {
				if err := n.upload(ctx); err != nil {
					return err
				}
			}
		case *dirNode:
			if err := uploadOpenFilesUnder(ctx, ch); err != nil {
				return err
			}
		}
	}
	return nil
}
