// Package opname names the OSS operation of a request from what is on the
// wire, with the names the Go SDK v2 gives its operations
// (oss.OperationInput.OpName: "PutObject", "GetObjectMeta", ...).
//
// It is the one place that knows how an operation looks on the wire: the
// local server (package osstest) dispatches on this name and counts
// requests by it, and the client's debug log labels each request with it,
// so a log line and a server counter always say the same name.
package opname

import "net/http"

// Request is what names an operation: the HTTP method, whether the address
// names a bucket and an object key, the query parameters, and whether an
// x-oss-copy-source header is present.
type Request struct {
	Method     string
	HasBucket  bool
	HasKey     bool
	Query      map[string][]string
	CopySource bool
}

func (r Request) has(name string) bool { _, ok := r.Query[name]; return ok }

func (r Request) param(name string) string {
	if v := r.Query[name]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// Unknown is the name of a request that is none of the operations below.
const Unknown = "Unknown"

// listParams are the only parameters a ListObjects (v1) request carries.
var listParams = map[string]bool{"prefix": true, "delimiter": true, "marker": true, "max-keys": true, "encoding-type": true}

// Of names r's operation, or returns Unknown.
func Of(r Request) string {
	switch {
	case !r.HasBucket:
		if r.Method == http.MethodGet {
			return "ListBuckets"
		}
		return Unknown
	case !r.HasKey:
		return bucketOp(r)
	}
	return objectOp(r)
}

func bucketOp(r Request) string {
	switch r.Method {
	case http.MethodGet:
		switch {
		case r.has("uploads"):
			return "ListMultipartUploads"
		case r.has("bucketInfo"):
			return "GetBucketInfo"
		case r.has("location"):
			return "GetBucketLocation"
		case r.param("list-type") == "2":
			return "ListObjectsV2"
		}
		for k := range r.Query {
			if !listParams[k] {
				return Unknown
			}
		}
		return "ListObjects"
	case http.MethodPost:
		if r.has("delete") {
			return "DeleteMultipleObjects"
		}
	}
	return Unknown
}

func objectOp(r Request) string {
	switch r.Method {
	case http.MethodPut:
		switch {
		case r.has("symlink"):
			return "PutSymlink"
		case r.has("uploadId") && r.CopySource:
			return "UploadPartCopy"
		case r.has("uploadId"):
			return "UploadPart"
		case r.has("acl") || r.has("tagging"):
			return Unknown
		case r.CopySource:
			return "CopyObject"
		}
		return "PutObject"
	case http.MethodGet:
		switch {
		case r.has("symlink"):
			return "GetSymlink"
		case r.has("uploadId"):
			return "ListParts"
		case r.has("acl"):
			return "GetObjectAcl"
		case r.has("tagging"):
			return Unknown
		}
		return "GetObject"
	case http.MethodHead:
		if r.has("objectMeta") {
			return "GetObjectMeta"
		}
		return "HeadObject"
	case http.MethodPost:
		switch {
		case r.has("append"):
			return "AppendObject"
		case r.has("uploads"):
			return "InitiateMultipartUpload"
		case r.has("uploadId"):
			return "CompleteMultipartUpload"
		}
	case http.MethodDelete:
		if r.has("uploadId") {
			return "AbortMultipartUpload"
		}
		return "DeleteObject"
	}
	return Unknown
}
