// Package names is the pure mapping between file names, OSS keys and symlink
// texts. It has no I/O and no state, so every rule is table-tested here and
// package fs only calls it.
//
// # Keys and names
//
// Keys are relative to the mount prefix (package ossclient adds it). The root
// directory is the key "", a directory "d" is the prefix "d/", a file is the
// key "d/f". A key segment is usable as a file name only if [ValidName] says
// so; other keys are hidden by package fs.
//
// # Symlinks
//
// A link at key L whose text (what the user typed) is T is stored as a native
// OSS symlink whose target key is what T means lexically from L's directory
// ([Mapper.Target]):
//
//   - relative T: path.Join(dir(L), T);
//   - absolute T inside the mountpoint: the path below the mountpoint;
//   - a result that climbs above the mount prefix but stays inside the bucket
//     is written with leading "../" segments (as ossclient.Symlink.Target
//     expects);
//   - a result outside the bucket (absolute T outside the mountpoint, "../"
//     above the bucket root), or one that is no object key at all (the mount
//     root, a bucket-level prefix, non-UTF-8): the target is L itself. OSS-side
//     reads of such a link fail (a link to a link is InvalidTargetType) and
//     can never resolve to an unrelated object.
//
// T itself is kept in the link's user metadata ([MetaSymlink], encoded with
// [EncodeMeta]) whenever it differs from the text that can be derived back
// from the target ([Relative]); that includes every outside target.
// [Mapper.Readlink] returns the stored T only while it is still consistent
// with the stored target from L's current place; otherwise the relative path
// from dir(L) to the target (which is how links made by other OSS clients
// read back).
package names

import (
	"errors"
	"path"
	"strings"
	"unicode/utf8"

	"github.com/ossfs/ossfs/ossclient/percent"
)

// Limits.
const (
	// MaxKeyLen is the longest OSS object key, in bytes.
	MaxKeyLen = 1023
	// MaxNameLen is the longest file name (one segment), in bytes.
	MaxNameLen = 255
	// PathMax is Linux's PATH_MAX, the terminating NUL included: a symlink
	// text must be shorter.
	PathMax = 4096
	// MaxMetaLen bounds the encoded symlink text kept in user metadata; OSS
	// allows 8 KiB of user metadata per object in total.
	MaxMetaLen = 6 * 1024
	// MetaSymlink is the user metadata name (x-oss-meta-ossfs-symlink) that
	// holds the link's text, encoded with EncodeMeta.
	MetaSymlink = "ossfs-symlink"
)

// Errors of the mapping. Package fs maps them to ENAMETOOLONG and ENOENT.
var (
	ErrNameTooLong = errors.New("name too long")
	ErrEmptyTarget = errors.New("empty symlink target")
)

// ValidName reports whether s can be a file name: not empty, not "." or
// "..", at most MaxNameLen bytes, valid UTF-8, no "/" and no NUL.
func ValidName(s string) bool {
	return s != "" && s != "." && s != ".." && len(s) <= MaxNameLen &&
		!strings.ContainsAny(s, "/\x00") && utf8.ValidString(s)
}

// ValidKey reports whether every segment of key is a ValidName. A single
// trailing "/" (a directory marker or prefix) is allowed; "" is the root.
func ValidKey(key string) bool {
	key = strings.TrimSuffix(key, "/")
	if key == "" {
		return true
	}
	for _, s := range strings.Split(key, "/") {
		if !ValidName(s) {
			return false
		}
	}
	return true
}

// Child returns the key of name inside the directory whose key is dir ("" for
// the root), without a trailing "/".
func Child(dir, name string) string {
	if dir == "" {
		return name
	}
	return dir + "/" + name
}

// DirPrefix returns the listing prefix of the directory dir: "" for the root,
// "dir/" otherwise.
func DirPrefix(dir string) string {
	if dir == "" {
		return ""
	}
	return dir + "/"
}

// CheckKeyLen returns ErrNameTooLong when key (as stored, directory markers
// with their "/") is longer than OSS allows.
func CheckKeyLen(key string) error {
	if len(key) > MaxKeyLen {
		return ErrNameTooLong
	}
	return nil
}

// Mapper maps symlink texts to OSS targets and back for one mount.
type Mapper struct {
	// Mountpoint is the absolute mount directory; absolute texts below it
	// point inside the mount. "" treats every absolute text as outside.
	Mountpoint string
	// PrefixDepth is the number of segments of the mount prefix: how many
	// "../" may climb above the mount root and still be in the bucket.
	PrefixDepth int
}

// Target returns the OSS target key for a link at linkKey with text lit, and
// whether lit must be stored in the link's metadata because it cannot be
// derived back from the target. Errors: ErrEmptyTarget, ErrNameTooLong (text
// of PathMax bytes or more, target key or encoded text too long).
func (m Mapper) Target(linkKey, lit string) (target string, storeLit bool, err error) {
	if lit == "" {
		return "", false, ErrEmptyTarget
	}
	if len(lit) >= PathMax || len(EncodeMeta(lit)) > MaxMetaLen {
		return "", false, ErrNameTooLong
	}
	resolved, ok := m.resolve(linkKey, lit)
	if ok {
		ups, rest := splitUps(resolved)
		switch {
		case rest == "" || ups > m.PrefixDepth || !utf8.ValidString(rest):
			ok = false // not an object key, or outside the bucket
		case len(rest) > MaxKeyLen:
			return "", false, ErrNameTooLong
		}
	}
	if !ok {
		return linkKey, true, nil
	}
	return resolved, lit != Relative(path.Dir(linkKey), resolved), nil
}

// Native is how a link with text lit at linkKey is written as a native OSS
// symlink: the one place both ln -s on the mount and the link converter
// (package links) take the target key and the stored text from.
type Native struct {
	// Target is the OSS target key (relative to the mount prefix, "../"
	// to leave it, as ossclient.Symlink.Target).
	Target string
	// Meta is the user metadata the link must carry: MetaSymlink with the
	// encoded text when the target cannot give the text back; nil otherwise.
	Meta map[string]string
	// Outside is true when the text points outside the bucket (or at no
	// object key): Target is then the link itself.
	Outside bool
}

// Native returns how the link at linkKey with text lit is stored; errors as
// Target's.
func (m Mapper) Native(linkKey, lit string) (Native, error) {
	target, store, err := m.Target(linkKey, lit)
	if err != nil {
		return Native{}, err
	}
	n := Native{Target: target}
	if store {
		n.Meta = map[string]string{MetaSymlink: EncodeMeta(lit)}
		n.Outside = target == linkKey && !m.inside(linkKey, lit)
	}
	return n, nil
}

// inside reports whether lit resolves to an object key in the bucket (the
// test Target applies before falling back to the link itself).
func (m Mapper) inside(linkKey, lit string) bool {
	resolved, ok := m.resolve(linkKey, lit)
	if !ok {
		return false
	}
	ups, rest := splitUps(resolved)
	return rest != "" && ups <= m.PrefixDepth && utf8.ValidString(rest)
}

// resolve interprets lit lexically from linkKey's directory. It returns a
// cleaned key relative to the mount root (possibly starting with "../"
// segments, or "." for the root) and false when lit is absolute outside the
// mountpoint.
func (m Mapper) resolve(linkKey, lit string) (string, bool) {
	if !strings.HasPrefix(lit, "/") {
		return path.Join(path.Dir(linkKey), lit), true
	}
	if m.Mountpoint == "" {
		return "", false
	}
	mp := path.Clean(m.Mountpoint)
	c := path.Clean(lit)
	switch {
	case mp == "/":
		return path.Clean("." + c), true
	case c == mp:
		return ".", true
	case strings.HasPrefix(c, mp+"/"):
		return c[len(mp)+1:], true
	}
	return "", false
}

// splitUps splits a cleaned relative path into its number of leading ".."
// segments and the rest ("" when nothing but ".." or "." remains).
func splitUps(p string) (int, string) {
	if p == "." {
		return 0, ""
	}
	n := 0
	for p == ".." || strings.HasPrefix(p, "../") {
		n++
		p = strings.TrimPrefix(strings.TrimPrefix(p, ".."), "/")
	}
	return n, p
}

// Readlink returns the text of the link at linkKey whose OSS target is target
// and whose metadata holds lit (hasLit false: no literal stored). The literal
// wins while it still maps to target from linkKey; otherwise the relative
// path from the link's directory to the target.
func (m Mapper) Readlink(linkKey, target, lit string, hasLit bool) string {
	if hasLit && lit != "" {
		if t, _, err := m.Target(linkKey, lit); err == nil && t == target {
			return lit
		}
	}
	return Relative(path.Dir(linkKey), target)
}

// ReadlinkMeta is Readlink for a link whose user metadata is meta: the text
// stored under MetaSymlink (when it decodes) is the literal. Both the mount's
// readlink and the link converter read links through it.
func (m Mapper) ReadlinkMeta(linkKey, target string, meta map[string]string) string {
	lit, has := "", false
	if v, ok := meta[MetaSymlink]; ok {
		lit, has = DecodeMeta(v)
	}
	return m.Readlink(linkKey, target, lit, has)
}

// Relative returns the relative path from directory dir ("." or "" for the
// mount root) to key, which may start with "../" segments to leave the mount
// prefix. A trailing "/" of key is kept.
func Relative(dir, key string) string {
	var ds []string
	if dir != "." && dir != "" {
		ds = strings.Split(dir, "/")
	}
	trailing := strings.HasSuffix(key, "/") && key != "/"
	ks := strings.Split(strings.TrimSuffix(key, "/"), "/")
	c := 0
	for c < len(ds) && c < len(ks) && ds[c] == ks[c] && ks[c] != ".." {
		c++
	}
	parts := make([]string, 0, len(ds)-c+len(ks)-c)
	for range len(ds) - c {
		parts = append(parts, "..")
	}
	parts = append(parts, ks[c:]...)
	r := strings.Join(parts, "/")
	switch {
	case r == "":
		r = "."
	case strings.HasPrefix(r, "/"):
		r = "." + r // a key with an empty first segment must not read as absolute
	}
	if trailing {
		r += "/"
	}
	return r
}

// EncodeMeta percent-encodes s for an HTTP header value: every byte except
// ASCII letters, digits, "-._~" and "/" becomes %XX, so any byte sequence
// (spaces, "+", "%", control bytes, UTF-8, invalid UTF-8) survives intact.
// It is the same encoding as the symlink target's (package percent).
func EncodeMeta(s string) string { return percent.Encode(s, false) }

// DecodeMeta reverses EncodeMeta. It returns false for a malformed value:
// only EncodeMeta writes these values, so unlike a symlink target (which
// other clients write and is decoded leniently) a damaged one is refused.
func DecodeMeta(s string) (string, bool) { return percent.DecodeStrict(s) }
