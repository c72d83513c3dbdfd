package legacy

import (
	"bytes"
	"testing"
)

func TestClassify(t *testing.T) {
	for _, c := range []struct {
		meta   map[string]string
		format Format
		text   string
		ok     bool
	}{
		{map[string]string{"mode": "41471"}, Format1, "", false},
		{map[string]string{"mode": "0120777"}, Format1, "", false}, // octal, as strtoull base 0
		{map[string]string{"mode": "0xa1ff"}, Format1, "", false},
		{map[string]string{"permissions": "41471"}, Format1, "", false}, // s3sync
		{map[string]string{"mode": "33188"}, NotLink, "", false},
		{map[string]string{"mode": "33188", "symlink-target": "header:1:a"}, NotLink, "", false},
		{map[string]string{"mode": "16877"}, NotLink, "", false},
		{map[string]string{}, NotLink, "", false},
		{map[string]string{"mode": "4_1471"}, NotLink, "", false},
		{map[string]string{"symlink-target": "header:11:%2Fmnt%2Fa%20b"}, Format2Header, "/mnt/a b", true},
		{map[string]string{"mode": "511", "symlink-target": "header:3:a%2Bb"}, Format2Header, "a+b", true},
		{map[string]string{"mode": "41471", "symlink-target": "header:6:..%2F%C3%BC"}, Format2Header, "../ü", true},
		{map[string]string{"mode": "41471", "symlink-target": "header:0:"}, Format2Header, "", false},
		{map[string]string{"mode": "41471", "symlink-target": "body:0:"}, Format2Body, "", false},
		{map[string]string{"symlink-target": "body:0:"}, Format2Body, "", false},
	} {
		f, text, ok := Classify(c.meta)
		if f != c.format || text != c.text || ok != c.ok {
			t.Errorf("Classify(%v) = %v %q %v, want %v %q %v", c.meta, f, text, ok, c.format, c.text, c.ok)
		}
	}
	if got := BodyText([]byte(" \t../a b\r\n")); got != "../a b" {
		t.Errorf("BodyText = %q", got)
	}
}

func TestFormat1Meta(t *testing.T) {
	m := Format1Meta(map[string]string{"mtime": "5", "symlink-target": "header:1:a", "ossfs-symlink": "x"})
	if m["mode"] != "41471" || m["mtime"] != "5" || m["symlink-target"] != "" {
		t.Errorf("Format1Meta = %v", m)
	}
	if m := Format1Meta(map[string]string{"mode": "41453"}); m["mode"] != "41453" {
		t.Errorf("a link mode's permission bits were not kept: %v", m)
	}
	if m := NativeMeta(map[string]string{"mode": "41471", "symlink-target": "body:0:"}); len(m) != 1 || m["mode"] != "41471" {
		t.Errorf("NativeMeta = %v", m)
	}
}

// TestXattrFormat: what ossfs 1.x's build_xattrs writes for
// user.a = "1" and user.b = "", byte for byte, and back.
func TestXattrFormat(t *testing.T) {
	// {"user.a":"MQ==","user.b":""} through 1.x's urlEncode.
	const onTheWire = `%7B%22user.a%22%3A%22MQ%3D%3D%22%2C%22user.b%22%3A%22%22%7D`
	x := map[string][]byte{"user.b": {}, "user.a": []byte("1")}
	if got := BuildXattrs(x); got != onTheWire {
		t.Errorf("BuildXattrs = %s, want %s", got, onTheWire)
	}
	back := ParseXattrs(onTheWire)
	if len(back) != 2 || string(back["user.a"]) != "1" || len(back["user.b"]) != 0 {
		t.Errorf("ParseXattrs = %v", back)
	}
	bin := map[string][]byte{"user.bin": {0, 1, 2, 0xff, '"', ',', ':'}, "user.u": []byte("日本")}
	if got := ParseXattrs(BuildXattrs(bin)); !bytes.Equal(got["user.bin"], bin["user.bin"]) || string(got["user.u"]) != "日本" {
		t.Errorf("round trip = %v", got)
	}
	// 1.x skips a malformed pair and keeps the rest.
	if got := ParseXattrs(`{"user.a":"MQ==",broken,"user.c":"Mg=="}`); len(got) != 2 || string(got["user.c"]) != "2" {
		t.Errorf("lenient parse = %v", got)
	}
	if got := ParseXattrs("not json"); len(got) != 0 {
		t.Errorf("ParseXattrs(garbage) = %v", got)
	}
	if BuildXattrs(nil) != "" {
		t.Error("an empty set must remove the header, not store {}")
	}
	for name, ok := range map[string]bool{"user.a": true, "user.a:b": false, `user."`: false, "user.a,b": false, "": false} {
		if ValidXattrName(name) != ok {
			t.Errorf("ValidXattrName(%q) = %v", name, !ok)
		}
	}
}
