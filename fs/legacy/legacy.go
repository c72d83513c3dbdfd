// Package legacy reads and writes the metadata formats of ossfs 1.x (and
// s3fs, which it derives from), so that a bucket written by those tools means
// the same thing through this mount, and the other way round. It is pure: no
// I/O and no state; package fs and the link converter (package links) call it.
//
// Every format here was read in ossfs 1.x's source (github.com/aliyun/ossfs,
// branch main-v1, commit 95e3f05b); the references below are to that tree.
//
// # Symlinks
//
// ossfs 1.x writes a symlink as a regular object (s3fs_symlink, src/s3fs.cpp):
//
//   - Format 1 (the default, as s3fs): x-oss-meta-mode carries the symlink
//     type bits (S_IFLNK|0777 = 41471, written in decimal by str()) and the
//     body is the link text, byte for byte.
//   - Format 2 (mount option symlink_in_meta): x-oss-meta-symlink-target is
//     "TYPE:LENGTH:URLENCODED" (FdEntity::SetSymlinkAttr,
//     src/fdcache_entity.cpp). TYPE "header": the text is in the header,
//     percent-encoded by urlEncode (src/string_util.cpp: every byte but
//     ASCII letters, digits, "-._~/" as %XX), and the body is empty; 1.x
//     uses it for texts under 2 KiB. TYPE "body": the text is in the body
//     and the header says "body:0:". LENGTH is the text's byte length.
//     x-oss-meta-mode is written with S_IFLNK too.
//
// Reading (get_mode, src/metaheader.cpp): the mode comes from
// x-oss-meta-mode, else x-oss-meta-permissions (s3sync), parsed as C's
// strtoull with base 0 (decimal, 0-prefixed octal, 0x hex). A mode with the
// S_IFLNK type is a link; a mode with no type bits (or no mode at all) is a
// link when x-oss-meta-symlink-target is present; any other type is not a
// link, whatever the other headers say. The text is the header's (TYPE
// "header") or the body's, with leading and trailing " \t\r\n" trimmed, as
// s3fs_readlink does.
//
// # Extended attributes
//
// With use_xattr, ossfs 1.x keeps every xattr of an object in one header,
// x-oss-meta-xattr (build_xattrs and parse_xattrs, src/s3fs.cpp): the JSON-like
// text {"NAME":"BASE64","NAME2":"BASE64"} (names in byte order, the full
// name such as "user.color", values in standard padded base64, an empty
// value as ""), then percent-encoded with the same urlEncode. 1.x parses it by
// taking what lies between the first "{" and the last "}", splitting on ","
// and each pair on its first ":", and dropping the text up to the first and
// after the last double quote of each side; names are not escaped, so a name
// holding `"`, "," or ":" cannot round-trip and [ValidXattrName] refuses it.
package legacy

import (
	"strconv"
	"strings"
	"syscall"

	"github.com/ossfs/ossfs/ossclient/percent"
)

// User metadata names (without "x-oss-meta-", lower case) that ossfs 1.x
// writes.
const (
	MetaMode          = "mode"
	MetaPermissions   = "permissions" // s3sync's mode, read by 1.x when mode is absent
	MetaSymlinkTarget = "symlink-target"
	MetaXattr         = "xattr"
	MetaMtime         = "mtime"
)

// Format says how a legacy link is stored.
type Format int

// The link formats.
const (
	NotLink       Format = iota // a regular file (or not a 1.x link at all)
	Format1                     // mode S_IFLNK, text in the body
	Format2Header               // symlink-target "header:N:TEXT"
	Format2Body                 // symlink-target "body:...", text in the body
)

func (f Format) String() string {
	switch f {
	case Format1:
		return "format 1 (mode S_IFLNK, text in body)"
	case Format2Header:
		return "format 2 (x-oss-meta-symlink-target, text in header)"
	case Format2Body:
		return "format 2 (x-oss-meta-symlink-target, text in body)"
	}
	return "not a link"
}

// Mode returns the mode ossfs 1.x reads from meta (x-oss-meta-mode, else
// x-oss-meta-permissions) and whether one was present and parsed.
func Mode(meta map[string]string) (uint32, bool) {
	v, ok := meta[MetaMode]
	if !ok {
		if v, ok = meta[MetaPermissions]; !ok {
			return 0, false
		}
	}
	if strings.Contains(v, "_") { // Go's base 0 accepts "1_0"; C's strtoull does not
		return 0, false
	}
	m, err := strconv.ParseUint(strings.TrimSpace(v), 0, 32)
	if err != nil {
		return 0, false
	}
	return uint32(m), true
}

// Classify says whether an object with user metadata meta is a legacy link,
// in which format, and for Format2Header its text. hasHeaderText is false
// when the text must be read from the body (Format1, Format2Body), or when
// a Format2Header value is empty (ossfs 1.x answers EIO for it: the caller
// treats it as a damaged link).
func Classify(meta map[string]string) (f Format, headerText string, hasHeaderText bool) {
	mode, _ := Mode(meta)
	st, has2 := meta[MetaSymlinkTarget]
	switch {
	case mode&syscall.S_IFMT == syscall.S_IFLNK:
	case mode&syscall.S_IFMT == 0 && has2:
	default:
		return NotLink, "", false
	}
	if !has2 {
		return Format1, "", false
	}
	typ, rest, _ := strings.Cut(st, ":")
	if typ != "header" {
		return Format2Body, "", false
	}
	// rest is "LENGTH:URLENCODED"; 1.x ignores LENGTH when reading.
	_, enc, ok := strings.Cut(rest, ":")
	if !ok {
		return Format2Header, "", false
	}
	text := trim(percent.Decode(enc))
	return Format2Header, text, text != ""
}

// BodyText is the link text a Format1 or Format2Body object's body gives,
// trimmed as ossfs 1.x's readlink trims it.
func BodyText(body []byte) string { return trim(string(body)) }

func trim(s string) string { return strings.Trim(s, " \t\r\n") }

// LinkMode is the x-oss-meta-mode value ossfs 1.x writes for a link
// (S_IFLNK|0777, in decimal).
var LinkMode = strconv.FormatUint(uint64(syscall.S_IFLNK|0o777), 10)

// Format1Meta returns the user metadata of a Format1 link made from a link
// whose own metadata was meta: meta's entries are kept (ossfs's own names
// among them: a rename back to native finds the stored text), the mode
// gets the S_IFLNK type (its permission bits kept when it had a link mode)
// and any symlink-target header is dropped, since the body is the text.
func Format1Meta(meta map[string]string) map[string]string {
	out := make(map[string]string, len(meta)+1)
	for k, v := range meta {
		out[k] = v
	}
	delete(out, MetaSymlinkTarget)
	delete(out, MetaPermissions)
	if m, ok := Mode(meta); !ok || m&syscall.S_IFMT != syscall.S_IFLNK {
		out[MetaMode] = LinkMode
	}
	return out
}

// NativeMeta returns the user metadata a native link converted from a
// legacy link with metadata meta keeps: everything (mode, mtime, uid, gid,
// xattrs, ...) except the symlink-target header, which the native link
// replaces.
func NativeMeta(meta map[string]string) map[string]string {
	out := make(map[string]string, len(meta))
	for k, v := range meta {
		if k != MetaSymlinkTarget {
			out[k] = v
		}
	}
	return out
}
