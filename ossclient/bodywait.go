package ossclient

import (
	"io"
	"net/http"
	"sync"
)

// bodyWaitTransport returns a response only once the transport has let go
// of the request's body. net/http may still be writing a body after the
// response has come (OSS can answer an error, e.g. 403 SecurityTokenExpired
// or 503, before reading the body) and closes it only then, from its own
// goroutine; the SDK's retry rewinds the same body for the next attempt as
// soon as RoundTrip returns, so without this wait the two read and seek it
// at once (a data race, and a retried part could send mixed bytes).
type bodyWaitTransport struct{ next http.RoundTripper }

func (t bodyWaitTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return t.next.RoundTrip(r)
	}
	b := &closeSignal{ReadCloser: r.Body, closed: make(chan struct{}), inPlace: inPlaceBody(r.Context())}
	r2 := r.Clone(r.Context())
	r2.Body = b
	resp, err := t.next.RoundTrip(r2)
	if err != nil || resp.StatusCode >= 300 {
		// Only a failed attempt is retried. The transport closes the body
		// when it is done writing it, or when the connection fails.
		select {
		case <-b.closed:
		case <-r.Context().Done():
		}
	}
	return resp, err
}

// closeSignal closes closed when the body is closed (the first time).
type closeSignal struct {
	io.ReadCloser
	once    sync.Once
	closed  chan struct{}
	inPlace *bodyReader // what ReadCloser reads, when known (conn.go)
}

// unread returns the body's bytes not read yet, when they can be written
// from where they are (see inPlaceBody), else nil.
func (c *closeSignal) unread() []byte {
	if c.inPlace == nil {
		return nil
	}
	return c.inPlace.data[c.inPlace.off:]
}

// skip records that n of the unread bytes were written.
func (c *closeSignal) skip(n int) { c.inPlace.off += n }

func (c *closeSignal) Close() error {
	err := c.ReadCloser.Close()
	c.once.Do(func() { close(c.closed) })
	return err
}
