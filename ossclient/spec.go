package ossclient

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// ParseBucketSpec splits a mount source "BUCKET[:/PREFIX]" (also
// "BUCKET:PREFIX") into the bucket name and the prefix, normalised to "" or
// "a/b/". It rejects an empty or invalid bucket name and a prefix with empty,
// "." or ".." segments, NUL or invalid UTF-8.
func ParseBucketSpec(s string) (bucket, prefix string, err error) {
	bucket, rest, _ := strings.Cut(s, ":")
	if bucket == "" {
		return "", "", fmt.Errorf("ossclient: %q: no bucket name (want BUCKET[:/PREFIX])", s)
	}
	if !validBucketName(bucket) {
		return "", "", fmt.Errorf("ossclient: %q is not a valid bucket name (3-63 characters: a-z, 0-9, '-', not starting or ending with '-')", bucket)
	}
	prefix, err = normalizePrefix(rest)
	if err != nil {
		return "", "", err
	}
	return bucket, prefix, nil
}

// normalizePrefix turns "", "/", "a", "/a/b", "a/b/" into "", "", "a/",
// "a/b/", "a/b/".
func normalizePrefix(p string) (string, error) {
	p = strings.TrimPrefix(p, "/")
	p = strings.TrimSuffix(p, "/")
	if p == "" {
		return "", nil
	}
	if !utf8.ValidString(p) || strings.ContainsRune(p, 0) {
		return "", fmt.Errorf("ossclient: prefix %q is not valid UTF-8 without NUL", p)
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return "", fmt.Errorf("ossclient: prefix %q has an empty, \".\" or \"..\" segment", p)
		}
	}
	if len(p)+1 >= maxKeyLen {
		return "", fmt.Errorf("ossclient: prefix %q is too long (keys are at most %d bytes)", p, maxKeyLen)
	}
	return p + "/", nil
}

// validBucketName is OSS's rule: 3-63 bytes of a-z, 0-9 and '-', not
// starting or ending with '-'.
func validBucketName(b string) bool {
	if len(b) < 3 || len(b) > 63 || b[0] == '-' || b[len(b)-1] == '-' {
		return false
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}
