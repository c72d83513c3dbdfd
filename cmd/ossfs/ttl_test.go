package main

import (
	"log/slog"
	"testing"
	"time"

	"github.com/urfave/cli/v2"

	ossfs "github.com/ossfs/ossfs/fs"
)

// TestZeroTTLMeansNoCache: --stat-ttl 0 and every other TTL or kernel
// timeout given as 0 reach the Options as "no caching" (negative), not as
// their zero value, which would mean the default.
func TestZeroTTLMeansNoCache(t *testing.T) {
	flags := []string{"stat-ttl", "negative-ttl", "list-ttl", "symlink-ttl", "entry-timeout", "attr-timeout", "negative-timeout"}
	parse := func(args ...string) []time.Duration {
		var got []time.Duration
		app := &cli.App{Flags: mountFlags(), Action: func(c *cli.Context) error {
			co := cacheOptions(c, slog.Default())
			fo, err := fsOptions(c, "/mnt", "", slog.Default())
			got = []time.Duration{co.StatTTL, co.NegativeTTL, co.ListTTL, co.SymlinkTTL, fo.EntryTimeout, fo.AttrTimeout, fo.NegativeTimeout}
			return err
		}}
		if err := app.Run(append([]string{"ossfs"}, args...)); err != nil {
			t.Fatal(err)
		}
		return got
	}
	var zero []string
	for _, f := range flags {
		zero = append(zero, "--"+f, "0")
	}
	for i, d := range parse(zero...) {
		if d >= 0 {
			t.Errorf("--%s 0 became %v, want a negative value (no caching)", flags[i], d)
		}
	}
	for i, d := range parse("--stat-ttl", "7s", "--entry-timeout", "3s") {
		if (flags[i] == "stat-ttl" && d != 7*time.Second) || (flags[i] == "entry-timeout" && d != 3*time.Second) || d <= 0 {
			t.Errorf("--%s became %v", flags[i], d)
		}
	}
}

// TestZeroModes: --file-mode 0, --dir-mode 0000, --root-mode 0 and 1.x's
// umask=0777 reach the Options as NoPermissions (mode 0000), not as 0,
// which would mean the default mode: a user asking for no access must not
// get 0644.
func TestZeroModes(t *testing.T) {
	parse := func(args ...string) ossfs.Options {
		var fo ossfs.Options
		app := &cli.App{Flags: mountFlags(), Action: func(c *cli.Context) (err error) {
			fo, err = fsOptions(c, "/mnt", "", slog.Default())
			return err
		}}
		if err := app.Run(append([]string{"ossfs"}, args...)); err != nil {
			t.Fatal(err)
		}
		return fo
	}
	fo := parse("--file-mode", "0", "--dir-mode", "0000", "--root-mode", "0")
	if fo.FileMode != ossfs.NoPermissions || fo.DirMode != ossfs.NoPermissions || fo.RootMode != ossfs.NoPermissions {
		t.Errorf("modes 0 became %v %v %v, want NoPermissions", fo.FileMode, fo.DirMode, fo.RootMode)
	}
	args, err := umaskFlags("0777")
	if err != nil {
		t.Fatal(err)
	}
	if fo := parse(args...); fo.FileMode != ossfs.NoPermissions || fo.DirMode != ossfs.NoPermissions {
		t.Errorf("umask=0777 (%v) became %v %v, want NoPermissions", args, fo.FileMode, fo.DirMode)
	}
	if fo := parse("--file-mode", "0640"); fo.FileMode != 0o640 || fo.DirMode != ossfs.DefaultDirMode {
		t.Errorf("--file-mode 0640 became %v, dir %v", fo.FileMode, fo.DirMode)
	}
}
