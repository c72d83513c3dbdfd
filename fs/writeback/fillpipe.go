package writeback

import (
	"io"
	"sync"
)

// fillPipe connects a stream's writers (FUSE writes) to its upload
// (Store.Put reading the body) like io.Pipe, with one difference: a Read
// returns only once its buffer is full, or the writing side has closed.
// A write copies its bytes straight into the buffer of the Read waiting
// (the upload's part buffer) and returns without waking the reader unless
// it filled that buffer, so the writer and the upload trade places once
// per part instead of once per write (an io.Pipe wakes the reader for
// every write: two goroutine switches, often two thread wake-ups, per
// 32 KiB or 1 MiB FUSE write). The upload reads whole parts anyway
// (io.ReadFull), so it sees the same bytes at the same moments.
//
// Like io.Pipe, a Write returns once all its bytes are in a reader's
// buffer (the upload's pace is the writers'), and either side's close
// ends the other's waits.
type fillPipe struct {
	mu   sync.Mutex
	cond sync.Cond // signalled when buf, n, werr or rerr change
	buf  []byte    // GUARDED_BY(mu): the waiting Read's buffer; nil when none
	n    int       // GUARDED_BY(mu): bytes of buf filled
	werr error     // GUARDED_BY(mu): the writing side's close (io.EOF: Close)
	rerr error     // GUARDED_BY(mu): the reading side's close
}

func newFillPipe() *fillPipe {
	p := &fillPipe{}
	p.cond.L = &p.mu
	return p
}

// Read fills b, waiting for writes, and returns len(b) bytes, or fewer
// once the writing side has closed (then its error, io.EOF for Close, at
// the next Read). One Read at a time.
func (p *fillPipe) Read(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.rerr != nil {
		return 0, io.ErrClosedPipe
	}
	if len(b) == 0 || p.buf != nil {
		return 0, nil // p.buf != nil: a concurrent Read, which io.Reader does not allow
	}
	p.buf, p.n = b, 0
	p.cond.Broadcast() // writers waiting for a buffer
	for p.n < len(b) && p.werr == nil && p.rerr == nil {
		p.cond.Wait()
	}
	n := p.n
	p.buf, p.n = nil, 0
	switch {
	case n > 0:
		return n, nil
	case p.rerr != nil:
		return 0, io.ErrClosedPipe
	default:
		return 0, p.werr
	}
}

// Write copies b into the buffers of the Reads to come, waiting for them;
// it returns early only with the error the reading side closed with
// (io.ErrClosedPipe for nil), or io.ErrClosedPipe after the writing side
// closed.
func (p *fillPipe) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	total := 0
	for len(b) > 0 {
		switch {
		case p.rerr != nil:
			return total, p.rerr
		case p.werr != nil:
			return total, io.ErrClosedPipe
		case p.buf != nil && p.n < len(p.buf):
			c := copy(p.buf[p.n:], b)
			p.n += c
			b, total = b[c:], total+c
			if p.n == len(p.buf) {
				p.cond.Broadcast() // the Read's buffer is full
			}
		default:
			p.cond.Wait()
		}
	}
	return total, nil
}

// Close ends the writing side: Read returns what was written, then io.EOF.
func (p *fillPipe) Close() error { return p.CloseWithError(nil) }

// CloseWithError ends the writing side: Read returns what was written,
// then err (io.EOF when nil). The first close wins.
func (p *fillPipe) CloseWithError(err error) error {
	if err == nil {
		err = io.EOF
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.werr == nil {
		p.werr = err
	}
	p.cond.Broadcast()
	return nil
}

// CloseRead ends the reading side: writes fail with err
// (io.ErrClosedPipe when nil). The first close wins.
func (p *fillPipe) CloseRead(err error) {
	if err == nil {
		err = io.ErrClosedPipe
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.rerr == nil {
		p.rerr = err
	}
	p.cond.Broadcast()
}
