package ossclient

import "github.com/ossfs/ossfs/ossclient/percent"

// The x-oss-symlink-target header travels percent-encoded. The SDK sends the
// header value as given and returns it as received, so the client encodes
// and decodes it here, with package percent:
//
//   - encodeTarget keeps RFC 3986 unreserved bytes (A-Z a-z 0-9 - . _ ~) and
//     "/", and writes every other byte as %XX (upper-case hex): space is
//     %20, "+" is %2B, "%" is %25, each byte of a non-ASCII UTF-8 sequence
//     is encoded on its own.
//   - decodeTarget is the lenient decoder: it turns every %XX (either case)
//     back into its byte and keeps everything else, including "+" (never a
//     space) and a "%" not followed by two hex digits (a target written raw
//     by another client).

func encodeTarget(s string) string { return percent.Encode(s, false) }

func decodeTarget(s string) string { return percent.Decode(s) }
