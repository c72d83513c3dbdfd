package ossclient

import "strings"

// The x-oss-symlink-target header travels percent-encoded. The SDK sends the
// header value as given and returns it as received, so the encoding is done
// here, once:
//
//   - encodeTarget keeps RFC 3986 unreserved bytes (A-Z a-z 0-9 - . _ ~) and
//     "/", and writes every other byte as %XX (upper-case hex): space is
//     %20, "+" is %2B, "%" is %25, each byte of a non-ASCII UTF-8 sequence
//     is encoded on its own.
//   - decodeTarget turns every %XX (either case) back into its byte and
//     keeps everything else, including "+" (never a space) and a "%" not
//     followed by two hex digits (a target written raw by another client).

const upperHex = "0123456789ABCDEF"

func targetUnreserved(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~' || c == '/'
}

func encodeTarget(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if targetUnreserved(c) {
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
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

func decodeTarget(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '%' && i+2 < len(s) {
			hi, ok1 := unhex(s[i+1])
			lo, ok2 := unhex(s[i+2])
			if ok1 && ok2 {
				b.WriteByte(hi<<4 | lo)
				i += 2
				continue
			}
		}
		b.WriteByte(c)
	}
	return b.String()
}
