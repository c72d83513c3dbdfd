package ossclient

import (
	"context"
	"io"
	"net"
	"net/http"
	"sync"
	"time"
)

// Request bodies go out in large writes. net/http copies a body onto the
// connection with io.Copy, whose 32 KiB buffer made one write syscall
// (and one deadline update of the SDK's connection wrapper) per 32 KiB of
// every part: 32,768 per GiB uploaded over plain HTTP.
//
// Each write must still end within Config.ReadWriteTimeout (the SDK sets
// the deadline once per write), also on a slow link shared by parallel
// parts: the writes start at minChunk and double only while a write takes
// less than fastWrite, up to maxChunk, and halve when one takes more than
// slowWrite. A write is then at most about twice what the connection
// moved in fastWrite, far below the 30 s default timeout.
const (
	minChunk  = 32 << 10
	maxChunk  = 512 << 10
	fastWrite = time.Second
	slowWrite = 4 * time.Second
)

var bodyBufs = sync.Pool{New: func() any { b := make([]byte, maxChunk); return &b }}

// bigWrites makes the transport's connections copy request bodies in
// growing writes (bodyConn).
func bigWrites(t *http.Transport) {
	dial := t.DialContext
	if dial == nil {
		return
	}
	t.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &bodyConn{Conn: c, now: time.Now}, nil
	}
}

// bodyConn is a connection whose ReadFrom (what net/http's io.Copy of a
// request body calls once its header buffer is flushed) writes in chunks
// of a size that follows the connection's pace (see above). A TLS
// connection wraps it and does not call it.
type bodyConn struct {
	net.Conn
	now func() time.Time
}

func (c *bodyConn) ReadFrom(r io.Reader) (int64, error) {
	if lr, ok := r.(*io.LimitedReader); ok {
		if src, ok := lr.R.(interface {
			unread() []byte
			skip(int)
		}); ok {
			if b := src.unread(); b != nil && int64(len(b)) >= lr.N {
				// The body's bytes, written from where they are.
				p := pacer{size: minChunk, now: c.now}
				n, err := p.write(c.Conn, b[:lr.N])
				src.skip(n)
				lr.N -= int64(n)
				return int64(n), err
			}
		}
	}
	bp := bodyBufs.Get().(*[]byte)
	defer bodyBufs.Put(bp)
	buf := *bp
	p := pacer{size: minChunk, now: c.now}
	total := int64(0)
	for {
		n, rerr := io.ReadFull(r, buf[:p.size])
		m, err := p.write(c.Conn, buf[:n])
		total += int64(m)
		if err != nil {
			return total, err
		}
		if rerr == io.EOF || rerr == io.ErrUnexpectedEOF {
			return total, nil
		}
		if rerr != nil {
			return total, rerr
		}
	}
}

// pacer writes in chunks of size, which follows the connection's pace
// (see the top of this file).
type pacer struct {
	size int
	now  func() time.Time
}

// write writes all of b, in chunks of at most p.size.
func (p *pacer) write(w io.Writer, b []byte) (int, error) {
	total := 0
	for len(b) > 0 {
		n := min(len(b), p.size)
		start := p.now()
		m, err := w.Write(b[:n])
		total += m
		if err != nil {
			return total, err
		}
		switch d := p.now().Sub(start); {
		case d < fastWrite && p.size < maxChunk:
			p.size *= 2
		case d > slowWrite && p.size > minChunk:
			p.size /= 2
		}
		b = b[n:]
	}
	return total, nil
}

// inPlaceKey marks a request's context with the bodyReader its body reads
// from (withInPlaceBody).
type inPlaceKey struct{}

// withInPlaceBody says that the request sent under ctx reads its body
// from b and nothing else (a request of Client.upl: no CRC-64 or progress
// tracker reads along), so that the connection may write b's bytes from
// where they are: neither the SDK's reader wrapper nor a buffer copies
// them (bodyConn.ReadFrom).
func withInPlaceBody(ctx context.Context, b *bodyReader) context.Context {
	return context.WithValue(ctx, inPlaceKey{}, b)
}

func inPlaceBody(ctx context.Context) *bodyReader {
	b, _ := ctx.Value(inPlaceKey{}).(*bodyReader)
	return b
}
