package names

import (
	"errors"
	"strings"
	"testing"
)

func TestValidName(t *testing.T) {
	for _, c := range []struct {
		name string
		ok   bool
	}{
		{"a", true}, {"a b", true}, {"+%?#", true}, {"中文", true}, {"...", true},
		{"", false}, {".", false}, {"..", false}, {"a/b", false}, {"a\x00b", false},
		{"\xff", false}, {strings.Repeat("x", 255), true}, {strings.Repeat("x", 256), false},
	} {
		if got := ValidName(c.name); got != c.ok {
			t.Errorf("ValidName(%q) = %v, want %v", c.name, got, c.ok)
		}
	}
}

func TestValidKey(t *testing.T) {
	for _, c := range []struct {
		key string
		ok  bool
	}{
		{"", true}, {"a", true}, {"a/b", true}, {"a/b/", true},
		{"a//b", false}, {"/a", false}, {"a/./b", false}, {"a/../b", false}, {"a//", false},
		{"a/\xfe", false}, {"a/" + strings.Repeat("y", 256), false},
	} {
		if got := ValidKey(c.key); got != c.ok {
			t.Errorf("ValidKey(%q) = %v, want %v", c.key, got, c.ok)
		}
	}
}

func TestTarget(t *testing.T) {
	m := Mapper{Mountpoint: "/mnt/oss", PrefixDepth: 2}
	long := strings.Repeat("x", 1020)
	for _, c := range []struct {
		link, lit string
		target    string
		store     bool
		err       error
	}{
		{"l", "f", "f", false, nil},
		{"d/l", "f", "d/f", false, nil},
		{"d/l", "../a/b", "a/b", false, nil},
		{"d/l", "./x", "d/x", true, nil},
		{"d/l", "a//b", "d/a/b", true, nil},
		{"d/l", "sub/", "d/sub", true, nil},
		{"d/e/l", "../../f", "f", false, nil},
		{"d/l", "with space+%?#", "d/with space+%?#", false, nil},
		{"d/l", "中文/文件", "d/中文/文件", false, nil},
		// Above the mount prefix, inside the bucket (depth 2).
		{"l", "../x", "../x", false, nil},
		{"d/l", "../../../y", "../../y", false, nil},
		// Above the bucket root: the link's own key, text stored.
		{"l", "../../../x", "l", true, nil},
		// Bucket-level or prefix-level directories are no object keys.
		{"d/l", "..", "d/l", true, nil},
		{"l", "..", "l", true, nil},
		{"l", ".", "l", true, nil},
		// Absolute.
		{"d/l", "/mnt/oss/a/b", "a/b", true, nil},
		{"d/l", "/mnt/oss/./a//b/../c", "a/c", true, nil},
		{"d/l", "/mnt/oss", "d/l", true, nil},
		{"d/l", "/mnt/ossx/a", "d/l", true, nil},
		{"d/l", "/usr/bin/python3", "d/l", true, nil},
		{"d/l", "/mnt/oss/../etc/passwd", "d/l", true, nil},
		// Non-UTF-8 bytes cannot be in a key: self target.
		{"d/l", "a\xffb", "d/l", true, nil},
		// Self loop.
		{"d/l", "l", "d/l", false, nil},
		// Errors.
		{"d/l", "", "", false, ErrEmptyTarget},
		{"l", long + "abcd", "", false, ErrNameTooLong},
		{"l", long + "abc", long + "abc", false, nil},
		{"l", "/" + strings.Repeat("z", PathMax-1), "", false, ErrNameTooLong},
		{"l", "/" + strings.Repeat("z", PathMax-2), "l", true, nil},
		{"l", "/" + strings.Repeat("中", 1300), "", false, ErrNameTooLong},
	} {
		target, store, err := m.Target(c.link, c.lit)
		if !errors.Is(err, c.err) || target != c.target || store != c.store {
			t.Errorf("Target(%q, %q) = %q, %v, %v; want %q, %v, %v",
				c.link, c.lit, trunc(target), store, err, trunc(c.target), c.store, c.err)
		}
	}
}

func trunc(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

func TestTargetNoMountpoint(t *testing.T) {
	m := Mapper{}
	if target, store, err := m.Target("a/l", "/x"); err != nil || target != "a/l" || !store {
		t.Fatalf("got %q %v %v", target, store, err)
	}
	m = Mapper{Mountpoint: "/"}
	if target, store, err := m.Target("a/l", "/x/y"); err != nil || target != "x/y" || !store {
		t.Fatalf("got %q %v %v", target, store, err)
	}
}

func TestRelative(t *testing.T) {
	for _, c := range []struct{ dir, key, want string }{
		{".", "a", "a"},
		{"", "a/b", "a/b"},
		{"d", "d/f", "f"},
		{"d", "a/b", "../a/b"},
		{"d/e", "d/f/g", "../f/g"},
		{"d", "d", "."},
		{"d/e", "d", ".."},
		{".", "../x", "../x"},
		{"a/b", "../x", "../../../x"},
		{"d", "sub/", "../sub/"},
		{"d", "d//x", "./x"},
	} {
		if got := Relative(c.dir, c.key); got != c.want {
			t.Errorf("Relative(%q, %q) = %q, want %q", c.dir, c.key, got, c.want)
		}
	}
}

func TestReadlink(t *testing.T) {
	m := Mapper{Mountpoint: "/mnt/oss", PrefixDepth: 1}
	for _, c := range []struct {
		link, target, lit string
		has               bool
		want              string
	}{
		// Links made by other clients: relative path to the target key.
		{"d/l", "a/b", "", false, "../a/b"},
		{"l", "a/b", "", false, "a/b"},
		{"d/l", "../x", "", false, "../../x"},
		{"d/l", "d/l", "", false, "l"},
		// Stored literal still consistent.
		{"d/l", "d/x", "./x", true, "./x"},
		{"d/l", "a/b", "/mnt/oss/a/b", true, "/mnt/oss/a/b"},
		{"d/l", "d/l", "/usr/bin/python3", true, "/usr/bin/python3"},
		{"d/l", "d/l", "../../../etc", true, "../../../etc"},
		// The link moved (copied by another client with its metadata): the
		// literal no longer maps to the target, so derive.
		{"e/f/l", "d/x", "./x", true, "../../d/x"},
		{"e/l", "d/l", "/usr/bin/python3", true, "../d/l"},
		// Empty literal is ignored.
		{"d/l", "d/x", "", true, "x"},
	} {
		if got := m.Readlink(c.link, c.target, c.lit, c.has); got != c.want {
			t.Errorf("Readlink(%q, %q, %q) = %q, want %q", c.link, c.target, c.lit, got, c.want)
		}
	}
}

// TestRoundTrip: whatever text a link is made with, Readlink gives it back
// byte for byte, at the link's place, and after a rename (new target
// computed from the same text) too.
func TestRoundTrip(t *testing.T) {
	m := Mapper{Mountpoint: "/mnt/oss", PrefixDepth: 1}
	lits := []string{"f", "../a/b", "./x", "a//b", "sub/", "..", ".", "/mnt/oss/a", "/mnt/oss",
		"/usr/bin/python3", "../../..", "../../x", "with space", "a+b", "100%", "q?x#y", "中文",
		"a\xffb", "\t\n", "l", "../d/l", "x/../y"}
	for _, link := range []string{"l", "d/l", "d/e/l"} {
		for _, lit := range lits {
			target, store, err := m.Target(link, lit)
			if err != nil {
				t.Fatalf("Target(%q, %q): %v", link, lit, err)
			}
			enc := EncodeMeta(lit)
			dec, ok := DecodeMeta(enc)
			if !ok || dec != lit {
				t.Fatalf("meta round trip %q -> %q -> %q", lit, enc, dec)
			}
			got := m.Readlink(link, target, dec, store)
			if got != lit {
				t.Errorf("link %q text %q: target %q store %v, readlink %q", link, lit, target, store, got)
			}
		}
	}
}

func TestMetaEncoding(t *testing.T) {
	for _, c := range []struct{ in, enc string }{
		{"abc/def", "abc/def"},
		{"a b+c%d", "a%20b%2Bc%25d"},
		{"中", "%E4%B8%AD"},
		{"\x00\xff", "%00%FF"},
	} {
		if got := EncodeMeta(c.in); got != c.enc {
			t.Errorf("EncodeMeta(%q) = %q, want %q", c.in, got, c.enc)
		}
	}
	for _, bad := range []string{"%", "%4", "%zz", "a%g1"} {
		if _, ok := DecodeMeta(bad); ok {
			t.Errorf("DecodeMeta(%q) accepted", bad)
		}
	}
	if s, ok := DecodeMeta("%e4%b8%ad"); !ok || s != "中" {
		t.Errorf("lower-case hex: %q %v", s, ok)
	}
}

func TestChildAndPrefix(t *testing.T) {
	if Child("", "a") != "a" || Child("d", "a") != "d/a" || DirPrefix("") != "" || DirPrefix("d") != "d/" {
		t.Fatal("Child/DirPrefix")
	}
	if CheckKeyLen(strings.Repeat("k", 1023)) != nil || CheckKeyLen(strings.Repeat("k", 1024)) != ErrNameTooLong {
		t.Fatal("CheckKeyLen")
	}
}

func TestNative(t *testing.T) {
	m := Mapper{Mountpoint: "/mnt/oss", PrefixDepth: 1}
	for _, c := range []struct {
		key, lit, target string
		stored, outside  bool
	}{
		{"d/l", "../t", "t", false, false},
		{"d/l", "/mnt/oss/t", "t", true, false},
		{"d/l", "/etc/passwd", "d/l", true, true},
		{"d/l", "../../../x", "d/l", true, true},
		{"d/l", "../../x", "../x", false, false}, // above the prefix, in the bucket
		{"d/l", "./l", "d/l", true, false},       // a link to itself is not outside
	} {
		n, err := m.Native(c.key, c.lit)
		if err != nil || n.Target != c.target || (n.Meta != nil) != c.stored || n.Outside != c.outside {
			t.Errorf("Native(%q, %q) = %+v, %v; want target %q stored %v outside %v", c.key, c.lit, n, err, c.target, c.stored, c.outside)
			continue
		}
		if got := m.ReadlinkMeta(c.key, n.Target, n.Meta); got != c.lit {
			t.Errorf("ReadlinkMeta after Native(%q, %q) = %q", c.key, c.lit, got)
		}
	}
}
