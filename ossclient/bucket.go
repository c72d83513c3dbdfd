// Package ossclient is ossfs's only door to Alibaba Cloud OSS.
//
// The rest of ossfs talks to OSS through the narrow [Bucket] interface, written
// in our own terms (objects, one directory level, byte ranges, symlinks); only
// this package imports the official SDK
// (github.com/aliyun/alibabacloud-oss-go-sdk-v2), which does the signing, the
// credentials, the retries and the paging.
//
// Three things are done here once, so that nothing above has to know them:
//
//   - The mount prefix. A Bucket opened on "BUCKET:/PREFIX" speaks keys
//     relative to PREFIX; it adds and strips the prefix on every request and
//     response. Symlink targets that lie outside the prefix are expressed with
//     leading "../" segments (see [Symlink]).
//   - Errors. SDK and service errors are converted into [*Error] with a
//     [Kind]; callers test them with errors.Is against the sentinels below
//     (ErrNotFound, ErrDanglingSymlink, ...). The one mapping to errno lives in
//     package fs.
//   - The symlink target's wire encoding (x-oss-symlink-target is
//     percent-encoded on the way out and decoded on the way in).
//
// Caches are not here: package cache wraps a Bucket in decorators.
package ossclient

import (
	"context"
	"io"
	"time"
)

// ObjectType is the x-oss-object-type of an object, or the Type of a listing
// entry.
type ObjectType string

// The object types OSS reports.
const (
	TypeNormal     ObjectType = "Normal"
	TypeAppendable ObjectType = "Appendable"
	TypeMultipart  ObjectType = "Multipart"
	TypeSymlink    ObjectType = "Symlink"
)

// Object describes one object as a listing or a HEAD reports it.
type Object struct {
	// Key is relative to the Bucket's prefix. Directory marker objects keep
	// their trailing "/".
	Key string
	// Size in bytes. For a symlink from a HEAD it is the target's size (HEAD
	// follows links); from a listing it is what OSS lists for the link: the
	// byte length of its target key (not of the link text a mount shows).
	Size    int64
	ModTime time.Time
	// ETag without the surrounding quotes.
	ETag string
	Type ObjectType
	// StorageClass is x-oss-storage-class ("Standard", "IA", ...), or the
	// listing's StorageClass; "" when the answer did not say.
	StorageClass string
	// Meta is the user metadata (x-oss-meta-*), names in lower case without
	// the "x-oss-meta-" prefix. Never nil unless MetaUnknown.
	Meta map[string]string
	// MetaUnknown says the answer came from a listing, which carries no
	// user metadata: Meta is nil and says nothing about what the object
	// stores. A symlink's Size is then its listed size (not its target's),
	// and a dangling link is an Object of Type Symlink, not
	// ErrDanglingSymlink. Stat with WithMeta never answers so.
	MetaUnknown bool
	// Headers are the standard headers a HEAD or GET answered; nil when
	// the answer did not carry them (a listing, an upload's answer).
	Headers *Headers
	// ReadAt is when OSS answered a HEAD (its Date header); zero when
	// unknown. Metadata read in a later second than ModTime's cannot have
	// been changed since without a new ModTime (see SameVersion).
	ReadAt time.Time
}

// Headers are the standard HTTP headers OSS stores with an object, which a
// copy that replaces the metadata (directive REPLACE) drops unless they are
// sent again.
type Headers struct {
	ContentType, CacheControl, ContentDisposition, ContentEncoding, ContentLanguage, Expires string
}

// IsSymlink reports whether the object is an OSS symlink.
func (o *Object) IsSymlink() bool { return o.Type == TypeSymlink }

// SameVersion reports whether a and b describe the same version of an
// object: same ETag and the same Last-Modified second. The ETag alone is
// not enough: a metadata-only change (CopyObject onto itself with
// REPLACE, how chmod is stored) keeps the ETag and moves Last-Modified.
// Two metadata changes within one second are not told apart.
func SameVersion(a, b *Object) bool {
	return a.ETag != "" && a.ETag == b.ETag && a.ModTime.Unix() == b.ModTime.Unix()
}

// StatOption changes what Stat may answer.
type StatOption int

const (
	// WithMeta makes Stat answer with the object's user metadata
	// (MetaUnknown false): a Bucket that answers Stat from listings
	// (package cache) sends a HEAD unless it holds the metadata of the
	// version listed.
	WithMeta StatOption = iota + 1
	// ForLookup says the caller is resolving a name that may well not
	// exist (a lookup before a create): a Bucket that caches listings
	// (package cache) may answer it, and the lookups of the key's
	// siblings, with one listing page of the key's directory rather than
	// a HEAD. The answer may then have MetaUnknown set.
	ForLookup
)

// Listing is what List returns: objects and common prefixes, each in byte
// order of their keys.
type Listing struct {
	// Objects directly under the prefix (or every object, when recursive),
	// including a directory marker object equal to the prefix itself.
	Objects []Object
	// Prefixes are the common prefixes ("sub/dirs/"), relative to the
	// Bucket's prefix, each ending in "/". Empty when recursive.
	Prefixes []string
}

// ListOptions says how much of a prefix List returns.
type ListOptions struct {
	// Recursive lists every key under the prefix; the default is one level,
	// with "/" as the delimiter.
	Recursive bool
	// Limit stops once at least this many entries (objects plus prefixes)
	// have been gathered. Default 0: follow every page.
	Limit int
	// StartAfter lists only keys after this one (relative to the Bucket's
	// prefix), in byte order: the way to go on from a page already held.
	// A common prefix equal to StartAfter may be listed again. Default "":
	// from the start.
	StartAfter string
}

// PutOptions apply to Put.
type PutOptions struct {
	// Meta is stored as user metadata (x-oss-meta-NAME). Default nil: none.
	Meta map[string]string
	// MetaAtSend, when set, replaces Meta: it is called once, when the
	// request that carries the metadata is built (a PutObject after the
	// whole body was read; a multipart upload's Initiate after its first
	// part), so that the metadata may say what the writer did up to then
	// (a streamed file's mtime). The returned Object's Meta is what was
	// sent. Default nil: Meta.
	MetaAtSend func() map[string]string
	// ForbidOverwrite fails with ErrAlreadyExists when the key exists.
	// Default false.
	ForbidOverwrite bool
	// ContentType; default "": OSS picks application/octet-stream.
	ContentType string
}

// CopyOptions apply to Copy.
type CopyOptions struct {
	// ReplaceMeta replaces the user metadata with Meta (metadata directive
	// REPLACE); the default copies the source's metadata.
	ReplaceMeta bool
	Meta        map[string]string
	// Headers, with ReplaceMeta, are the standard headers the copy
	// stores (the source's, from Object.Headers). Default nil: a
	// Content-Type from dst's extension, as ossfs uploads it, and no
	// other.
	Headers *Headers
	// EditMeta, when set (and ReplaceMeta false), replaces the user
	// metadata with what it returns for the source as it is now (its
	// user metadata, Last-Modified, ETag and size, from a HEAD of src),
	// and keeps the source's standard headers (Content-Type,
	// Cache-Control, Content-Disposition, Content-Encoding,
	// Content-Language, Expires), which a REPLACE alone drops. The copy is
	// conditional on the ETag the HEAD saw: a source replaced in between
	// fails it with ErrPreconditionFailed. src must not be a symlink (a
	// HEAD follows it). Default nil.
	EditMeta func(src *Object) map[string]string
}

// SymlinkOptions are the PutSymlink options of the seed document.
type SymlinkOptions struct {
	// ForbidOverwrite fails with ErrAlreadyExists when the key exists.
	// Default false: an existing object is replaced.
	ForbidOverwrite bool
	// ACL is the object ACL ("private", "public-read", "public-read-write",
	// "default"). Default "": not sent, OSS uses "default".
	ACL string
	// StorageClass ("Standard", "IA", "Archive", ...). Default "": not sent.
	StorageClass string
	// Meta is stored as the link's own user metadata. Default nil.
	Meta map[string]string
}

// Symlink is what GetSymlink returns.
type Symlink struct {
	// Target is the target key, decoded, relative to the Bucket's prefix.
	// A target outside the prefix starts with as many "../" segments as
	// needed to climb out of it (prefix "p/q/", target key "p/x" -> "../x").
	Target string
	// RawTarget is x-oss-symlink-target as OSS stores it (decoded): the
	// whole bucket key, the mount prefix included.
	RawTarget string
	// Meta is the link's own user metadata, as in Object.Meta.
	Meta    map[string]string
	ETag    string
	ModTime time.Time
}

// ReadOptions apply to Get.
type ReadOptions struct {
	// IfMatch makes the read conditional on the object's version: when the
	// object's ETag is another one (it was overwritten), Get fails with
	// ErrPreconditionFailed and sends no byte. Default "": any version.
	IfMatch string
	// IfNoneMatch asks for the bytes only when the object's ETag is another
	// one: when it is this one, Get returns a Body with NotModified set and
	// no bytes. Default "": always the bytes.
	IfNoneMatch string
}

// Body is what Get returns: a byte stream and the version it is from.
//
// The stream resumes itself: when the connection drops mid-body, it asks
// again for the rest, from the byte reached, conditional on the ETag of the
// first answer (If-Match), so the resumed bytes are of the same version; a
// version changed meanwhile fails the read with ErrPreconditionFailed. See
// Config.ReadResumes for the bound and the backoff.
type Body struct {
	// ReadCloser yields the bytes; the caller closes it (also when
	// NotModified, or empty).
	io.ReadCloser
	// Object is the version the bytes are from, as the GET's headers tell:
	// Size is the whole object's size (not the range's), Meta its user
	// metadata (non-nil, as from a HEAD; past the end, where OSS answers
	// 416 without it, nil with MetaUnknown set). When no request was sent (length
	// 0) ETag is "" and Size -1; when NotModified, ETag is IfNoneMatch's
	// and Size -1 (the caller knows the rest).
	Object Object
	// NotModified: the object's ETag is ReadOptions.IfNoneMatch.
	NotModified bool
}

// Bucket is the part of OSS a filesystem needs, on one bucket and prefix.
// Keys are relative to the prefix. Every method is safe for concurrent use and
// returns an *Error (test with errors.Is) or a context error.
type Bucket interface {
	// Stat returns the object at key (a HEAD, which follows symlinks: a link
	// reports Type Symlink with its target's size and ETag). A missing key is
	// ErrNotFound; a symlink whose target is missing is ErrDanglingSymlink —
	// a symlink exists at key, so the caller must not treat it as missing;
	// a symlink whose target OSS will not follow (a link to a link) may be
	// ErrUnfollowableSymlink. A decorator may answer from a listing
	// (Object.MetaUnknown) unless opts hold WithMeta.
	Stat(ctx context.Context, key string, opts ...StatOption) (*Object, error)

	// List returns what lies under prefix ("" or ending in "/" for a
	// directory; any string is accepted), every page unless opts.Limit stops
	// it early. A prefix with nothing under it is an empty Listing, not an
	// error.
	List(ctx context.Context, prefix string, opts ListOptions) (*Listing, error)

	// Read streams length bytes of key starting at off (length < 0: to the
	// end). The stream is shorter than asked when the object is; off at or
	// past the end gives an empty stream, not an error. The caller closes it.
	// Read follows symlinks as GetObject does.
	Read(ctx context.Context, key string, off, length int64) (io.ReadCloser, error)

	// Get is Read that also reports the version the bytes are from and can
	// be made conditional on it (opts). Off at or past the end gives an
	// empty stream, not an error (Object then is filled as far as OSS
	// reports it, MetaUnknown set: such an answer carries no metadata). A missing key is ErrNotFound; with opts.IfMatch, another
	// version is ErrPreconditionFailed. Both Read and Get resume a body cut
	// off by a dropped connection (see Body).
	Get(ctx context.Context, key string, off, length int64, opts ReadOptions) (*Body, error)

	// Put stores everything r yields as key, replacing any object there.
	// Small bodies go in one PutObject; larger ones as a multipart upload
	// with parts sent in parallel while r is still being read. On any error
	// (including from r, or the caller's context ending) a multipart upload
	// is aborted: no object is created, an object already at key is left as
	// it was, and no upload is left open (unless the abort itself fails after
	// its retries: that is logged as a warning with the upload id). Returns
	// the new object's attributes.
	Put(ctx context.Context, key string, r io.Reader, opts PutOptions) (*Object, error)

	// Copy copies src to dst server-side, with the source's user metadata
	// or, with opts.ReplaceMeta, opts.Meta. It sends one CopyObject; when
	// OSS refuses the source as too large for that (OSS documents 1 GiB,
	// though it copies larger objects inside one bucket where it can), it
	// copies it in parts (UploadPartCopy, see Config.CopyPartSize), each
	// conditional on the source's ETag: a source changed meanwhile fails
	// the copy with ErrPreconditionFailed. A failed multipart copy is
	// aborted: dst is left as it was and no upload stays open (unless the
	// abort itself fails, which is logged). A symlink, dangling or not, is
	// copied as a link (one CopyObject). ErrNotFound when src is missing.
	// The returned Object has no Size (-1) or Type: Stat dst when they are
	// needed.
	Copy(ctx context.Context, src, dst string, opts CopyOptions) (*Object, error)

	// Delete removes key. Deleting a missing key is not an error.
	Delete(ctx context.Context, key string) error

	// DeleteMany removes keys in batches of 1,000 (DeleteMultipleObjects) and
	// returns the first failure, after trying every batch.
	DeleteMany(ctx context.Context, keys []string) error

	// PutSymlink makes key a symlink to target (a key relative to the prefix,
	// "../" allowed to leave it, as in Symlink.Target). The target need not
	// exist.
	PutSymlink(ctx context.Context, key, target string, opts SymlinkOptions) error

	// GetSymlink returns the link at key. ErrNotFound when key is missing;
	// ErrNotSymlink when key is a plain object.
	GetSymlink(ctx context.Context, key string) (*Symlink, error)
}
