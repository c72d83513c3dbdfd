package writeback

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"path"

	"github.com/ossfs/ossfs/ossclient"
)

// An edit is a Staged File opened on a large existing object that was not
// downloaded: its temp file is sparse and holds only the bytes written or
// read since, and every other byte is the base version's, read from OSS on
// demand (conditional on its ETag). A flush sends only what changed, as
// one multipart upload in which the unchanged ranges are copied
// server-side (ossclient.Editor.Edit).
type editState struct {
	etag     string // the base version
	baseSize int64  // its size
	// base: bytes at or past base are always in the temp file (written,
	// or zeros from a truncate); bytes below it are the base version's
	// unless present says the temp file holds them.
	base    int64
	present extents // below base: held in the temp file (read or written)
	changed extents // below base: written since the base version
	// flushing is closed when the upload in flight (nil: none) ends: it
	// replaces the base version before etag says so, so a read of the
	// base that fails meanwhile waits for it and looks again.
	flushing chan struct{}
}

// fetchBlock is the alignment of the base reads that fill a read: a
// sequential reader of an edited file makes one GET per fetchBlock.
const fetchBlock = 1 << 20

// editor returns the Store as an ossclient.Editor when it can edit.
func (f *File) editor() (ossclient.Editor, bool) {
	ed, ok := f.store.(ossclient.Editor)
	if c, isC := f.store.(interface{ CanEdit() bool }); ok && isC {
		ok = c.CanEdit()
	}
	return ed, ok
}

// openEdit makes f an edit of key's current version when that is at least
// Options.EditMin bytes long (ok false: download it instead). LOCKS: none
// (called from Open, f not shared yet).
func (f *File) openEdit(ctx context.Context, key string) (bool, error) {
	ed, ok := f.editor()
	if !ok || f.opts.EditMin < 0 {
		return false, nil
	}
	if ks, ok := f.host.(SizeKnower); ok {
		if size, known := ks.KnownSize(); known && size < f.opts.EditMin {
			return false, nil // small: one GET of all of it, no HEAD first
		}
	}
	obj, err := ed.Head(ctx, key)
	if err != nil {
		return false, err
	}
	if obj.Size < f.opts.EditMin || obj.IsSymlink() || obj.ETag == "" {
		return false, nil
	}
	tmp, err := newTempFile(f.opts.TempDir)
	if err != nil {
		return false, err
	}
	if err := tmp.Truncate(obj.Size); err != nil { // sparse: no block written
		tmp.Close()
		return false, err
	}
	f.file, f.size = tmp, obj.Size
	f.edit = &editState{etag: obj.ETag, baseSize: obj.Size, base: obj.Size}
	return true, nil
}

// SizeKnower is a Host that may know its object's size: when that is
// below Options.EditMin, Open downloads it without asking OSS first
// whether it is large enough to edit in place (a HEAD).
type SizeKnower interface {
	KnownSize() (size int64, known bool)
}

// errNeedBase says a read needs bytes of the base version not fetched yet.
var errNeedBase = errors.New("bytes of the base version are needed")

// missingLocked returns the ranges of [off, off+n) that a read must fetch
// from the base version first. LOCKS_REQUIRED(mu)
func (e *editState) missingLocked(off, n int64) []ossclient.Extent {
	return e.present.gaps(off, min(off+n, e.base))
}

// wroteLocked records a write of [off, off+n). LOCKS_REQUIRED(mu)
func (e *editState) wroteLocked(off, n int64) {
	if end := min(off+n, e.base); end > off {
		e.present.add(off, end)
		e.changed.add(off, end)
	}
}

// truncatedLocked records a truncation to size. LOCKS_REQUIRED(mu)
func (e *editState) truncatedLocked(size int64) {
	e.base = min(e.base, size)
	e.present.clip(e.base)
	e.changed.clip(e.base)
}

// fetch reads the base version's bytes of [lo, hi) that the temp file
// lacks into it, in fetchBlock-aligned ranges. A base that changed meanwhile
// (a flush made a new version; a truncation) ends it early without error:
// the caller looks again.
func (f *File) fetch(ctx context.Context, lo, hi int64) error {
	ed, _ := f.editor()
	f.mu.Lock()
	e := f.edit
	if e == nil {
		f.mu.Unlock()
		return nil
	}
	etag, resets := e.etag, f.resets
	lo, hi = lo/fetchBlock*fetchBlock, min((hi+fetchBlock-1)/fetchBlock*fetchBlock, e.base)
	gaps := e.present.gaps(lo, hi)
	f.mu.Unlock()
	key, ok := f.host.Key()
	if !ok {
		return errors.New("writeback: the object this file is an edit of is gone (unlinked)")
	}
	for _, g := range gaps {
		buf, err := readRange(ctx, ed, key, etag, g)
		f.mu.Lock()
		if f.edit != e || e.etag != etag || f.resets != resets {
			f.mu.Unlock()
			return nil // a new base: look again
		}
		if fl := e.flushing; fl != nil && errors.Is(err, ossclient.ErrPreconditionFailed) {
			f.mu.Unlock()
			select { // the upload in flight may have replaced the base
			case <-fl:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		if err == nil {
			err = f.storeFetchedLocked(e, g, buf)
		}
		f.mu.Unlock()
		if err != nil {
			return err
		}
	}
	return nil
}

// readRange reads g of version etag of key.
func readRange(ctx context.Context, ed ossclient.Editor, key, etag string, g ossclient.Extent) ([]byte, error) {
	r, err := ed.ReadIf(ctx, key, etag, g.Off, g.Len)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	buf := make([]byte, g.Len)
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, fmt.Errorf("reading bytes %d-%d of %s: %w", g.Off, g.End()-1, key, err)
	}
	return buf, nil
}

// storeFetchedLocked writes the fetched bytes buf of g into the temp file
// where it does not hold newer ones. LOCKS_REQUIRED(mu)
func (f *File) storeFetchedLocked(e *editState, g ossclient.Extent, buf []byte) error {
	for _, m := range e.present.gaps(g.Off, min(g.End(), e.base)) {
		if _, err := f.file.WriteAt(buf[m.Off-g.Off:m.End()-g.Off], m.Off); err != nil {
			return err
		}
		e.present.add(m.Off, m.End())
	}
	return nil
}

// localize makes the temp file hold every byte, so that the File no
// longer depends on the base version at the current key (before an
// unlink or a rename takes it away): an edit becomes a plain staged copy.
// LOCKS_REQUIRED(upMu)
func (f *File) localize(ctx context.Context) error {
	for {
		f.mu.Lock()
		e := f.edit
		var gaps []ossclient.Extent
		if e != nil {
			gaps = e.present.gaps(0, e.base)
			if len(gaps) == 0 {
				f.edit = nil
			}
		}
		f.mu.Unlock()
		if len(gaps) == 0 {
			return nil
		}
		g := gaps[0]
		if err := f.fetch(ctx, g.Off, min(g.End(), g.Off+8*fetchBlock)); err != nil {
			return err
		}
	}
}

// Localize reads whatever an edit still leaves in OSS into the staged copy
// (see localize): the file's object is about to move (rename).
func (f *File) Localize(ctx context.Context) error {
	ctx = context.WithoutCancel(ctx)
	f.upMu.Lock()
	defer f.upMu.Unlock()
	return f.localize(ctx)
}

// editSnap is what a flush of an edit sends.
type editSnap struct {
	e        *editState
	etag     string
	baseSize int64
	changed  []ossclient.Extent
}

// snapLocked takes the flush's view of e at size. LOCKS_REQUIRED(mu)
func (e *editState) snapLocked(size int64) editSnap {
	ch := e.changed.list()
	if size > e.base {
		ch = append(ch, ossclient.Extent{Off: e.base, Len: size - e.base})
	}
	return editSnap{e: e, etag: e.etag, baseSize: e.baseSize, changed: ch}
}

// flushEdit uploads an edit: only the metadata when no byte changed, else
// the changed ranges with the rest copied server-side. Then the new
// version is the base. LOCKS_REQUIRED(upMu)
func (f *File) flushEdit(ctx context.Context, key string, s editSnap, size int64, gen uint64) error {
	ed, _ := f.editor()
	var (
		o   *ossclient.Object
		err error
	)
	done := make(chan struct{})
	f.mu.Lock()
	s.e.flushing = done
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		s.e.flushing = nil
		f.mu.Unlock()
		close(done) // after etag is the new version's (or the upload failed)
	}()
	if len(s.changed) == 0 && size == s.baseSize {
		o, err = f.store.Copy(ctx, key, key, ossclient.CopyOptions{ReplaceMeta: true, Meta: f.host.Meta()})
	} else {
		o, err = ed.Edit(ctx, key, s.etag, size, s.changed, f.editData(), ossclient.PutOptions{
			Meta:        f.host.Meta(),
			ContentType: mime.TypeByExtension(path.Ext(key)),
		})
	}
	if err != nil {
		return err
	}
	f.mu.Lock()
	if e := s.e; f.edit == e {
		e.etag, e.baseSize = o.ETag, size
		if f.gen == gen { // nothing changed meanwhile: all of it is the base now
			e.base = size
			e.changed = extents{}
		}
	}
	f.mu.Unlock()
	f.recordUpload(o, size, gen)
	return nil
}

// editData reads the temp file (whichever the File holds when read).
func (f *File) editData() io.ReaderAt {
	return readerAtFunc(func(p []byte, off int64) (int, error) {
		f.mu.Lock()
		defer f.mu.Unlock()
		if f.file == nil {
			return 0, errors.New("writeback: the staged copy was dropped during the upload")
		}
		return f.file.ReadAt(p, off)
	})
}

type readerAtFunc func(p []byte, off int64) (int, error)

func (r readerAtFunc) ReadAt(p []byte, off int64) (int, error) { return r(p, off) }
