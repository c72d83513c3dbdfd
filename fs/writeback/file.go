package writeback

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"sync"

	"github.com/ossfs/ossfs/ossclient"
)

// Store is what a File needs of OSS. ossclient.Bucket satisfies it.
type Store interface {
	// Put stores the whole of r as key, replacing it; r may be a pipe fed
	// while Put runs (a stream). It returns the stored object (its ETag).
	Put(ctx context.Context, key string, r io.Reader, opts ossclient.PutOptions) (*ossclient.Object, error)
	// Read returns length bytes of key from off (to the end when length
	// < 0). A body cut short is an error, never a short EOF.
	Read(ctx context.Context, key string, off, length int64) (io.ReadCloser, error)
	// Copy copies src to dst; with ReplaceMeta the copy carries opts.Meta.
	Copy(ctx context.Context, src, dst string, opts ossclient.CopyOptions) (*ossclient.Object, error)
	// Delete removes key; a missing key is not an error.
	Delete(ctx context.Context, key string) error
}

// Host is the file a File holds the content of: in package fs, the
// fileNode. A File never calls it with its own mu held, so Host methods
// may take the node's lock.
type Host interface {
	// Key returns the file's current key; ok is false once the file is
	// no longer in the tree (unlinked while open).
	Key() (key string, ok bool)
	// Meta returns the user metadata an upload stores now (the file's
	// current attributes).
	Meta() map[string]string
	// Uploaded says that obj, size bytes long, is now the file's object.
	Uploaded(obj *ossclient.Object, size int64)
	// MetaStored says the object's metadata was replaced with what Meta
	// returned; obj carries the new ETag.
	MetaStored(obj *ossclient.Object)
}

// Counter counts operations in progress (fs's pendingGroup).
type Counter interface {
	Add(delta int)
	Done()
}

// Options configure a File.
type Options struct {
	// TempDir holds the staged copies (unlinked temp files). Default "":
	// os.TempDir().
	TempDir string
	// HeadLimit is the size up to which a stream keeps its bytes in memory
	// as well. Default 0 means 8 MiB.
	HeadLimit int
	// Logger receives warnings and the "lost" errors. Default nil:
	// slog.Default().
	Logger *slog.Logger
	// Streams, if set, counts the stream uploads in flight (a goroutine
	// each). Default nil: not counted.
	Streams Counter
	// EditMin is the size from which an existing object opened for
	// writing (without O_TRUNC) is edited in place rather than downloaded:
	// the temp file holds only what is written or read, and a flush sends
	// only the changed ranges, copying the rest server-side (edit.go).
	// Needs a Store that is an ossclient.Editor. Default 0 means 16 MiB;
	// negative: never (always download).
	EditMin int64
}

const (
	defaultHeadLimit = 8 << 20
	defaultEditMin   = 16 << 20
)

func (o Options) withDefaults() Options {
	if o.HeadLimit <= 0 {
		o.HeadLimit = defaultHeadLimit
	}
	if o.EditMin == 0 {
		o.EditMin = defaultEditMin
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}

// File is the write-back state of one file open for writing, shared by
// every writable handle of that file. See the package doc for its states.
type File struct {
	store Store
	host  Host
	opts  Options

	mu   sync.Mutex
	file *os.File // GUARDED_BY(mu): the staged copy; nil until needed
	// edit is set while file is a sparse edit of a large object's version
	// (edit.go): bytes it lacks are that version's.
	edit *editState // GUARDED_BY(mu)
	size int64      // GUARDED_BY(mu)
	// dirty: content or attributes differ from the object.
	dirty bool   // GUARDED_BY(mu)
	gen   uint64 // GUARDED_BY(mu): bumped by every change; an upload clears dirty only if none came during it
	refs  int    // GUARDED_BY(mu): open writable handles, plus internal users (truncate)
	// streamable: new or truncated and not written yet, so a first write
	// at 0 may start a stream.
	streamable bool    // GUARDED_BY(mu)
	stream     *stream // GUARDED_BY(mu)
	// attrsSet: attributes changed since the stream started (its upload
	// does not carry them); attrGen counts AttrsChanged calls.
	attrsSet bool   // GUARDED_BY(mu)
	attrGen  uint64 // GUARDED_BY(mu)
	// resets counts truncations to 0: a staged copy built meanwhile
	// (materialize) holds content that is gone.
	resets uint64 // GUARDED_BY(mu)
	// lost is set when written data could not reach OSS and no copy is
	// left to retry from; every later write, flush and fsync fails.
	lost error // GUARDED_BY(mu)
	// unlinked is set by Unlink (under upMu) before it deletes the object:
	// from then on nothing of this file is uploaded.
	unlinked bool // GUARDED_BY(mu)
	// materializing is the materialize run in progress, if any.
	materializing *flight // GUARDED_BY(mu)
	// closed is set by Close: a materialize run that an interrupted
	// caller left behind and that only starts now has nothing to do.
	closed bool // GUARDED_BY(mu)
	// uploaded is the size of the last upload of this File's content
	// (-1: none yet): what OSS holds of it.
	uploaded int64 // GUARDED_BY(mu)

	// upMu serializes the uploads of this one file, so an older snapshot
	// can never land after a newer one. It is held across Put by design;
	// only flush, fsync, release and materialize of the same file wait on
	// it.
	upMu sync.Mutex
}

// errNeedFile says an operation needs the staged temp file: materialize,
// then try again.
var errNeedFile = errors.New("the staged copy is needed")

// ErrClosed is ReadAt's answer once the File is closed (its last writer
// released it while a reader of the file was still reading through it):
// the File holds nothing any more, and the content is the object's (the
// release uploaded it), to be read from there.
var ErrClosed = errors.New("writeback: the file's write state is closed; read the object")

// Open returns the File of a file opened for writing, with one reference.
// With load the content starts as the object's, downloaded into a temp
// file (a network call: do not hold locks); without it the content is
// empty. trunc marks it changed (a new file, or an O_TRUNC open): the
// first flush uploads it even if nothing is written.
func Open(ctx context.Context, s Store, h Host, o Options, load, trunc bool) (*File, error) {
	f := &File{store: s, host: h, opts: o.withDefaults(), refs: 1, dirty: trunc, streamable: true, uploaded: -1}
	if !load {
		return f, nil
	}
	key, ok := h.Key()
	if !ok {
		return nil, os.ErrNotExist
	}
	if !trunc {
		if ok, err := f.openEdit(ctx, key); ok || err != nil {
			return f, err
		}
	}
	tmp, err := newTempFile(f.opts.TempDir)
	if err != nil {
		return nil, err
	}
	if f.size, err = f.download(ctx, key, tmp, -1); err != nil {
		tmp.Close()
		return nil, err
	}
	f.file, f.streamable = tmp, trunc
	return f, nil
}

// newTempFile creates an unlinked temp file in dir: its space returns when
// it is closed, even if the process dies.
func newTempFile(dir string) (*os.File, error) {
	tmp, err := os.CreateTemp(dir, "ossfs-stage-*")
	if err != nil {
		return nil, err
	}
	os.Remove(tmp.Name())
	return tmp, nil
}

// download copies the first length bytes of key (all when length < 0)
// into w.
func (f *File) download(ctx context.Context, key string, w io.Writer, length int64) (int64, error) {
	r, err := f.store.Read(ctx, key, 0, length)
	if err != nil {
		return 0, err
	}
	defer r.Close()
	return io.Copy(w, r)
}

// Ref takes one more reference (another writable handle); with trunc the
// content is truncated to 0 (an O_TRUNC open).
func (f *File) Ref(trunc bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.refs++
	if trunc {
		return f.truncateLocked(0)
	}
	return nil
}

// Unref drops a reference. last says it was the last one: the caller then
// flushes what is still Dirty and Closes the File (unless Ref was called
// again meanwhile: check Refs under the caller's lock).
func (f *File) Unref() (last bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.refs--
	return f.refs == 0
}

// Refs returns the number of references.
func (f *File) Refs() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.refs
}

// Size returns the size of the content.
func (f *File) Size() int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.size
}

// Dirty says the content or attributes differ from the object.
func (f *File) Dirty() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.dirty
}

// Lost returns the error that lost written data (nil: nothing lost).
func (f *File) Lost() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.lost
}

// LastUpload returns the size of the last upload of this File's content;
// ok is false when there was none.
func (f *File) LastUpload() (size int64, ok bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.uploaded, f.uploaded >= 0
}

// Unlinked says Unlink has run.
func (f *File) Unlinked() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.unlinked
}

// AttrsChanged records that the file's attributes (Host.Meta) changed: the
// next flush stores them.
func (f *File) AttrsChanged() {
	f.mu.Lock()
	f.dirty, f.attrsSet = true, true
	f.gen++
	f.attrGen++
	f.mu.Unlock()
}

// Close ends the File after its last reference: a stream never finished
// (unlinked) is abandoned and the staged copy removed.
func (f *File) Close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closed = true
	if f.stream != nil {
		f.stream.pw.CloseWithError(errAbandoned)
		f.stream = nil
	}
	if f.file != nil {
		f.file.Close()
		f.file = nil
	}
	f.edit = nil
}

// ReadAt reads the content at off into p (0 bytes at or past the end). A
// read of content that is only in a stream stages it first.
func (f *File) ReadAt(ctx context.Context, p []byte, off int64) (int, error) {
	for {
		f.mu.Lock()
		if f.closed {
			f.mu.Unlock()
			return 0, ErrClosed
		}
		c, err := f.readAtLocked(p, off)
		f.mu.Unlock()
		if errors.Is(err, errNeedBase) { // an edit: bytes of its base first
			if err := f.fetch(ctx, off, off+int64(len(p))); err != nil {
				return 0, err
			}
			continue
		}
		if !errors.Is(err, errNeedFile) { // written data is only in a stream
			return c, err
		}
		if err := f.materialize(ctx); err != nil {
			return 0, err
		}
	}
}

// readAtLocked reads the staged content; errNeedFile while it is only in a
// stream. LOCKS_REQUIRED(mu)
func (f *File) readAtLocked(p []byte, off int64) (int, error) {
	if off >= f.size {
		return 0, nil
	}
	if f.file == nil {
		return 0, errNeedFile
	}
	if rest := f.size - off; int64(len(p)) > rest {
		p = p[:rest]
	}
	if f.edit != nil && len(f.edit.missingLocked(off, int64(len(p)))) > 0 {
		return 0, errNeedBase
	}
	n, err := f.file.ReadAt(p, off)
	if errors.Is(err, io.EOF) {
		err = nil
	}
	return n, err
}

// writeAtLocked writes into the staged file. LOCKS_REQUIRED(mu)
func (f *File) writeAtLocked(p []byte, off int64) (int, error) {
	n, err := f.file.WriteAt(p, off)
	if f.edit != nil {
		f.edit.wroteLocked(off, int64(n))
	}
	if end := off + int64(n); end > f.size {
		f.size = end
	}
	if n > 0 {
		f.dirty = true
		f.gen++
	}
	return n, err
}

// Truncate sets the size of the content, first staging it when a stream
// holds the data and the new size keeps some of it.
func (f *File) Truncate(ctx context.Context, size int64) error {
	f.mu.Lock()
	err := f.truncateLocked(size)
	f.mu.Unlock()
	if errors.Is(err, errNeedFile) {
		if err = f.materialize(ctx); err == nil {
			f.mu.Lock()
			err = f.truncateLocked(size)
			f.mu.Unlock()
		}
	}
	return err
}

// truncateLocked sets the staged size. To 0 it starts over: the stream is
// abandoned, the temp file dropped, and a later write at 0 may stream
// again. Any other size needs the staged file (errNeedFile while there is
// none). LOCKS_REQUIRED(mu)
func (f *File) truncateLocked(size int64) error {
	if size != 0 {
		if f.file == nil {
			return errNeedFile
		}
		if err := f.file.Truncate(size); err != nil {
			return err
		}
		if f.edit != nil {
			f.edit.truncatedLocked(size)
		}
	} else {
		if f.stream != nil {
			f.stream.pw.CloseWithError(errAbandoned)
			f.stream = nil
		}
		if f.file != nil {
			f.file.Close()
			f.file = nil
		}
		f.edit = nil
		f.lost = nil // what was lost is gone from the file too
		f.resets++
	}
	f.streamable = size == 0
	f.size = size
	f.dirty = true
	f.gen++
	return nil
}
