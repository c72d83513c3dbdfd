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
	bp := bodyBufs.Get().(*[]byte)
	defer bodyBufs.Put(bp)
	buf := *bp
	size, total := minChunk, int64(0)
	for {
		n, rerr := io.ReadFull(r, buf[:size])
		if n > 0 {
			start := c.now()
			m, err := c.Conn.Write(buf[:n])
			total += int64(m)
			if err != nil {
				return total, err
			}
			switch d := c.now().Sub(start); {
			case d < fastWrite && size < maxChunk:
				size *= 2
			case d > slowWrite && size > minChunk:
				size /= 2
			}
		}
		if rerr == io.EOF || rerr == io.ErrUnexpectedEOF {
			return total, nil
		}
		if rerr != nil {
			return total, rerr
		}
	}
}
