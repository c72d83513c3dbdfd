package ossclient_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ossfs/ossfs/ossclient"
	"github.com/ossfs/ossfs/ossclient/osstest"
)

// The configuration knobs, observed on the local server: retries in its
// request counts, timeouts in how long a stalled request takes to fail,
// the connection pool in the connections it accepts, the addressing style
// in the paths the client logs.

func TestMaxAttempts(t *testing.T) {
	ctx := context.Background()
	srv := startServer(t, osstest.Options{})
	put(t, newClient(t, srv, 4, ""), "k", "v", ossclient.PutOptions{})
	for _, tc := range []struct {
		maxAttempts int
		fault       osstest.Fault
		requests    int64
		err         error // nil: Stat succeeds
	}{
		{0, osstest.Fault{Status: 503, Times: 2}, 3, nil}, // default 3
		{3, osstest.Fault{Status: 503, Times: 2}, 3, nil},
		{2, osstest.Fault{Status: 503, Times: 2}, 2, ossclient.ErrThrottled},
		{1, osstest.Fault{Status: 503, Times: 2}, 1, ossclient.ErrThrottled},
		{3, osstest.Fault{Status: 500, Times: 2}, 3, nil},
		{3, osstest.Fault{Status: 403, Code: "AccessDenied", Times: 1}, 1, ossclient.ErrAccessDenied}, // not retried
	} {
		c := newClient(t, srv, 4, "", func(c *ossclient.Config) { c.MaxAttempts = tc.maxAttempts })
		tc.fault.Op = "HeadObject"
		remove := srv.AddFault(tc.fault)
		srv.ResetCounts()
		_, err := c.Stat(ctx, "k")
		remove()
		what := fmt.Sprintf("MaxAttempts %d, fault %d x%d", tc.maxAttempts, tc.fault.Status, tc.fault.Times)
		if got := srv.Count("HeadObject"); got != tc.requests {
			t.Errorf("%s: %d requests, want %d", what, got, tc.requests)
		}
		if tc.err == nil && err != nil {
			t.Errorf("%s: %v", what, err)
		} else if tc.err != nil {
			wantKind(t, what, err, tc.err)
		}
	}

	// A retried PutObject sends its whole body again.
	c := newClient(t, srv, 4, "")
	srv.AddFault(osstest.Fault{Op: "PutObject", Status: 503, Times: 2})
	srv.ResetCounts()
	put(t, c, "retried", "the body", ossclient.PutOptions{})
	if got := read(t, c, "retried", 0, -1); got != "the body" || srv.Count("PutObject") != 3 {
		t.Errorf("retried PutObject: %q after %d requests", got, srv.Count("PutObject"))
	}
}

func TestReadWriteTimeout(t *testing.T) {
	ctx := context.Background()
	srv := startServer(t, osstest.Options{})
	c := newClient(t, srv, 4, "", func(c *ossclient.Config) {
		c.ReadWriteTimeout = 300 * time.Millisecond
		c.MaxAttempts = 1
	})
	put(t, c, "k", "v", ossclient.PutOptions{})
	srv.AddFault(osstest.Fault{Op: "GetObject", Stall: 5 * time.Second})
	start := time.Now()
	_, err := c.Read(ctx, "k", 0, -1)
	took := time.Since(start)
	var ne net.Error
	if err == nil || !errors.As(err, &ne) || !ne.Timeout() {
		t.Errorf("Read of a stalled object: %v, want a network timeout", err)
	}
	if took < 250*time.Millisecond || took > 3*time.Second {
		t.Errorf("a 300ms read/write timeout fired after %v", took)
	}
	srv.ClearFaults()
	if got := read(t, c, "k", 0, -1); got != "v" {
		t.Errorf("Read after the stall = %q", got)
	}
}

// serveWrapped serves srv's handler on a new loopback listener through
// wrap, and returns the listener's port.
func serveWrapped(t *testing.T, srv *osstest.Server, wrap func(http.Handler) http.Handler, connState func(net.Conn, http.ConnState)) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: wrap(srv.Handler()), ConnState: connState}
	go func() { _ = hs.Serve(ln) }()
	t.Cleanup(func() { hs.Close() })
	return ln.Addr().(*net.TCPAddr).Port
}

func TestMaxConnections(t *testing.T) {
	ctx := context.Background()
	srv := startServer(t, osstest.Options{})
	var opened atomic.Int64
	port := serveWrapped(t, srv, func(h http.Handler) http.Handler { return h },
		func(_ net.Conn, s http.ConnState) {
			if s == http.StateNew {
				opened.Add(1)
			}
		})
	put(t, newClient(t, srv, 4, ""), "k", "v", ossclient.PutOptions{})
	srv.SetLatency(50 * time.Millisecond)
	for _, tc := range []struct{ max, atMost, atLeast int64 }{{2, 2, 1}, {0, 100, 3}} {
		c := newClient(t, srv, 4, "", func(c *ossclient.Config) {
			c.Endpoint = fmt.Sprintf("http://127.0.0.1:%d", port)
			c.MaxConnections = int(tc.max)
		})
		opened.Store(0)
		var wg sync.WaitGroup
		for range 12 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := c.Stat(ctx, "k"); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if n := opened.Load(); n > tc.atMost || n < tc.atLeast {
			t.Errorf("MaxConnections %d: 12 concurrent requests opened %d connections, want %d..%d", tc.max, n, tc.atLeast, tc.atMost)
		}
	}
}

// loggedPaths returns the paths of the "oss request" debug lines in logs.
func loggedPaths(logs string) []string {
	var paths []string
	for _, line := range strings.Split(logs, "\n") {
		if _, rest, ok := strings.Cut(line, " path="); ok && strings.Contains(line, `msg="oss request"`) {
			p, _, _ := strings.Cut(rest, " ")
			paths = append(paths, p)
		}
	}
	return paths
}

// debugLogger logs at debug level into buf.
func debugLogger(buf *syncBuffer) *slog.Logger {
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func TestAddressingStyle(t *testing.T) {
	bothSignatures(t, func(t *testing.T, sig int) {
		srv := startServer(t, osstest.Options{})
		port := srv.Endpoint()[strings.LastIndex(srv.Endpoint(), ":")+1:]

		// "localhost" is addressed path style without being asked to.
		var logs syncBuffer
		c := newClient(t, srv, sig, "", func(c *ossclient.Config) {
			c.Endpoint = "http://localhost:" + port
			c.Logger = debugLogger(&logs)
		})
		put(t, c, "k", "v", ossclient.PutOptions{})
		if got := read(t, c, "k", 0, -1); got != "v" {
			t.Errorf("read via localhost = %q", got)
		}
		if p := loggedPaths(logs.String()); len(p) != 2 || p[0] != "/bkt/k" || p[1] != "/bkt/k" {
			t.Errorf("localhost endpoint: paths %q, want path style /bkt/k", p)
		}

		// CNAME: the endpoint is the bucket's own domain; the path is the
		// key alone. The wrapper plays the DNS: every request arrives with
		// the bucket's domain as its Host.
		cport := serveWrapped(t, srv, hostIs(bucket+".cname.example"), nil)
		var clogs syncBuffer
		cn := newClient(t, srv, sig, "", func(c *ossclient.Config) {
			c.Endpoint = fmt.Sprintf("http://localhost:%d", cport)
			c.CNAME = true
			c.Logger = debugLogger(&clogs)
		})
		if got := read(t, cn, "k", 0, -1); got != "v" {
			t.Errorf("read via CNAME = %q", got)
		}
		put(t, cn, "d/c", "via cname", ossclient.PutOptions{})
		if got := read(t, c, "d/c", 0, -1); got != "via cname" {
			t.Errorf("object put via CNAME reads %q", got)
		}
		if p := loggedPaths(clogs.String()); len(p) != 2 || p[0] != "/k" || p[1] != "/d/c" {
			t.Errorf("CNAME endpoint: paths %q, want /k and /d/c", p)
		}
	})
}

// TestSignatureVersionIsUsed tells V1 from V4 by the region: only V4 signs
// it, so a V1 client works with none or a wrong one, a V4 client does not.
func TestSignatureVersionIsUsed(t *testing.T) {
	ctx := context.Background()
	srv := startServer(t, osstest.Options{})
	for _, region := range []string{"", "cn-elsewhere"} {
		v1 := newClient(t, srv, 1, "", func(c *ossclient.Config) { c.Region = region })
		if err := v1.Check(ctx); err != nil {
			t.Errorf("V1 with region %q: %v", region, err)
		}
	}
	v4 := newClient(t, srv, 4, "", func(c *ossclient.Config) { c.Region = "cn-elsewhere" })
	if _, err := v4.Stat(ctx, "k"); err == nil {
		t.Errorf("V4 with a wrong region was accepted: is it signing V4?")
	}
	if _, err := ossclient.New(ossclient.Config{Endpoint: srv.Endpoint(), Bucket: bucket,
		Credentials: ossclient.Credentials{AccessKeyID: "a", AccessKeySecret: "b"}}); err == nil {
		t.Errorf("V4 (the default) without a region was accepted")
	}
}
