package osstest

import (
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ossfs/ossfs/ossclient/percent"
)

// Object types as OSS reports them in x-oss-object-type and listings.
const (
	typeNormal     = "Normal"
	typeAppendable = "Appendable"
	typeMultipart  = "Multipart"
	typeSymlink    = "Symlink"
)

const maxKeyLen = 1023

// validKey applies the OSS object naming rules: UTF-8, 1..1023 bytes, no
// leading "/" or "\".
func validKey(key string) *ossError {
	switch {
	case key == "":
		return errInvalidObjectName("The Object name can not be empty")
	case len(key) > maxKeyLen:
		return errInvalidObjectName("The Length of Object name must be less than 1024")
	case !utf8.ValidString(key), key[0] == '/', key[0] == '\\':
		return errInvalidObjectName("The specified object is not valid.")
	}
	return nil
}

// validBucketName: 3..63 of [a-z0-9-], not starting or ending with "-".
func validBucketName(name string) error {
	ok := len(name) >= 3 && len(name) <= 63 && name[0] != '-' && name[len(name)-1] != '-'
	for i := 0; ok && i < len(name); i++ {
		c := name[i]
		ok = 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-'
	}
	if !ok {
		return fmt.Errorf("osstest: invalid bucket name %q (3-63 of a-z, 0-9, '-')", name)
	}
	return nil
}

// urlEncodeKey is the encoding-type=url form of a key in XML: like URL query
// escaping, with space as %20 and "/" kept, so url.QueryUnescape (what the
// SDKs apply) restores the bytes exactly.
func urlEncodeKey(s string) string { return percent.Encode(s, false) }

// encodeTarget is how x-oss-symlink-target is sent back by GetSymlink:
// percent-encoded, "/" kept (space as %20, "+" as %2B).
func encodeTarget(s string) string { return percent.Encode(s, false) }

// stamp is the time an object, part or upload is given: now, in whole
// seconds, as OSS keeps them. So every place a time is reported agrees:
// listings and XML bodies ("...:52.000Z") with Last-Modified headers
// (whole seconds by format), and a client comparing the two sees equality.
// stamp is the time of a change (Last-Modified and the like): the
// store's clock (Options.Clock) at OSS's one-second resolution.
func (s *store) stamp() time.Time { return s.now().UTC().Truncate(time.Second) }

// isoTime is the time format of XML bodies; the milliseconds are always
// .000 (see stamp; times loaded from older directory stores are truncated).
func isoTime(t time.Time) string {
	return t.UTC().Truncate(time.Second).Format("2006-01-02T15:04:05.000Z")
}

func httpTime(t time.Time) string { return t.UTC().Format(http.TimeFormat) }

func quoted(etag string) string { return `"` + etag + `"` }

func unquote(etag string) string { return strings.ToUpper(strings.Trim(strings.TrimSpace(etag), `"`)) }

// Valid x-oss-object-acl and x-oss-storage-class values.
var (
	validACL   = map[string]bool{"": true, "default": true, "private": true, "public-read": true, "public-read-write": true}
	validClass = map[string]bool{"": true, "Standard": true, "IA": true, "Archive": true, "ColdArchive": true, "DeepColdArchive": true}
)

// storedHeaders are the standard headers an upload stores and a download
// returns.
var storedHeaders = []string{"Cache-Control", "Content-Disposition", "Content-Encoding", "Content-Language", "Expires"}

// newObjectFromRequest fills the metadata a PUT-like request carries
// (content type, stored headers, x-oss-meta-*, ACL, storage class).
func (s *store) newObjectFromRequest(r *http.Request, key string) (*object, *ossError) {
	h := r.Header
	o := &object{Key: key, Modified: s.stamp(), ContentType: h.Get("Content-Type"),
		ACL: h.Get("x-oss-object-acl"), StorageClass: h.Get("x-oss-storage-class")}
	if !validACL[o.ACL] {
		return nil, errInvalidArgument("no such object access right")
	}
	if !validClass[o.StorageClass] {
		return nil, errInvalidArgument("Invalid storage class.")
	}
	if o.ContentType == "" {
		o.ContentType = "application/octet-stream"
	}
	o.Meta = userMeta(h)
	for _, name := range storedHeaders {
		if v := h.Get(name); v != "" {
			if o.Headers == nil {
				o.Headers = map[string]string{}
			}
			o.Headers[name] = v
		}
	}
	return o, nil
}

func userMeta(h http.Header) map[string]string {
	var m map[string]string
	for k, vs := range h {
		lk := strings.ToLower(k)
		if name, ok := strings.CutPrefix(lk, "x-oss-meta-"); ok && name != "" {
			if m == nil {
				m = map[string]string{}
			}
			m[name] = strings.Join(vs, ",")
		}
	}
	return m
}

// writeObjectHeaders sets the headers GET/HEAD report for o.
func writeObjectHeaders(h http.Header, o *object) {
	h.Set("Content-Type", o.ContentType)
	h.Set("ETag", quoted(o.ETag))
	h.Set("Last-Modified", httpTime(o.Modified))
	h.Set("x-oss-object-type", o.Type)
	h.Set("x-oss-hash-crc64ecma", fmt.Sprint(o.CRC64))
	sc := o.StorageClass
	if sc == "" {
		sc = "Standard"
	}
	h.Set("x-oss-storage-class", sc)
	if o.ContentMD5 != "" {
		h.Set("Content-MD5", o.ContentMD5)
	}
	if o.Type == typeAppendable {
		h.Set("x-oss-next-append-position", fmt.Sprint(o.Size))
	}
	for k, v := range o.Headers {
		h.Set(k, v)
	}
	for k, v := range o.Meta {
		h.Set("x-oss-meta-"+k, v)
	}
}
