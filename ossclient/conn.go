package ossclient

import (
	"context"
	"io"
	"net"
	"net/http"
	"sync"
)

// bodyChunk is the size of the writes a request body goes out in.
// net/http copies a body onto the connection with io.Copy, whose 32 KiB
// buffer made one write syscall (and one deadline update of the SDK's
// connection wrapper) per 32 KiB of every part: 32,768 per GiB uploaded.
const bodyChunk = 512 << 10

var bodyBufs = sync.Pool{New: func() any { b := make([]byte, bodyChunk); return &b }}

// bigWrites makes the transport's connections copy request bodies in
// bodyChunk writes (bodyConn).
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
		return bodyConn{c}, nil
	}
}

// bodyConn is a connection whose ReadFrom (what net/http's io.Copy of a
// request body calls once its header buffer is flushed) copies through a
// bodyChunk buffer. A TLS connection wraps it and does not call it.
type bodyConn struct{ net.Conn }

func (c bodyConn) ReadFrom(r io.Reader) (int64, error) {
	bp := bodyBufs.Get().(*[]byte)
	defer bodyBufs.Put(bp)
	return io.CopyBuffer(writerOnly{c.Conn}, r, *bp)
}

// writerOnly hides every method of w but Write (io.CopyBuffer would take
// w's ReadFrom instead of the buffer).
type writerOnly struct{ w io.Writer }

func (o writerOnly) Write(p []byte) (int, error) { return o.w.Write(p) }
