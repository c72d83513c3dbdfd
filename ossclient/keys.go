package ossclient

import (
	"strings"
	"unicode/utf8"
)

// keyMap is the one place where the mount prefix is added and stripped.
//
// Keys are never cleaned: "a//b" and "a/./b" are passed through byte for
// byte. Only symlink targets interpret leading "../" segments, and only to
// climb out of the prefix:
//
//	prefix "p/q/": target "x"       <-> key "p/q/x"
//	               target "../x"    <-> key "p/x"
//	               target "../../x" <-> key "x"
//	               target "../../../x": ErrInvalidName (above the bucket)
//
// A target key that OSS cannot store (invalid UTF-8, a leading "/" or "\")
// is ErrInvalidName too, without a request.
//
// Limitation: a key whose part below the prefix itself starts with "../"
// (a literal ".." segment, e.g. "p/q/../x") reads back as "../x", which
// PutSymlink would resolve differently. Such keys cannot be file names.
type keyMap struct {
	prefix string   // "" or "a/b/"
	dirs   []string // prefix split into segments: ["a", "b"]
}

func newKeyMap(prefix string) keyMap {
	m := keyMap{prefix: prefix}
	if prefix != "" {
		m.dirs = strings.Split(strings.TrimSuffix(prefix, "/"), "/")
	}
	return m
}

// full returns the bucket key for key, or an *Error of kind InvalidName
// (empty) or NameTooLong (over 1023 bytes) without any request.
func (m keyMap) full(op, key string) (string, error) {
	k := m.prefix + key
	if k == "" {
		return "", &Error{Kind: KindInvalidName, Op: op, Key: key}
	}
	if len(k) > maxKeyLen {
		return "", &Error{Kind: KindNameTooLong, Op: op, Key: key}
	}
	return k, nil
}

// under returns the bucket key for a listing prefix or position p: any
// string, "" being the mount root itself. The caller checks the length.
func (m keyMap) under(p string) string { return m.prefix + p }

// rel strips the prefix from a bucket key; ok is false for a key outside it.
func (m keyMap) rel(k string) (string, bool) {
	if !strings.HasPrefix(k, m.prefix) {
		return "", false
	}
	return k[len(m.prefix):], true
}

// targetKey resolves a prefix-relative symlink target (leading "../"
// allowed) to a bucket key.
func (m keyMap) targetKey(op, key, target string) (string, error) {
	up := 0
	rest := target
	for strings.HasPrefix(rest, "../") {
		rest = rest[3:]
		up++
	}
	if up > len(m.dirs) {
		return "", &Error{Kind: KindInvalidName, Op: op, Key: key}
	}
	base := strings.Join(m.dirs[:len(m.dirs)-up], "/")
	if base != "" {
		base += "/"
	}
	k := base + rest
	if k == "" || !validObjectName(k) {
		return "", &Error{Kind: KindInvalidName, Op: op, Key: key}
	}
	if len(k) > maxKeyLen {
		return "", &Error{Kind: KindNameTooLong, Op: op, Key: key}
	}
	return k, nil
}

// validObjectName is OSS's rule for a key, except its length: valid UTF-8,
// not starting with "/" or "\". Keys are left for OSS to refuse (one
// place: its InvalidObjectName); a symlink target is checked here, because
// OSS refuses a bad one with a generic InvalidArgument.
func validObjectName(k string) bool {
	return utf8.ValidString(k) && !strings.HasPrefix(k, "/") && !strings.HasPrefix(k, "\\")
}

// relTarget expresses a bucket key as a prefix-relative target: the key
// below the prefix, or as many "../" as needed to reach the deepest prefix
// directory that contains it.
func (m keyMap) relTarget(k string) string {
	for i := len(m.dirs); i >= 0; i-- {
		base := strings.Join(m.dirs[:i], "/")
		if base != "" {
			base += "/"
		}
		if strings.HasPrefix(k, base) {
			return strings.Repeat("../", len(m.dirs)-i) + k[len(base):]
		}
	}
	return strings.Repeat("../", len(m.dirs)) + k // unreachable: base "" matches
}
