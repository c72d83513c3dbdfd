package osstest

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/ossfs/ossfs/ossclient/percent"
)

// maxSkew is how far a request's signing time may be from the server clock.
const maxSkew = 15 * time.Minute

// v1SignedParams are the query parameters that V1 signatures cover (the
// list the official SDKs sign; parameters starting with "x-oss-" are signed
// too).
var v1SignedParams = map[string]bool{
	"acl": true, "bucketInfo": true, "location": true, "stat": true, "delete": true,
	"append": true, "tagging": true, "objectMeta": true, "uploads": true, "uploadId": true,
	"partNumber": true, "security-token": true, "position": true,
	"response-content-type": true, "response-content-language": true, "response-expires": true,
	"response-cache-control": true, "response-content-disposition": true,
	"response-content-encoding": true, "restore": true, "callback": true, "callback-var": true,
	"versions": true, "versioning": true, "versionId": true, "sequential": true,
	"continuation-token": true, "regionList": true, "cloudboxes": true, "symlink": true,
	"seal": true, "cleanRestoredObject": true,
}

// authenticate verifies the Authorization header (V1 "OSS id:sig" or V4
// "OSS4-HMAC-SHA256 ..."). Presigned (query-string) URLs are not supported.
func (s *Server) authenticate(q *request) *ossError {
	auth := q.r.Header.Get("Authorization")
	switch {
	case auth == "":
		if q.has("Signature") || q.has("x-oss-signature") {
			return errNotImplemented("presigned URLs")
		}
		return errAccessDenied("You have no right to access this object because of bucket acl.")
	case strings.HasPrefix(auth, "OSS4-HMAC-SHA256 "):
		return s.verifyV4(q, strings.TrimPrefix(auth, "OSS4-HMAC-SHA256 "))
	case strings.HasPrefix(auth, "OSS "):
		return s.verifyV1(q, strings.TrimPrefix(auth, "OSS "))
	}
	return errInvalidArgument("Authorization header is invalid.")
}

func (s *Server) credential(id string, r *http.Request) (Credential, *ossError) {
	s.credMu.RLock()
	c, ok := s.creds[id]
	expired := s.expired[id]
	s.credMu.RUnlock()
	if !ok {
		return c, errInvalidAccessKeyID()
	}
	if expired {
		s.stats.fault("SecurityTokenExpired")
		return c, newErr(403, "SecurityTokenExpired", "0002-00000066", "The security token you provided has expired.")
	}
	if tok := r.Header.Get("x-oss-security-token"); tok != c.SecurityToken {
		if c.SecurityToken == "" {
			return c, errInvalidAccessKeyID()
		}
		return c, newErr(403, "InvalidSecurityToken", "0002-00000022", "The security token you provided is invalid.")
	}
	return c, nil
}

func (s *Server) checkSkew(t time.Time) *ossError {
	now := s.now()
	if d := now.Sub(t); d > maxSkew || d < -maxSkew {
		return errTimeTooSkewed().
			with("RequestTime", t.UTC().Format(time.RFC3339)).
			with("ServerTime", now.UTC().Format(time.RFC3339)).
			with("MaxAllowedSkewMilliseconds", "900000")
	}
	return nil
}

func (s *Server) verifyV1(q *request, cred string) *ossError {
	id, sig, ok := strings.Cut(cred, ":")
	if !ok {
		return errInvalidArgument("Authorization header is invalid.")
	}
	c, e := s.credential(id, q.r)
	if e != nil {
		return e
	}
	date, t, e := v1Date(q.r.Header)
	if e != nil {
		return e
	}
	if e := s.checkSkew(t); e != nil {
		return e
	}
	sts := v1StringToSign(q, date)
	mac := hmac.New(sha1.New, []byte(c.AccessKeySecret))
	mac.Write([]byte(sts))
	want := base64.StdEncoding.EncodeToString(mac.Sum(nil))
	if subtle.ConstantTimeCompare([]byte(want), []byte(sig)) != 1 {
		return errSignatureDoesNotMatch().with("StringToSign", sts).with("OSSAccessKeyId", id)
	}
	return nil
}

// v1Date is the value on the date line of a V1 string to sign and the time
// it means: the Date header, or, when there is none, x-oss-date (which
// browsers and the Node.js SDK send because they cannot set Date; the value
// then also appears among the signed x-oss-* headers). x-oss-date is
// accepted in the HTTP date form ali-oss sends ("Tue, 20 Dec 2022 08:48:18
// GMT") and in the ISO 8601 form OSS documents ("20221220T084818Z").
func v1Date(h http.Header) (string, time.Time, *ossError) {
	date, name := h.Get("Date"), "Date"
	if date == "" {
		date, name = h.Get("x-oss-date"), "x-oss-date"
	}
	if date == "" {
		return "", time.Time{}, newErr(403, "AccessDenied", "0002-00000503",
			"OSS authentication requires a valid Date or x-oss-date.")
	}
	t, err := http.ParseTime(date)
	if err != nil && name == "x-oss-date" {
		t, err = time.Parse(isoBasicTime, date)
	}
	if err != nil {
		return "", time.Time{}, newErr(403, "AccessDenied", "0002-00000502",
			"The "+name+" header of the request is not a valid time.").with("Header", name)
	}
	return date, t, nil
}

// isoBasicTime is the ISO 8601 basic form of x-oss-date.
const isoBasicTime = "20060102T150405Z"

func v1StringToSign(q *request, date string) string {
	r := q.r
	var b strings.Builder
	b.WriteString(r.Method + "\n" + r.Header.Get("Content-MD5") + "\n" + r.Header.Get("Content-Type") + "\n" + date + "\n")
	for _, k := range ossHeaderNames(r.Header) {
		b.WriteString(k + ":" + joinTrimmed(r.Header.Values(k)) + "\n")
	}
	b.WriteString(canonicalResource(q))
	var params []string
	for k := range q.query {
		if v1SignedParams[k] || strings.HasPrefix(k, "x-oss-") {
			params = append(params, k)
		}
	}
	sort.Strings(params)
	for i, k := range params {
		if i == 0 {
			b.WriteByte('?')
		} else {
			b.WriteByte('&')
		}
		b.WriteString(k)
		if v := q.param(k); v != "" {
			b.WriteString("=" + v)
		}
	}
	return b.String()
}

// canonicalResource is "/bucket/key", "/bucket/" or "/" (raw, not encoded).
func canonicalResource(q *request) string {
	if q.bucket == "" {
		return "/"
	}
	return "/" + q.bucket + "/" + q.key
}

func ossHeaderNames(h http.Header) []string {
	var names []string
	for k := range h {
		if lk := strings.ToLower(k); strings.HasPrefix(lk, "x-oss-") {
			names = append(names, lk)
		}
	}
	sort.Strings(names)
	return names
}

func joinTrimmed(vals []string) string {
	out := make([]string, len(vals))
	for i, v := range vals {
		out[i] = strings.TrimSpace(v)
	}
	return strings.Join(out, ",")
}

type v4Auth struct {
	id, date, region, product string
	additional                []string
	signature                 string
}

func parseV4(s string) (v4Auth, bool) {
	var a v4Auth
	for _, part := range strings.Split(s, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "Credential":
			f := strings.Split(v, "/")
			if len(f) != 5 || f[4] != "aliyun_v4_request" {
				return a, false
			}
			a.id, a.date, a.region, a.product = f[0], f[1], f[2], f[3]
		case "AdditionalHeaders":
			if v != "" {
				a.additional = strings.Split(strings.ToLower(v), ";")
			}
		case "Signature":
			a.signature = v
		}
	}
	return a, a.id != "" && a.signature != ""
}

func (s *Server) verifyV4(q *request, authz string) *ossError {
	a, ok := parseV4(authz)
	if !ok {
		return errInvalidArgument("Authorization header is invalid.")
	}
	c, e := s.credential(a.id, q.r)
	if e != nil {
		return e
	}
	if a.region != s.opts.Region {
		return errInvalidArgument("Invalid signing region in Authorization header.").with("ExpectedRegion", s.opts.Region)
	}
	if a.product != "oss" {
		return errInvalidArgument("Invalid signing product in Authorization header.")
	}
	datetime := q.r.Header.Get("x-oss-date")
	t, err := time.Parse(isoBasicTime, datetime)
	if err != nil || t.Format("20060102") != a.date {
		return errAccessDenied("OSS V4 authentication requires a valid x-oss-date that matches the credential scope.")
	}
	if e := s.checkSkew(t); e != nil {
		return e
	}
	creq := v4CanonicalRequest(q, a.additional)
	sum := sha256.Sum256([]byte(creq))
	scope := a.date + "/" + a.region + "/" + a.product + "/aliyun_v4_request"
	sts := "OSS4-HMAC-SHA256\n" + datetime + "\n" + scope + "\n" + hex.EncodeToString(sum[:])
	key := []byte("aliyun_v4" + c.AccessKeySecret)
	for _, part := range []string{a.date, a.region, a.product, "aliyun_v4_request"} {
		key = hmacSHA256(key, part)
	}
	want := hex.EncodeToString(hmacSHA256(key, sts))
	if subtle.ConstantTimeCompare([]byte(want), []byte(a.signature)) != 1 {
		return errSignatureDoesNotMatch().with("StringToSign", sts).with("CanonicalRequest", creq)
	}
	return nil
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

func v4CanonicalRequest(q *request, additional []string) string {
	r := q.r
	var b strings.Builder
	b.WriteString(r.Method + "\n")
	b.WriteString(percent.Encode(canonicalResource(q), false) + "\n")
	// Query: every parameter, decoded then re-encoded strictly, sorted.
	type kv struct{ k, v string }
	var params []kv
	for k, vs := range q.query {
		v := ""
		if len(vs) > 0 {
			v = vs[len(vs)-1]
		}
		params = append(params, kv{percent.Encode(k, true), percent.Encode(v, true)})
	}
	sort.Slice(params, func(i, j int) bool { return params[i].k < params[j].k })
	for i, p := range params {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.k)
		if p.v != "" {
			b.WriteString("=" + p.v)
		}
	}
	b.WriteByte('\n')
	// Headers: x-oss-*, content-type, content-md5, and the additional ones.
	want := map[string]bool{}
	for _, h := range additional {
		want[h] = true
	}
	var names []string
	for k := range r.Header {
		lk := strings.ToLower(k)
		if strings.HasPrefix(lk, "x-oss-") || lk == "content-type" || lk == "content-md5" || want[lk] {
			names = append(names, lk)
		}
	}
	if want["host"] {
		names = append(names, "host")
	}
	sort.Strings(names)
	for _, k := range names {
		v := joinTrimmed(r.Header.Values(k))
		if k == "host" {
			v = r.Host
		}
		b.WriteString(k + ":" + v + "\n")
	}
	b.WriteString("\n" + strings.Join(additional, ";") + "\n")
	payload := r.Header.Get("x-oss-content-sha256")
	if payload == "" {
		payload = "UNSIGNED-PAYLOAD"
	}
	b.WriteString(payload)
	return b.String()
}

// SetCredential accepts c from now on, replacing any credential with the
// same key id: what an STS refresh hands a client (a new key id, secret and
// token, or a new token for the same id).
func (s *Server) SetCredential(c Credential) {
	s.credMu.Lock()
	s.creds[c.AccessKeyID] = c
	delete(s.expired, c.AccessKeyID)
	s.credMu.Unlock()
}

// ExpireCredential makes every later request signed with key id fail with
// 403 SecurityTokenExpired, as OSS answers once an STS token has expired.
// Each such answer counts in FaultCounts under "SecurityTokenExpired".
func (s *Server) ExpireCredential(id string) {
	s.credMu.Lock()
	s.expired[id] = true
	s.credMu.Unlock()
}
