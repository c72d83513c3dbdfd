package osstest

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// copyLocked-free helper on the store: the source lookup and the
// destination write happen under one lock hold, so the copy is atomic.
func (s *store) copy(sb, sk, db, dk string, build func(src, old *object) (*object, *ossError)) (*object, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	src, e := s.bucketLocked(sb)
	if e != nil {
		return nil, e
	}
	dst, e := s.bucketLocked(db)
	if e != nil {
		return nil, e
	}
	so := src.objs[sk]
	if so == nil {
		return nil, errNoSuchKey()
	}
	old := dst.objs[dk]
	o, e := build(so, old)
	if e != nil {
		return nil, e
	}
	if err := s.be.saveMeta(db, o); err != nil {
		return nil, err
	}
	s.setLocked(dst, o, old)
	return o, nil
}

type copyResult struct {
	XMLName      xml.Name `xml:"CopyObjectResult"`
	ETag         string   `xml:"ETag"`
	LastModified string   `xml:"LastModified"`
}

// copyObject copies an object server-side. A symlink is copied as a link
// (same target); data blobs are shared, not duplicated. A source larger
// than Options.MaxCopySize is EntityTooLarge.
func (s *Server) copyObject(q *request) *ossError {
	drain(q.r.Body)
	sb, sk, e := parseCopySource(q.r.Header.Get("x-oss-copy-source"))
	if e != nil {
		return e
	}
	directive := strings.ToUpper(q.r.Header.Get("x-oss-metadata-directive"))
	if directive != "" && directive != "COPY" && directive != "REPLACE" {
		return errInvalidArgument("Invalid x-oss-metadata-directive.")
	}
	req, e := s.st.newObjectFromRequest(q.r, q.key)
	if e != nil {
		return e
	}
	forbid := forbidOverwrite(q.r)
	o, err := s.st.copy(sb, sk, q.bucket, q.key, func(src, old *object) (*object, *ossError) {
		if forbid && old != nil {
			return nil, errFileAlreadyExists()
		}
		if e := copySourceConditions(q.r, src.ETag); e != nil {
			return nil, e
		}
		if limit := s.opts.MaxCopySize; limit > 0 && src.Type != typeSymlink && src.Size > limit {
			return nil, errEntityTooLarge(fmt.Sprintf("The source object is %d bytes; CopyObject copies at most %d. Use UploadPartCopy.", src.Size, limit))
		}
		o := *src
		o.Key, o.Modified = q.key, s.st.stamp()
		o.Segments = append([]segment(nil), src.Segments...)
		if directive == "REPLACE" {
			o.ContentType, o.Headers, o.Meta = req.ContentType, req.Headers, req.Meta
			if o.ContentType == "" { // as a PutObject without one
				o.ContentType = "application/octet-stream"
			}
		}
		if req.ACL != "" {
			o.ACL = req.ACL
		}
		if req.StorageClass != "" {
			o.StorageClass = req.StorageClass
		}
		return &o, nil
	})
	if err != nil {
		return toOSSError(err)
	}
	q.w.Header().Set("x-oss-hash-crc64ecma", fmt.Sprint(o.CRC64))
	return writeXML(q, copyResult{ETag: quoted(o.ETag), LastModified: isoTime(o.Modified)})
}

// appendObject appends the body at ?position=; the first append creates an
// Appendable object and fixes its metadata.
func (s *Server) appendObject(q *request) *ossError {
	pos, err := strconv.ParseInt(q.param("position"), 10, 64)
	if err != nil || pos < 0 {
		drain(q.r.Body)
		return errInvalidArgument("Invalid append position.")
	}
	tmpl, e := s.st.newObjectFromRequest(q.r, q.key)
	if e == nil {
		if old, _ := s.st.lookup(q.bucket, q.key); old != nil {
			e = checkAppend(old, pos)
		} else if pos != 0 {
			e = errPositionNotEqualToLength(0)
		}
	}
	seg, d, e := s.receiveUnless(q, e)
	if e != nil {
		return e
	}
	o, err := s.st.commit(q.bucket, q.key, func(old *object) (*object, *ossError) {
		if old == nil {
			if pos != 0 {
				return nil, errPositionNotEqualToLength(0)
			}
			n := *tmpl
			n.Type, n.Size, n.CRC64, n.ETag, n.Segments = typeAppendable, d.size, d.crc, d.etag(), []segment{seg}
			return &n, nil
		}
		if e := checkAppend(old, pos); e != nil {
			return nil, e
		}
		n := *old
		n.Segments = append(append([]segment(nil), old.Segments...), seg)
		n.Size = old.Size + d.size
		n.CRC64 = crc64Combine(old.CRC64, d.crc, d.size)
		n.ETag = appendETag(old.ETag, d.etag())
		n.Modified = s.st.stamp()
		return &n, nil
	})
	if err != nil {
		s.st.discard([]segment{seg})
		return toOSSError(err)
	}
	h := q.w.Header()
	h.Set("ETag", quoted(o.ETag))
	h.Set("x-oss-next-append-position", strconv.FormatInt(o.Size, 10))
	h.Set("x-oss-hash-crc64ecma", fmt.Sprint(o.CRC64))
	q.w.WriteHeader(http.StatusOK)
	return nil
}

func checkAppend(old *object, pos int64) *ossError {
	if old.Type != typeAppendable {
		return errObjectNotAppendable()
	}
	if pos != old.Size {
		return errPositionNotEqualToLength(old.Size)
	}
	return nil
}
