package writeback

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

	"github.com/ossfs/ossfs/ossclient"
)

// errAbandoned ends a stream whose data will be uploaded from the staged copy.
var errAbandoned = errors.New("sequential upload abandoned; the staged copy is uploaded instead")

// stream is one sequential upload in flight: writes are fed into pw, read
// by Store.Put in a goroutine (fillpipe.go).
type stream struct {
	pw  *fillPipe
	key string
	// wmu is held by the one writer feeding the pipe; a second writer that
	// finds it taken falls back to staging rather than wait (and reorder).
	wmu      sync.Mutex
	pos      int64       // GUARDED_BY(File.mu): bytes accepted for the pipe
	head     net.Buffers // GUARDED_BY(wmu): copies of the writes so far, while keepHead
	headLen  int         // GUARDED_BY(wmu)
	keepHead bool        // GUARDED_BY(wmu)
	done     chan struct{}
	obj      *ossclient.Object // set before done is closed
	err      error             // set before done is closed
	// meta is the metadata the upload sent, taken from the Host when its
	// request was built (after the body, or the first part, was read);
	// read after done is closed.
	meta map[string]string
}

// streamStart is what starting a stream needs from the Host, gathered
// outside File.mu.
type streamStart struct {
	key     string
	ok      bool   // false: unlinked, no stream
	attrGen uint64 // AttrsChanged calls seen before the stream
}

func (f *File) prepareStream() *streamStart {
	f.mu.Lock()
	g := f.attrGen
	f.mu.Unlock()
	key, ok := f.host.Key()
	return &streamStart{key: key, ok: ok, attrGen: g}
}

// startStream begins the upload of st.key fed by a pipe. LOCKS_REQUIRED(mu)
func (f *File) startStream(st *streamStart) *stream {
	pw := newFillPipe()
	s := &stream{pw: pw, key: st.key, done: make(chan struct{}), keepHead: true}
	if f.attrGen == st.attrGen { // the upload takes the metadata later still
		f.attrsSet = false
	}
	// The metadata as the writes left it when the upload sends it: a small
	// file's PutObject after its last write carries its final mtime; a
	// multipart upload's (sent at Initiate) is fixed at the end when it
	// is out of date (fixMetaAfterStream).
	sendMeta := func() map[string]string {
		s.meta = f.host.Meta()
		return s.meta
	}
	opts := ossclient.PutOptions{MetaAtSend: sendMeta, ContentType: mime.TypeByExtension(path.Ext(st.key))}
	f.track(1)
	go func() {
		defer f.track(-1)
		obj, err := f.store.Put(context.Background(), st.key, pw, opts)
		closeErr := err
		if closeErr == nil {
			closeErr = errAbandoned // a writer still arriving must not block
		}
		pw.CloseRead(closeErr)
		s.obj, s.err = obj, err
		close(s.done)
	}()
	return s
}

// WriteAt stores data at off: into the staged file when there is one,
// else into the stream when data extends it, else it stages the content
// first (materialize) and writes there.
func (f *File) WriteAt(ctx context.Context, data []byte, off int64) (int, error) {
	var start *streamStart
	for tries := 0; ; {
		f.mu.Lock()
		c, feed, need, err := f.writeLocked(data, off, start)
		f.mu.Unlock()
		switch {
		case need == needStart:
			start = f.prepareStream()
			continue
		case feed != nil:
			if f.feed(feed, data) != nil {
				// The upload failed under this write: go on from the copy
				// in memory (which holds this write too), or report it.
				err = f.materialize(ctx)
			}
		case need == needFile && tries == 0:
			tries++
			if err = f.materialize(ctx); err == nil {
				continue
			}
		case need == needFile:
			err = errors.New("writeback: no staged copy after materialize") // a bug, never a silent loss
		}
		if err != nil {
			return 0, err
		}
		return c, nil
	}
}

// What writeLocked needs before it can write.
const (
	needNothing = iota
	needStart   // key and metadata for a new stream: prepareStream
	needFile    // the staged file: materialize
)

// writeLocked stores data at off: into the staged file when there is one,
// else into the stream when data extends it (returned with its wmu held:
// the caller feeds it). LOCKS_REQUIRED(mu)
func (f *File) writeLocked(data []byte, off int64, start *streamStart) (c int, feed *stream, need int, err error) {
	if f.lost != nil {
		return 0, nil, needNothing, f.lost
	}
	if f.file != nil {
		f.streamable = false
		c, err = f.writeAtLocked(data, off)
		return c, nil, needNothing, err
	}
	if f.stream == nil && f.streamable && off == 0 && f.size == 0 && !f.unlinked {
		if start == nil {
			return 0, nil, needStart, nil
		}
		if start.ok {
			f.stream = f.startStream(start)
		}
	}
	f.streamable = false
	s := f.stream
	if s == nil || off != s.pos || !s.wmu.TryLock() {
		return 0, nil, needFile, nil
	}
	s.pos += int64(len(data))
	f.size = s.pos
	f.dirty = true
	f.gen++
	return len(data), s, needNothing, nil
}

// feed hands data to the stream's pipe (outside mu: it waits for the
// upload to take it) and releases the stream's writer lock. An error means
// the upload failed; the caller falls back with materialize.
func (f *File) feed(s *stream, data []byte) error {
	defer s.wmu.Unlock()
	if s.keepHead {
		if s.headLen+len(data) <= f.opts.HeadLimit {
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
// stream (nil when there was none) and its head. LOCKS_REQUIRED(upMu)
func (f *File) takeStream(complete func(kept bool) bool) (s *stream, head net.Buffers, kept bool) {
	f.mu.Lock()
	s, f.stream = f.stream, nil
	f.mu.Unlock()
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

// materialize gives the File its staged temp file, holding everything
// written so far: from the stream's head (the upload is abandoned), or by
// completing the stream's upload and downloading it back. Once the data is
// lost (a failed upload past the head) it returns that error, now and at
// every later call.
//
// The work is the whole file's, not one request's: it runs detached from
// ctx (one run at a time; callers arriving meanwhile wait for that run).
// A caller whose ctx ends (an interrupted syscall) stops waiting and gets
// ctx's error; the run goes on, and its result is the file's state.
func (f *File) materialize(ctx context.Context) error {
	f.mu.Lock()
	run := f.materializing
	if run == nil {
		run = &flight{done: make(chan struct{})}
		f.materializing = run
		f.track(1)
		go func() {
			defer f.track(-1)
			f.upMu.Lock()
			run.err = f.materializeLocked(context.WithoutCancel(ctx))
			f.upMu.Unlock()
			f.mu.Lock()
			f.materializing = nil
			f.mu.Unlock()
			close(run.done)
		}()
	}
	f.mu.Unlock()
	select {
	case <-run.done:
		return run.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// flight is one run of shared work and its result.
type flight struct {
	done chan struct{}
	err  error // set before done is closed
}

// track counts work running on its own goroutine in Options.Streams, so
// that an unmount waits for it.
func (f *File) track(delta int) {
	if f.opts.Streams != nil {
		f.opts.Streams.Add(delta)
	}
}

// materializeLocked is materialize. LOCKS_REQUIRED(upMu)
func (f *File) materializeLocked(ctx context.Context) error {
	f.mu.Lock()
	if f.closed && f.file == nil {
		// Nothing to stage any more; a caller that retried on success
		// would spin.
		f.mu.Unlock()
		return ErrClosed
	}
	if f.file != nil || f.lost != nil {
		err := f.lost
		f.mu.Unlock()
		return err
	}
	gen, size, resets := f.gen, f.size, f.resets
	f.mu.Unlock()
	// The temp file first: without one the stream goes on untouched and
	// only the caller fails.
	tmp, err := newTempFile(f.opts.TempDir)
	if err != nil {
		return fmt.Errorf("no temp file for the staged copy: %w", err)
	}
	s, head, kept := f.takeStream(func(kept bool) bool { return !kept })
	switch {
	case s == nil && size > 0:
		// A stream completed by a flush: its bytes are the object.
		err = f.readBack(ctx, tmp, size)
	case s == nil:
	case kept:
		_, err = head.WriteTo(tmp)
	case s.err != nil:
		err = f.lose(fmt.Errorf("streamed upload failed: %w", s.err))
	default:
		err = f.adoptUpload(ctx, s, tmp, gen)
	}
	if err != nil {
		tmp.Close()
		return err
	}
	f.mu.Lock()
	if f.resets != resets {
		// Truncated to 0 meanwhile (an O_TRUNC open, which may have
		// started a new stream): tmp holds what is gone. Start over.
		f.mu.Unlock()
		tmp.Close()
		return f.materializeLocked(ctx)
	}
	f.file = tmp
	f.mu.Unlock()
	return nil
}

// adoptUpload takes a completed stream's object as the file's content and
// downloads it into tmp, so that staging can go on from there. When the
// download fails, the object is still the file's complete content: the
// File is left Uploaded (no local copy) and the next materialize reads it
// back again; nothing is lost.
func (f *File) adoptUpload(ctx context.Context, s *stream, tmp io.Writer, gen uint64) error {
	f.recordUpload(s.obj, s.pos, gen)
	key, ok := f.host.Key()
	if err := f.downloadExactly(ctx, s.key, tmp, s.pos); err != nil {
		if ok && key == s.key {
			return fmt.Errorf("reading back the streamed upload (complete in OSS): %w", err)
		}
		return f.lose(fmt.Errorf("reading back the streamed upload of a file moved or unlinked meanwhile: %w", err))
	}
	f.mu.Lock()
	if f.attrsSet { // a chmod the upload did not carry: the staged copy will
		f.dirty = true
		f.attrsSet = false
	}
	f.mu.Unlock()
	if !ok || key != s.key {
		// Unlinked or moved while written: the copy at the old key goes;
		// the staged copy is uploaded at the current key, if any.
		_ = f.store.Delete(ctx, s.key)
		f.mu.Lock()
		f.dirty = true
		f.mu.Unlock()
	}
	return nil
}

// readBack downloads the first size bytes of the file's object, which a
// completed stream uploaded, into tmp.
func (f *File) readBack(ctx context.Context, tmp io.Writer, size int64) error {
	key, ok := f.host.Key()
	if !ok {
		return errors.New("writeback: the uploaded copy of this unlinked file is gone")
	}
	return f.downloadExactly(ctx, key, tmp, size)
}

// downloadExactly copies the first size bytes of key, which this file
// uploaded, into w; fewer is an error.
func (f *File) downloadExactly(ctx context.Context, key string, w io.Writer, size int64) error {
	got, err := f.download(ctx, key, w, size)
	if err == nil && got != size {
		err = fmt.Errorf("writeback: downloaded %d of the %d bytes uploaded", got, size)
	}
	return err
}

// lose records that the file's data could not reach OSS and cannot be
// retried: every later write, flush and fsync fails. It returns err.
func (f *File) lose(err error) error {
	key, _ := f.host.Key()
	f.opts.Logger.Error("data written to this file did not reach OSS and is lost", "key", key, "err", err)
	f.mu.Lock()
	if f.lost == nil {
		f.lost = err
	}
	f.dirty = false
	f.mu.Unlock()
	return err
}
