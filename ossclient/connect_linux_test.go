package ossclient_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/ossfs/ossfs/ossclient"
	"github.com/ossfs/ossfs/ossclient/osstest"
)

// hangingEndpoint returns an endpoint whose connects hang: a listener with
// a backlog of 0 that never accepts, its queue filled by one connection, so
// that Linux drops further SYNs.
func hangingEndpoint(t *testing.T) string {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", sa.(*syscall.SockaddrInet4).Port)
	filler, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { filler.Close() })
	if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
		c.Close()
		t.Skipf("this kernel accepts connects beyond a full backlog; cannot make a connect hang")
	}
	return "http://" + addr
}

func TestConnectTimeout(t *testing.T) {
	srv := startServer(t, osstest.Options{})
	ep := hangingEndpoint(t)
	c := newClient(t, srv, 4, "", func(c *ossclient.Config) {
		c.Endpoint = ep
		c.ConnectTimeout = 300 * time.Millisecond
		c.MaxAttempts = 1
	})
	start := time.Now()
	_, err := c.Stat(context.Background(), "k")
	took := time.Since(start)
	var ne net.Error
	if err == nil || !errors.As(err, &ne) || !ne.Timeout() {
		t.Errorf("Stat against a hanging endpoint: %v, want a network timeout", err)
	}
	if took < 250*time.Millisecond || took > 3*time.Second {
		t.Errorf("a 300ms connect timeout fired after %v (default %v)", took, ossclient.DefaultConnectTimeout)
	}
}
