package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/ossfs/ossfs/ossclient"
)

// defaultUploadAge is --older-than's default: a day, far longer than any
// upload a live writer (ossfs, ossutil, an SDK program) keeps open, yet short
// enough that abandoned parts are not billed for long.
const defaultUploadAge = 24 * time.Hour

// uploadsNow tells the uploads command what time it is; tests replace it to
// age uploads without waiting.
var uploadsNow = time.Now

func uploadsCommand() *cli.Command {
	common := []cli.Flag{
		&cli.DurationFlag{Name: "older-than", Value: defaultUploadAge, Usage: "only uploads initiated at least this long ago (by this machine's clock against OSS's Initiated time)"},
		&cli.StringFlag{Name: "log-level", Value: "warn", Usage: "debug, info, warn or error (logs go to stderr)"},
	}
	for _, f := range mountFlags() {
		if cat, ok := f.(cli.CategorizableFlag); ok && (cat.GetCategory() == catOSS || cat.GetCategory() == catCreds) &&
			f.Names()[0] != "local" && f.Names()[0] != "abort-stale-uploads" {
			common = append(common, f)
		}
	}
	apply := &cli.BoolFlag{Name: "apply", Usage: "really abort the uploads (without it, only print what would be aborted)"}
	return &cli.Command{
		Name:  "uploads",
		Usage: "list or abort multipart uploads left open under BUCKET[:/PREFIX] (e.g. by a killed mount)",
		Description: `A mount killed while writing a large file (SIGKILL, a crash, a power cut)
leaves its multipart upload open: the object is never created, but OSS keeps,
and bills, the parts already sent until the upload is aborted.

  ossfs uploads list BUCKET[:/PREFIX]            every open upload under PREFIX
                                                 with its age; those older than
                                                 --older-than are marked "stale"
  ossfs uploads abort [--apply] BUCKET[:/PREFIX] prints the uploads older than
                                                 --older-than (default 24h) it
                                                 would abort; --apply aborts them

An upload younger than --older-than is never aborted: it may belong to a
writer still at work (another mount, ossutil, a resumable SDK upload). The
endpoint and credential flags are those of "ossfs mount". "ossfs mount
--abort-stale-uploads AGE" does the same abort under the mount's prefix each
time it mounts.`,
		Subcommands: []*cli.Command{
			{Name: "list", Usage: "list the open multipart uploads under BUCKET[:/PREFIX]", ArgsUsage: "BUCKET[:/PREFIX]",
				Flags: common, Action: func(c *cli.Context) error { return runUploads(c, "list") }},
			{Name: "abort", Usage: "abort (with --apply; else print) the uploads older than --older-than", ArgsUsage: "BUCKET[:/PREFIX]",
				Flags: append([]cli.Flag{apply}, common...), Action: func(c *cli.Context) error { return runUploads(c, "abort") }},
		},
	}
}

func runUploads(c *cli.Context, verb string) error {
	if c.NArg() != 1 {
		return fmt.Errorf("uploads %s needs one argument, BUCKET[:/PREFIX] (got %d); see ossfs uploads --help", verb, c.NArg())
	}
	spec := c.Args().Get(0)
	age := c.Duration("older-than")
	if age < 0 {
		return fmt.Errorf("--older-than %v: want an age of 0 or more", age)
	}
	logger, _, err := newLogger(c.String("log-level"), os.Stderr)
	if err != nil {
		return err
	}
	bucket, prefix, err := ossclient.ParseBucketSpec(spec)
	if err != nil {
		return err
	}
	cfg, err := clientConfig(c, bucket, prefix, logger)
	if err != nil {
		return err
	}
	client, err := ossclient.New(cfg)
	if err != nil {
		return err
	}
	if verb == "list" {
		return listUploads(c.Context, c.App.Writer, client, age)
	}
	return abortUploads(c.Context, c.App.Writer, client, spec, age, c.Bool("apply"))
}

// listUploads prints every open upload under the client's prefix.
func listUploads(ctx context.Context, w io.Writer, u ossclient.Uploads, age time.Duration) error {
	all, err := u.ListUploads(ctx, "")
	if err != nil {
		return fmt.Errorf("listing multipart uploads: %w", err)
	}
	now := uploadsNow()
	for _, up := range all {
		mark := ""
		if !up.Initiated.IsZero() && !up.Initiated.After(now.Add(-age)) {
			mark = "\tstale"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s%s\n", up.Initiated.UTC().Format(time.RFC3339), roundAge(now.Sub(up.Initiated)), up.ID, up.Key, mark)
	}
	fmt.Fprintf(w, "%d open uploads\n", len(all))
	return nil
}

// abortUploads aborts (apply) or prints (dry run) the uploads older than
// age; it fails when any abort failed, after trying them all.
func abortUploads(ctx context.Context, w io.Writer, u ossclient.Uploads, spec string, age time.Duration, apply bool) error {
	stale, err := ossclient.StaleUploads(ctx, u, "", age, uploadsNow())
	if err != nil {
		return fmt.Errorf("listing multipart uploads: %w", err)
	}
	failed := 0
	for _, up := range stale {
		if !apply {
			fmt.Fprintf(w, "would abort\t%s\t%s\t%s\n", up.Initiated.UTC().Format(time.RFC3339), up.ID, up.Key)
			continue
		}
		if err := u.AbortUpload(ctx, up.Key, up.ID); err != nil {
			fmt.Fprintf(w, "FAILED to abort\t%s\t%s: %v\n", up.ID, up.Key, err)
			failed++
			continue
		}
		fmt.Fprintf(w, "aborted\t%s\t%s\t%s\n", up.Initiated.UTC().Format(time.RFC3339), up.ID, up.Key)
	}
	switch {
	case failed > 0:
		return fmt.Errorf("%d of %d uploads older than %v under %s could not be aborted", failed, len(stale), age, spec)
	case !apply:
		fmt.Fprintf(w, "%d uploads older than %v under %s would be aborted; run again with --apply to abort them\n", len(stale), age, spec)
	default:
		fmt.Fprintf(w, "aborted %d uploads older than %v under %s\n", len(stale), age, spec)
	}
	return nil
}

// abortStaleAtMount is --abort-stale-uploads: before the mount serves, abort
// the uploads under its prefix older than age. A failure is logged, never
// fatal: the mount works without it.
func abortStaleAtMount(u ossclient.Uploads, age time.Duration, logger *slog.Logger) {
	if age <= 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	stale, err := ossclient.StaleUploads(ctx, u, "", age, uploadsNow())
	if err != nil {
		logger.Warn("--abort-stale-uploads: cannot list multipart uploads; none aborted", "err", err)
		return
	}
	for _, up := range stale {
		if err := u.AbortUpload(ctx, up.Key, up.ID); err != nil {
			logger.Warn("--abort-stale-uploads: abort failed", "key", up.Key, "uploadId", up.ID, "err", err)
			continue
		}
		logger.Info("aborted a stale multipart upload", "key", up.Key, "uploadId", up.ID, "initiated", up.Initiated)
	}
}

// roundAge prints an age to the second.
func roundAge(d time.Duration) string { return d.Round(time.Second).String() }
