package main

import (
	"context"
	"log/slog"
	"os/exec"
	"strings"
	"testing"

	"github.com/ossfs/ossfs/fs/legacy"
	"github.com/ossfs/ossfs/ossclient"
	"github.com/ossfs/ossfs/ossclient/osstest"
)

// TestLinksConvertCommand drives the binary: a dry run prints each link and
// the summary and writes nothing; --apply converts; bad flags are one
// sentence.
func TestLinksConvertCommand(t *testing.T) {
	bin := buildBinary(t)
	srv, err := osstest.Start(osstest.Options{Buckets: []string{"lcv"}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	c, err := ossclient.New(ossclient.Config{Endpoint: srv.Endpoint(), Region: srv.Region(), Bucket: "lcv",
		Credentials: ossclient.Credentials{Source: ossclient.SourceStatic,
			AccessKeyID: osstest.DefaultAccessKeyID, AccessKeySecret: osstest.DefaultAccessKeySecret},
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for key, o := range map[string]struct {
		body string
		meta map[string]string
	}{
		"p/one":     {"../t", map[string]string{"mode": legacy.LinkMode}},
		"p/two":     {"", map[string]string{legacy.MetaSymlinkTarget: "header:9:/mnt/x/t"}},
		"p/regular": {"../t", nil},
	} {
		if _, err := c.Put(ctx, key, strings.NewReader(o.body), ossclient.PutOptions{Meta: o.meta}); err != nil {
			t.Fatal(err)
		}
	}
	args := []string{"links", "convert", "--endpoint", srv.Endpoint(), "--region", srv.Region(), "--credentials", "flags",
		"--access-key-id", osstest.DefaultAccessKeyID, "--access-key-secret", osstest.DefaultAccessKeySecret,
		"--mountpoint", "/mnt/x", "lcv:/p"}
	out, err := exec.Command(bin, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("dry run: %v\n%s", err, out)
	}
	for _, want := range []string{
		`would convert one (format 1 (mode S_IFLNK, text in body)): "../t" -> target key ../t`,
		`would convert two (format 2 (x-oss-meta-symlink-target, text in header)): "/mnt/x/t" -> target key t`,
		"legacy links found: 1 format 1, 1 format 2 (text in header), 0 format 2 (text in body); 1 regular files left alone",
		"dry run: 2 would be converted",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("dry run output lacks %q:\n%s", want, out)
		}
	}
	if n := srv.Count("PutSymlink"); n != 0 {
		t.Errorf("dry run sent %d PutSymlink", n)
	}
	out, err = exec.Command(bin, append(args[:len(args)-1], "--apply", "lcv:/p")...).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "converted: 2") {
		t.Fatalf("--apply: %v\n%s", err, out)
	}
	for key, target := range map[string]string{"p/one": "t", "p/two": "p/t"} {
		if s, err := c.GetSymlink(ctx, key); err != nil || s.Target != target {
			t.Errorf("%s after --apply: %+v, %v; want target %q", key, s, err, target)
		}
	}
	out, err = exec.Command(bin, append(args[:len(args)-1], "--to", "sideways", "lcv:/p")...).CombinedOutput()
	if err == nil || !strings.Contains(string(out), `--to "sideways": want native or legacy`) {
		t.Errorf("--to sideways: %v\n%s", err, out)
	}
}
