package osstest

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// minPartSize is the smallest size of every part but the last (as in OSS).
const minPartSize = 100 << 10

// upload is an open multipart upload. Its parts hold references on their
// blobs until the upload is completed or aborted. Uploads live in memory
// only: they do not survive a restart, even in directory mode.
type upload struct {
	ID        string
	Key       string
	Initiated time.Time
	tmpl      *object       // metadata given at initiation
	parts     map[int]*part // GUARDED_BY(store.mu)
}

type part struct {
	Num      int
	ETag     string
	Size     int64
	CRC      uint64
	Modified time.Time
	Seg      segment
}

// LOCKS_REQUIRED(s.mu)
func (s *store) uploadLocked(bname, id, key string) (*bucket, *upload, *ossError) {
	b, e := s.bucketLocked(bname)
	if e != nil {
		return nil, nil, e
	}
	u := b.uploads[id]
	if u == nil || u.Key != key {
		return nil, nil, errNoSuchUpload()
	}
	return b, u, nil
}

func (s *store) dropUploadLocked(b *bucket, u *upload) {
	for _, p := range u.parts {
		s.decref([]segment{p.Seg})
	}
	delete(b.uploads, u.ID)
}

type initiateResult struct {
	XMLName      xml.Name `xml:"InitiateMultipartUploadResult"`
	Bucket       string   `xml:"Bucket"`
	Key          string   `xml:"Key"`
	UploadID     string   `xml:"UploadId"`
	EncodingType string   `xml:"EncodingType,omitempty"`
}

func (s *Server) initiateMultipart(q *request) *ossError {
	drain(q.r.Body)
	enc, encName, e := encoder(q)
	if e != nil {
		return e
	}
	tmpl, e := s.st.newObjectFromRequest(q.r, q.key)
	if e != nil {
		return e
	}
	if forbidOverwrite(q.r) {
		if old, _ := s.st.lookup(q.bucket, q.key); old != nil {
			return errFileAlreadyExists()
		}
	}
	u := &upload{ID: strings.ToUpper(newID()), Key: q.key, Initiated: s.st.stamp(), tmpl: tmpl, parts: map[int]*part{}}
	s.st.mu.Lock()
	b, e := s.st.bucketLocked(q.bucket)
	if e == nil {
		b.uploads[u.ID] = u
	}
	s.st.mu.Unlock()
	if e != nil {
		return e
	}
	return writeXML(q, initiateResult{Bucket: q.bucket, Key: enc(q.key), UploadID: u.ID, EncodingType: encName})
}

// partTarget checks the part number and the upload id of an UploadPart or
// UploadPartCopy request, and returns them.
func (s *Server) partTarget(q *request) (num int, id string, e *ossError) {
	if num, e = partNumber(q); e != nil {
		return 0, "", e
	}
	id = q.param("uploadId")
	s.st.mu.Lock()
	_, _, e = s.st.uploadLocked(q.bucket, id, q.key)
	s.st.mu.Unlock()
	return num, id, e
}

func (s *Server) uploadPart(q *request) *ossError {
	num, id, e := s.partTarget(q)
	seg, d, e := s.receiveUnless(q, e)
	if e != nil {
		return e
	}
	p, e := s.st.addPart(q.bucket, id, q.key, num, seg, d)
	if e != nil {
		return e
	}
	h := q.w.Header()
	h.Set("ETag", quoted(p.ETag))
	h.Set("Content-MD5", base64MD5(d))
	h.Set("x-oss-hash-crc64ecma", fmt.Sprint(p.CRC))
	q.w.WriteHeader(http.StatusOK)
	return nil
}

// partNumber parses ?partNumber= (1..10000).
func partNumber(q *request) (int, *ossError) {
	num, err := strconv.Atoi(q.param("partNumber"))
	if err != nil || num < 1 || num > 10000 {
		return 0, errInvalidArgument("Part number must be an integer between 1 and 10000, inclusive.").with("ArgumentName", "partNumber")
	}
	return num, nil
}

// addPart records the freshly written blob seg (hashed by d) as part num of
// the upload, replacing an earlier part with that number. When the upload
// is gone meanwhile the blob is removed and NoSuchUpload returned.
func (s *store) addPart(bname, id, key string, num int, seg segment, d *digester) (*part, *ossError) {
	p := &part{Num: num, ETag: d.etag(), Size: d.size, CRC: d.crc, Modified: s.stamp(), Seg: seg}
	s.mu.Lock()
	_, u, e := s.uploadLocked(bname, id, key)
	if e == nil {
		s.incref([]segment{seg})
		if old := u.parts[num]; old != nil {
			s.decref([]segment{old.Seg})
		}
		u.parts[num] = p
	}
	s.mu.Unlock()
	if e != nil {
		s.discard([]segment{seg})
		return nil, e
	}
	return p, nil
}

type completeRequest struct {
	Parts []struct {
		PartNumber int    `xml:"PartNumber"`
		ETag       string `xml:"ETag"`
	} `xml:"Part"`
}

type completeResult struct {
	XMLName      xml.Name `xml:"CompleteMultipartUploadResult"`
	EncodingType string   `xml:"EncodingType,omitempty"`
	Location     string   `xml:"Location"`
	Bucket       string   `xml:"Bucket"`
	Key          string   `xml:"Key"`
	ETag         string   `xml:"ETag"`
}

func (s *Server) completeMultipart(q *request) *ossError {
	enc, encName, e := encoder(q)
	if e != nil {
		return e
	}
	all := strings.EqualFold(q.r.Header.Get("x-oss-complete-all"), "yes")
	var req completeRequest
	if all {
		drain(q.r.Body)
	} else if e := readXMLBody(q, &req); e != nil {
		return e
	}
	forbid := forbidOverwrite(q.r)
	s.st.mu.Lock()
	o, e := s.completeLocked(q, req, all, forbid)
	s.st.mu.Unlock()
	if e != nil {
		return e
	}
	q.w.Header().Set("x-oss-hash-crc64ecma", fmt.Sprint(o.CRC64))
	return writeXML(q, completeResult{EncodingType: encName, Location: "http://" + q.r.Host + "/" + q.bucket + "/" + enc(q.key),
		Bucket: q.bucket, Key: enc(q.key), ETag: quoted(o.ETag)})
}

// LOCKS_REQUIRED(s.st.mu)
func (s *Server) completeLocked(q *request, req completeRequest, all, forbid bool) (*object, *ossError) {
	b, u, e := s.st.uploadLocked(q.bucket, q.param("uploadId"), q.key)
	if e != nil {
		return nil, e
	}
	var chosen []*part
	if all {
		for _, p := range u.parts {
			chosen = append(chosen, p)
		}
		sort.Slice(chosen, func(i, j int) bool { return chosen[i].Num < chosen[j].Num })
	} else {
		if len(req.Parts) == 0 {
			return nil, errMalformedXML()
		}
		for i := 1; i < len(req.Parts); i++ {
			if req.Parts[i].PartNumber <= req.Parts[i-1].PartNumber {
				return nil, errInvalidPartOrder()
			}
		}
		for _, rp := range req.Parts {
			p := u.parts[rp.PartNumber]
			if p == nil || unquote(rp.ETag) != p.ETag {
				return nil, errInvalidPart(fmt.Sprintf("Part %d could not be found or its ETag does not match.", rp.PartNumber))
			}
			chosen = append(chosen, p)
		}
	}
	o := *u.tmpl
	o.Type, o.Modified = typeMultipart, s.st.stamp()
	md := md5.New()
	for i, p := range chosen {
		if i < len(chosen)-1 && p.Size < minPartSize {
			return nil, errEntityTooSmall().with("PartNumber", strconv.Itoa(p.Num))
		}
		raw, _ := hex.DecodeString(p.ETag)
		md.Write(raw)
		o.Segments = append(o.Segments, p.Seg)
		o.CRC64 = crc64Combine(o.CRC64, p.CRC, p.Size)
		o.Size += p.Size
	}
	o.ETag = fmt.Sprintf("%s-%d", strings.ToUpper(hex.EncodeToString(md.Sum(nil))), len(chosen))
	old := b.objs[q.key]
	if forbid && old != nil {
		return nil, errFileAlreadyExists()
	}
	if err := s.st.be.saveMeta(q.bucket, &o); err != nil {
		return nil, errInternal(err)
	}
	s.st.setLocked(b, &o, old)
	s.st.dropUploadLocked(b, u)
	return &o, nil
}

func (s *Server) abortMultipart(q *request) *ossError {
	s.st.mu.Lock()
	b, u, e := s.st.uploadLocked(q.bucket, q.param("uploadId"), q.key)
	if e == nil {
		s.st.dropUploadLocked(b, u)
	}
	s.st.mu.Unlock()
	if e != nil {
		return e
	}
	q.w.WriteHeader(http.StatusNoContent)
	return nil
}

func base64MD5(d *digester) string {
	return encodeBase64(d.md5.Sum(nil))
}
