package osstest

import (
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"net/http"
	"strconv"
)

// ossError is a service error as OSS reports it: an HTTP status, a Code, a
// Message and an EC (error-center code), plus optional extra XML elements.
type ossError struct {
	Status  int
	Code    string
	Message string
	EC      string
	// Extra elements appended to the XML (e.g. StringToSign, ServerTime).
	Extra []xmlField
	// Header adds response headers (e.g. x-oss-next-append-position).
	Header map[string]string
}

type xmlField struct {
	XMLName xml.Name
	Value   string `xml:",chardata"`
}

func (e *ossError) Error() string { return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Message) }

func (e *ossError) with(name, value string) *ossError {
	c := *e
	c.Extra = append(append([]xmlField(nil), e.Extra...), xmlField{XMLName: xml.Name{Local: name}, Value: value})
	return &c
}

func newErr(status int, code, ec, msg string) *ossError {
	return &ossError{Status: status, Code: code, EC: ec, Message: msg}
}

// The errors the server returns. EC values follow the real service's
// "NNNN-NNNNNNNN" shape; only NoSuchKey, SymlinkTargetNotExist, NotSymlink
// and the signature and date ones are known to match real OSS exactly (see
// the package doc).
func errNoSuchKey() *ossError {
	return newErr(404, "NoSuchKey", "0026-00000001", "The specified key does not exist.")
}
func errNoSuchBucket() *ossError {
	return newErr(404, "NoSuchBucket", "0015-00000101", "The specified bucket does not exist.")
}
func errSymlinkTargetNotExist() *ossError {
	return newErr(404, "SymlinkTargetNotExist", "0026-00000012", "The symlink target object does not exist")
}
func errInvalidTargetType() *ossError {
	return newErr(400, "InvalidTargetType", "0026-00000013", "The symlink target object type is not supported.")
}
func errNotSymlink() *ossError {
	return newErr(400, "NotSymlink", "0043-00000101", "The specified object is not a symlink.")
}

// errCopySourceIsSymlink: UploadPartCopy does not take a symlink source
// (documented as EC 0042-00000308; the status and code are ours).
func errCopySourceIsSymlink() *ossError {
	return newErr(400, "InvalidArgument", "0042-00000308", "The source object of UploadPartCopy cannot be a symbolic link.").
		with("ArgumentName", "x-oss-copy-source")
}
func errFileAlreadyExists() *ossError {
	return newErr(409, "FileAlreadyExists", "0026-00000015", "The object you specified already exists and can not be overwritten.")
}
func errInvalidObjectName(msg string) *ossError {
	return newErr(400, "InvalidObjectName", "0016-00000005", msg)
}
func errInvalidArgument(msg string) *ossError {
	return newErr(400, "InvalidArgument", "0017-00000101", msg)
}
func errInvalidDigest() *ossError {
	return newErr(400, "InvalidDigest", "0016-00000202", "The Content-MD5 you specified is not valid.")
}
func errInvalidRange() *ossError {
	return newErr(416, "InvalidRange", "0026-00000002", "The requested range cannot be satisfied")
}
func errMalformedXML() *ossError {
	return newErr(400, "MalformedXML", "0016-00000601", "The XML you provided was not well-formed or did not validate against our published schema.")
}
func errNoSuchUpload() *ossError {
	return newErr(404, "NoSuchUpload", "0042-00000002", "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.")
}
func errInvalidPart(msg string) *ossError {
	return newErr(400, "InvalidPart", "0042-00000201", msg)
}
func errInvalidPartOrder() *ossError {
	return newErr(400, "InvalidPartOrder", "0042-00000202", "The list of parts was not in ascending order. Parts list must specified in order by part number.")
}
func errEntityTooSmall() *ossError {
	return newErr(400, "EntityTooSmall", "0042-00000203", "Your proposed upload smaller than the minimum allowed size.")
}
func errEntityTooLarge(msg string) *ossError {
	return newErr(400, "EntityTooLarge", "0017-00000802", msg)
}
func errNotImplemented(what string) *ossError {
	return newErr(501, "NotImplemented", "0000-00000000", "ossfs local server does not implement "+what+".")
}
func errAccessDenied(msg string) *ossError {
	return newErr(403, "AccessDenied", "0002-00000001", msg)
}
func errInvalidAccessKeyID() *ossError {
	return newErr(403, "InvalidAccessKeyId", "0002-00000002", "The OSS Access Key Id you provided does not exist in our records.")
}
func errSignatureDoesNotMatch() *ossError {
	return newErr(403, "SignatureDoesNotMatch", "0002-00000040", "The request signature we calculated does not match the signature you provided. Check your key and signing method.")
}
func errTimeTooSkewed() *ossError {
	return newErr(403, "RequestTimeTooSkewed", "0002-00000504", "The difference between the request time and the current time is too large.")
}
func errPreconditionFailed() *ossError {
	return newErr(412, "PreconditionFailed", "0026-00000004", "At least one of the pre-conditions you specified did not hold.")
}
func errObjectNotAppendable() *ossError {
	return newErr(409, "ObjectNotAppendable", "0026-00000201", "The object is not appendable")
}
func errPositionNotEqualToLength(next int64) *ossError {
	e := newErr(409, "PositionNotEqualToLength", "0026-00000202", "Position is not equal to file length")
	e.Header = map[string]string{"x-oss-next-append-position": strconv.FormatInt(next, 10)}
	return e
}

type errorXML struct {
	XMLName   xml.Name   `xml:"Error"`
	Code      string     `xml:"Code"`
	Message   string     `xml:"Message"`
	RequestID string     `xml:"RequestId"`
	HostID    string     `xml:"HostId"`
	EC        string     `xml:"EC"`
	Extra     []xmlField `xml:",any"`
}

// writeError sends e the way OSS does: the XML body, x-oss-ec, and for HEAD
// (which has no body) the same XML base64-encoded in x-oss-err.
func writeError(w http.ResponseWriter, r *http.Request, reqID string, e *ossError) {
	body, _ := xml.Marshal(errorXML{
		Code: e.Code, Message: e.Message, RequestID: reqID,
		HostID: r.Host, EC: e.EC, Extra: e.Extra,
	})
	body = append([]byte(xml.Header), body...)
	h := w.Header()
	for k, v := range e.Header {
		h.Set(k, v)
	}
	h.Set("Content-Type", "application/xml")
	h.Set("x-oss-ec", e.EC)
	if r.Method == http.MethodHead {
		h.Set("x-oss-err", base64.StdEncoding.EncodeToString(body))
		w.WriteHeader(e.Status)
		return
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(e.Status)
	_, _ = w.Write(body)
}
