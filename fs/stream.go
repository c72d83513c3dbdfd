package fs

import (
	"context"
	"errors"
	"io"
	"mime"
	"path"
	"sync"
	"syscall"

	"github.com/ossfs/ossfs/ossclient"
)

// A new or truncated file written sequentially from offset 0 is also fed,
// as it is written, into an io.Pipe read by Bucket.Put, which sends large
// bodies as a multipart upload with parts in parallel: the upload overlaps
// the writing, and close(2) waits only for the tail. The staged temp file
// is still written, so the moment anything is not a plain append (a write
// elsewhere, a concurrent write, a truncate, a second flush) the stream is
// abandoned — Put then aborts its multipart upload — and the staged copy is
// uploaded as usual.

// errAbandoned ends a stream whose data will be uploaded from the staged copy.
var errAbandoned = errors.New("sequential upload abandoned; the staged copy is uploaded instead")

// stream is one sequential upload in flight.
type stream struct {
	pw  *io.PipeWriter
	key string
	// wmu is held by the one writer feeding the pipe; a second writer that
	// finds it taken abandons the stream rather than wait (and reorder).
	wmu  sync.Mutex
	pos  int64 // GUARDED_BY(node.mu): bytes handed to the pipe
	done chan struct{}
	obj  *ossclient.Object // set before done is closed
	err  error             // set before done is closed
}

// startStream begins the upload of key fed by the pipe. LOCKS_REQUIRED(n.mu).
func (n *fileNode) startStream(key string) *stream {
	pr, pw := io.Pipe()
	s := &stream{pw: pw, key: key, done: make(chan struct{})}
	n.stage.attrsSet = false
	opts := ossclient.PutOptions{
		Meta:        n.f.metaOf(n.a, syscall.S_IFREG),
		ContentType: mime.TypeByExtension(path.Ext(key)),
	}
	n.f.pending.Add(1)
	go func() {
		defer n.f.pending.Done()
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

// write stores data at off in the staging and, when it extends a sequential
// stream, returns the stream to feed (its wmu held). It starts a stream for
// the first write of a new or truncated file. LOCKS_REQUIRED(n.mu).
func (n *fileNode) writeLocked(key string, data []byte, off int64) (int, *stream, *stream, error) {
	st := n.stage
	if st.stream == nil && st.streamable && off == 0 && st.size == 0 && key != "" {
		st.stream = n.startStream(key)
	}
	st.streamable = false
	c, err := st.writeAt(data, off)
	s := st.stream
	if s == nil {
		return c, nil, nil, err
	}
	if err == nil && off == s.pos && s.wmu.TryLock() {
		s.pos += int64(c)
		return c, s, nil, nil
	}
	st.stream = nil
	return c, nil, s, err
}

// feed hands data to the stream's pipe (outside node.mu: it waits for the
// upload to take it) and releases the stream's writer lock.
func (n *fileNode) feed(s *stream, data []byte) {
	_, err := s.pw.Write(data)
	s.wmu.Unlock()
	if err != nil {
		n.detachStream(s)
	}
}

// detachStream stops using s: the staged copy is uploaded instead.
func (n *fileNode) detachStream(s *stream) {
	n.mu.Lock()
	if n.stage != nil && n.stage.stream == s {
		n.stage.stream = nil
	}
	n.mu.Unlock()
	s.pw.CloseWithError(errAbandoned)
}

// finishStream ends the file's stream, if any, at a flush. It reports
// whether the stream uploaded exactly the staged content with the current
// attributes (the staging is then clean): no chmod/chown/utimes came after
// it started. Its mtime metadata is the time the writing began (writes
// alone do not abandon it). LOCKS_REQUIRED(st.upMu).
func (n *fileNode) finishStream(st *staging) bool {
	n.mu.Lock()
	s := st.stream
	st.stream = nil
	n.mu.Unlock()
	if s == nil {
		return false
	}
	s.wmu.Lock() // the last writer has handed over its data
	n.mu.Lock()
	complete := s.pos == st.size && !st.attrsSet
	gen := st.gen
	n.mu.Unlock()
	key, ok := n.key()
	if !complete || !ok || key != s.key {
		s.pw.CloseWithError(errAbandoned)
		s.wmu.Unlock()
		<-s.done
		return false
	}
	s.pw.Close()
	s.wmu.Unlock()
	<-s.done
	if s.err != nil {
		n.f.log.Warn("sequential upload failed; uploading the staged copy", "key", key, "err", s.err)
		return false
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if st.gen == gen {
		st.dirty = false
	}
	n.uploaded = true
	n.size = s.pos
	n.a.etag = s.obj.ETag
	n.a.fromMeta = n.f.opts.PersistMetadata
	return true
}
