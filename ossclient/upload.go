package ossclient

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"strconv"
	"sync"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"

	"github.com/ossfs/ossfs/ossclient/internal/crc64x"
)

// The upload of a body larger than one part is ossfs's own, not the SDK
// Uploader's, for two reasons measured on a 1 Gbit/s link model
// (docs/benchmarks.md):
//
//   - CPU. The SDK checks every part's CRC-64 with hash/crc64's table;
//     here the same end-to-end check (each part's CRC against the
//     x-oss-hash-crc64ecma OSS answers, and the parts' combined CRC
//     against the completed object's) uses crc64x, folded with a
//     carry-less multiply, several times cheaper. The SDK client these
//     requests go through (Client.upl) has its own check turned off, so
//     the bytes are hashed once. Part buffers are reused, not allocated
//     per part.
//   - No idle link. InitiateMultipartUpload runs while the second part is
//     read, and each part is read while the ones before it are sent, so
//     that a writer as fast as the link keeps it busy from the first part
//     to Complete.

// crcMismatch is the error of a body whose CRC-64 OSS reports differently.
func crcMismatch(what string, ours uint64, theirs string) error {
	return fmt.Errorf("%s: CRC-64 mismatch: sent %d, OSS computed %s (the bytes were damaged on the way)", what, ours, theirs)
}

// checkCRC compares ours with the x-oss-hash-crc64ecma value theirs (not
// checked when OSS sent none, as the SDK does).
func checkCRC(what string, ours uint64, theirs string) error {
	if theirs == "" {
		return nil
	}
	if v, err := strconv.ParseUint(theirs, 10, 64); err != nil || v != ours {
		return crcMismatch(what, ours, theirs)
	}
	return nil
}

// partBuffers hands out part buffers of one size, reused between parts
// and between concurrent uploads (each upload bounds how many it holds).
// When the last running upload ends, the buffers are dropped and the
// memory given back to the OS: a sync.Pool keeps its buffers through a
// GC (its victim cache), so a mount that wrote a large file kept
// parallelism × PartSize (80 MiB) after it, and a 1 GiB write then a
// 1 GiB read in one mount peaked at 215 MiB RSS (127 MiB after this).
// Uploads back to back (cp of many large files) then allocate their
// buffers afresh and pay two GCs each, a few ms per file; deferring the
// drop by a second kept the write-then-read peak at 224 MiB.
type partBuffers struct {
	size  int64
	mu    sync.Mutex
	pool  *sync.Pool // GUARDED_BY(mu)
	users int        // GUARDED_BY(mu)
}

func newPartBuffers(size int64) *partBuffers {
	return &partBuffers{size: size, pool: newPartPool(size)}
}

func newPartPool(size int64) *sync.Pool {
	return &sync.Pool{New: func() any { return make([]byte, size) }}
}

// begin returns the pool an upload takes its buffers from and returns
// them to; end, when it is done with it.
func (b *partBuffers) begin() *sync.Pool {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.users++
	return b.pool
}

func (b *partBuffers) end() {
	b.mu.Lock()
	b.users--
	idle := b.users == 0
	if idle {
		b.pool = newPartPool(b.size)
	}
	b.mu.Unlock()
	if idle {
		// Two collections: the first moves a pool's buffers to its
		// victim cache (and the runtime still lists the pool), the
		// second frees them.
		go func() {
			runtime.GC()
			debug.FreeOSMemory()
		}()
	}
}

// partJob is one part handed to an upload worker.
type partJob struct {
	num  int32
	data []byte
	buf  []byte // returned to the pool when sent (nil: not pooled)
}

// multipart is one streamed multipart upload.
type multipart struct {
	c    *Client
	full string
	ctx  context.Context // ended at the first failure
	stop context.CancelFunc

	initDone chan struct{}
	bufs     *sync.Pool // part buffers (partBuffers.begin)
	id       string     // set before initDone closes (empty on failure)

	mu       sync.Mutex
	firstErr error            // GUARDED_BY(mu)
	firstOp  string           // GUARDED_BY(mu)
	parts    []oss.UploadPart // GUARDED_BY(mu), indexed by part number - 1
	crcs     []uint64         // GUARDED_BY(mu)
	sizes    []int64          // GUARDED_BY(mu)
}

func (m *multipart) fail(op string, err error) {
	m.mu.Lock()
	if m.firstErr == nil {
		m.firstErr, m.firstOp = err, op
	}
	m.mu.Unlock()
	m.stop()
}

func (m *multipart) err() (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.firstOp, m.firstErr
}

// putMultipart uploads head (PartSize+1 bytes) and the rest of r as a
// multipart upload; see the comment at the top of this file.
func (c *Client) putMultipart(ctx context.Context, key, full string, req *oss.PutObjectRequest, head []byte, r io.Reader) (*Object, error) {
	pctx, stop := context.WithCancel(ctx)
	defer stop()
	bufs := c.parts.begin()
	defer c.parts.end()
	m := &multipart{c: c, full: full, ctx: pctx, stop: stop, initDone: make(chan struct{}), bufs: bufs}
	go m.initiate(context.WithoutCancel(ctx), req)

	par := c.cfg.UploadParallelism
	jobs := make(chan partJob)
	slots := make(chan struct{}, par+1) // buffers out: par sending, one queued
	var wg sync.WaitGroup
	for range par {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				m.send(j)
				if j.buf != nil {
					bufs.Put(j.buf[:cap(j.buf)])
				}
				<-slots
			}
		}()
	}
	total, err := m.feed(head, r, jobs, slots)
	close(jobs)
	wg.Wait()
	<-m.initDone
	if err != nil {
		m.fail("MultipartUpload", err)
	}
	var res *oss.CompleteMultipartUploadResult
	op, err := m.err()
	if err == nil {
		res, op, err = m.complete()
	}
	if err != nil {
		if m.id != "" {
			c.abortUpload(ctx, full, m.id)
		}
		if op == "" {
			op = "MultipartUpload"
		}
		return nil, convErr(ctx, op, key, full, err)
	}
	return &Object{
		Key:     key,
		Size:    total,
		ModTime: respTime(res.Headers),
		ETag:    unquote(oss.ToString(res.ETag)),
		Type:    TypeMultipart,
		Meta:    copyMeta(req.Metadata),
	}, nil
}

// initiate starts the upload (while the first parts are read). It runs to
// its end even when the caller gives up meanwhile (ctx has no
// cancellation): an upload OSS opened must be known, to be aborted.
func (m *multipart) initiate(ctx context.Context, req *oss.PutObjectRequest) {
	defer close(m.initDone)
	res, err := m.c.upl.InitiateMultipartUpload(ctx, &oss.InitiateMultipartUploadRequest{
		Bucket: req.Bucket, Key: req.Key, Metadata: req.Metadata,
		ContentType: req.ContentType, ForbidOverwrite: req.ForbidOverwrite,
	})
	if err != nil {
		m.fail("InitiateMultipartUpload", err)
		return
	}
	m.id = oss.ToString(res.UploadId)
}

// feed cuts head and the rest of r into parts and hands them to the
// workers, each part read while the ones before are sent (at most
// UploadParallelism+1 buffers out). It returns the bytes read, or r's
// error.
func (m *multipart) feed(head []byte, r io.Reader, jobs chan<- partJob, slots chan struct{}) (int64, error) {
	size := m.c.cfg.PartSize
	total := int64(len(head))
	slots <- struct{}{}
	if !m.dispatch(jobs, partJob{num: 1, data: head[:size]}) {
		return total, nil
	}
	carry := head[size:]
	for num := int32(2); ; num++ {
		select {
		case slots <- struct{}{}:
		case <-m.ctx.Done():
			return total, nil
		}
		buf := m.bufs.Get().([]byte)
		n := copy(buf, carry)
		carry = nil
		k, err := io.ReadFull(r, buf[n:])
		n += k
		total += int64(k)
		last := errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
		if err != nil && !last {
			m.bufs.Put(buf)
			<-slots
			return total, err
		}
		if n == 0 {
			m.bufs.Put(buf)
			<-slots
			return total, nil
		}
		if !m.dispatch(jobs, partJob{num: num, data: buf[:n], buf: buf}) {
			m.bufs.Put(buf)
			return total, nil
		}
		if last {
			return total, nil
		}
	}
}

// dispatch hands j to a worker; false once the upload has failed (j's
// buffer is returned and its slot freed).
func (m *multipart) dispatch(jobs chan<- partJob, j partJob) bool {
	select {
	case jobs <- j:
		return true
	case <-m.ctx.Done():
		return false
	}
}

// send uploads one part and checks its CRC-64.
func (m *multipart) send(j partJob) {
	<-m.initDone
	if m.ctx.Err() != nil || m.id == "" {
		return
	}
	crc := crc64x.Checksum(j.data)
	body := &bodyReader{data: j.data}
	res, err := m.c.upl.UploadPart(withInPlaceBody(m.ctx, body), &oss.UploadPartRequest{
		Bucket: &m.c.bucket, Key: &m.full, UploadId: &m.id, PartNumber: j.num,
		Body: body, ContentLength: oss.Ptr(int64(len(j.data))),
	})
	if err == nil {
		err = checkCRC(fmt.Sprintf("part %d", j.num), crc, oss.ToString(res.HashCRC64))
	}
	if err != nil {
		m.fail("UploadPart", err)
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for int(j.num) > len(m.parts) {
		m.parts, m.crcs, m.sizes = append(m.parts, oss.UploadPart{}), append(m.crcs, 0), append(m.sizes, 0)
	}
	m.parts[j.num-1] = oss.UploadPart{PartNumber: j.num, ETag: res.ETag}
	m.crcs[j.num-1], m.sizes[j.num-1] = crc, int64(len(j.data))
}

// complete completes the upload and checks the object's CRC-64 against
// the parts' combined.
func (m *multipart) complete() (*oss.CompleteMultipartUploadResult, string, error) {
	m.mu.Lock()
	parts := m.parts
	var crc uint64
	for i, c := range m.crcs {
		crc = crc64x.Combine(crc, c, m.sizes[i])
	}
	m.mu.Unlock()
	res, err := m.c.upl.CompleteMultipartUpload(m.ctx, &oss.CompleteMultipartUploadRequest{
		Bucket: &m.c.bucket, Key: &m.full, UploadId: &m.id,
		CompleteMultipartUpload: &oss.CompleteMultipartUpload{Parts: parts},
	})
	if err != nil {
		return nil, "CompleteMultipartUpload", err
	}
	if err := checkCRC("the completed object", crc, res.Headers.Get("x-oss-hash-crc64ecma")); err != nil {
		return nil, "CompleteMultipartUpload", err
	}
	return res, "", nil
}

// bodyReader is a part's body: an io.ReadSeeker (so the SDK may retry it)
// that also hands its bytes to the HTTP transport without a copy
// (io.WriterTo).
type bodyReader struct {
	data []byte
	off  int
}

func (b *bodyReader) Read(p []byte) (int, error) {
	if b.off >= len(b.data) {
		return 0, io.EOF
	}
	n := copy(p, b.data[b.off:])
	b.off += n
	return n, nil
}

func (b *bodyReader) WriteTo(w io.Writer) (int64, error) {
	n, err := w.Write(b.data[b.off:])
	b.off += n
	return int64(n), err
}

func (b *bodyReader) Seek(off int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		off += int64(b.off)
	case io.SeekEnd:
		off += int64(len(b.data))
	}
	if off < 0 || off > int64(len(b.data)) {
		return 0, errors.New("ossclient: seek outside the part")
	}
	b.off = int(off)
	return off, nil
}
