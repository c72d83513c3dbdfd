package ossclient

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
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

// TestBigWritesRequestBody: a request body of 4 MiB goes out in writes
// growing to maxChunk (a fast connection), not in net/http's 32 KiB (128
// writes).
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
	// The header and the first 4 KiB (net/http's own buffer), then
	// 32+64+128+256 KiB, then the rest in maxChunk.
	if n, max := writes.Load(), int64(2+4+(size-480<<10)/maxChunk+1); n > max {
		t.Errorf("the body went out in %d writes, want at most %d", n, max)
	}
}

// slowConn takes d of a fake clock per write and records the sizes.
type slowConn struct {
	net.Conn
	clock *time.Time
	d     func(n int) time.Duration
	sizes []int
}

func (c *slowConn) Write(p []byte) (int, error) {
	*c.clock = c.clock.Add(c.d(len(p)))
	c.sizes = append(c.sizes, len(p))
	return len(p), nil
}

// TestBodyConnFollowsThePace: on a connection moving 20 KiB/s (a slow
// link shared by parts), the writes stay below what it moves in a few
// seconds, so none nears the 30 s deadline; on a fast one they grow to
// maxChunk. Every byte is written, in order.
func TestBodyConnFollowsThePace(t *testing.T) {
	for _, tc := range []struct {
		name    string
		rate    int // bytes/s
		maxSize int
		reaches int
	}{
		{"slow", 20 << 10, 128 << 10, 0},
		{"fast", 100 << 20, maxChunk, maxChunk},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock := time.Unix(0, 0)
			sc := &slowConn{clock: &clock, d: func(n int) time.Duration {
				return time.Duration(n) * time.Second / time.Duration(tc.rate)
			}}
			c := &bodyConn{Conn: sc, now: func() time.Time { return clock }}
			const size = 3<<20 + 5
			n, err := c.ReadFrom(&io.LimitedReader{R: &bodyReader{data: make([]byte, size)}, N: size})
			if err != nil || n != size {
				t.Fatalf("ReadFrom = %d, %v; want %d", n, err, size)
			}
			biggest, sum := 0, 0
			for _, s := range sc.sizes {
				biggest, sum = max(biggest, s), sum+s
			}
			if sum != size {
				t.Fatalf("wrote %d bytes, want %d", sum, size)
			}
			if biggest > tc.maxSize || biggest < tc.reaches {
				t.Errorf("largest write %d bytes (of %d writes), want at most %d and at least %d", biggest, len(sc.sizes), tc.maxSize, tc.reaches)
			}
		})
	}
}

// readCounter counts the bytes read through it.
type readCounter struct {
	r io.Reader
	n *atomic.Int64
}

func (c readCounter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// TestInPlaceBody: a body marked withInPlaceBody is written from its own
// buffer: beyond net/http's header buffer nothing reads it, and the server
// gets exactly its bytes.
func TestInPlaceBody(t *testing.T) {
	const size = 4<<20 + 3
	data := make([]byte, size)
	for i := range data {
		data[i] = byte(i * 7)
	}
	got := make(chan []byte, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- b
	}))
	defer srv.Close()
	tr := &http.Transport{DialContext: (&net.Dialer{}).DialContext}
	bigWrites(tr)
	defer tr.CloseIdleConnections()
	br := &bodyReader{data: data}
	var read atomic.Int64
	req, err := http.NewRequestWithContext(withInPlaceBody(context.Background(), br), http.MethodPut, srv.URL+"/x",
		io.NopCloser(readCounter{br, &read})) // as the SDK's wrapper reads it
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = size
	res, err := (&http.Client{Transport: bodyWaitTransport{next: tr}}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if b := <-got; !bytes.Equal(b, data) {
		t.Fatalf("the server got %d bytes, not the %d sent", len(b), size)
	}
	if n := read.Load(); n > 64<<10 {
		t.Errorf("%d bytes were read (copied) out of the body, want only net/http's first buffer", n)
	}
	if br.off != size {
		t.Errorf("the body's offset is %d after sending, want %d", br.off, size)
	}
}
