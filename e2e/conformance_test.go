package e2e

import (
	"errors"
	"testing"
	"time"

	"github.com/ossfs/ossfs/cache"
	"github.com/ossfs/ossfs/ossclient"
	"github.com/ossfs/ossfs/ossclient/osstest/testtarget"
)

// TestConformanceMount is the e2e subset of the conformance run: a mount
// driven by standard tools, against the local server (memory and --dir
// storage) and, when the environment names one, a real bucket under a
// random prefix (package testtarget, docs/testing.md). Everything is
// checked from the mount and from a plain OSS client.
func TestConformanceMount(t *testing.T) {
	testtarget.Each(t, func(t *testing.T, tg *testtarget.Target) {
		clock := cache.NewFakeClock(time.Now())
		e := newEnv(t, config{target: tg, cache: func(o *cache.Options) { o.Clock = clock }})
		out := e.sh(`
mkdir -p d/sub
printf 'hello\n' > d/f.txt
printf 'more\n' >> d/f.txt
cp d/f.txt d/sub/copy.txt
ln -s f.txt d/rel
ln -s "$MNT/d/sub/copy.txt" d/abs
ln -s 'no such file' d/dangling
ln -s sub d/dirlink
mv d/sub/copy.txt d/sub/moved.txt
cat d/rel
readlink d/rel d/abs d/dangling
stat -c '%s %F' d/rel d/dangling
cat d/dirlink/moved.txt
ls d | tr '\n' ' '
`)
		want := "hello\nmore\n" +
			"f.txt\n" + e.mnt + "/d/sub/copy.txt\nno such file\n" +
			"5 symbolic link\n12 symbolic link\n" +
			"hello\nmore\n" +
			"abs dangling dirlink f.txt rel sub "
		if out != want {
			t.Errorf("through the mount:\n%s\nwant:\n%s", out, want)
		}
		// What another OSS client sees.
		if got := e.mustGet("d/sub/moved.txt"); got != "hello\nmore\n" {
			t.Errorf("d/sub/moved.txt = %q", got)
		}
		if e.exists("d/sub/copy.txt") {
			t.Error("d/sub/copy.txt still exists after mv")
		}
		if got := e.mustGet("d/rel"); got != "hello\nmore\n" {
			t.Errorf("GetObject through the link d/rel = %q", got)
		}
		s, err := e.raw.GetSymlink(e.ctx(), "d/rel")
		if err != nil || s.Target != "d/f.txt" {
			t.Errorf("GetSymlink d/rel = %+v, %v", s, err)
		}
		if _, err = e.raw.Stat(e.ctx(), "d/dangling"); !errors.Is(err, ossclient.ErrDanglingSymlink) {
			t.Errorf("Stat d/dangling: %v, want ErrDanglingSymlink", err)
		}

		// Made behind the mount's back: seen once --negative-ttl has passed
		// since the mount read the listing of the root (its lookups did).
		e.put("fresh/plain", "from elsewhere")
		if err := e.raw.PutSymlink(e.ctx(), "fresh/ln", "fresh/plain", ossclient.SymlinkOptions{}); err != nil {
			t.Fatal(err)
		}
		clock.Advance(cache.DefaultNegativeTTL)
		out = e.sh(`ls fresh | tr '\n' ' '; readlink fresh/ln; cat fresh/ln`)
		if want := "ln plain plain\nfrom elsewhere"; out != want {
			t.Errorf("objects made by another client: %q, want %q", out, want)
		}
		e.sh(`rm -r d fresh`)
		if l, err := e.raw.List(e.ctx(), "", ossclient.ListOptions{Recursive: true}); err != nil || len(l.Objects) != 0 {
			t.Errorf("after rm -r: %v, %v", l, err)
		}
	})
}
