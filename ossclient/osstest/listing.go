package osstest

import (
	"encoding/base64"
	"encoding/xml"
	"sort"
	"strconv"
	"strings"
)

// listPage is one page of a listing: objects and common prefixes in byte
// order, each counting against max-keys.
type listPage struct {
	objs      []*object
	prefixes  []string
	truncated bool
	last      string // the last key or prefix returned: where the next page resumes
}

// list walks the sorted key index from the first key after `after` (and at
// or after prefix). Keys rolled up into a common prefix are skipped with a
// binary search, so a page costs O(page + log n) however many keys a
// prefix holds; a common prefix at or before `after` was already returned.
func (s *store) list(bname, prefix, delim, after string, max int) (listPage, *ossError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var p listPage
	b, e := s.bucketLocked(bname)
	if e != nil {
		return p, e
	}
	keys := b.keys
	i := sort.Search(len(keys), func(i int) bool { return keys[i] > after })
	if j := sort.SearchStrings(keys, prefix); j > i {
		i = j
	}
	count := 0
	for i < len(keys) && strings.HasPrefix(keys[i], prefix) {
		if count == max {
			p.truncated = true
			break
		}
		k := keys[i]
		if delim != "" {
			if j := strings.Index(k[len(prefix):], delim); j >= 0 {
				cp := k[:len(prefix)+j+len(delim)]
				if cp > after {
					p.prefixes = append(p.prefixes, cp)
					p.last = cp
					count++
				}
				i = sort.Search(len(keys), func(x int) bool { return keys[x] > cp && !strings.HasPrefix(keys[x], cp) })
				continue
			}
		}
		p.objs = append(p.objs, b.objs[k])
		p.last = k
		count++
		i++
	}
	return p, nil
}

type owner struct {
	ID          string `xml:"ID"`
	DisplayName string `xml:"DisplayName"`
}

var localOwner = &owner{ID: "1000000000000000", DisplayName: "1000000000000000"}

type listEntry struct {
	Key          string `xml:"Key"`
	LastModified string `xml:"LastModified"`
	ETag         string `xml:"ETag"`
	Type         string `xml:"Type"`
	Size         int64  `xml:"Size"`
	StorageClass string `xml:"StorageClass"`
	Owner        *owner `xml:"Owner,omitempty"`
}

type commonPrefix struct {
	Prefix string `xml:"Prefix"`
}

type listV1Result struct {
	XMLName        xml.Name       `xml:"ListBucketResult"`
	Name           string         `xml:"Name"`
	Prefix         string         `xml:"Prefix"`
	Marker         string         `xml:"Marker"`
	MaxKeys        int            `xml:"MaxKeys"`
	Delimiter      string         `xml:"Delimiter"`
	EncodingType   string         `xml:"EncodingType,omitempty"`
	IsTruncated    bool           `xml:"IsTruncated"`
	NextMarker     string         `xml:"NextMarker,omitempty"`
	Contents       []listEntry    `xml:"Contents"`
	CommonPrefixes []commonPrefix `xml:"CommonPrefixes"`
}

type listV2Result struct {
	XMLName               xml.Name       `xml:"ListBucketResult"`
	Name                  string         `xml:"Name"`
	Prefix                string         `xml:"Prefix"`
	StartAfter            string         `xml:"StartAfter,omitempty"`
	ContinuationToken     string         `xml:"ContinuationToken,omitempty"`
	MaxKeys               int            `xml:"MaxKeys"`
	Delimiter             string         `xml:"Delimiter"`
	EncodingType          string         `xml:"EncodingType,omitempty"`
	IsTruncated           bool           `xml:"IsTruncated"`
	NextContinuationToken string         `xml:"NextContinuationToken,omitempty"`
	KeyCount              int            `xml:"KeyCount"`
	Contents              []listEntry    `xml:"Contents"`
	CommonPrefixes        []commonPrefix `xml:"CommonPrefixes"`
}

func parseMaxKeys(q *request) (int, *ossError) {
	v := q.param("max-keys")
	if v == "" {
		return 100, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n > 1000 {
		return 0, errInvalidArgument("max-keys must be between 0 and 1000.").with("ArgumentName", "max-keys").with("ArgumentValue", v)
	}
	return n, nil
}

// encoder returns the function applied to keys and markers in the XML:
// url-encoding with encoding-type=url, identity otherwise.
func encoder(q *request) (func(string) string, string, *ossError) {
	switch q.param("encoding-type") {
	case "":
		return func(s string) string { return s }, "", nil
	case "url":
		return urlEncodeKey, "url", nil
	}
	return nil, "", errInvalidArgument("The encoding-type parameter must be url.")
}

func entries(p listPage, enc func(string) string, withOwner bool) ([]listEntry, []commonPrefix) {
	var cs []listEntry
	for _, o := range p.objs {
		sc := o.StorageClass
		if sc == "" {
			sc = "Standard"
		}
		e := listEntry{Key: enc(o.Key), LastModified: isoTime(o.Modified), ETag: quoted(o.ETag), Type: o.Type, Size: o.Size, StorageClass: sc}
		if withOwner {
			e.Owner = localOwner
		}
		cs = append(cs, e)
	}
	var ps []commonPrefix
	for _, pf := range p.prefixes {
		ps = append(ps, commonPrefix{enc(pf)})
	}
	return cs, ps
}

// listArgs are what both listing versions read first: max-keys and
// encoding-type.
func listArgs(q *request) (max int, enc func(string) string, encName string, e *ossError) {
	if max, e = parseMaxKeys(q); e != nil {
		return 0, nil, "", e
	}
	enc, encName, e = encoder(q)
	return max, enc, encName, e
}

func (s *Server) listObjectsV1(q *request) *ossError {
	max, enc, encName, e := listArgs(q)
	if e != nil {
		return e
	}
	prefix, delim, marker := q.param("prefix"), q.param("delimiter"), q.param("marker")
	p, e := s.st.list(q.bucket, prefix, delim, marker, max)
	if e != nil {
		return e
	}
	res := listV1Result{Name: q.bucket, Prefix: enc(prefix), Marker: enc(marker), MaxKeys: max,
		Delimiter: enc(delim), EncodingType: encName, IsTruncated: p.truncated}
	if p.truncated {
		res.NextMarker = enc(p.last)
	}
	res.Contents, res.CommonPrefixes = entries(p, enc, true)
	return writeXML(q, res)
}

func (s *Server) listObjectsV2(q *request) *ossError {
	max, enc, encName, e := listArgs(q)
	if e != nil {
		return e
	}
	prefix, delim, startAfter, token := q.param("prefix"), q.param("delimiter"), q.param("start-after"), q.param("continuation-token")
	after := startAfter
	if token != "" {
		raw, err := base64.StdEncoding.DecodeString(token)
		if err != nil {
			return errInvalidArgument("The continuation token provided is incorrect.").with("ArgumentName", "continuation-token")
		}
		after = string(raw)
	}
	p, e := s.st.list(q.bucket, prefix, delim, after, max)
	if e != nil {
		return e
	}
	res := listV2Result{Name: q.bucket, Prefix: enc(prefix), StartAfter: enc(startAfter), ContinuationToken: enc(token),
		MaxKeys: max, Delimiter: enc(delim), EncodingType: encName, IsTruncated: p.truncated}
	if p.truncated {
		res.NextContinuationToken = enc(base64.StdEncoding.EncodeToString([]byte(p.last)))
	}
	res.Contents, res.CommonPrefixes = entries(p, enc, q.param("fetch-owner") == "true")
	res.KeyCount = len(res.Contents) + len(res.CommonPrefixes)
	return writeXML(q, res)
}
