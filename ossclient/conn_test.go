package ossclient

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
)

// countingConn counts the Write calls on a connection.
type countingConn struct {
	net.Conn
	writes *atomic.Int64
}

func (c countingConn) Write(p []byte) (int, error) {
	c.writes.Add(1)
	return c.Conn.Write(p)
}

// TestBigWritesRequestBody: a request body of 4 MiB goes out in writes of
// bodyChunk, not in net/http's 32 KiB (128 writes).
func TestBigWritesRequestBody(t *testing.T) {
	var got atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := io.Copy(io.Discard, r.Body)
		got.Store(n)
	}))
	defer srv.Close()
	var writes atomic.Int64
	tr := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return countingConn{c, &writes}, nil
	}}
	bigWrites(tr)
	defer tr.CloseIdleConnections()
	const size = 4 << 20
	body := &bodyReader{data: make([]byte, size)}
	req, err := http.NewRequest(http.MethodPut, srv.URL+"/x", body)
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = size
	res, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if got.Load() != size {
		t.Fatalf("the server got %d bytes, want %d", got.Load(), size)
	}
	// The header and the first 4 KiB (net/http's own buffer), then the
	// rest in chunks.
	if n, max := writes.Load(), int64(size/bodyChunk+2); n > max {
		t.Errorf("the body went out in %d writes, want at most %d", n, max)
	}
}
