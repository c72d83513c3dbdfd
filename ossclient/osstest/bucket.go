package osstest

import (
	"encoding/xml"
	"net/http"
)

type bucketXML struct {
	Name             string `xml:"Name"`
	CreationDate     string `xml:"CreationDate"`
	Location         string `xml:"Location"`
	Region           string `xml:"Region"`
	ExtranetEndpoint string `xml:"ExtranetEndpoint"`
	IntranetEndpoint string `xml:"IntranetEndpoint"`
	StorageClass     string `xml:"StorageClass"`
}

type listBucketsResult struct {
	XMLName xml.Name    `xml:"ListAllMyBucketsResult"`
	Owner   owner       `xml:"Owner"`
	Buckets []bucketXML `xml:"Buckets>Bucket"`
}

func (s *Server) bucketXML(r *http.Request, name string) bucketXML {
	s.st.mu.Lock()
	created := s.st.buckets[name].created
	s.st.mu.Unlock()
	return bucketXML{Name: name, CreationDate: isoTime(created), Location: "oss-" + s.opts.Region,
		Region: s.opts.Region, ExtranetEndpoint: r.Host, IntranetEndpoint: r.Host, StorageClass: "Standard"}
}

func (s *Server) listBuckets(q *request) *ossError {
	res := listBucketsResult{Owner: *localOwner}
	for _, n := range s.st.bucketNames() {
		res.Buckets = append(res.Buckets, s.bucketXML(q.r, n))
	}
	return writeXML(q, res)
}

type bucketInfoResult struct {
	XMLName xml.Name `xml:"BucketInfo"`
	Bucket  struct {
		bucketXML
		Owner owner  `xml:"Owner"`
		ACL   string `xml:"AccessControlList>Grant"`
	} `xml:"Bucket"`
}

func (s *Server) getBucketInfo(q *request) *ossError {
	var res bucketInfoResult
	res.Bucket.bucketXML = s.bucketXML(q.r, q.bucket)
	res.Bucket.Owner, res.Bucket.ACL = *localOwner, "private"
	return writeXML(q, res)
}

type locationResult struct {
	XMLName  xml.Name `xml:"LocationConstraint"`
	Location string   `xml:",chardata"`
}

func (s *Server) getBucketLocation(q *request) *ossError {
	return writeXML(q, locationResult{Location: "oss-" + s.opts.Region})
}
