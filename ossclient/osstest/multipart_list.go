package osstest

import (
	"encoding/base64"
	"encoding/xml"
	"sort"
	"strconv"
)

func encodeBase64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

type listPartsResult struct {
	XMLName              xml.Name    `xml:"ListPartsResult"`
	EncodingType         string      `xml:"EncodingType,omitempty"`
	Bucket               string      `xml:"Bucket"`
	Key                  string      `xml:"Key"`
	UploadID             string      `xml:"UploadId"`
	StorageClass         string      `xml:"StorageClass"`
	PartNumberMarker     int         `xml:"PartNumberMarker"`
	NextPartNumberMarker int         `xml:"NextPartNumberMarker"`
	MaxParts             int         `xml:"MaxParts"`
	IsTruncated          bool        `xml:"IsTruncated"`
	Parts                []partEntry `xml:"Part"`
}

type partEntry struct {
	PartNumber   int    `xml:"PartNumber"`
	LastModified string `xml:"LastModified"`
	ETag         string `xml:"ETag"`
	HashCRC64    uint64 `xml:"HashCrc64ecma"`
	Size         int64  `xml:"Size"`
}

func intParam(q *request, name string, def, lo, hi int) (int, *ossError) {
	v := q.param(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, errInvalidArgument("Invalid "+name+".").with("ArgumentName", name).with("ArgumentValue", v)
	}
	return n, nil
}

func (s *Server) listParts(q *request) *ossError {
	enc, encName, e := encoder(q)
	if e != nil {
		return e
	}
	maxParts, e := intParam(q, "max-parts", 1000, 1, 1000)
	if e != nil {
		return e
	}
	marker, e := intParam(q, "part-number-marker", 0, 0, 10000)
	if e != nil {
		return e
	}
	res := listPartsResult{EncodingType: encName, Bucket: q.bucket, Key: enc(q.key), UploadID: q.param("uploadId"),
		StorageClass: "Standard", PartNumberMarker: marker, MaxParts: maxParts}
	s.st.mu.Lock()
	_, u, e := s.st.uploadLocked(q.bucket, q.param("uploadId"), q.key)
	var parts []*part
	if e == nil {
		for _, p := range u.parts {
			if p.Num > marker {
				parts = append(parts, p)
			}
		}
	}
	s.st.mu.Unlock()
	if e != nil {
		return e
	}
	sort.Slice(parts, func(i, j int) bool { return parts[i].Num < parts[j].Num })
	if len(parts) > maxParts {
		parts, res.IsTruncated = parts[:maxParts], true
	}
	for _, p := range parts {
		res.Parts = append(res.Parts, partEntry{PartNumber: p.Num, LastModified: isoTime(p.Modified), ETag: quoted(p.ETag), HashCRC64: p.CRC, Size: p.Size})
		res.NextPartNumberMarker = p.Num
	}
	return writeXML(q, res)
}

type listUploadsResult struct {
	XMLName            xml.Name      `xml:"ListMultipartUploadsResult"`
	EncodingType       string        `xml:"EncodingType,omitempty"`
	Bucket             string        `xml:"Bucket"`
	KeyMarker          string        `xml:"KeyMarker"`
	UploadIDMarker     string        `xml:"UploadIdMarker"`
	NextKeyMarker      string        `xml:"NextKeyMarker"`
	NextUploadIDMarker string        `xml:"NextUploadIdMarker"`
	Delimiter          string        `xml:"Delimiter"`
	Prefix             string        `xml:"Prefix"`
	MaxUploads         int           `xml:"MaxUploads"`
	IsTruncated        bool          `xml:"IsTruncated"`
	Uploads            []uploadEntry `xml:"Upload"`
}

type uploadEntry struct {
	Key       string `xml:"Key"`
	UploadID  string `xml:"UploadId"`
	Initiated string `xml:"Initiated"`
}

// listMultipartUploads lists open uploads by key then upload id, with
// prefix, key-marker/upload-id-marker and max-uploads. A delimiter is echoed
// but not rolled up into common prefixes.
func (s *Server) listMultipartUploads(q *request) *ossError {
	enc, encName, e := encoder(q)
	if e != nil {
		return e
	}
	max, e := intParam(q, "max-uploads", 1000, 1, 1000)
	if e != nil {
		return e
	}
	prefix, keyMarker, idMarker := q.param("prefix"), q.param("key-marker"), q.param("upload-id-marker")
	var ups []*upload
	s.st.mu.Lock()
	b, e := s.st.bucketLocked(q.bucket)
	if e == nil {
		for _, u := range b.uploads {
			if len(u.Key) >= len(prefix) && u.Key[:len(prefix)] == prefix &&
				(u.Key > keyMarker || (u.Key == keyMarker && idMarker != "" && u.ID > idMarker)) {
				ups = append(ups, u)
			}
		}
	}
	s.st.mu.Unlock()
	if e != nil {
		return e
	}
	sort.Slice(ups, func(i, j int) bool {
		if ups[i].Key != ups[j].Key {
			return ups[i].Key < ups[j].Key
		}
		return ups[i].ID < ups[j].ID
	})
	res := listUploadsResult{EncodingType: encName, Bucket: q.bucket, KeyMarker: enc(keyMarker), UploadIDMarker: idMarker,
		Delimiter: enc(q.param("delimiter")), Prefix: enc(prefix), MaxUploads: max}
	if len(ups) > max {
		ups, res.IsTruncated = ups[:max], true
	}
	for _, u := range ups {
		res.Uploads = append(res.Uploads, uploadEntry{Key: enc(u.Key), UploadID: u.ID, Initiated: isoTime(u.Initiated)})
		res.NextKeyMarker, res.NextUploadIDMarker = enc(u.Key), u.ID
	}
	return writeXML(q, res)
}
