package ossclient

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestEncodeDecodeTarget(t *testing.T) {
	cases := []struct{ raw, wire string }{
		{"a/b/c.txt", "a/b/c.txt"},
		{"a b", "a%20b"},
		{"a+b", "a%2Bb"},
		{"100%", "100%25"},
		{"%20", "%2520"},
		{"dir/ü.txt", "dir/%C3%BC.txt"},
		{"日本", "%E6%97%A5%E6%9C%AC"},
		{"~user/-._", "~user/-._"},
		{"a?b#c&d=e", "a%3Fb%23c%26d%3De"},
		{"../x", "../x"},
		{"a//b", "a//b"},
		{"tab\tnl\n", "tab%09nl%0A"},
		{"\xff\xfe", "%FF%FE"},
		{":@!$'()*,;", "%3A%40%21%24%27%28%29%2A%2C%3B"},
	}
	for _, c := range cases {
		if got := encodeTarget(c.raw); got != c.wire {
			t.Errorf("encodeTarget(%q) = %q, want %q", c.raw, got, c.wire)
		}
		if got := decodeTarget(c.wire); got != c.raw {
			t.Errorf("decodeTarget(%q) = %q, want %q", c.wire, got, c.raw)
		}
	}
	// Decoding what others may send raw.
	raw := []struct{ wire, want string }{
		{"a+b", "a+b"},          // a literal + is never a space
		{"a%2bb", "a+b"},        // lower-case hex
		{"100%", "100%"},        // % at the end
		{"50%off", "50%off"},    // % not followed by two hex digits
		{"%2", "%2"},            // truncated escape
		{"a b", "a b"},          // raw space
		{"%41%42", "AB"},        // any byte may be escaped
		{"x%2Fy", "x/y"},        // an escaped slash is a slash
		{"%%41", "%A"},          // first % literal, then %41
		{"%E6%97%A5", "日"},      // multi-byte
		{"plain", "plain"},      // no %
		{"%zz%20", "%zz "},      // bad then good escape
		{"%C3%BC.txt", "ü.txt"}, // UTF-8
	}
	for _, c := range raw {
		if got := decodeTarget(c.wire); got != c.want {
			t.Errorf("decodeTarget(%q) = %q, want %q", c.wire, got, c.want)
		}
	}
	// Every byte round-trips.
	var all strings.Builder
	for i := 0; i < 256; i++ {
		all.WriteByte(byte(i))
	}
	if got := decodeTarget(encodeTarget(all.String())); got != all.String() {
		t.Errorf("round trip of all bytes failed")
	}
	for _, c := range encodeTarget(all.String()) {
		if c > 0x7e || c < 0x21 {
			t.Fatalf("encoded target has a byte %q that is not printable ASCII", c)
		}
	}
}

func TestKeyMapTargets(t *testing.T) {
	cases := []struct {
		prefix, target, key string
		err                 error
	}{
		{"", "x", "x", nil},
		{"", "a/b", "a/b", nil},
		{"", "../x", "", ErrInvalidName},
		{"", "", "", ErrInvalidName},
		{"p/q/", "x", "p/q/x", nil},
		{"p/q/", "d/x", "p/q/d/x", nil},
		{"p/q/", "../x", "p/x", nil},
		{"p/q/", "../../x", "x", nil},
		{"p/q/", "../../../x", "", ErrInvalidName},
		{"p/q/", "../", "p/", nil},
		{"p/", "../", "", ErrInvalidName},
		{"p/q/", "..//x", "p//x", nil},        // never cleaned
		{"p/q/", "a//b", "p/q/a//b", nil},     // never cleaned
		{"p/q/", "a/../b", "p/q/a/../b", nil}, // only leading ../ counts
		{"p/q/", "./x", "p/q/./x", nil},
		{"p/q/", "..", "p/q/..", nil}, // ".." without "/" is a name
		{"p/q/", "", "p/q/", nil},     // the prefix's own marker
		{"p/", "../" + strings.Repeat("k", 1024), "", ErrNameTooLong},
		// Keys OSS cannot store.
		{"", "/x", "", ErrInvalidName},
		{"", "\\x", "", ErrInvalidName},
		{"p/", "../\\x", "", ErrInvalidName},
		{"p/", "..//x", "", ErrInvalidName},
		{"p/", "\xff", "", ErrInvalidName},
		{"p/", "a\\b", "p/a\\b", nil}, // a backslash inside is fine
		{"p/", "../ü", "ü", nil},
	}
	for _, c := range cases {
		m := newKeyMap(c.prefix)
		got, err := m.targetKey("PutSymlink", "l", c.target)
		if c.err != nil {
			if !errors.Is(err, c.err) {
				t.Errorf("prefix %q targetKey(%q) = %q, %v; want %v", c.prefix, c.target, got, err, c.err)
			}
			continue
		}
		if err != nil || got != c.key {
			t.Errorf("prefix %q targetKey(%q) = %q, %v; want %q", c.prefix, c.target, got, err, c.key)
			continue
		}
		// And back, for targets that do not start with a literal "../"
		// below the prefix.
		if back := m.relTarget(got); back != c.target && c.target != ".." {
			t.Errorf("prefix %q relTarget(%q) = %q, want %q", c.prefix, got, back, c.target)
		}
	}
	back := []struct{ prefix, key, target string }{
		{"", "x", "x"},
		{"a/b/c/", "a/b/c/d", "d"},
		{"a/b/c/", "a/b/x", "../x"},
		{"a/b/c/", "a/x/y", "../../x/y"},
		{"a/b/c/", "z", "../../../z"},
		{"a/b/c/", "a/bc", "../../bc"}, // "a/b" is not a prefix of "a/bc" as a directory
		{"a/b/c/", "a/b/c", "../c"},    // the prefix's name without "/"
		{"a/b/c/", "", "../../../"},
	}
	for _, c := range back {
		if got := newKeyMap(c.prefix).relTarget(c.key); got != c.target {
			t.Errorf("prefix %q relTarget(%q) = %q, want %q", c.prefix, c.key, got, c.target)
		}
	}
}

func TestKeyMapFull(t *testing.T) {
	m := newKeyMap("p/")
	if k, err := m.full("op", "a//b"); err != nil || k != "p/a//b" {
		t.Errorf("full(a//b) = %q, %v", k, err)
	}
	if k, err := m.full("op", ""); err != nil || k != "p/" {
		t.Errorf("full(\"\") = %q, %v", k, err)
	}
	if _, err := newKeyMap("").full("op", ""); !errors.Is(err, ErrInvalidName) {
		t.Errorf("empty key without prefix: %v, want ErrInvalidName", err)
	}
	if _, err := m.full("op", strings.Repeat("x", 1021)); err != nil {
		t.Errorf("1023-byte key: %v", err)
	}
	if _, err := m.full("op", strings.Repeat("x", 1022)); !errors.Is(err, ErrNameTooLong) {
		t.Errorf("1024-byte key: %v, want ErrNameTooLong", err)
	}
	if k, ok := m.rel("p/x/"); !ok || k != "x/" {
		t.Errorf("rel(p/x/) = %q, %v", k, ok)
	}
	if _, ok := m.rel("q/x"); ok {
		t.Errorf("rel(q/x) accepted a key outside the prefix")
	}
}

func TestParseBucketSpec(t *testing.T) {
	cases := []struct {
		in, bucket, prefix string
		bad                bool
	}{
		{"mybucket", "mybucket", "", false},
		{"mybucket:", "mybucket", "", false},
		{"mybucket:/", "mybucket", "", false},
		{"mybucket:/a", "mybucket", "a/", false},
		{"mybucket:/a/b/", "mybucket", "a/b/", false},
		{"mybucket:a/b", "mybucket", "a/b/", false},
		{"my-bucket-1:/x y/ü", "my-bucket-1", "x y/ü/", false},
		{"", "", "", true},
		{":/a", "", "", true},
		{"ab", "", "", true},                    // too short
		{"MyBucket", "", "", true},              // upper case
		{"-bucket", "", "", true},               // leading -
		{"bucket-", "", "", true},               // trailing -
		{"my_bucket", "", "", true},             // underscore
		{strings.Repeat("b", 64), "", "", true}, // too long
		{"bucket:/a//b", "", "", true},
		{"bucket:/a/../b", "", "", true},
		{"bucket:/./b", "", "", true},
		{"bucket://a", "", "", true},
		{"bucket:/a\x00b", "", "", true},
		{"bucket:/\xff", "", "", true},
	}
	for _, c := range cases {
		b, p, err := ParseBucketSpec(c.in)
		if c.bad {
			if err == nil {
				t.Errorf("ParseBucketSpec(%q) = %q, %q; want an error", c.in, b, p)
			}
			continue
		}
		if err != nil || b != c.bucket || p != c.prefix {
			t.Errorf("ParseBucketSpec(%q) = %q, %q, %v; want %q, %q", c.in, b, p, err, c.bucket, c.prefix)
		}
	}
}

func TestServiceKind(t *testing.T) {
	cases := []struct {
		status int
		code   string
		ec     string
		keyLen int
		want   Kind
	}{
		{404, "NoSuchKey", "", 3, KindNotFound},
		{404, "BadErrorResponse", "", 3, KindNotFound}, // HEAD without x-oss-err
		{404, "SymlinkTargetNotExist", "", 3, KindDanglingSymlink},
		{404, "NoSuchBucket", "", 3, KindOther}, // never "file not found"
		{404, "NoSuchUpload", "", 3, KindOther},
		{400, "NotSymlink", "", 3, KindNotSymlink},
		{400, "BadRequest", notSymlinkEC, 3, KindNotSymlink},
		{403, "AccessDenied", "", 3, KindAccessDenied},
		{403, "SignatureDoesNotMatch", "", 3, KindAccessDenied},
		{403, "InvalidAccessKeyId", "", 3, KindAccessDenied},
		{403, "Whatever", "", 3, KindAccessDenied},
		{409, "FileAlreadyExists", "", 3, KindAlreadyExists},
		{412, "PreconditionFailed", "", 3, KindPreconditionFailed},
		{400, "InvalidObjectName", "", 3, KindInvalidName},
		{400, "InvalidObjectName", "", 1024, KindNameTooLong},
		{400, "KeyTooLong", "", 3, KindNameTooLong},
		{503, "SlowDown", "", 3, KindThrottled},
		{503, "ServiceUnavailable", "", 3, KindThrottled},
		{429, "", "", 3, KindThrottled},
		{500, "InternalError", "", 3, KindOther},
		{400, "InvalidTargetType", "", 3, KindUnfollowableSymlink},
		{400, "", invalidTargetTypeEC, 3, KindUnfollowableSymlink},
	}
	for _, c := range cases {
		if got := serviceKind(c.status, c.code, c.ec, c.keyLen); got != c.want {
			t.Errorf("serviceKind(%d, %q, %q, %d) = %v, want %v", c.status, c.code, c.ec, c.keyLen, got, c.want)
		}
	}
}

func TestConfigDefaults(t *testing.T) {
	cfg, err := Config{Endpoint: "oss-cn-hangzhou.aliyuncs.com", Bucket: "bkt", Prefix: "/a/b"}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	want := Config{Endpoint: "https://oss-cn-hangzhou.aliyuncs.com", Region: "cn-hangzhou", Bucket: "bkt",
		Prefix: "a/b/", SignatureVersion: 4, MaxAttempts: 3, ReadResumes: 5, MaxConnections: 100,
		ConnectTimeout: DefaultConnectTimeout, ReadWriteTimeout: DefaultReadWriteTimeout,
		PartSize: 8 << 20, UploadParallelism: 8, CopyPartSize: 64 << 20, Logger: cfg.Logger}
	if fmt.Sprint(cfg) != fmt.Sprint(want) {
		t.Errorf("defaults:\n got %+v\nwant %+v", cfg, want)
	}
	if r := regionFromEndpoint("https://oss-ap-southeast-1-internal.aliyuncs.com"); r != "ap-southeast-1" {
		t.Errorf("internal endpoint region = %q", r)
	}
	bad := []Config{
		{Endpoint: "oss-cn-hangzhou.aliyuncs.com"}, // no bucket
		{Bucket: "bkt"}, // no endpoint
		{Endpoint: "http://127.0.0.1:9000", Bucket: "bkt"},               // V4 without region
		{Endpoint: "ftp://x", Bucket: "bkt", Region: "r"},                // scheme
		{Endpoint: "http://h/path", Bucket: "bkt", Region: "r"},          // path
		{Endpoint: "h", Bucket: "bkt", Region: "r", SignatureVersion: 2}, // version
		{Endpoint: "h", Bucket: "bkt", Region: "r", PartSize: 1000},      // part size
		{Endpoint: "h", Bucket: "bkt", Region: "r", CopyPartSize: 1000},  // copy part size
		{Endpoint: "h", Bucket: "Bkt", Region: "r"},                      // bucket name
		{Endpoint: "h", Bucket: "bkt", Region: "r", Prefix: "a/../b"},    // prefix
	}
	for _, c := range bad {
		if _, err := c.withDefaults(); err == nil {
			t.Errorf("withDefaults(%+v) accepted a bad config", c)
		}
	}
	if _, err := (Config{Endpoint: "http://127.0.0.1:9000", Bucket: "bkt", SignatureVersion: 1}).withDefaults(); err != nil {
		t.Errorf("V1 without region: %v", err)
	}
	for h, want := range map[string]bool{
		"http://127.0.0.1:9000": true, "http://[::1]:9000": true, "http://localhost:1": true,
		"https://oss-cn-hangzhou.aliyuncs.com": false,
	} {
		if got := pathStyleHost(h); got != want {
			t.Errorf("pathStyleHost(%q) = %v", h, got)
		}
	}
}
