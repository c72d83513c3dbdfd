package osstest

import (
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

func errInternal(err error) *ossError {
	return newErr(500, "InternalError", "0000-00000000", "We encountered an internal error. Please try again. ("+err.Error()+")")
}

func toOSSError(err error) *ossError {
	var e *ossError
	if errors.As(err, &e) {
		return e
	}
	return errInternal(err)
}

func forbidOverwrite(r *http.Request) bool {
	return strings.EqualFold(r.Header.Get("x-oss-forbid-overwrite"), "true")
}

// receive streams the request body into a new blob, hashing it on the way,
// and checks Content-MD5 when the request carries one.
func (s *Server) receive(q *request) (segment, *digester, *ossError) {
	w, err := s.st.be.create(q.r.ContentLength)
	if err != nil {
		return segment{}, nil, errInternal(err)
	}
	d := newDigester()
	buf := make([]byte, 64<<10)
	if _, err := io.CopyBuffer(io.MultiWriter(w, d), q.r.Body, buf); err != nil {
		w.abort()
		return segment{}, nil, newErr(400, "IncompleteBody", "0016-00000204", "The request body could not be read: "+err.Error())
	}
	if cm := q.r.Header.Get("Content-MD5"); cm != "" {
		if cm != base64.StdEncoding.EncodeToString(d.md5.Sum(nil)) {
			w.abort()
			return segment{}, nil, errInvalidDigest()
		}
	}
	id, err := w.commit()
	if err != nil {
		return segment{}, nil, errInternal(err)
	}
	return segment{ID: id, Size: d.size}, d, nil
}

// receiveUnless receives the request body (see receive) unless the request
// was already refused (e != nil): then the body is drained and e returned.
func (s *Server) receiveUnless(q *request, e *ossError) (segment, *digester, *ossError) {
	if e != nil {
		drain(q.r.Body)
		return segment{}, nil, e
	}
	return s.receive(q)
}

// store commits o at q's key, honouring x-oss-forbid-overwrite (409
// FileAlreadyExists when the key exists at commit time).
func (s *Server) store(q *request, o *object) *ossError {
	forbid := forbidOverwrite(q.r)
	_, err := s.st.commit(q.bucket, q.key, func(old *object) (*object, *ossError) {
		if forbid && old != nil {
			return nil, errFileAlreadyExists()
		}
		return o, nil
	})
	if err != nil {
		return toOSSError(err)
	}
	return nil
}

func (s *Server) putObject(q *request) *ossError {
	o, e := s.st.newObjectFromRequest(q.r, q.key)
	if e == nil && forbidOverwrite(q.r) {
		if old, _ := s.st.lookup(q.bucket, q.key); old != nil {
			e = errFileAlreadyExists()
		}
	}
	seg, d, e := s.receiveUnless(q, e)
	if e != nil {
		return e
	}
	o.Type, o.Size, o.CRC64, o.ETag = typeNormal, d.size, d.crc, d.etag()
	o.ContentMD5 = base64.StdEncoding.EncodeToString(d.md5.Sum(nil))
	o.Segments = []segment{seg}
	if e := s.store(q, o); e != nil {
		s.st.discard(o.Segments)
		return e
	}
	h := q.w.Header()
	h.Set("ETag", quoted(o.ETag))
	h.Set("Content-MD5", o.ContentMD5)
	h.Set("x-oss-hash-crc64ecma", fmt.Sprint(o.CRC64))
	q.w.WriteHeader(http.StatusOK)
	return nil
}

// objectHeaders sets what GET/HEAD report for v: a followed symlink reports
// the target's bytes, length, ETag, CRC and metadata with type Symlink and
// the later of the two modification times.
func objectHeaders(h http.Header, v *view) {
	writeObjectHeaders(h, v.obj)
	if v.link != nil {
		h.Set("x-oss-object-type", typeSymlink)
		if v.link.Modified.After(v.obj.Modified) {
			h.Set("Last-Modified", httpTime(v.link.Modified))
		}
	}
}

// checkConditions applies If-Match, If-None-Match, If-Modified-Since and
// If-Unmodified-Since. It returns 304 (not modified) or a 412 error.
func checkConditions(r *http.Request, o *object) (int, *ossError) {
	h := r.Header
	if m := h.Get("If-Match"); m != "" && unquote(m) != o.ETag {
		return 0, errPreconditionFailed()
	}
	if t, err := http.ParseTime(h.Get("If-Unmodified-Since")); err == nil && o.Modified.Truncate(time.Second).After(t) {
		return 0, errPreconditionFailed()
	}
	if m := h.Get("If-None-Match"); m != "" && unquote(m) == o.ETag {
		return http.StatusNotModified, nil
	}
	if t, err := http.ParseTime(h.Get("If-Modified-Since")); err == nil && !o.Modified.Truncate(time.Second).After(t) {
		return http.StatusNotModified, nil
	}
	return 0, nil
}

var responseOverrides = map[string]string{
	"response-content-type": "Content-Type", "response-content-language": "Content-Language",
	"response-expires": "Expires", "response-cache-control": "Cache-Control",
	"response-content-disposition": "Content-Disposition", "response-content-encoding": "Content-Encoding",
}

func (s *Server) getObject(q *request) *ossError { return s.readObject(q, true) }

func (s *Server) headObject(q *request) *ossError { return s.readObject(q, false) }

func (s *Server) readObject(q *request, withBody bool) *ossError {
	v, e := s.st.get(q.bucket, q.key, true)
	if e != nil {
		return e
	}
	defer v.release()
	o := v.obj
	h := q.w.Header()
	notModified, e := checkConditions(q.r, o)
	if e != nil {
		return e
	}
	off, n, status := int64(0), o.Size, http.StatusOK
	if withBody && notModified == 0 {
		if off, n, status, e = parseRange(q.r.Header.Get("Range"), q.r.Header.Get("x-oss-range-behavior"), o.Size); e != nil {
			h.Set("Content-Range", fmt.Sprintf("bytes */%d", o.Size))
			return e
		}
	}
	objectHeaders(h, v)
	if notModified != 0 {
		if withBody && notModified == http.StatusNotModified {
			s.stats.mu.Lock()
			s.stats.notModified++
			s.stats.mu.Unlock()
		}
		q.w.WriteHeader(notModified)
		return nil
	}
	if withBody {
		for p, name := range responseOverrides {
			if val := q.param(p); val != "" {
				h.Set(name, val)
			}
		}
	}
	h.Set("Accept-Ranges", "bytes")
	h.Set("Content-Length", strconv.FormatInt(n, 10))
	if status == http.StatusPartialContent {
		h.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", off, off+n-1, o.Size))
	}
	if !withBody {
		q.w.WriteHeader(status)
		return nil
	}
	body, closeAll, err := s.openRange(o, off, n)
	if err != nil {
		h.Del("Content-Length")
		return errInternal(err)
	}
	defer closeAll()
	q.w.WriteHeader(status)
	if _, err := io.CopyBuffer(q.w, body, make([]byte, 64<<10)); err != nil {
		s.log.Debug("GetObject body not fully sent", "key", q.key, "request_id", q.id, "err", err)
	}
	return nil
}

// parseRange reads a single "bytes=" range. Without x-oss-range-behavior:
// standard an invalid or unsatisfiable range is ignored (200, whole object);
// with it, a start beyond the end is 416 InvalidRange and an end beyond the
// end is clipped. A multi-range uses its first range.
func parseRange(hdr, behavior string, size int64) (off, n int64, status int, e *ossError) {
	standard := strings.EqualFold(behavior, "standard")
	spec, ok := strings.CutPrefix(strings.TrimSpace(hdr), "bytes=")
	if hdr == "" || !ok {
		return 0, size, 200, nil
	}
	spec, _, _ = strings.Cut(spec, ",")
	first, last, ok := strings.Cut(strings.TrimSpace(spec), "-")
	if !ok {
		return 0, size, 200, nil
	}
	var start, end int64
	if first == "" { // suffix: the last N bytes
		sfx, err := strconv.ParseInt(last, 10, 64)
		if err != nil || sfx <= 0 {
			return 0, size, 200, nil
		}
		if sfx > size {
			if !standard || size == 0 {
				if standard {
					return 0, 0, 0, errInvalidRange()
				}
				return 0, size, 200, nil
			}
			sfx = size
		}
		return size - sfx, sfx, 206, nil
	}
	start, err := strconv.ParseInt(first, 10, 64)
	if err != nil || start < 0 {
		return 0, size, 200, nil
	}
	end = size - 1
	if last != "" {
		if end, err = strconv.ParseInt(last, 10, 64); err != nil || end < start {
			return 0, size, 200, nil
		}
	}
	if start >= size {
		if standard {
			return 0, 0, 0, errInvalidRange()
		}
		return 0, size, 200, nil
	}
	if end >= size {
		if !standard {
			return 0, size, 200, nil
		}
		end = size - 1
	}
	return start, end - start + 1, 206, nil
}

// openRange opens the bytes [off, off+n) of o across its segments.
func (s *Server) openRange(o *object, off, n int64) (io.Reader, func(), error) {
	var readers []io.Reader
	var handles []blobHandle
	closeAll := func() {
		for _, h := range handles {
			_ = h.Close()
		}
	}
	pos := int64(0)
	for _, sg := range o.Segments {
		segStart, segEnd := pos, pos+sg.Size
		pos = segEnd
		lo, hi := max(off, segStart), min(off+n, segEnd)
		if lo >= hi {
			continue
		}
		h, err := s.st.be.open(sg.ID)
		if err != nil {
			closeAll()
			return nil, nil, err
		}
		handles = append(handles, h)
		readers = append(readers, io.NewSectionReader(h, lo-segStart, hi-lo))
	}
	return io.MultiReader(readers...), closeAll, nil
}

// getObjectMeta reports ETag, size (Content-Length) and Last-Modified of
// the object at key, without following a symlink: on a link it reports the
// link's own ETag, Last-Modified and size (the length of its target key),
// whether or not the target exists, as OSS documents ("If the object is a
// symbolic link, the information about the symbolic link is returned").
func (s *Server) getObjectMeta(q *request) *ossError {
	v, e := s.st.get(q.bucket, q.key, false)
	if e != nil {
		return e
	}
	defer v.release()
	h := q.w.Header()
	o := v.obj
	h.Set("Content-Length", strconv.FormatInt(o.Size, 10))
	h.Set("ETag", quoted(o.ETag))
	h.Set("Last-Modified", httpTime(o.Modified))
	if o.Type != typeSymlink { // a link has no content to checksum
		h.Set("x-oss-hash-crc64ecma", fmt.Sprint(o.CRC64))
	}
	q.w.WriteHeader(http.StatusOK)
	return nil
}

func (s *Server) deleteObject(q *request) *ossError {
	if err := s.st.remove(q.bucket, q.key); err != nil {
		return toOSSError(err)
	}
	q.w.WriteHeader(http.StatusNoContent)
	return nil
}

type deleteRequest struct {
	Quiet   bool `xml:"Quiet"`
	Objects []struct {
		Key string `xml:"Key"`
	} `xml:"Object"`
}

type deleteResult struct {
	XMLName      xml.Name `xml:"DeleteResult"`
	EncodingType string   `xml:"EncodingType,omitempty"`
	Deleted      []struct {
		Key string `xml:"Key"`
	} `xml:"Deleted"`
}

func (s *Server) deleteMultipleObjects(q *request) *ossError {
	var req deleteRequest
	if e := readXMLBody(q, &req); e != nil {
		return e
	}
	if len(req.Objects) == 0 || len(req.Objects) > 1000 {
		return errMalformedXML()
	}
	enc := q.param("encoding-type") == "url"
	res := deleteResult{}
	if enc {
		res.EncodingType = "url"
	}
	for _, ob := range req.Objects {
		if validKey(ob.Key) != nil {
			return errInvalidObjectName("The specified object is not valid.")
		}
		if err := s.st.remove(q.bucket, ob.Key); err != nil {
			return toOSSError(err)
		}
		if !req.Quiet {
			k := ob.Key
			if enc {
				k = urlEncodeKey(k)
			}
			res.Deleted = append(res.Deleted, struct {
				Key string `xml:"Key"`
			}{k})
		}
	}
	return writeXML(q, res)
}

// readXMLBody decodes a small XML request body (at most 4 MiB), checking
// Content-MD5 when present.
func readXMLBody(q *request, v any) *ossError {
	data, err := io.ReadAll(io.LimitReader(q.r.Body, 4<<20))
	if err != nil {
		return newErr(400, "IncompleteBody", "0016-00000204", err.Error())
	}
	if cm := q.r.Header.Get("Content-MD5"); cm != "" {
		sum := md5.Sum(data)
		if cm != base64.StdEncoding.EncodeToString(sum[:]) {
			return errInvalidDigest()
		}
	}
	if err := xml.Unmarshal(data, v); err != nil {
		return errMalformedXML()
	}
	return nil
}

func writeXML(q *request, v any) *ossError {
	body, err := xml.Marshal(v)
	if err != nil {
		return errInternal(err)
	}
	body = append([]byte(xml.Header), body...)
	q.w.Header().Set("Content-Type", "application/xml")
	q.w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	q.w.WriteHeader(http.StatusOK)
	_, _ = q.w.Write(body)
	return nil
}

// parseCopySource splits x-oss-copy-source ("/bucket/percent-encoded-key",
// optionally "?versionId=...") into bucket and key.
func parseCopySource(src string) (string, string, *ossError) {
	src, _, _ = strings.Cut(src, "?versionId=")
	b, k, ok := strings.Cut(strings.TrimPrefix(src, "/"), "/")
	if !ok || b == "" {
		return "", "", errInvalidArgument("Copy Source must mention the source bucket and key: /sourcebucket/sourcekey.")
	}
	key, err := url.PathUnescape(k)
	if err != nil {
		return "", "", errInvalidArgument("Copy Source is not a valid URL-encoded key.")
	}
	if e := validKey(key); e != nil {
		return "", "", e
	}
	return b, key, nil
}

func appendETag(prev, piece string) string {
	sum := md5.Sum([]byte(prev + piece))
	return strings.ToUpper(hex.EncodeToString(sum[:]))
}
