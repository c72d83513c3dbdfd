package osstest_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/credentials"

	"github.com/ossfs/ossfs/ossclient/osstest"
	"github.com/ossfs/ossfs/ossclient/osstest/testtarget"
)

const bkt = "test-bucket"

func start(t *testing.T, opts osstest.Options) *osstest.Server {
	t.Helper()
	srv, err := osstest.Start(testtarget.LocalOptions(t, opts))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return srv
}

type clientOpt func(*oss.Config)

func v1(c *oss.Config)      { c.WithSignatureVersion(oss.SignatureVersionV1) }
func noRetry(c *oss.Config) { c.WithRetryMaxAttempts(1) }

func withCreds(id, secret string, token ...string) clientOpt {
	return func(c *oss.Config) {
		c.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(id, secret, token...))
	}
}

// newClient is the official SDK pointed at srv (path-style, because the
// endpoint is an IP), CRC64 checks on (the SDK default).
func newClient(srv *osstest.Server, opts ...clientOpt) *oss.Client {
	cfg := oss.LoadDefaultConfig().
		WithCredentialsProvider(credentials.NewStaticCredentialsProvider(osstest.DefaultAccessKeyID, osstest.DefaultAccessKeySecret)).
		WithRegion(srv.Region()).
		WithEndpoint(srv.Endpoint())
	for _, o := range opts {
		o(cfg)
	}
	return oss.NewClient(cfg)
}

// vhostClient addresses the server as "bucket.localhost:PORT" (bucket in
// host); its transport dials the server whatever the host name.
func vhostClient(srv *osstest.Server, opts ...clientOpt) *oss.Client {
	addr := strings.TrimPrefix(srv.Endpoint(), "http://")
	_, port, _ := net.SplitHostPort(addr)
	tr := &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}}
	all := append([]clientOpt{func(c *oss.Config) {
		c.WithEndpoint("http://localhost:" + port).WithHttpClient(&http.Client{Transport: tr})
	}}, opts...)
	return newClient(srv, all...)
}

// signings runs f once with V4 and once with V1 signing.
func signings(t *testing.T, f func(t *testing.T, extra ...clientOpt)) {
	t.Run("V4", func(t *testing.T) { f(t) })
	t.Run("V1", func(t *testing.T) { f(t, v1) })
}

func svcErr(t *testing.T, err error) *oss.ServiceError {
	t.Helper()
	var se *oss.ServiceError
	if !errors.As(err, &se) {
		t.Fatalf("want a service error, got %v", err)
	}
	return se
}

func wantCode(t *testing.T, err error, status int, code string) {
	t.Helper()
	if err == nil {
		t.Fatalf("want %d %s, got success", status, code)
	}
	se := svcErr(t, err)
	if se.StatusCode != status || se.Code != code {
		t.Fatalf("want %d %s, got %d %s (%s)", status, code, se.StatusCode, se.Code, se.Message)
	}
	if se.RequestID == "" || se.EC == "" {
		t.Fatalf("error lacks RequestId or EC: %+v", se)
	}
}

func put(t *testing.T, c *oss.Client, key string, data []byte, meta map[string]string) *oss.PutObjectResult {
	t.Helper()
	res, err := c.PutObject(context.Background(), &oss.PutObjectRequest{
		Bucket: oss.Ptr(bkt), Key: oss.Ptr(key), Body: bytes.NewReader(data), Metadata: meta,
	})
	if err != nil {
		t.Fatalf("put %q: %v", key, err)
	}
	return res
}

func get(t *testing.T, c *oss.Client, key string) ([]byte, *oss.GetObjectResult) {
	t.Helper()
	res, err := c.GetObject(context.Background(), &oss.GetObjectRequest{Bucket: oss.Ptr(bkt), Key: oss.Ptr(key)})
	if err != nil {
		t.Fatalf("get %q: %v", key, err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("get %q body: %v", key, err)
	}
	return data, res
}

var ctx = context.Background()

func timed(t *testing.T, d time.Duration) context.Context {
	c, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return c
}
