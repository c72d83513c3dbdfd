// Package osstest is a local server that speaks the Alibaba Cloud OSS REST
// API closely enough that the official SDKs cannot tell it from OSS for the
// operations a filesystem uses. It is what every ossfs test, benchmark and
// the no-credentials demo (`ossfs serve`, `ossfs mount --local`) run
// against; start it in-process like net/http/httptest:
//
//	srv, _ := osstest.Start(osstest.Options{})   // in memory, "test-bucket"
//	defer srv.Close()
//	cfg := oss.LoadDefaultConfig().WithEndpoint(srv.Endpoint()).WithRegion(srv.Region()).
//		WithCredentialsProvider(credentials.NewStaticCredentialsProvider(
//			osstest.DefaultAccessKeyID, osstest.DefaultAccessKeySecret))
//
// # Design
//
// One http.Handler parses the address (path-style "/bucket/key", or
// bucket-in-host "bucket.host:port/key" when the host is not an IP and its
// first label is a served bucket), names the operation exactly as the SDK's
// OpName does (package ossclient/internal/opname, which the client's
// request log shares), counts it, applies latency, verifies the signature,
// applies injected faults, and dispatches. Files by concern: server.go (options,
// routing), auth.go (V1/V4 verification), errors.go (error XML), objects.go
// and copyappend.go (object operations), listing.go, multipart*.go,
// partcopy.go (UploadPartCopy), symlink.go, store.go (namespace, key
// index, blob reference counts), backend*.go (memory and directory
// storage), shaping.go (latency, bandwidth, faults, counters, the /_ossfs
// admin endpoints), crc.go.
//
// Storage is a store over a backend. An object's bytes are a list of
// immutable, reference-counted blobs ("segments"): a put writes one blob,
// an append adds one, a multipart object is its parts' blobs, and a copy
// shares its source's blobs, so no operation rewrites data, except
// UploadPartCopy: a part is one blob, so a part copied from a range of
// another object is written anew (its MD5 and CRC need the bytes read
// anyway). Metadata
// (including the CRC-64 of the whole object, combined arithmetically on
// append and complete) lives in memory with a sorted key index; listings
// binary-search it and jump over whole common prefixes, so a page costs
// O(page + log n). One mutex guards the namespace; it is never held while a
// body crosses the network (bodies stream into a blob first, then the
// metadata is committed under the lock). A reader pins the blobs it reads,
// so concurrent overwrites and deletes never cut a download short.
//
// The directory backend (Options.Dir) never turns keys into paths: blobs are
// DIR/blobs/<random id>, metadata is DIR/buckets/<bucket>/<sha256(key)>.json
// holding the key, so keys with "..", "//" or 1023 bytes are safe. Bodies
// stream to DIR/tmp and are renamed into place; metadata files are replaced
// atomically by rename. Blobs nobody references are deleted at start.
//
// # Implemented
//
// Authentication: V1 ("OSS id:signature", HMAC-SHA1 over the canonical
// string with the SDK's sub-resource list) and V4 ("OSS4-HMAC-SHA256",
// scope date/region/oss/aliyun_v4_request, additional headers honoured);
// several key pairs; STS-style security tokens (x-oss-security-token must
// match the credential's token). A V1 request is dated by its Date header
// or, without one, by x-oss-date (browsers and the Node.js SDK cannot set
// Date; they put x-oss-date's value on the date line and sign it among the
// x-oss-* headers), in the HTTP date or the ISO 8601 basic form; with
// neither, 403 AccessDenied with EC 0002-00000503, and an unparsable one
// 0002-00000502. Missing Authorization: 403 AccessDenied;
// wrong signature: 403 SignatureDoesNotMatch (with StringToSign, and
// CanonicalRequest for V4); unknown key: 403 InvalidAccessKeyId; request
// time more than 15 minutes from the server clock: 403 RequestTimeTooSkewed
// (with ServerTime; the Date header lets the SDK correct its clock). A V4
// scope for another region: 400 InvalidArgument.
//
// Errors: the OSS XML (Code, Message, RequestId, HostId, EC), x-oss-ec on
// every error, x-oss-request-id on every response; HEAD errors have no body
// and carry the XML base64-encoded in x-oss-err, which the SDK decodes.
//
// Objects: PutObject (Content-MD5 checked, x-oss-forbid-overwrite),
// GetObject (single Range; a multi-range uses its first range; without
// x-oss-range-behavior: standard an invalid or unsatisfiable range returns
// the whole object with 200, with it a start past the end is 416
// InvalidRange and an end past the end is clipped; If-Match/None-Match/
// Modified-Since/Unmodified-Since; response-* overrides), HeadObject,
// GetObjectMeta (ETag, Content-Length, Last-Modified; no
// x-oss-last-access-time, which OSS sends only with access tracking on),
// CopyObject (x-oss-copy-source, metadata directive COPY or
// REPLACE, forbid-overwrite, copy-source if-match/if-none-match),
// DeleteObject, DeleteMultipleObjects (quiet, encoding-type=url),
// AppendObject (position checks: 409 PositionNotEqualToLength with
// x-oss-next-append-position, 409 ObjectNotAppendable), multipart
// (initiate, upload part, complete with explicit parts or
// x-oss-complete-all, abort, ListParts, ListMultipartUploads), user metadata
// x-oss-meta-* (names lower-cased), Cache-Control/Content-Disposition/
// Content-Encoding/Content-Language/Expires, ETag, Last-Modified,
// x-oss-object-type, x-oss-storage-class, and x-oss-hash-crc64ecma on put,
// get, head, upload part, upload part copy, append, copy and complete (the
// combined CRC of the parts). Keys: UTF-8, 1..1023 bytes, no leading "/"
// or "\", otherwise 400 InvalidObjectName. Times are kept in whole seconds,
// as OSS keeps them: XML bodies say "...:52.000Z" and agree with every
// Last-Modified header (a directory store written by an older server is
// truncated at load).
//
// Listing: ListObjects and ListObjectsV2 with prefix, delimiter, marker /
// continuation-token / start-after, max-keys 0..1000 (default 100),
// fetch-owner, encoding-type=url (keys, prefixes, markers and tokens
// percent-encoded with space as %20 and "/" kept), Type and Size per entry,
// CommonPrefixes; keys in byte order. Also ListBuckets, GetBucketInfo and
// GetBucketLocation (minimal).
//
// Large copies: CopyObject refuses a source over Options.MaxCopySize
// (default 1 GiB) with 400 EntityTooLarge, the code the SDK's Copier
// falls back to a multipart copy on; UploadPartCopy (x-oss-copy-source, not
// a symlink; x-oss-copy-source-range "bytes=first-last"; copy-source
// if-match / if-none-match, 412 PreconditionFailed) answers CopyPartResult
// with the part's ETag (MD5 of its bytes) and LastModified, plus
// x-oss-hash-crc64ecma, so the completed object's CRC is the source's.
//
// Symlinks: PutSymlink percent-decodes x-oss-symlink-target, honours
// forbid-overwrite (409 FileAlreadyExists) and stores the link's ACL,
// storage class and user metadata; GetSymlink returns the target
// percent-encoded ("/" kept, space %20, "+" %2B) with the link's ETag,
// Last-Modified and user metadata, 404 NoSuchKey for a missing key, 400
// NotSymlink for a plain object; GetObject and HeadObject follow one level
// (404 SymlinkTargetNotExist when dangling, 400 InvalidTargetType for a
// link to a link) and send x-oss-object-type: Symlink; GetObjectMeta does
// not follow: it reports the link's own ETag, Last-Modified and size
// (documented: "If the object is a symbolic link, the information about
// the symbolic link is returned"), dangling or not, and sends no
// x-oss-object-type (the page lists none). A link's size, there and in
// listings (Type Symlink), is the byte length of its target key.
// CopyObject and DeleteObject act on the link itself.
// GetObjectAcl reports an object's stored ACL ("default" when none was set),
// so the ACL given to PutSymlink can be checked. Note that the Go SDK v2
// (v1.6.1) passes x-oss-symlink-target through untouched in both
// directions (PutSymlinkRequest.Target is sent as given, GetSymlinkResult.
// Target is the raw header): a Go caller encodes on put and decodes on get
// itself, as the Python (oss2) and PHP SDKs do internally (PHP also
// encodes "/" as %2F, which decodes to the same target).
//
// Test hooks: request counts per operation (Counts, Count, TotalRequests,
// ResetCounts; over HTTP GET /_ossfs/stats and POST /_ossfs/stats/reset,
// unsigned, path-style only; every attempt counts, including ones rejected
// by authentication or answered by a fault, so SDK retries are visible),
// SetLatency, SetBandwidth (per direction,
// shared by all requests), AddFault (error status/code, next N times or with
// a probability, stalls, holds released by the test, connections dropped
// mid-body), FaultsFired (how many were applied), FaultCounts (per
// operation; "faults" in /_ossfs/stats), OpenUploads, SetCredential and
// ExpireCredential (an STS token that expires mid-run: 403
// SecurityTokenExpired, EC 0002-00000066, ours).
//
// # Choices where the public documentation is silent
//
// Each choice, with its evidence and how sure it is. The behaviours a
// filesystem depends on are checked by the conformance tests (package
// ossclient, TestConformance*; e2e TestConformanceMount), which run against
// this server in memory and on a directory and, given a bucket, against
// OSS itself (docs/testing.md): a wrong guess there is a failing test on
// the first real run.
//
//   - A symlink's size (listings, GetObjectMeta) is the length of its
//     target key. Evidence: the console guide ("the storage capacity used
//     by the symbolic link is determined by the path length of the object
//     to which the symbolic link points"), and responses seen by other OSS
//     FUSE clients, which compute a link's st_size from it. Medium-high.
//     TestConformanceSymlinks.
//   - A symlink's ETag is the upper-case MD5 of its target key. Evidence
//     against: a published GetSymlink response for target "test.txt" shows
//     ETag 6751C61F..., not MD5("test.txt") = DD18BF3A...; the real formula
//     is unknown. Low. What a filesystem may rely on, and what is tested
//     (TestConformanceSymlinks), is that it is the link's own and the same
//     in GetSymlink, GetObjectMeta and listings.
//   - HEAD/GET through a link report the target's length, ETag, CRC,
//     content headers and user metadata, x-oss-object-type Symlink, and the
//     later of the link's and the target's Last-Modified. Evidence: the
//     GetObject page (a link returns the target's content); Baidu BOS,
//     whose symlink API copies OSS's, documents the later-of-the-two time.
//     Medium; the object type and length are tested (TestConformanceSymlinks).
//   - GetObjectMeta on a link sends no x-oss-hash-crc64ecma (a link has no
//     content). Evidence: none. Low; nothing depends on it.
//   - GetSymlink on a plain object is 400 NotSymlink with EC 0043-00000101.
//     Evidence: the EC is documented (its page: "the object that is
//     specified in the request is an invalid symbolic link object"); the
//     code is the one ossutil's read-symlink page names; the status is
//     ours. High (EC, code), low (status). TestConformanceSymlinks checks the kind.
//   - A link to a link is 400 InvalidTargetType on GET/HEAD. Evidence: an
//     older PutSymlink page ("the target file type of a symbolic link
//     cannot be the symbolic link", checked when GetObject reaches the
//     target); the code and status are not on a page. Low for those; a
//     filesystem relies only on it not being 404 (a link is there), which
//     TestConformanceSymlinks checks.
//   - A target that is not valid percent-encoding, or not a valid key after
//     decoding, is 400 InvalidArgument. Evidence: none. Low
//     (TestSymlinkSemantics).
//   - GetObjectAcl on a link reports the link's own ACL. Evidence: the
//     PutSymlink page lets a link carry its own x-oss-object-acl. Medium.
//   - V1: with both Date and x-oss-date, Date is on the date line and is
//     the time checked (the documented formula names Date); x-oss-date is
//     accepted in the HTTP date form (what ali-oss sends) as well as the
//     ISO 8601 form the error pages show; the status and code of a missing
//     or bad date (403 AccessDenied) are ours, the ECs are documented.
//     Medium (TestV1WithXOSSDate).
//   - Times: whole seconds everywhere. Evidence: every ListObjects example
//     shows "...000Z", and Last-Modified headers carry seconds. High
//     (TestConformanceTimes, TestTimesAreWholeSeconds).
//   - The ETag of an appendable object is the MD5 of the first piece, then
//     MD5(previous ETag + piece MD5) per append: stable and changing with
//     every append, but not the content MD5 (OSS does not promise one).
//     Low; a filesystem relies only on "changes with every write".
//   - CopyObject keeps the source's object type and ETag. Evidence: ETag
//     documented as derived from the content; the type is a guess. Low.
//   - The 1 GiB CopyObject limit is the one the UploadPartCopy page and
//     older CopyObject pages state; the current CopyObject page allows
//     larger sources within one bucket when the storage class is kept (up
//     to 5 GB across buckets). MaxCopySize models the strict reading, so
//     clients exercise the fallback; set it negative for no limit. The
//     message and EC of EntityTooLarge are ours (the code is the one the
//     SDK's Copier recognises). Medium (TestCopyObjectMaxCopySize).
//   - UploadPartCopy refuses a symlink source, dangling or not, with 400
//     InvalidArgument and EC 0042-00000308 (the EC's page: "the source
//     object ... cannot be a symbolic link"; the status and code are ours),
//     and copies the whole source for a range it cannot satisfy (as
//     GetObject without x-oss-range-behavior, and as Apsara Stack's
//     UploadPartCopy page describes). Appendable sources are accepted (an
//     older page forbids them; the current one does not). High (refusal),
//     medium (the rest) (TestUploadPartCopyWholeAndLinks). ossclient copies
//     a link with one CopyObject, never in parts.
//   - EC values have the real "NNNN-NNNNNNNN" shape; those of NoSuchKey,
//     SymlinkTargetNotExist, NotSymlink and the date errors match public
//     documentation,
//     the others are representative. Low for the others; nothing depends
//     on them.
//
// # Not implemented
//
// Presigned (query-string) URLs (501), the V4 payload hash (x-oss-content-
// sha256 other than UNSIGNED-PAYLOAD is signed but the body is not
// checked), versioning, PutObjectAcl and bucket ACLs (a stored ACL is never
// enforced), tagging/restore/select/process APIs, bucket
// creation over the API, UploadPartCopy's if-modified-since /
// if-unmodified-since and the 5 GB part limit, callbacks, server-side
// encryption, delimiter roll-up in ListMultipartUploads, open multipart
// uploads surviving a restart (their parts are discarded at start), and
// traffic-limit headers (use SetBandwidth).
package osstest
