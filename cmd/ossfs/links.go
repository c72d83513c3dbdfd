package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/schollz/progressbar/v3"
	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/ossfs/ossfs/fs/legacy"
	"github.com/ossfs/ossfs/fs/names"
	"github.com/ossfs/ossfs/links"
	"github.com/ossfs/ossfs/ossclient"
)

func linksCommand() *cli.Command {
	return &cli.Command{
		Name:  "links",
		Usage: "find and convert symlinks written by ossfs 1.x / s3fs",
		Subcommands: []*cli.Command{{
			Name:      "convert",
			Usage:     "rewrite ossfs 1.x links as native OSS symlinks (or back with --to legacy)",
			ArgsUsage: "BUCKET[:/PREFIX]",
			Description: `Scans BUCKET (or PREFIX) for symlinks in the formats ossfs 1.x and s3fs write and
rewrites each in place as a native OSS symlink, exactly as "ln -s" on an ossfs mount
writes it: the target key a native reader follows, the text itself kept in the link's
metadata (x-oss-meta-ossfs-symlink) where the key cannot give it back; the other
metadata (mode, mtime, uid, gid, xattrs) is kept.

  format 1: x-oss-meta-mode has the S_IFLNK type (e.g. 41471); the body is the text.
  format 2: x-oss-meta-symlink-target is TYPE:LENGTH:URLENCODED (symlink_in_meta);
            TYPE "header" holds the text there, "body" in the body.

Without --apply it is a dry run: it lists what it would convert and a summary. Requests:
one listing page per 1,000 keys; one GET per object under 4 KiB that is not already a
native link (metadata and body in one request, conditional on the listed ETag); one
PutSymlink per link. A regular file is never written. An object changed since the
listing is skipped and reported; OSS has no conditional overwrite, so a change landing
between that GET and the PutSymlink (one round trip) is replaced: convert when nothing
writes those keys, or on a versioned bucket. A rerun converts nothing twice.

--to legacy does the reverse for a fleet still read by ossfs 1.x: each native link
becomes format 1 (one GetSymlink, one PutObject per link).

Absolute texts (/mnt/oss/dir/file) point inside the bucket only when --mountpoint
names the directory the ossfs 1.x clients mounted BUCKET[:/PREFIX] on; otherwise they
are kept as text and point outside the bucket, as ln -s of an outside path does.`,
			Flags:  linksFlags(),
			Action: runLinksConvert,
		}},
	}
}

func linksFlags() []cli.Flag {
	var fl []cli.Flag
	for _, f := range mountFlags() {
		cf, ok := f.(cli.CategorizableFlag)
		if !ok {
			continue
		}
		switch name := f.Names()[0]; {
		case cf.GetCategory() == catOSS || cf.GetCategory() == catCreds,
			name == "symlink-acl", name == "symlink-storage-class":
			fl = append(fl, f)
		}
	}
	return append(fl,
		&cli.BoolFlag{Name: "apply", Category: catSymlink, Usage: "convert; without it, only report what would be converted"},
		&cli.StringFlag{Name: "to", Category: catSymlink, Value: string(links.ToNative), Usage: "the format written: native (OSS symlinks) or legacy (ossfs 1.x format 1)"},
		&cli.StringFlag{Name: "mountpoint", Category: catSymlink, Usage: "where ossfs 1.x clients mounted BUCKET[:/PREFIX]: absolute link texts under it point inside the bucket"},
		&cli.IntFlag{Name: "parallel", Category: catSymlink, Value: 32, Usage: "objects converted at once"},
		&cli.StringFlag{Name: "log-level", Category: catProcess, Value: "warn", Usage: "debug, info, warn or error (logs go to stderr)"},
	)
}

func runLinksConvert(c *cli.Context) error {
	if c.NArg() != 1 {
		return fmt.Errorf("links convert needs one argument, BUCKET[:/PREFIX] (got %d); see ossfs links convert --help", c.NArg())
	}
	opts, cfg, err := linksOptions(c)
	if err != nil {
		return err
	}
	if dir := c.String("local"); dir != "" {
		srv, err := startLocalServer(dir, cfg.Bucket, cfg.Region, &cfg, cfg.Logger)
		if err != nil {
			return err
		}
		defer srv.Close()
	}
	client, err := ossclient.New(cfg)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	rep := newReporter(os.Stdout, os.Stderr, opts.Apply)
	opts.OnListed, opts.OnItem = rep.listed, rep.item
	sum, err := links.Run(ctx, client, opts)
	rep.finish()
	printSummary(os.Stdout, sum, opts)
	if err != nil {
		return err
	}
	if sum.Failed > 0 {
		return fmt.Errorf("%d conversions failed (see above); a rerun retries them", sum.Failed)
	}
	return nil
}

func linksOptions(c *cli.Context) (links.Options, ossclient.Config, error) {
	var o links.Options
	level := new(slog.LevelVar)
	if err := level.UnmarshalText([]byte(c.String("log-level"))); err != nil {
		return o, ossclient.Config{}, fmt.Errorf("--log-level %q: want debug, info, warn or error", c.String("log-level"))
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	bucket, prefix, err := ossclient.ParseBucketSpec(c.Args().Get(0))
	if err != nil {
		return o, ossclient.Config{}, err
	}
	cfg, err := clientConfig(c, bucket, prefix, logger)
	if err != nil {
		return o, cfg, err
	}
	o.Apply = c.Bool("apply")
	switch d := links.Direction(c.String("to")); d {
	case links.ToNative, links.ToLegacy:
		o.To = d
	default:
		return o, cfg, fmt.Errorf("--to %q: want native or legacy", c.String("to"))
	}
	o.Mapper = names.Mapper{PrefixDepth: prefixDepth(prefix)}
	if mp := c.String("mountpoint"); mp != "" {
		if !filepath.IsAbs(mp) {
			return o, cfg, fmt.Errorf("--mountpoint %q: want an absolute path", mp)
		}
		o.Mapper.Mountpoint = filepath.Clean(mp)
	}
	if o.Parallel = c.Int("parallel"); o.Parallel < 1 {
		return o, cfg, fmt.Errorf("--parallel %d: want at least 1", o.Parallel)
	}
	if o.ACL, err = oneOf("symlink-acl", c.String("symlink-acl"), symlinkACLs); err != nil {
		return o, cfg, err
	}
	if o.StorageClass, err = oneOf("symlink-storage-class", c.String("symlink-storage-class"), storageClasses); err != nil {
		return o, cfg, err
	}
	return o, cfg, nil
}

// reporter prints one line per link and per problem; on a terminal a
// progress bar on stderr counts the candidates read and only problems (and,
// in a dry run, the links found) are printed.
type reporter struct {
	out   io.Writer
	bar   *progressbar.ProgressBar // nil when stderr is not a terminal
	apply bool
	errw  *os.File
}

func newReporter(out io.Writer, errw *os.File, apply bool) *reporter {
	return &reporter{out: out, errw: errw, apply: apply}
}

func (r *reporter) listed(n int) {
	if term.IsTerminal(int(r.errw.Fd())) {
		r.bar = progressbar.NewOptions(n, progressbar.OptionSetWriter(r.errw),
			progressbar.OptionSetDescription("reading candidates"), progressbar.OptionShowCount(),
			progressbar.OptionSetPredictTime(true), progressbar.OptionClearOnFinish())
	}
}

func (r *reporter) item(it links.Item) {
	quiet := r.bar != nil && r.apply // on a terminal, --apply prints problems only
	var line string
	switch it.Action {
	case links.NotLink:
	case links.WouldConvert, links.Converted:
		if !quiet {
			line = fmt.Sprintf("%s %s (%s): %q -> %s", it.Action, it.Key, formatName(it), it.Text, where(it))
		}
	default:
		line = fmt.Sprintf("%s %s: %v", it.Action, it.Key, it.Err)
	}
	if line != "" {
		if r.bar != nil {
			_ = r.bar.Clear()
		}
		fmt.Fprintln(r.out, line)
	}
	if r.bar != nil {
		_ = r.bar.Add(1)
	}
}

func (r *reporter) finish() {
	if r.bar != nil {
		_ = r.bar.Finish()
	}
}

func formatName(it links.Item) string {
	if it.Format == legacy.NotLink {
		return "native"
	}
	return it.Format.String()
}

func where(it links.Item) string {
	switch {
	case it.Outside:
		return "outside the bucket (text kept in x-oss-meta-ossfs-symlink)"
	case it.Format == legacy.NotLink:
		return "format 1"
	}
	return "target key " + it.Target
}

func printSummary(w io.Writer, s links.Summary, o links.Options) {
	fmt.Fprintf(w, "listed %d objects; read %d candidates (one request each)\n", s.Objects, s.Candidates)
	if o.To == links.ToLegacy {
		fmt.Fprintf(w, "native links found: %d\n", s.Native)
	} else {
		fmt.Fprintf(w, "legacy links found: %d format 1, %d format 2 (text in header), %d format 2 (text in body); %d regular files left alone\n",
			s.Found[legacy.Format1], s.Found[legacy.Format2Header], s.Found[legacy.Format2Body], s.Regular)
		fmt.Fprintf(w, "targets: %d inside the bucket, %d outside\n", s.Inside, s.Outside)
	}
	if o.Apply {
		fmt.Fprintf(w, "converted: %d\n", s.Converted)
	} else {
		fmt.Fprintf(w, "dry run: %d would be converted; rerun with --apply to convert\n", s.WouldConvert)
	}
	fmt.Fprintf(w, "skipped: %d changed since listed, %d invalid; failed: %d\n", s.Changed, s.Invalid, s.Failed)
}
