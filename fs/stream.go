package fs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"path"
	"sync"
	"syscall"

	"github.com/ossfs/ossfs/ossclient"
)

// Streaming writes. A new or truncated file written sequentially from
// offset 0 is fed, as it is written, into an io.Pipe read by Bucket.Put,
// which sends large bodies as a multipart upload with parts in parallel: the
// upload overlaps the writing, close(2) waits only for the tail, and the
// data never touches the local disk (a 100 GiB file needs no 100 GiB of
// temp space, and no second copy through the page cache).
//
// While the file is smaller than headLimit the stream also keeps its bytes
// in memory (the head). The moment anything is not a plain append — a write
// elsewhere, a read, a truncate to a non-zero size — the file falls back to
// a staged temp file (materialize): from the head when it is still kept
// (the stream is abandoned and Put aborts its upload), else by completing
// the upload of what was written so far and downloading it back. A
// streamed upload that fails after the SDK's retries is retried from the
// head when there is one; past headLimit the data is lost and that is
// reported: the write, fsync and close return EIO, never success.

// headLimit is the size up to which a stream keeps its bytes in memory.
const headLimit = 8 << 20

// errAbandoned ends a stream whose data will be uploaded from the staged copy.
var errAbandoned = errors.New("sequential upload abandoned; the staged copy is uploaded instead")

// stream is one sequential upload in flight.
type stream struct {
	pw  *io.PipeWriter
	key string
	// wmu is held by the one writer feeding the pipe; a second writer that
	// finds it taken falls back to staging rather than wait (and reorder).
	wmu      sync.Mutex
	pos      int64       // GUARDED_BY(node.mu): bytes accepted for the pipe
	head     net.Buffers // GUARDED_BY(wmu): copies of the writes so far, while keepHead
	headLen  int         // GUARDED_BY(wmu)
	keepHead bool        // GUARDED_BY(wmu)
	done     chan struct{}
	obj      *ossclient.Object // set before done is closed
	err      error             // set before done is closed
}

// startStream begins the upload of key fed by the pipe. LOCKS_REQUIRED(n.mu).
func (n *fileNode) startStream(key string) *stream {
	pr, pw := io.Pipe()
	s := &stream{pw: pw, key: key, done: make(chan struct{}), keepHead: true}
	n.stage.attrsSet = false
	opts := ossclient.PutOptions{
		Meta:        n.f.metaOf(n.a, syscall.S_IFREG),
		ContentType: mime.TypeByExtension(path.Ext(key)),
	}
	n.f.streams.Add(1)
	go func() {
		defer n.f.streams.Done()
		obj, err := n.f.bucket.Put(context.Background(), key, pr, opts)
		closeErr := err
		if closeErr == nil {
			closeErr = errAbandoned // a writer still arriving must not block
		}
		pr.CloseWithError(closeErr)
		s.obj, s.err = obj, err
		close(s.done)
	}()
	return s
}

// writeLocked stores data at off: into the staged file when there is one,
// else into the stream when data extends it (returned with its wmu held:
// the caller feeds it). needFile says the write needs the staged file first
// (call materialize, then retry). LOCKS_REQUIRED(n.mu).
func (n *fileNode) writeLocked(key string, data []byte, off int64) (c int, feed *stream, needFile bool, err error) {
	st := n.stage
	if st.lost != nil {
		return 0, nil, false, st.lost
	}
	if st.file != nil {
		st.streamable = false
		c, err = st.writeAt(data, off)
		return c, nil, false, err
	}
	if st.stream == nil && st.streamable && off == 0 && st.size == 0 && key != "" && !n.unlinked {
		st.stream = n.startStream(key)
	}
	st.streamable = false
	s := st.stream
	if s == nil || off != s.pos || !s.wmu.TryLock() {
		return 0, nil, true, nil
	}
	s.pos += int64(len(data))
	st.size = s.pos
	st.dirty = true
	st.gen++
	return len(data), s, false, nil
}

// feed hands data to the stream's pipe (outside node.mu: it waits for the
// upload to take it) and releases the stream's writer lock. An error means
// the upload failed; the caller falls back with materialize.
func (n *fileNode) feed(s *stream, data []byte) error {
	defer s.wmu.Unlock()
	if s.keepHead {
		if s.headLen+len(data) <= headLimit {
			// One copy per write, never a growing buffer re-copied.
			s.head = append(s.head, bytes.Clone(data))
			s.headLen += len(data)
		} else {
			s.head, s.headLen, s.keepHead = nil, 0, false
		}
	}
	_, err := s.pw.Write(data)
	return err
}

// takeStream detaches the file's stream, waits for its last writer and
// ends the pipe: the upload is completed when complete(kept) says so, else
// aborted (kept: the stream still holds its head). It returns the ended
// stream (nil when there was none) and its head.
// LOCKS_REQUIRED(st.upMu)
func (n *fileNode) takeStream(st *staging, complete func(kept bool) bool) (s *stream, head net.Buffers, kept bool) {
	n.mu.Lock()
	s, st.stream = st.stream, nil
	n.mu.Unlock()
	if s == nil {
		return nil, nil, false
	}
	s.wmu.Lock()
	head, kept = s.head, s.keepHead
	if complete(kept) {
		s.pw.Close()
	} else {
		s.pw.CloseWithError(errAbandoned)
	}
	s.wmu.Unlock()
	<-s.done
	return s, head, kept
}

// materialize gives the staging its temp file, holding everything written
// so far: from the stream's head (the upload is abandoned), or by
// completing the stream's upload and downloading it back. Once the data is
// lost (a failed upload past the head) it returns that error, now and at
// every later call.
func (n *fileNode) materialize(ctx context.Context, st *staging) error {
	st.upMu.Lock()
	defer st.upMu.Unlock()
	return n.materializeLocked(ctx, st)
}

// materializeLocked is materialize. LOCKS_REQUIRED(st.upMu)
func (n *fileNode) materializeLocked(ctx context.Context, st *staging) error {
	n.mu.Lock()
	if st.file != nil || st.lost != nil {
		err := st.lost
		n.mu.Unlock()
		return err
	}
	gen, size, resets := st.gen, st.size, st.resets
	n.mu.Unlock()
	s, head, kept := n.takeStream(st, func(kept bool) bool { return !kept })
	tmp, err := newTempFile(n.f.opts.TempDir)
	if err != nil {
		if s != nil {
			return n.lose(st, fmt.Errorf("no temp file for the staged copy: %w", err))
		}
		return err
	}
	switch {
	case s == nil && size > 0:
		// A stream completed by a flush: its bytes are the object.
		err = n.readBack(ctx, tmp, size)
	case s == nil:
	case kept:
		_, err = head.WriteTo(tmp)
	case s.err != nil:
		err = n.lose(st, fmt.Errorf("streamed upload failed: %w", s.err))
	default:
		err = n.adoptUpload(ctx, st, s, tmp, gen)
	}
	if err != nil {
		tmp.Close()
		return err
	}
	n.mu.Lock()
	if st.resets != resets {
		// Truncated to 0 meanwhile (an O_TRUNC open, which may have
		// started a new stream): tmp holds what is gone. Start over.
		n.mu.Unlock()
		tmp.Close()
		return n.materializeLocked(ctx, st)
	}
	st.file = tmp
	n.mu.Unlock()
	return nil
}

// adoptUpload takes a completed stream's object as the file's content and
// downloads it into tmp, so that staging can go on from there.
func (n *fileNode) adoptUpload(ctx context.Context, st *staging, s *stream, tmp io.Writer, gen uint64) error {
	n.recordUpload(st, s.obj, s.pos, gen)
	if err := n.downloadExactly(ctx, s.key, tmp, s.pos); err != nil {
		return n.lose(st, fmt.Errorf("reading back the streamed upload: %w", err))
	}
	n.mu.Lock()
	if st.attrsSet { // a chmod the upload did not carry: the staged copy will
		st.dirty = true
		st.attrsSet = false
	}
	n.mu.Unlock()
	if key, ok := n.key(); !ok || key != s.key {
		// Unlinked or moved while written: the copy at the old key goes;
		// the staged copy is uploaded at the current key, if any.
		_ = n.f.bucket.Delete(ctx, s.key)
		n.mu.Lock()
		st.dirty = true
		n.mu.Unlock()
	}
	return nil
}

// readBack downloads the first size bytes of the file's object, which a
// completed stream uploaded, into tmp.
func (n *fileNode) readBack(ctx context.Context, tmp io.Writer, size int64) error {
	key, ok := n.key()
	if !ok {
		return errors.New("fs: the uploaded copy of this unlinked file is gone")
	}
	return n.downloadExactly(ctx, key, tmp, size)
}

// downloadExactly copies the first size bytes of key, which this file
// uploaded, into w; fewer is an error.
func (n *fileNode) downloadExactly(ctx context.Context, key string, w io.Writer, size int64) error {
	got, err := n.downloadRange(ctx, key, w, size)
	if err == nil && got != size {
		err = fmt.Errorf("fs: downloaded %d of the %d bytes uploaded", got, size)
	}
	return err
}

// lose records that the file's data could not reach OSS and cannot be
// retried: every later write, flush and fsync fails. It returns err.
func (n *fileNode) lose(st *staging, err error) error {
	key, _ := n.key()
	n.f.log.Error("data written to this file did not reach OSS and is lost", "key", key, "err", err)
	n.mu.Lock()
	if st.lost == nil {
		st.lost = err
	}
	st.dirty = false
	n.mu.Unlock()
	return err
}

// finishStream ends the file's stream, if any, at a flush. done says the
// flush is over (the upload completed, or failed for good: err); when it
// is false, whatever the stream held is in the staged file and the caller
// uploads that. LOCKS_REQUIRED(st.upMu)
func (n *fileNode) finishStream(ctx context.Context, st *staging) (done bool, err error) {
	n.mu.Lock()
	gen := st.gen
	n.mu.Unlock()
	key, ok := n.key()
	s, head, kept := n.takeStream(st, func(bool) bool { return ok })
	switch {
	case s == nil:
		return false, nil
	case !ok: // unlinked while open: its data goes with it, as on a disk
		n.mu.Lock()
		st.dirty = false
		n.mu.Unlock()
		return true, nil
	case s.err != nil && kept:
		n.f.log.Warn("streamed upload failed; retrying from the copy in memory", "key", key, "err", s.err)
		return false, n.stageHead(st, head)
	case s.err != nil:
		return true, n.lose(st, fmt.Errorf("streamed upload failed: %w", s.err))
	}
	n.recordUpload(st, s.obj, s.pos, gen)
	if key != s.key { // a directory above was renamed while writing
		if _, err := n.f.bucket.Copy(ctx, s.key, key, ossclient.CopyOptions{}); err != nil {
			return true, err
		}
		if err := n.f.bucket.Delete(ctx, s.key); err != nil {
			return true, err
		}
	}
	return true, n.fixMetaAfterStream(ctx, st, key)
}

// stageHead puts a failed stream's head into a new staged file.
func (n *fileNode) stageHead(st *staging, head net.Buffers) error {
	tmp, err := newTempFile(n.f.opts.TempDir)
	if err == nil {
		_, err = head.WriteTo(tmp)
	}
	if err != nil {
		if tmp != nil {
			tmp.Close()
		}
		return n.lose(st, fmt.Errorf("no temp file for the staged copy: %w", err))
	}
	n.mu.Lock()
	st.file = tmp
	n.mu.Unlock()
	return nil
}

// fixMetaAfterStream stores attributes changed (chmod, chown, utimes)
// after the stream started, which its upload did not carry.
// LOCKS_REQUIRED(st.upMu)
func (n *fileNode) fixMetaAfterStream(ctx context.Context, st *staging, key string) error {
	n.mu.Lock()
	set, a := st.attrsSet, n.a
	st.attrsSet = false
	n.mu.Unlock()
	if !set {
		return nil
	}
	o, err := n.f.bucket.Copy(ctx, key, key, ossclient.CopyOptions{ReplaceMeta: true, Meta: n.f.metaOf(a, syscall.S_IFREG)})
	if err != nil {
		return err
	}
	n.mu.Lock()
	n.a.etag = o.ETag
	n.sawVersionLocked(version{etag: o.ETag, size: n.seen.size}, true)
	n.mu.Unlock()
	return nil
}

// recordUpload notes that obj (size bytes) is now the file's object; the
// staging is clean when nothing changed since generation gen.
func (n *fileNode) recordUpload(st *staging, obj *ossclient.Object, size int64, gen uint64) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if st.gen == gen {
		st.dirty = false
	}
	n.uploaded = true
	n.size = size
	n.a.etag = obj.ETag
	n.a.fromMeta = n.f.opts.PersistMetadata
	n.sawVersionLocked(version{etag: obj.ETag, size: size}, true)
}
