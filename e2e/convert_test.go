package e2e

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/ossfs/ossfs/fs/legacy"
	"github.com/ossfs/ossfs/fs/names"
	"github.com/ossfs/ossfs/links"
	"github.com/ossfs/ossfs/ossclient"
)

// TestConvertThenMount: a mixed bucket of 1,000 objects (both legacy
// formats, native links, regular files whose body is a path, a concurrent
// change) converted with the request counts the issue asks for; through the
// mount every converted link then reads exactly the text it had, as a link
// ln -s made would, and the regular files are untouched.
func TestConvertThenMount(t *testing.T) {
	e := newEnv(t, config{})
	raw := e.raw.(*ossclient.Client)
	texts := []string{"../t/target", e.mnt + "/t/target", "/usr/bin/python3", "t/a b+c%", "../../../../../out"}
	want := map[string]string{} // link key -> text
	var regular, regularText []string
	for i := range 1000 {
		key := fmt.Sprintf("d%d/o%04d", i%4, i)
		text := texts[(i/5)%len(texts)]
		switch i % 5 {
		case 0, 1:
			e.putMeta(key, text, map[string]string{"mode": legacy.LinkMode, "mtime": "1600000000"})
			want[key] = text
		case 2:
			e.putMeta(key, "", map[string]string{legacy.MetaSymlinkTarget: fmt.Sprintf("header:%d:%s", len(text), names.EncodeMeta(text))})
			want[key] = text
		case 3:
			if err := raw.PutSymlink(e.ctx(), key, "t/target", ossclient.SymlinkOptions{}); err != nil {
				t.Fatal(err)
			}
		case 4:
			e.put(key, text)
			regular, regularText = append(regular, key), append(regularText, text)
		}
	}
	e.put("t/target", "the target\n")
	opts := links.Options{Mapper: names.Mapper{Mountpoint: e.mnt}}

	e.srv.ResetCounts()
	sum, err := links.Run(e.ctx(), raw, opts)
	if err != nil {
		t.Fatal(err)
	}
	// 1,001 objects: one page for the first 1,000, one more; a GET for each
	// of the 801 that are not native links.
	if c := e.srv.Counts(); len(c) != 2 || c["ListObjectsV2"] != 2 || c["GetObject"] != 801 {
		t.Errorf("dry run requests: %v", c)
	}
	if sum.Found[legacy.Format1] != 400 || sum.Found[legacy.Format2Header] != 200 || sum.WouldConvert != 600 || sum.Outside != 240 {
		t.Errorf("dry run: %+v", sum)
	}

	// --apply, while another client turns one link into a regular file.
	opts.Apply = true
	opts.OnListed = func(int) { e.put("d0/o0000", "now a regular file") }
	e.srv.ResetCounts()
	sum, err = links.Run(e.ctx(), raw, opts)
	if err != nil {
		t.Fatal(err)
	}
	if c := e.srv.Counts(); c["ListObjectsV2"] != 2 || c["GetObject"] != 801 || c["PutSymlink"] != 599 || c["PutObject"] != 1 || len(c) != 4 {
		t.Errorf("--apply requests: %v (one PutObject is the concurrent writer's)", c)
	}
	if sum.Converted != 599 || sum.Changed != 1 || sum.Failed != 0 {
		t.Errorf("--apply: %+v", sum)
	}
	delete(want, "d0/o0000")

	// Through the mount: every link reads its text; the regular files and
	// the changed object are files with their bytes.
	keys := make([]string, 0, len(want))
	for k := range want {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	got := strings.Split(strings.TrimSuffix(e.sh(`readlink `+strings.Join(keys, " ")), "\n"), "\n")
	for i, k := range keys {
		if i >= len(got) || got[i] != want[k] {
			t.Fatalf("readlink %s through the mount = %q, want %q", k, got[i], want[k])
		}
	}
	if out := e.sh(`cat d0/o0000 d1/o0001; echo; cat ` + regular[0] + `; echo; find . -type l | wc -l`); out != "now a regular filethe target\n\n"+regularText[0]+"\n799\n" {
		t.Errorf("through the mount:\n%s", out)
	}
}
