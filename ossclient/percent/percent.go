// Package percent is ossfs's one percent-encoding, used wherever bytes
// travel in an OSS header, query or XML element that must carry any byte:
// the x-oss-symlink-target header (package ossclient on the way out,
// the local server on the way back), a link's literal text in its user
// metadata (fs/names), and the local server's V4 canonical request and
// encoding-type=url listings.
//
// Encode keeps the RFC 3986 unreserved bytes (A-Z a-z 0-9 - . _ ~), and "/"
// unless asked to encode it, and writes every other byte as %XX with
// upper-case hex: space is %20 (never "+"), "+" is %2B, "%" is %25, and
// each byte of a UTF-8 sequence (or of invalid UTF-8) is encoded on its
// own. That is the V4 signing form and what the OSS SDKs send.
//
// Two decoders, because two kinds of input exist: Decode is lenient, for
// values other clients may have written raw (a symlink target set by the
// console or another SDK): it decodes every well-formed %XX and keeps
// everything else as it is, "+" included. DecodeStrict is for values only
// Encode wrote (ossfs's own metadata): anything malformed is an error, so a
// damaged value is noticed instead of half-decoded.
package percent

import "strings"

const upperHex = "0123456789ABCDEF"

// Unreserved reports whether c is an RFC 3986 unreserved byte.
func Unreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '_' || c == '.' || c == '~'
}

// Encode percent-encodes s; "/" is kept unless encodeSlash.
func Encode(s string, encodeSlash bool) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if Unreserved(c) || (c == '/' && !encodeSlash) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(upperHex[c>>4])
		b.WriteByte(upperHex[c&15])
	}
	return b.String()
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// decode decodes s; a malformed escape is kept as it is (strict false) or
// makes it fail (strict true).
func decode(s string, strict bool) (string, bool) {
	if !strings.Contains(s, "%") {
		return s, true
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '%' {
			if i+2 < len(s) {
				hi, ok1 := unhex(s[i+1])
				lo, ok2 := unhex(s[i+2])
				if ok1 && ok2 {
					b.WriteByte(hi<<4 | lo)
					i += 2
					continue
				}
			}
			if strict {
				return "", false
			}
		}
		b.WriteByte(c)
	}
	return b.String(), true
}

// Decode turns every %XX (either case) into its byte and keeps everything
// else, including "+" (never a space) and a "%" not followed by two hex
// digits.
func Decode(s string) string {
	out, _ := decode(s, false)
	return out
}

// DecodeStrict reverses Encode; it returns false when s has a "%" that is
// not followed by two hex digits.
func DecodeStrict(s string) (string, bool) { return decode(s, true) }
