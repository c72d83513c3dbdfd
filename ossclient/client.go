package ossclient

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/retry"
	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/transport"

	"github.com/ossfs/ossfs/ossclient/internal/opname"
)

// Client is the Bucket over the official SDK, on one bucket and prefix. It is
// safe for concurrent use and holds no lock: all state is set up by New.
type Client struct {
	sdk      *oss.Client
	upl      *oss.Client  // the same, for bodies Put checks itself (no SDK CRC-64)
	parts    *partBuffers // part buffers of multipart uploads, reused
	cfg      Config       // with defaults applied
	bucket   string
	keys     keyMap
	credDesc string // where the key came from, for messages; no secret
	log      *slog.Logger
}

var _ Bucket = (*Client)(nil)

// New builds a Client from cfg (see Config for defaults). It resolves the
// credentials (see Credentials) and fails with one clear message when there
// are none or the configuration is wrong. It sends no request; call Check
// for that.
func New(cfg Config) (*Client, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	prov, desc, err := cfg.Credentials.provider(cfg.Bucket)
	if err != nil {
		return nil, err
	}
	httpClient := transport.NewHttpClient(&transport.Config{
		ConnectTimeout:   &cfg.ConnectTimeout,
		ReadWriteTimeout: &cfg.ReadWriteTimeout,
	}, transport.MaxConnections(cfg.MaxConnections), func(t *http.Transport) {
		t.MaxIdleConnsPerHost = cfg.MaxConnections
		// The SDK's transport has no proxy; honour HTTP(S)_PROXY and
		// NO_PROXY as net/http's default transport does.
		t.Proxy = http.ProxyFromEnvironment
		// A request body goes out through a buffer of this size: the
		// default 4 KiB cost one write syscall per 4 KiB of every part.
		t.WriteBufferSize = 256 << 10
		bigWrites(t) // and so is the rest of it (conn.go)
	})
	pathStyle := cfg.PathStyle || pathStyleHost(cfg.Endpoint)
	httpClient.Transport = &logTransport{next: bodyWaitTransport{next: httpClient.Transport}, log: cfg.Logger, pathStyle: pathStyle && !cfg.CNAME, observe: cfg.OnRequest}

	sig := oss.SignatureVersionV4
	if cfg.SignatureVersion == 1 {
		sig = oss.SignatureVersionV1
	}
	// oss.NewConfig, not LoadDefaultConfig: the SDK's own logger (switched
	// on by OSS_SDK_LOG_LEVEL) would print request dumps; we log ourselves.
	sc := oss.NewConfig().
		WithEndpoint(cfg.Endpoint).
		WithCredentialsProvider(prov).
		WithHttpClient(httpClient).
		WithRetryMaxAttempts(cfg.MaxAttempts).
		WithSignatureVersion(sig).
		WithUsePathStyle(pathStyle).
		WithUseCName(cfg.CNAME)
	if cfg.Region != "" {
		sc = sc.WithRegion(cfg.Region)
	}
	if r, ok := prov.(*refresher); ok || cfg.RetryBaseDelay > 0 {
		sc = sc.WithRetryer(retry.NewStandard(func(o *retry.RetryOptions) {
			o.MaxAttempts = cfg.MaxAttempts
			o.BaseDelay = cfg.RetryBaseDelay // 0: the SDK's
			if ok {
				o.ErrorRetryables = append(slices.Clone(retry.DefaultErrorRetryables), staleKeyRetryable{r})
			}
		}))
	}
	sdk := oss.NewClient(sc)
	// The provider holds the key now: keep no secret in the Client, so
	// that printing one (%v, %+v, %#v reach unexported fields, where
	// Credentials.String is not called) cannot show it.
	cfg.Credentials.AccessKeySecret = ""
	cfg.Credentials.SessionToken = ""
	c := &Client{
		sdk:      sdk,
		cfg:      cfg,
		bucket:   cfg.Bucket,
		keys:     newKeyMap(cfg.Prefix),
		credDesc: desc,
		log:      cfg.Logger,
	}
	// Uploads check their CRC-64 themselves, with a faster implementation
	// (upload.go): the client they go through does not hash them again.
	upc := *sc
	upc.DisableUploadCRC64Check = oss.Ptr(true)
	c.upl = oss.NewClient(&upc)
	c.parts = newPartBuffers(cfg.PartSize)
	c.log.Info("oss client", "endpoint", cfg.Endpoint, "region", cfg.Region, "bucket", cfg.Bucket,
		"prefix", cfg.Prefix, "signature", cfg.SignatureVersion, "credentials", desc)
	return c, nil
}

// String names the bucket, prefix and endpoint; never a secret.
func (c *Client) String() string {
	return fmt.Sprintf("ossclient.Client{bucket %q, prefix %q, endpoint %s, credentials %s}",
		c.bucket, c.keys.prefix, c.cfg.Endpoint, c.credDesc)
}

// GoString is String, for %#v.
func (c *Client) GoString() string { return c.String() }

// Prefix returns the normalised mount prefix ("" or "a/b/").
func (c *Client) Prefix() string { return c.keys.prefix }

// BucketName returns the bucket's name.
func (c *Client) BucketName() string { return c.bucket }

// checkError is Check's one-sentence message over the converted error.
type checkError struct {
	msg string
	err error
}

func (e *checkError) Error() string { return e.msg }
func (e *checkError) Unwrap() error { return e.err }

// Check sends one cheap request (ListObjectsV2, max-keys 1, on the prefix)
// and turns the usual setup mistakes (no such bucket, unknown key id, wrong
// secret, no permission, unreachable endpoint) into one sentence a user can
// act on. The error unwraps to the *Error (or network error) underneath.
func (c *Client) Check(ctx context.Context) error {
	_, err := c.sdk.ListObjectsV2(ctx, &oss.ListObjectsV2Request{
		Bucket:  oss.Ptr(c.bucket),
		Prefix:  oss.Ptr(c.keys.prefix),
		MaxKeys: 1,
	})
	if err == nil {
		return nil
	}
	cerr := convErr(ctx, "ListObjectsV2", "", c.keys.prefix, err)
	ep := c.cfg.Endpoint
	var oe *Error
	if !errors.As(cerr, &oe) {
		return cerr // context ended
	}
	var msg string
	var ne net.Error
	switch {
	case oe.Code == "NoSuchBucket":
		msg = fmt.Sprintf("bucket %q does not exist at endpoint %s", c.bucket, ep)
	case oe.Code == "InvalidAccessKeyId":
		msg = fmt.Sprintf("OSS at %s does not know the access key id from %s", ep, c.credDesc)
	case oe.Code == "SignatureDoesNotMatch":
		msg = fmt.Sprintf("OSS at %s rejected the signature: the access key secret from %s does not match its key id (or the region %q is wrong)", ep, c.credDesc, c.cfg.Region)
	case oe.Code == "InvalidArgument" && strings.Contains(strings.ToLower(serviceMessage(err)), "region"):
		msg = fmt.Sprintf("OSS at %s rejected the signing region %q: give the bucket's region (%s)", ep, c.cfg.Region, serviceMessage(err))
	case oe.Code == "SecurityTokenExpired" || oe.Code == "InvalidSecurityToken":
		msg = fmt.Sprintf("the session token from %s is expired or invalid", c.credDesc)
	case oe.Kind == KindAccessDenied:
		msg = fmt.Sprintf("access denied listing bucket %q prefix %q at %s with the key from %s (code %s, request id %s)", c.bucket, c.keys.prefix, ep, c.credDesc, oe.Code, oe.RequestID)
	case oe.Status == 0 && errors.As(err, &ne):
		msg = fmt.Sprintf("cannot reach endpoint %s: %v", ep, unwrapNet(err))
	case oe.Status == 0:
		msg = fmt.Sprintf("cannot check bucket %q at %s: %v", c.bucket, ep, err)
	default:
		msg = fmt.Sprintf("checking bucket %q at %s failed: %s (HTTP %d, request id %s)", c.bucket, ep, oe.Code, oe.Status, oe.RequestID)
	}
	return &checkError{msg: msg, err: cerr}
}

// serviceMessage is the OSS error message, or "".
func serviceMessage(err error) string {
	var se *oss.ServiceError
	if errors.As(err, &se) {
		return se.Message
	}
	return ""
}

// unwrapNet returns the innermost net.OpError-level message ("dial tcp ...:
// connection refused") rather than the SDK's wrappers.
func unwrapNet(err error) error {
	var op *net.OpError
	if errors.As(err, &op) {
		return op
	}
	return err
}

// logTransport logs one debug line per HTTP request. It logs the method,
// the path (bucket and key), the status, the request id and the time to the
// response headers; never a header value or the query (no signature).
type logTransport struct {
	next      http.RoundTripper
	log       *slog.Logger
	pathStyle bool                                         // the bucket is the first path segment
	observe   func(op string, status int, d time.Duration) // Config.OnRequest
}

func (t *logTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	ctx := r.Context()
	debug := t.log.Enabled(ctx, slog.LevelDebug)
	if !debug && t.observe == nil {
		return t.next.RoundTrip(r)
	}
	start := time.Now()
	resp, err := t.next.RoundTrip(r)
	if t.observe != nil {
		status := 0
		if err == nil {
			status = resp.StatusCode
		}
		t.observe(t.opName(r), status, time.Since(start))
	}
	if !debug {
		return resp, err
	}
	attrs := []slog.Attr{
		slog.String("op", t.opName(r)),
		slog.String("path", r.URL.Path),
		slog.Duration("dur", time.Since(start)),
	}
	if err != nil {
		attrs = append(attrs, slog.String("err", err.Error()))
	} else {
		attrs = append(attrs, slog.Int("status", resp.StatusCode),
			slog.String("requestId", resp.Header.Get("x-oss-request-id")))
	}
	t.log.LogAttrs(ctx, slog.LevelDebug, "oss request", attrs...)
	return resp, err
}

// opName names the OSS operation of a request, as the local server counts
// it (see package opname). The client only ever addresses its own bucket.
func (t *logTransport) opName(r *http.Request) string {
	rest := strings.TrimPrefix(r.URL.Path, "/")
	if t.pathStyle {
		_, rest, _ = strings.Cut(rest, "/")
	}
	return opname.Of(opname.Request{Method: r.Method, HasBucket: true, HasKey: rest != "",
		Query: r.URL.Query(), CopySource: r.Header.Get("x-oss-copy-source") != ""})
}
