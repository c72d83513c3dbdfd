package ossclient_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ossfs/ossfs/ossclient"
	"github.com/ossfs/ossfs/ossclient/osstest"
)

// forwardProxy is a plain HTTP forward proxy that records the Host of every
// request it is asked for and sends each to one fixed address (so that a
// host name nobody can resolve reaches the local server).
type forwardProxy struct {
	to string // host:port every request goes to
	tr *http.Transport

	mu    sync.Mutex
	hosts []string // GUARDED_BY(mu)
}

func (p *forwardProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !r.URL.IsAbs() {
		http.Error(w, "not a proxy request: "+r.RequestURI, http.StatusBadRequest)
		return
	}
	p.mu.Lock()
	p.hosts = append(p.hosts, r.Host)
	p.mu.Unlock()
	out := r.Clone(r.Context())
	out.RequestURI = ""
	out.URL.Host = p.to
	out.Header.Del("Proxy-Connection")
	out.Header.Del("Proxy-Authorization")
	resp, err := p.tr.RoundTrip(out)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	for k, vs := range resp.Header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = io.Copy(w, resp.Body)
}

func (p *forwardProxy) seen() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.hosts...)
}

// The proxy test runs its client in a child process (this test binary
// again), because net/http reads the proxy variables once per process:
// setting them in this one could come after something read them.
const proxyChildEnv = "OSSFS_TEST_PROXY_CHILD"

// TestProxyFromEnvironment: with HTTP_PROXY set, requests to an endpoint
// whose host name does not resolve (oss-test.invalid) go through the proxy,
// which forwards them to the local server; Put and Read then work. With
// NO_PROXY naming that host, the proxy sees no request.
func TestProxyFromEnvironment(t *testing.T) {
	if mode := os.Getenv(proxyChildEnv); mode != "" {
		proxyChild(t, mode)
		return
	}
	srv := startServer(t, osstest.Options{})
	srvAddr := strings.TrimPrefix(srv.Endpoint(), "http://")
	_, port, _ := net.SplitHostPort(srvAddr)
	p := &forwardProxy{to: srvAddr, tr: &http.Transport{}} // no proxy of its own
	ps := httptest.NewServer(p)
	t.Cleanup(ps.Close)
	endpoint := "http://oss-test.invalid:" + port

	run := func(mode, noProxy string) string {
		t.Helper()
		cmd := exec.Command(os.Args[0], "-test.run=^TestProxyFromEnvironment$", "-test.v")
		cmd.Env = []string{proxyChildEnv + "=" + mode, "OSSFS_TEST_ENDPOINT=" + endpoint, "OSSFS_TEST_REGION=" + srv.Region(),
			"HTTP_PROXY=" + ps.URL, "http_proxy=" + ps.URL, "NO_PROXY=" + noProxy, "no_proxy=" + noProxy}
		for _, kv := range os.Environ() { // keep the rest, minus what would change proxying
			name, _, _ := strings.Cut(kv, "=")
			switch strings.ToUpper(name) {
			case "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "REQUEST_METHOD", proxyChildEnv:
				continue
			}
			cmd.Env = append(cmd.Env, kv)
		}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("child (%s): %v\n%s", mode, err, out)
		}
		return string(out)
	}

	out := run("proxied", "")
	hosts := p.seen()
	if len(hosts) < 2 {
		t.Fatalf("the proxy saw %d requests (%v), want the child's Put and Read\n%s", len(hosts), hosts, out)
	}
	for _, h := range hosts {
		if h != bucket+".oss-test.invalid:"+port {
			t.Errorf("the proxy was asked for host %q", h)
		}
	}
	if !strings.Contains(out, "proxied: read back") {
		t.Fatalf("the child did not read the object back:\n%s", out)
	}

	out = run("bypassed", "oss-test.invalid")
	if n := len(p.seen()) - len(hosts); n != 0 {
		t.Errorf("with NO_PROXY naming the host the proxy still saw %d requests", n)
	}
	if !strings.Contains(out, "bypassed: Stat returned") {
		t.Fatalf("the child did not run:\n%s", out)
	}
}

// proxyChild is the child's half: a Client on the endpoint the parent
// gave, through whatever proxy the environment names.
func proxyChild(t *testing.T, mode string) {
	ctx := context.Background()
	c, err := ossclient.New(ossclient.Config{
		Endpoint: os.Getenv("OSSFS_TEST_ENDPOINT"), Region: os.Getenv("OSSFS_TEST_REGION"), Bucket: bucket,
		Credentials: ossclient.Credentials{Source: ossclient.SourceStatic,
			AccessKeyID: osstest.DefaultAccessKeyID, AccessKeySecret: osstest.DefaultAccessKeySecret},
		MaxAttempts: 1, ConnectTimeout: 2 * time.Second, Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	if mode == "bypassed" {
		_, err := c.Stat(ctx, "k")
		t.Logf("bypassed: Stat returned %v", err)
		return
	}
	if _, err := c.Put(ctx, "via proxy", strings.NewReader("through the proxy"), ossclient.PutOptions{}); err != nil {
		t.Fatalf("Put through the proxy: %v", err)
	}
	rc, err := c.Read(ctx, "via proxy", 0, -1)
	if err != nil {
		t.Fatalf("Read through the proxy: %v", err)
	}
	defer rc.Close()
	got, err := io.ReadAll(rc)
	if err != nil || string(got) != "through the proxy" {
		t.Fatalf("Read through the proxy = %q, %v", got, err)
	}
	t.Logf("proxied: read back %q", got)
}
