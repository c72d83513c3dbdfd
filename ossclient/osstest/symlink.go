package osstest

import (
	"crypto/md5"
	"encoding/hex"
	"net/http"
	"net/url"
	"strings"
)

// putSymlink creates a link object. The x-oss-symlink-target header is
// percent-decoded (as real OSS does); the target is not checked for
// existence. The link carries its own ACL, storage class and user metadata.
func (s *Server) putSymlink(q *request) *ossError {
	drain(q.r.Body)
	raw, present := q.r.Header["X-Oss-Symlink-Target"]
	if !present || len(raw) == 0 || raw[0] == "" {
		return errInvalidArgument("x-oss-symlink-target is required.").with("ArgumentName", "x-oss-symlink-target")
	}
	target, err := url.PathUnescape(raw[0])
	if err != nil {
		return errInvalidArgument("x-oss-symlink-target is not correctly percent-encoded.").with("ArgumentName", "x-oss-symlink-target")
	}
	if e := validKey(target); e != nil {
		return errInvalidArgument("The symlink target is not a valid object name: "+e.Message).with("ArgumentName", "x-oss-symlink-target")
	}
	o, e := s.st.newObjectFromRequest(q.r, q.key)
	if e != nil {
		return e
	}
	sum := md5.Sum([]byte(target))
	o.Type, o.Target, o.ETag = typeSymlink, target, strings.ToUpper(hex.EncodeToString(sum[:]))
	o.Size = int64(len(target)) // what OSS lists as a link's size
	if e := s.store(q, o); e != nil {
		return e
	}
	q.w.Header().Set("ETag", quoted(o.ETag))
	q.w.WriteHeader(http.StatusOK)
	return nil
}

// getSymlink reports a link's target (percent-encoded, "/" kept) and the
// link's own user metadata.
func (s *Server) getSymlink(q *request) *ossError {
	o, e := s.st.lookup(q.bucket, q.key)
	if e != nil {
		return e
	}
	if o == nil {
		return errNoSuchKey()
	}
	if o.Type != typeSymlink {
		return errNotSymlink()
	}
	h := q.w.Header()
	h.Set("x-oss-symlink-target", encodeTarget(o.Target))
	h.Set("ETag", quoted(o.ETag))
	h.Set("Last-Modified", httpTime(o.Modified))
	h.Set("Content-Length", "0")
	for k, v := range o.Meta {
		h.Set("x-oss-meta-"+k, v)
	}
	q.w.WriteHeader(http.StatusOK)
	return nil
}
