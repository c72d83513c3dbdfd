package osstest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ossfs/ossfs/ossclient/internal/opname"
)

// Credential is one key pair the server accepts. A non-empty SecurityToken
// makes it an STS-style temporary credential: requests must then carry the
// same x-oss-security-token.
type Credential struct {
	AccessKeyID     string
	AccessKeySecret string
	SecurityToken   string
}

// The built-in test key pair, used when Options.Credentials is empty. It is
// public on purpose: it only ever guards a local test server.
const (
	DefaultAccessKeyID     = "ossfs-test-id"
	DefaultAccessKeySecret = "ossfs-test-secret"
)

// Options configure Start. The zero value is a usable in-memory server.
type Options struct {
	// Addr to listen on. Default "127.0.0.1:0" (a free loopback port).
	Addr string
	// Buckets created at start (existing ones in Dir are kept too).
	// Default {"test-bucket"}.
	Buckets []string
	// Credentials accepted. Default one pair: DefaultAccessKeyID /
	// DefaultAccessKeySecret.
	Credentials []Credential
	// Region the V4 signing scope must name. Default "cn-hangzhou".
	Region string
	// Dir keeps objects in this directory, surviving restarts. Default "":
	// in memory.
	Dir string
	// Logger receives one debug line per request and warnings. Default:
	// discards.
	Logger *slog.Logger
	// MaxCopySize is the largest source (in bytes) one CopyObject copies;
	// a larger one is 400 EntityTooLarge, and must be copied with
	// UploadPartCopy. A symlink is never refused (it is copied as a link).
	// Default 0 means DefaultMaxCopySize (1 GiB, the limit OSS documents);
	// negative: no limit. Tests lower it to reach the large-copy path with
	// small objects.
	MaxCopySize int64
	// Clock gives the time of every change: objects' Last-Modified (one
	// second resolution, as OSS), uploads' and parts' times. Default nil:
	// time.Now. Tests freeze it to make versions share a second; request
	// signatures are always checked against the real time.
	Clock func() time.Time
}

// DefaultMaxCopySize is Options.MaxCopySize's default: 1 GiB.
const DefaultMaxCopySize = 1 << 30

// Server is a running local OSS-compatible server.
type Server struct {
	opts   Options
	log    *slog.Logger
	credMu sync.RWMutex
	creds  map[string]Credential // GUARDED_BY(credMu) once serving
	// expired: key ids whose STS token has expired. GUARDED_BY(credMu)
	expired map[string]bool
	st      *store
	stats   *stats
	shape   *shaper
	ln      net.Listener
	hs      *http.Server
	reqSeq  atomic.Uint64
	reqPfx  string
	now     func() time.Time
}

// Start listens on opts.Addr and serves in the background until Close.
func Start(opts Options) (*Server, error) {
	s, err := newServer(opts)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", s.opts.Addr)
	if err != nil {
		return nil, err
	}
	s.ln = ln
	s.hs = &http.Server{Handler: s, ReadHeaderTimeout: 30 * time.Second, ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelDebug)}
	go func() { _ = s.hs.Serve(ln) }()
	s.log.Info("local OSS server listening", "endpoint", s.Endpoint(), "buckets", s.st.bucketNames(), "dir", s.opts.Dir)
	return s, nil
}

func newServer(opts Options) (*Server, error) {
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:0"
	}
	if len(opts.Buckets) == 0 {
		opts.Buckets = []string{"test-bucket"}
	}
	if len(opts.Credentials) == 0 {
		opts.Credentials = []Credential{{AccessKeyID: DefaultAccessKeyID, AccessKeySecret: DefaultAccessKeySecret}}
	}
	if opts.Region == "" {
		opts.Region = "cn-hangzhou"
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.MaxCopySize == 0 {
		opts.MaxCopySize = DefaultMaxCopySize
	}
	s := &Server{opts: opts, log: opts.Logger, creds: map[string]Credential{}, expired: map[string]bool{}, stats: newStats(), shape: newShaper(), now: time.Now}
	for _, c := range opts.Credentials {
		if c.AccessKeyID == "" || c.AccessKeySecret == "" {
			return nil, errors.New("osstest: a credential needs both an access key id and a secret")
		}
		s.creds[c.AccessKeyID] = c
	}
	var be backend = newMemBackend()
	if opts.Dir != "" {
		d, err := newDirBackend(opts.Dir)
		if err != nil {
			return nil, fmt.Errorf("osstest: --dir %s: %w", opts.Dir, err)
		}
		be = d
	}
	clock := opts.Clock
	if clock == nil {
		clock = time.Now
	}
	st, err := newStore(be, opts.Buckets, clock)
	if err != nil {
		return nil, err
	}
	s.st = st
	var b [6]byte
	_, _ = rand.Read(b[:])
	s.reqPfx = strings.ToUpper(hex.EncodeToString(b[:]))
	return s, nil
}

// Endpoint is the URL to give clients, e.g. "http://127.0.0.1:41234". A
// server listening on every interface (":9000", "0.0.0.0:9000") names the
// loopback address, which a client can dial, rather than "[::]" or
// "0.0.0.0".
func (s *Server) Endpoint() string {
	addr := s.ln.Addr().(*net.TCPAddr)
	host := addr.IP.String()
	if addr.IP.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, strconv.Itoa(addr.Port))
}

// Region is the region V4 signatures must be scoped to.
func (s *Server) Region() string { return s.opts.Region }

// Handler serves the OSS API; use it to mount the server elsewhere.
func (s *Server) Handler() http.Handler { return s }

// Close stops listening and closes every connection.
func (s *Server) Close() error {
	if s.hs == nil {
		return nil
	}
	return s.hs.Close()
}

// Shutdown stops accepting requests and waits for running ones (bounded by
// ctx) before closing.
func (s *Server) Shutdown(ctx context.Context) error {
	if s.hs == nil {
		return nil
	}
	return s.hs.Shutdown(ctx)
}

// Buckets lists the buckets served, sorted.
func (s *Server) Buckets() []string { return s.st.bucketNames() }

// OpenUploads is the number of multipart uploads initiated in bucket and
// neither completed nor aborted.
func (s *Server) OpenUploads(bucket string) int {
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	if b := s.st.buckets[bucket]; b != nil {
		return len(b.uploads)
	}
	return 0
}

func (s *Server) newRequestID() string {
	return fmt.Sprintf("%s%012X", s.reqPfx, s.reqSeq.Add(1))
}

// request is one parsed API call.
type request struct {
	id     string
	op     string
	bucket string // "" for service-level calls
	key    string // "" for bucket-level calls
	hasKey bool
	r      *http.Request
	w      *respWriter
	query  map[string][]string
}

func (q *request) param(name string) string {
	if v := q.query[name]; len(v) > 0 {
		return v[0]
	}
	return ""
}

func (q *request) has(name string) bool { _, ok := q.query[name]; return ok }

// ServeHTTP routes one request: admin endpoints, then address parsing,
// counting, shaping, authentication, faults, and the operation.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	id := s.newRequestID()
	w.Header().Set("x-oss-request-id", id)
	w.Header().Set("Server", "AliyunOSS")
	bucket, key, hasKey, vhost := s.parseAddress(r)
	if !vhost && strings.HasPrefix(r.URL.Path, "/_ossfs/") {
		s.serveAdmin(w, r)
		return
	}
	q := &request{id: id, bucket: bucket, key: key, hasKey: hasKey, r: r, query: r.URL.Query()}
	q.op = opName(q)
	s.stats.add(q.op)
	rw := &respWriter{ResponseWriter: w, shape: s.shape, status: 200}
	q.w = rw
	e := s.serve(q)
	if e != nil {
		writeError(rw, r, id, e)
	}
	s.log.Debug("oss request", "op", q.op, "bucket", bucket, "key", key, "request_id", id,
		"status", rw.status, "bytes", rw.written, "elapsed", time.Since(start))
}

func (s *Server) serve(q *request) *ossError {
	ctx := q.r.Context()
	if d := s.shape.latency(); d > 0 {
		if !sleepCtx(ctx, d) {
			return nil
		}
	}
	q.r.Body = s.shape.wrapBody(q.r.Body)
	if e := s.authenticate(q); e != nil {
		return e
	}
	if q.bucket != "" && !s.st.hasBucket(q.bucket) {
		return errNoSuchBucket()
	}
	if q.hasKey {
		if e := validKey(q.key); e != nil {
			return e
		}
	}
	if f := s.shape.match(q.op, q.key); f != nil {
		if done, e := s.applyFault(q, f); done {
			return e
		}
	}
	h := handlers[q.op]
	if h == nil {
		return errNotImplemented(q.r.Method + " " + q.r.URL.RawQuery)
	}
	return h(s, q)
}

// parseAddress finds bucket and key in path-style ("/bucket/key") or
// bucket-in-host ("bucket.host:port/key") form. A host counts as
// bucket-in-host when it is not an IP and its first label is a served bucket.
func (s *Server) parseAddress(r *http.Request) (bucket, key string, hasKey, vhost bool) {
	path := r.URL.Path
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if net.ParseIP(host) == nil {
		if first, _, ok := strings.Cut(host, "."); ok && s.st.hasBucket(first) {
			key = strings.TrimPrefix(path, "/")
			return first, key, key != "", true
		}
	}
	rest := strings.TrimPrefix(path, "/")
	if rest == "" {
		return "", "", false, false
	}
	bucket, key, _ = strings.Cut(rest, "/")
	return bucket, key, key != "", false
}

// opName names q's operation (see package opname, shared with the client's
// request log).
func opName(q *request) string {
	return opname.Of(opname.Request{Method: q.r.Method, HasBucket: q.bucket != "", HasKey: q.hasKey,
		Query: q.query, CopySource: q.r.Header.Get("x-oss-copy-source") != ""})
}

type handlerFunc func(s *Server, q *request) *ossError

var handlers map[string]handlerFunc

func init() {
	handlers = map[string]handlerFunc{
		"ListBuckets":             (*Server).listBuckets,
		"GetBucketInfo":           (*Server).getBucketInfo,
		"GetBucketLocation":       (*Server).getBucketLocation,
		"ListObjects":             (*Server).listObjectsV1,
		"ListObjectsV2":           (*Server).listObjectsV2,
		"PutObject":               (*Server).putObject,
		"GetObject":               (*Server).getObject,
		"HeadObject":              (*Server).headObject,
		"GetObjectMeta":           (*Server).getObjectMeta,
		"CopyObject":              (*Server).copyObject,
		"DeleteObject":            (*Server).deleteObject,
		"DeleteMultipleObjects":   (*Server).deleteMultipleObjects,
		"AppendObject":            (*Server).appendObject,
		"PutSymlink":              (*Server).putSymlink,
		"GetSymlink":              (*Server).getSymlink,
		"GetObjectAcl":            (*Server).getObjectACL,
		"InitiateMultipartUpload": (*Server).initiateMultipart,
		"UploadPart":              (*Server).uploadPart,
		"UploadPartCopy":          (*Server).uploadPartCopy,
		"CompleteMultipartUpload": (*Server).completeMultipart,
		"AbortMultipartUpload":    (*Server).abortMultipart,
		"ListParts":               (*Server).listParts,
		"ListMultipartUploads":    (*Server).listMultipartUploads,
	}
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// drain reads and discards what is left of a request body.
func drain(r io.Reader) { _, _ = io.Copy(io.Discard, r) }
