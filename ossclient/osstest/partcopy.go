package osstest

import (
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
)

// copyPartResult is UploadPartCopy's response body.
type copyPartResult struct {
	XMLName      xml.Name `xml:"CopyPartResult"`
	LastModified string   `xml:"LastModified"`
	ETag         string   `xml:"ETag"`
}

// uploadPartCopy is UploadPart with the part's bytes taken from an existing
// object (x-oss-copy-source): all of it, or the x-oss-copy-source-range
// "bytes=first-last" (an invalid or unsatisfiable range copies the whole
// source, as GetObject does without x-oss-range-behavior). A symlink source
// is followed one level, as GetObject follows it. The part's bytes are read
// and written into a new blob: a part is one blob, and its ETag (the MD5)
// and CRC need the bytes read anyway. The source is pinned while it is
// read, so it may be overwritten or deleted meanwhile.
func (s *Server) uploadPartCopy(q *request) *ossError {
	drain(q.r.Body)
	num, id, e := s.partTarget(q)
	if e != nil {
		return e
	}
	sb, sk, e := parseCopySource(q.r.Header.Get("x-oss-copy-source"))
	if e != nil {
		return e
	}
	v, e := s.st.get(sb, sk, false)
	if e != nil {
		return e
	}
	src := v.obj
	if src.Type == typeSymlink {
		v.release()
		return errCopySourceIsSymlink()
	}
	if e := copySourceConditions(q.r, src.ETag); e != nil {
		v.release()
		return e
	}
	off, n, _, _ := parseRange(q.r.Header.Get("x-oss-copy-source-range"), "", src.Size)
	seg, d, err := s.copyRange(src, off, n)
	v.release()
	if err != nil {
		return errInternal(err)
	}
	p, e := s.st.addPart(q.bucket, id, q.key, num, seg, d)
	if e != nil {
		return e
	}
	q.w.Header().Set("x-oss-hash-crc64ecma", fmt.Sprint(p.CRC))
	return writeXML(q, copyPartResult{LastModified: isoTime(p.Modified), ETag: quoted(p.ETag)})
}

// copyRange writes bytes [off, off+n) of o (pinned by the caller) into a
// new blob, hashing them on the way.
func (s *Server) copyRange(o *object, off, n int64) (segment, *digester, error) {
	body, closeAll, err := s.openRange(o, off, n)
	if err != nil {
		return segment{}, nil, err
	}
	defer closeAll()
	w, err := s.st.be.create(n)
	if err != nil {
		return segment{}, nil, err
	}
	d := newDigester()
	if _, err := io.CopyBuffer(io.MultiWriter(w, d), body, make([]byte, 64<<10)); err != nil {
		w.abort()
		return segment{}, nil, err
	}
	id, err := w.commit()
	if err != nil {
		return segment{}, nil, err
	}
	return segment{ID: id, Size: d.size}, d, nil
}

// copySourceConditions checks x-oss-copy-source-if-match and
// -if-none-match against the source's ETag: 412 PreconditionFailed when
// either does not hold.
func copySourceConditions(r *http.Request, etag string) *ossError {
	ifMatch, ifNone := r.Header.Get("x-oss-copy-source-if-match"), r.Header.Get("x-oss-copy-source-if-none-match")
	if (ifMatch != "" && unquote(ifMatch) != etag) || (ifNone != "" && unquote(ifNone) == etag) {
		return errPreconditionFailed()
	}
	return nil
}
