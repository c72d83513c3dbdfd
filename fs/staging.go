package fs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"os"
	"path"
	"sync"
	"syscall"

	"github.com/ossfs/ossfs/ossclient"
)

// staging is the local state of a file open for writing. Its content lives
// in one of three places: nowhere yet (new or truncated, size 0), in a
// sequential upload in flight (stream, see stream.go; file nil), or in an
// unlinked temp file in Options.TempDir (file). Writes land there; flush,
// fsync and the last release upload it (Bucket.Put sends large files as a
// parallel multipart upload). Every field but upMu is GUARDED_BY the owning
// fileNode's mu; local file I/O happens under that lock, network I/O never.
type staging struct {
	file  *os.File // nil until the content needs a local copy
	size  int64
	dirty bool   // content or attributes differ from the object
	gen   uint64 // bumped by every change: an upload clears dirty only if none came during it
	refs  int    // open writable handles, plus internal users (truncate)
	// streamable: new or truncated and not written yet, so a first write at
	// 0 may start a sequential upload (stream.go); stream is that upload.
	streamable bool
	stream     *stream
	attrsSet   bool // chmod/chown/utimes since the stream started
	// resets counts truncations to 0: a staged copy built meanwhile
	// (materialize) holds content that is gone.
	resets uint64
	// lost is set when written data could not reach OSS and no copy is
	// left to retry from; every later write, flush and fsync fails.
	lost error

	// upMu serializes the uploads of this one file, so an older snapshot
	// can never land after a newer one. It is held across Put by design;
	// only flush, fsync, release and the fallback from streaming
	// (materialize) of the same file wait on it.
	upMu sync.Mutex
}

// errNeedFile says an operation needs the staged temp file: materialize,
// then try again.
var errNeedFile = errors.New("the staged copy is needed")

func (s *staging) writeAt(p []byte, off int64) (int, error) {
	n, err := s.file.WriteAt(p, off)
	if end := off + int64(n); end > s.size {
		s.size = end
	}
	if n > 0 {
		s.dirty = true
		s.gen++
	}
	return n, err
}

// readAt reads the staged content; errNeedFile while it is only in a
// stream.
func (s *staging) readAt(p []byte, off int64) (int, error) {
	if off >= s.size {
		return 0, nil
	}
	if s.file == nil {
		return 0, errNeedFile
	}
	if rest := s.size - off; int64(len(p)) > rest {
		p = p[:rest]
	}
	n, err := s.file.ReadAt(p, off)
	if errors.Is(err, io.EOF) {
		err = nil
	}
	return n, err
}

// truncate sets the staged size. To 0 it starts over: the stream is
// abandoned, the temp file dropped, and a later write at 0 may stream
// again. Any other size needs the staged file (errNeedFile while there is
// none).
func (s *staging) truncate(size int64) error {
	if size != 0 {
		if s.file == nil {
			return errNeedFile
		}
		if err := s.file.Truncate(size); err != nil {
			return err
		}
	} else {
		if s.stream != nil {
			s.stream.pw.CloseWithError(errAbandoned)
			s.stream = nil
		}
		if s.file != nil {
			s.file.Close()
			s.file = nil
		}
		s.lost = nil // what was lost is gone from the file too
		s.resets++
	}
	s.streamable = size == 0
	s.size = size
	s.dirty = true
	s.gen++
	return nil
}

// acquire takes a reference on the file's staging, creating it if needed:
// empty when trunc or when the content is not needed, otherwise a download
// of the object.
func (n *fileNode) acquire(ctx context.Context, needContent, trunc bool) syscall.Errno {
	n.mu.Lock()
	if st := n.stage; st != nil {
		st.refs++
		var err error
		if trunc {
			err = st.truncate(0)
		}
		n.mu.Unlock()
		return n.f.errno("open", "", err)
	}
	uploaded := n.uploaded
	n.mu.Unlock()

	key, ok := n.key()
	if !ok {
		return syscall.ENOENT
	}
	// The old content is needed: download it. Otherwise the temp file
	// waits until something needs it (a stream may make it unneeded).
	var tmp *os.File
	var size int64
	if needContent && uploaded {
		var err error
		if tmp, err = newTempFile(n.f.opts.TempDir); err != nil {
			return n.f.errno("stage", key, err)
		}
		if size, err = n.downloadRange(ctx, key, tmp, -1); err != nil {
			tmp.Close()
			return n.f.errno("open", key, err)
		}
	}

	n.mu.Lock()
	defer n.mu.Unlock()
	if st := n.stage; st != nil { // another open won the race
		if tmp != nil {
			tmp.Close()
		}
		st.refs++
		var err error
		if trunc {
			err = st.truncate(0)
		}
		return n.f.errno("open", key, err)
	}
	n.stage = &staging{file: tmp, size: size, refs: 1, dirty: trunc, streamable: trunc || tmp == nil}
	return 0
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

// downloadRange copies the first length bytes of key (all when length <
// 0) into w.
func (n *fileNode) downloadRange(ctx context.Context, key string, w io.Writer, length int64) (int64, error) {
	r, err := n.f.bucket.Read(ctx, key, 0, length)
	if err != nil {
		return 0, err
	}
	defer r.Close()
	return io.Copy(w, r)
}

// upload sends the staged content if it is dirty: by completing the
// stream, or with one Put of the staged file. A file unlinked while open is
// not uploaded: its data goes with it, as on a local disk.
func (n *fileNode) upload(ctx context.Context) error {
	n.mu.Lock()
	st := n.stage
	n.mu.Unlock()
	if st == nil {
		return nil
	}
	st.upMu.Lock()
	defer st.upMu.Unlock()
	if n.isUnlinked() {
		return nil // its data goes with it, as on a local disk
	}
	if done, err := n.finishStream(ctx, st); done {
		return err
	}
	n.mu.Lock()
	dirty, gen, size, a, file, lost := st.dirty, st.gen, st.size, n.a, st.file, st.lost
	n.mu.Unlock()
	if lost != nil {
		return lost
	}
	if !dirty {
		return nil
	}
	key, ok := n.key()
	if !ok {
		return nil
	}
	if file == nil && size != 0 {
		// A completed stream holds the bytes, but something changed since
		// (attributes, or a write that raced with the flush): read the
		// object back and upload it whole.
		if err := n.materializeLocked(ctx, st); err != nil {
			return err
		}
		n.mu.Lock()
		dirty, gen, size, a, file = st.dirty, st.gen, st.size, n.a, st.file
		n.mu.Unlock()
		if !dirty {
			return nil
		}
	}
	var body io.Reader = eofReader{}
	if file != nil {
		body = io.NewSectionReader(file, 0, size)
	} else if size != 0 {
		return fmt.Errorf("fs: %d staged bytes of %s have no copy", size, key) // a bug, reported rather than uploading nothing
	}
	o, err := n.f.bucket.Put(ctx, key, body, ossclient.PutOptions{
		Meta:        n.f.metaOf(a, syscall.S_IFREG),
		ContentType: mime.TypeByExtension(path.Ext(key)),
	})
	if err != nil {
		return err
	}
	n.recordUpload(st, o, size, gen)
	return nil
}

// eofReader is an empty body.
type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }

// releaseStage drops a reference; the last one uploads what is still dirty
// (a file written through mmap, or whose flush failed) and removes the
// staged copy.
func (n *fileNode) releaseStage() {
	n.mu.Lock()
	st := n.stage
	st.refs--
	if st.refs > 0 {
		n.mu.Unlock()
		return
	}
	dirty := st.dirty
	n.mu.Unlock()
	if dirty {
		n.f.pending.Add(1)
		err := n.upload(context.Background())
		n.f.pending.Done()
		if err != nil {
			key, _ := n.key()
			n.f.log.Error("upload at close failed; data of this file is lost", "key", key, "err", err)
		}
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if st.refs > 0 || n.stage != st { // reopened meanwhile: the new owner keeps it
		return
	}
	n.stage = nil
	if st.stream != nil { // unlinked with a stream never finished
		st.stream.pw.CloseWithError(errAbandoned)
		st.stream = nil
	}
	if st.file != nil {
		st.file.Close()
	}
}

func (n *fileNode) isUnlinked() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.unlinked
}

// unlink runs del, the deletion of the file's object, so that nothing of
// the file reaches OSS after it: an upload in progress (a close) ends
// first, and a stream is read into the staged copy — the descriptors still
// open keep working, as on a local disk — rather than left to complete at
// a key that a new file may take.
func (n *fileNode) unlink(ctx context.Context, del func() error) error {
	n.mu.Lock()
	st := n.stage
	n.mu.Unlock()
	if st == nil {
		return del()
	}
	st.upMu.Lock()
	defer st.upMu.Unlock()
	n.mu.Lock()
	streamed := st.file == nil && st.size > 0
	n.mu.Unlock()
	if streamed {
		if err := n.materializeLocked(ctx, st); err != nil {
			key, _ := n.key()
			n.f.log.Warn("unlink of a file being written: its data could not be kept for the descriptors still open", "key", key, "err", err)
		}
	}
	n.mu.Lock()
	n.unlinked = true
	n.mu.Unlock()
	if err := del(); err != nil {
		n.mu.Lock()
		n.unlinked = false
		n.mu.Unlock()
		return err
	}
	return nil
}
