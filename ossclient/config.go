package ossclient

import (
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// Config says where the bucket is and how to talk to it. The zero value of
// every field but Endpoint and Bucket is a usable default.
//
// Requests go through the proxy named by HTTPS_PROXY (https endpoints) or
// HTTP_PROXY (http endpoints), unless NO_PROXY lists the endpoint's host,
// as net/http's ProxyFromEnvironment reads them (lower-case names too; read
// once per process). Loopback endpoints (127.0.0.1, localhost) are never
// proxied.
type Config struct {
	// Endpoint is the OSS endpoint, e.g. "oss-cn-hangzhou.aliyuncs.com".
	// Without a scheme https is assumed; "http://127.0.0.1:9000" is accepted
	// (the local server). Required.
	Endpoint string

	// Region is the region id ("cn-hangzhou"), needed by V4 signing.
	// Default "": derived from a standard endpoint
	// ("oss-cn-hangzhou[-internal].aliyuncs.com" -> "cn-hangzhou"); New fails
	// when V4 is used and it cannot be derived.
	Region string

	// Bucket is the bucket name. Required.
	Bucket string

	// Prefix is the mount prefix inside the bucket ("" or "a/b/"; "a/b" and
	// "/a/b" are normalised to "a/b/"). Default "": the whole bucket.
	Prefix string

	// SignatureVersion is 4 (OSS4-HMAC-SHA256) or 1 (HMAC-SHA1). Default 0
	// means 4.
	SignatureVersion int

	// PathStyle puts the bucket in the path (http://host/bucket/key) instead
	// of the host name (http://bucket.host/key). Default false, but IP
	// address and "localhost" endpoints always use path style.
	PathStyle bool

	// CNAME says Endpoint is a custom domain bound to the bucket: requests go
	// to it without the bucket name in host or path. Default false.
	CNAME bool

	// MaxAttempts is how often one request is tried (the SDK's standard
	// retryer: 5xx, 429, network errors, with jittered backoff). Default 0
	// means 3; 1 disables retries.
	MaxAttempts int

	// ReadResumes is how many times in a row a download cut off by a
	// dropped connection (or a stalled one, see ReadWriteTimeout) is
	// resumed from the byte reached, conditional on the version first read
	// (If-Match), before the read fails. The count starts again once a
	// resumed request has delivered 256 KiB. Default 0 means 5; negative:
	// never resume.
	ReadResumes int

	// ResumeBackoff is the wait before the n-th resume in a row (n from 1).
	// Default nil: none before the first, then 100 ms doubling (100, 200,
	// 400, 800 ms). Tests set one that returns 0.
	ResumeBackoff func(n int) time.Duration `json:"-"`

	// MaxConnections bounds the connections to the endpoint (the pool also
	// keeps that many idle). Default 0 means 100.
	MaxConnections int

	// RetryBaseDelay is the base of the retryer's jittered exponential
	// backoff (attempt n waits a random time up to RetryBaseDelay x 2^n,
	// capped at 20s). Default 0: the SDK's 200ms. Only tests change it, so
	// that a fault answered with retries costs milliseconds, not seconds;
	// production has no reason to.
	RetryBaseDelay time.Duration

	// ConnectTimeout bounds dialing and the TLS handshake. Default 0 means
	// 5s.
	ConnectTimeout time.Duration

	// ReadWriteTimeout bounds each read or write on a connection (a stalled
	// transfer fails after it). Default 0 means 30s.
	ReadWriteTimeout time.Duration

	// PartSize is both the largest body Put sends in one PutObject and the
	// part size of multipart uploads. Memory per large Put is about
	// (UploadParallelism+2) x PartSize. Default 0 means 8 MiB; minimum
	// 100 KiB, maximum 5 GiB.
	PartSize int64

	// UploadParallelism is how many parts of one Put, or of one
	// multipart copy, are sent at a time. Default 0 means 8 (4 left a
	// 1 Gbit/s link model a third idle: docs/benchmarks.md).
	UploadParallelism int

	// CopyPartSize is the part size of a multipart copy. Copy sends one
	// CopyObject whatever the size (OSS copies large objects inside one
	// bucket that way, without moving data, where it can); only when OSS
	// refuses the source as too large for one CopyObject (EntityTooLarge;
	// OSS documents 1 GiB as the general limit) is it copied in parts of
	// this size with UploadPartCopy. Default 0 means 64 MiB (the SDK
	// Copier's default); minimum 100 KiB, maximum 5 GiB. Grown as needed
	// to stay within 10,000 parts.
	CopyPartSize int64

	// Credentials says where the access key comes from; see [Credentials].
	Credentials Credentials

	// OnRequest, when set, is called once per HTTP request sent (retries
	// count each) with the OSS operation ("GetObject"), the HTTP status (0
	// when no response came) and the time to the response headers; for
	// metrics. It must be fast and safe for concurrent use. Default nil.
	OnRequest func(op string, status int, d time.Duration) `json:"-"`

	// Logger receives one debug line per HTTP request (operation, path,
	// status, request id, duration) and warnings; never a secret or a
	// signature. Default nil: slog.Default().
	Logger *slog.Logger
}

// Defaults of Config fields, used when a field is zero.
const (
	DefaultMaxAttempts       = 3
	DefaultMaxConnections    = 100
	DefaultReadResumes       = 5
	DefaultConnectTimeout    = 5 * time.Second
	DefaultReadWriteTimeout  = 30 * time.Second
	DefaultPartSize          = 8 << 20
	DefaultUploadParallelism = 8
	DefaultCopyPartSize      = 64 << 20

	minPartSize = 100 << 10
	maxPartSize = 5 << 30
	// maxKeyLen is the longest object key OSS stores, in bytes.
	maxKeyLen = 1023
)

// withDefaults returns cfg with every zero field set to its default, the
// prefix normalised and the endpoint given a scheme; or an error naming the
// first field that is wrong.
func (cfg Config) withDefaults() (Config, error) {
	if cfg.Bucket == "" {
		return cfg, fmt.Errorf("ossclient: no bucket given")
	}
	if !validBucketName(cfg.Bucket) {
		return cfg, fmt.Errorf("ossclient: %q is not a valid bucket name (3-63 characters: a-z, 0-9, '-', not starting or ending with '-')", cfg.Bucket)
	}
	p, err := normalizePrefix(cfg.Prefix)
	if err != nil {
		return cfg, err
	}
	cfg.Prefix = p
	if cfg.Endpoint, err = normalizeEndpoint(cfg.Endpoint); err != nil {
		return cfg, err
	}
	switch cfg.SignatureVersion {
	case 0:
		cfg.SignatureVersion = 4
	case 1, 4:
	default:
		return cfg, fmt.Errorf("ossclient: signature version %d is not supported (1 or 4)", cfg.SignatureVersion)
	}
	if cfg.Region == "" {
		cfg.Region = regionFromEndpoint(cfg.Endpoint)
	}
	if cfg.SignatureVersion == 4 && cfg.Region == "" {
		return cfg, fmt.Errorf("ossclient: a region is required for V4 signing and cannot be derived from endpoint %s (give it, e.g. cn-hangzhou)", cfg.Endpoint)
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = DefaultMaxAttempts
	}
	switch {
	case cfg.ReadResumes == 0:
		cfg.ReadResumes = DefaultReadResumes
	case cfg.ReadResumes < 0:
		cfg.ReadResumes = 0
	}
	if cfg.MaxConnections <= 0 {
		cfg.MaxConnections = DefaultMaxConnections
	}
	if cfg.ConnectTimeout <= 0 {
		cfg.ConnectTimeout = DefaultConnectTimeout
	}
	if cfg.ReadWriteTimeout <= 0 {
		cfg.ReadWriteTimeout = DefaultReadWriteTimeout
	}
	if cfg.PartSize == 0 {
		cfg.PartSize = DefaultPartSize
	}
	if cfg.PartSize < minPartSize || cfg.PartSize > maxPartSize {
		return cfg, fmt.Errorf("ossclient: part size %d is outside [100 KiB, 5 GiB]", cfg.PartSize)
	}
	if cfg.UploadParallelism <= 0 {
		cfg.UploadParallelism = DefaultUploadParallelism
	}
	if cfg.CopyPartSize == 0 {
		cfg.CopyPartSize = DefaultCopyPartSize
	}
	if cfg.CopyPartSize < minPartSize || cfg.CopyPartSize > maxPartSize {
		return cfg, fmt.Errorf("ossclient: copy part size %d is outside [100 KiB, 5 GiB]", cfg.CopyPartSize)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return cfg, nil
}

// normalizeEndpoint adds https:// to a bare host and rejects anything but a
// scheme plus host[:port].
func normalizeEndpoint(ep string) (string, error) {
	ep = strings.TrimSpace(ep)
	if ep == "" {
		return "", fmt.Errorf("ossclient: no endpoint given (e.g. oss-cn-hangzhou.aliyuncs.com)")
	}
	if !strings.Contains(ep, "://") {
		ep = "https://" + ep
	}
	u, err := url.Parse(ep)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
		return "", fmt.Errorf("ossclient: endpoint %q is not [http[s]://]host[:port]", ep)
	}
	return u.Scheme + "://" + u.Host, nil
}

var endpointRegion = regexp.MustCompile(`^oss-([a-z0-9-]+?)(-internal)?\.aliyuncs\.com$`)

// regionFromEndpoint derives the region id from a standard OSS endpoint, or
// returns "".
func regionFromEndpoint(ep string) string {
	u, err := url.Parse(ep)
	if err != nil {
		return ""
	}
	m := endpointRegion.FindStringSubmatch(u.Hostname())
	if m == nil {
		return ""
	}
	return m[1]
}

// pathStyleHost reports whether the endpoint's host must be addressed path
// style: an IP address or localhost (no bucket subdomain can resolve).
func pathStyleHost(ep string) bool {
	u, err := url.Parse(ep)
	if err != nil {
		return false
	}
	h := u.Hostname()
	return net.ParseIP(h) != nil || h == "localhost" || strings.HasSuffix(h, ".localhost")
}
