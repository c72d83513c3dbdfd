package e2e

import (
	"errors"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/ossfs/ossfs/ossclient"
)

// TestSymlinkAtKeyLimit: a link whose target key is exactly 1023 bytes
// (the OSS limit) works all three ways; one byte more is ENAMETOOLONG and
// leaves nothing. Outside texts go up to PATH_MAX-1 bytes.
func TestSymlinkAtKeyLimit(t *testing.T) {
	e := newEnv(t, config{})
	seg := strings.Repeat("s", 250)
	dir := strings.Repeat(seg+"/", 4)    // 1004 bytes
	key := dir + strings.Repeat("k", 19) // 1023 bytes
	e.put(key, "AT LIMIT")
	e.sh(`mkdir d`)
	for link, text := range map[string]string{"lim": key, "d/lim": "../" + key, "d/lim2": "./../" + key} {
		if err := os.Symlink(text, e.p(link)); err != nil {
			t.Errorf("ln -s of a %d-byte text (1023-byte target key): %v", len(text), err)
			continue
		}
		if got, err := os.Readlink(e.p(link)); err != nil || got != text {
			t.Errorf("readlink %s: %d bytes, %v; want the %d-byte text", link, len(got), err, len(text))
		}
		if s, err := e.raw.GetSymlink(e.ctx(), link); err != nil || s.Target != key {
			t.Errorf("GetSymlink %s: %v, target %d bytes", link, err, len(s.Target))
		}
		if body, err := e.get(link); err != nil || body != "AT LIMIT" {
			t.Errorf("GetObject %s = %q, %v", link, body, err)
		}
		if b, err := os.ReadFile(e.p(link)); err != nil || string(b) != "AT LIMIT" {
			t.Errorf("read through %s: %q, %v", link, b, err)
		}
	}
	over := "../" + key + "x" // 1024-byte target key
	if err := os.Symlink(over, e.p("d/over")); !errors.Is(err, syscall.ENAMETOOLONG) {
		t.Errorf("ln -s with a 1024-byte target key: %v, want ENAMETOOLONG", err)
	}
	if e.exists("d/over") {
		t.Error("a refused link left a key")
	}
	// Outside the bucket the text lives in metadata: PATH_MAX-1 bytes work,
	// PATH_MAX is refused (by the kernel already).
	abs := "/" + strings.Repeat("o/", 2046) + "pq" // 4095 bytes
	if err := os.Symlink(abs, e.p("absmax")); err != nil {
		t.Errorf("4095-byte outside text: %v", err)
	} else if got, _ := os.Readlink(e.p("absmax")); got != abs {
		t.Errorf("4095-byte outside text read back as %d bytes", len(got))
	}
	if err := os.Symlink(abs+"r", e.p("absover")); !errors.Is(err, syscall.ENAMETOOLONG) {
		t.Errorf("4096-byte text: %v, want ENAMETOOLONG", err)
	}
}

// TestSymlinkInteropSpecialTargets: links made by the SDK whose target keys
// have spaces, "+", "%", "?", "#", CJK, or name a directory, read back as
// the relative path and resolve through the mount.
func TestSymlinkInteropSpecialTargets(t *testing.T) {
	e := newEnv(t, config{})
	targets := map[string]string{
		"t/sp ace+plus": "A", "t/per%25cent": "B", "t/q?uery#hash": "C", "t/中文 文件": "D",
	}
	for k, v := range targets {
		e.put(k, v)
	}
	e.put("t/dir/inner", "E")
	ctx := e.ctx()
	i := 0
	links := map[string]string{} // link key -> target key
	for k := range targets {
		i++
		l := "links/sdk" + string(rune('0'+i))
		links[l] = k
	}
	links["links/deep/todir"] = "t/dir"
	for l, k := range links {
		if err := e.raw.PutSymlink(ctx, l, k, ossclient.SymlinkOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	for l, k := range links {
		want := "../" + k
		if strings.HasPrefix(l, "links/deep/") {
			want = "../../" + k
		}
		if got, err := os.Readlink(e.p(l)); err != nil || got != want {
			t.Errorf("readlink %s = %q, %v; want %q", l, got, err, want)
		}
		if body, ok := targets[k]; ok {
			if b, err := os.ReadFile(e.p(l)); err != nil || string(b) != body {
				t.Errorf("read through %s = %q, %v; want %q", l, b, err, body)
			}
		}
	}
	if got := e.sh(`ls links/deep/todir/ && test -L links/deep/todir && echo link`); got != "inner\nlink\n" {
		t.Errorf("directory link made by the SDK: %q", got)
	}
	// A link the mount makes to one of them is what the SDK made: the same
	// target key.
	e.sh(`ln -s "../t/q?uery#hash" links/mine`)
	if s, err := e.raw.GetSymlink(ctx, "links/mine"); err != nil || s.Target != "t/q?uery#hash" {
		t.Errorf("GetSymlink links/mine = %+v, %v", s, err)
	}
}

// TestReadlinkCacheFollowsLocalChanges: each local change of a link's key
// (ln -sf, rm + ln -s, mv onto it, replacing it with a file) shows at once
// in readlink although the old text was cached, and a warm readlink after
// it costs no request.
func TestReadlinkCacheFollowsLocalChanges(t *testing.T) {
	e := newEnv(t, config{})
	e.sh(`ln -s one l && readlink l && ln -s three m`)
	steps := []struct{ script, want string }{
		{`ln -sfn two l`, "two"},
		{`rm l && ln -s "tw o+" l`, "tw o+"},
		{`mv m l`, "three"},
		{`mkdir -p sub && mv l sub/l && ln -s four l`, "four"},
	}
	for _, s := range steps {
		e.sh(`readlink l >/dev/null`) // warm the cache with the old text
		e.sh(s.script)
		if got, err := os.Readlink(e.p("l")); err != nil || got != s.want {
			t.Errorf("after %q: readlink = %q, %v; want %q", s.script, got, err, s.want)
		}
		e.srv.ResetCounts()
		if got, _ := os.Readlink(e.p("l")); got != s.want {
			t.Errorf("after %q: second readlink = %q", s.script, got)
		}
		if n := e.srv.TotalRequests(); n != 0 {
			t.Errorf("after %q: warm readlink made %d requests (%v)", s.script, n, e.srv.Counts())
		}
	}
	if got, _ := os.Readlink(e.p("sub/l")); got != "three" {
		t.Errorf("moved link sub/l = %q, want three", got)
	}
	e.sh(`readlink l >/dev/null && rm l && echo data > l`)
	if _, err := os.Readlink(e.p("l")); !errors.Is(err, syscall.EINVAL) {
		t.Errorf("readlink of the file that replaced a link: %v, want EINVAL", err)
	}
}
