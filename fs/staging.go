package fs

import (
	"context"
	"errors"
	"io"
	"mime"
	"os"
	"path"
	"sync"
	"syscall"

	"github.com/ossfs/ossfs/ossclient"
)

// staging is the local copy of a file open for writing: an unlinked temp
// file in Options.TempDir. Writes land there; flush, fsync and the last
// release upload it whole with Bucket.Put (which sends large files as a
// parallel multipart upload). Every field but upMu is GUARDED_BY the owning
// fileNode's mu; local file I/O happens under that lock, network I/O never.
type staging struct {
	file  *os.File
	size  int64
	dirty bool   // content or attributes differ from the object
	gen   uint64 // bumped by every change: an upload clears dirty only if none came during it
	refs  int    // open writable handles, plus internal users (truncate)
	// streamable: new or truncated and not written yet, so a first write at
	// 0 may start a sequential upload (stream.go); stream is that upload.
	streamable bool
	stream     *stream
	attrsSet   bool // chmod/chown/utimes since the stream started

	// upMu serializes the uploads of this one file, so an older snapshot
	// can never land after a newer one. It is held across Put by design;
	// only flush, fsync and release of the same file wait on it.
	upMu sync.Mutex
}

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

func (s *staging) readAt(p []byte, off int64) (int, error) {
	if off >= s.size {
		return 0, nil
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

func (s *staging) truncate(size int64) error {
	if err := s.file.Truncate(size); err != nil {
		return err
	}
	if s.stream != nil { // no longer an append: the staged copy goes up
		s.stream.pw.CloseWithError(errAbandoned)
		s.stream = nil
	}
	s.streamable = size == 0 && s.stream == nil && s.size == 0
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
	tmp, err := newTempFile(n.f.opts.TempDir)
	if err != nil {
		return n.f.errno("stage", key, err)
	}
	var size int64
	if needContent && uploaded {
		size, err = n.download(ctx, key, tmp)
		if err != nil {
			tmp.Close()
			return n.f.errno("open", key, err)
		}
	}

	n.mu.Lock()
	defer n.mu.Unlock()
	if st := n.stage; st != nil { // another open won the race
		tmp.Close()
		st.refs++
		if trunc {
			err = st.truncate(0)
		}
		return n.f.errno("open", key, err)
	}
	n.stage = &staging{file: tmp, size: size, refs: 1, dirty: trunc, streamable: trunc}
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

func (n *fileNode) download(ctx context.Context, key string, w io.Writer) (int64, error) {
	r, err := n.f.bucket.Read(ctx, key, 0, -1)
	if err != nil {
		return 0, err
	}
	defer r.Close()
	return io.Copy(w, r)
}

// upload sends the staged content if it is dirty. A file unlinked while
// open is not uploaded: its data goes with it, as on a local disk.
func (n *fileNode) upload(ctx context.Context) error {
	n.mu.Lock()
	st := n.stage
	n.mu.Unlock()
	if st == nil {
		return nil
	}
	st.upMu.Lock()
	defer st.upMu.Unlock()

	if n.finishStream(st) {
		return nil
	}
	n.mu.Lock()
	dirty, gen, size, a := st.dirty, st.gen, st.size, n.a
	n.mu.Unlock()
	if !dirty {
		return nil
	}
	key, ok := n.key()
	if !ok {
		return nil
	}
	o, err := n.f.bucket.Put(ctx, key, io.NewSectionReader(st.file, 0, size), ossclient.PutOptions{
		Meta:        n.f.metaOf(a, syscall.S_IFREG),
		ContentType: mime.TypeByExtension(path.Ext(key)),
	})
	if err != nil {
		return err
	}
	n.mu.Lock()
	if st.gen == gen {
		st.dirty = false
	}
	n.uploaded = true
	n.size = size
	n.a.etag = o.ETag
	n.a.fromMeta = n.f.opts.PersistMetadata
	n.mu.Unlock()
	return nil
}

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
	st.file.Close()
}
