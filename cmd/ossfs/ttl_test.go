package main

import (
	"log/slog"
	"testing"
	"time"

	"github.com/urfave/cli/v2"
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
