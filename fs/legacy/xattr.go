package legacy

import (
	"encoding/base64"
	"sort"
	"strings"

	"github.com/ossfs/ossfs/ossclient/percent"
)

// ValidXattrName reports whether name can be stored in x-oss-meta-xattr so
// that ossfs 1.x parses it back: not empty, and none of `"`, ",", ":" or NUL
// (1.x splits the text on them without escapes).
func ValidXattrName(name string) bool {
	return name != "" && !strings.ContainsAny(name, "\",:\x00")
}

// ParseXattrs decodes an x-oss-meta-xattr value the way ossfs 1.x's
// parse_xattrs does. A malformed pair is skipped, as 1.x skips it; a value
// that is not valid base64 is skipped too. Never nil.
func ParseXattrs(v string) map[string][]byte {
	out := map[string][]byte{}
	s := percent.Decode(v)
	start, end := strings.IndexByte(s, '{'), strings.LastIndexByte(s, '}')
	if start < 0 || end <= start {
		return out
	}
	for _, pair := range strings.Split(s[start+1:end], ",") {
		k, val, ok := strings.Cut(pair, ":")
		if !ok {
			continue
		}
		k, ok1 := dequote(k)
		val, ok2 := dequote(val)
		if !ok1 || !ok2 {
			continue
		}
		b, err := base64.StdEncoding.DecodeString(val)
		if err != nil {
			if b, err = base64.RawStdEncoding.DecodeString(val); err != nil {
				continue
			}
		}
		out[k] = b
	}
	return out
}

// dequote is 1.x's takeout_str_dquart: the text between the first and the
// last double quote.
func dequote(s string) (string, bool) {
	i := strings.IndexByte(s, '"')
	if i < 0 {
		return s, true // 1.x keeps a side with no quote at all as it is
	}
	s = s[i+1:]
	j := strings.LastIndexByte(s, '"')
	if j < 0 {
		return "", false
	}
	return s[:j], true
}

// BuildXattrs encodes xattrs as ossfs 1.x's build_xattrs does: names in byte
// order, values in padded base64, the whole percent-encoded. Names must
// satisfy ValidXattrName. An empty map gives "" (the caller removes the
// header rather than storing "{}").
func BuildXattrs(xattrs map[string][]byte) string {
	if len(xattrs) == 0 {
		return ""
	}
	names := make([]string, 0, len(xattrs))
	for k := range xattrs {
		names = append(names, k)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteByte('{')
	for i, k := range names {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`"` + k + `":"` + base64.StdEncoding.EncodeToString(xattrs[k]) + `"`)
	}
	b.WriteByte('}')
	return percent.Encode(b.String(), false)
}
