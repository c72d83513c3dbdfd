// Command ossfs mounts an Alibaba Cloud OSS bucket as a directory, and serves
// a local OSS-compatible bucket for tests and demos.
//
//	ossfs BUCKET[:/PREFIX] MOUNTPOINT [-o opt[,opt...]]... [-f] [-d]   (ossfs 1.x form)
//	ossfs mount [flags] BUCKET[:/PREFIX] MOUNTPOINT [flags]
//	ossfs serve [flags]
//
// This package only maps flags onto the Options structs of the packages that
// do the work (ossclient, cache, fs, ossclient/osstest); args.go and
// options.go rewrite the ossfs 1.x command line into mount flags.
//
// The man page docs/ossfs.8 is generated from the CLI definition:
//
//go:generate sh -c "go run . man > ../../docs/ossfs.8"
package main

import (
	"fmt"
	"os"
	"regexp"
	"runtime/debug"
	"strings"

	"github.com/urfave/cli/v2"
)

const appUsageText = `ossfs BUCKET[:/PREFIX] MOUNTPOINT [-o opt[,opt...]]... [-f] [-d]
ossfs mount [flags] BUCKET[:/PREFIX] MOUNTPOINT
ossfs mount --local DIR BUCKET MOUNTPOINT     (no account: a built-in server)
ossfs serve [flags]`

const appDescription = `The first form is ossfs 1.x's (and s3fs's): -o takes its options, e.g.
  ossfs examplebucket:/prefix /mnt/oss -o url=https://oss-cn-hangzhou.aliyuncs.com,allow_other
-f stays in the foreground, -d logs debug records. Every mount flag works in
both forms (see ossfs mount --help); docs/ossfs1.md maps each 1.x option.
In /etc/fstab:
  examplebucket:/prefix /mnt/oss fuse.ossfs _netdev,url=https://...,region=cn-hangzhou 0 0
Unmount with umount MOUNTPOINT (fusermount3 -u as a user), or SIGINT/SIGTERM:
pending uploads finish first. SIGHUP reopens the log file (for logrotate).`

func newApp() *cli.App {
	return &cli.App{
		Name:            "ossfs",
		Usage:           "mount an Alibaba Cloud OSS bucket as a directory, with native OSS symlinks",
		UsageText:       appUsageText,
		Description:     appDescription,
		Version:         versionString(),
		HideHelpCommand: true,
		Commands: []*cli.Command{
			mountCommand(),
			serveCommand(),
			linksCommand(),
			uploadsCommand(),
			completionCommand(),
			manCommand(),
		},
		EnableBashCompletion: true,
		OnUsageError:         usageError,
		// Errors are printed once, as one sentence, by main.
		ExitErrHandler: func(*cli.Context, error) {},
	}
}

func main() {
	app := newApp()
	var names []string
	for _, c := range app.Commands {
		names = append(names, c.Names()...)
		if c.OnUsageError == nil {
			c.OnUsageError = usageError
		}
	}
	args, err := rewriteArgs(os.Args, names)
	if err == nil {
		err = app.Run(args)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "ossfs: %v\n", err)
		os.Exit(1)
	}
}

// versionString is the module version and VCS revision this binary was
// built from, as the Go toolchain records them ("go install ...@v1.2.0"
// gives the version; a build in a checkout gives the revision).
func versionString() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown (no build information)"
	}
	v := bi.Main.Version
	if v == "" {
		v = "(devel)"
	}
	var rev, modified, when string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				modified = ", modified"
			}
		case "vcs.time":
			when = ", " + s.Value
		}
	}
	if rev != "" {
		v += " (revision " + rev + when + modified + ")"
	}
	return v + ", " + bi.GoVersion
}

var (
	invalidValue = regexp.MustCompile(`^invalid value "(.*)" for flag -([^:]+): (.*)$`)
	undefined    = regexp.MustCompile(`^flag provided but not defined: -+(.*)$`)
)

// usageError turns the flag package's complaints into one sentence naming
// the flag (urfave/cli would print the whole help after them).
func usageError(c *cli.Context, err error, _ bool) error {
	cmd := "ossfs"
	if c.Command != nil && c.Command.Name != "" {
		cmd += " " + c.Command.Name
	}
	msg := err.Error()
	if m := invalidValue.FindStringSubmatch(msg); m != nil {
		want := "see " + cmd + " --help"
		if f := findFlag(c, m[2]); f != nil {
			switch f.(type) {
			case *cli.DurationFlag:
				want = "want a duration with a unit, such as 500ms, 30s, 5m or 1h"
			case *cli.IntFlag, *cli.Int64Flag, *cli.UintFlag, *cli.Uint64Flag:
				want = "want a whole number"
			case *cli.BoolFlag:
				want = "want true or false"
			}
		}
		return fmt.Errorf("--%s %q: %s", m[2], m[1], want)
	}
	if m := undefined.FindStringSubmatch(msg); m != nil {
		return fmt.Errorf("unknown flag --%s; see %s --help", m[1], cmd)
	}
	return fmt.Errorf("%s; see %s --help", strings.TrimSuffix(msg, "\n"), cmd)
}

func findFlag(c *cli.Context, name string) cli.Flag {
	var flags []cli.Flag
	if c.Command != nil {
		flags = c.Command.Flags
	}
	if c.App != nil {
		flags = append(flags, c.App.Flags...)
	}
	for _, f := range flags {
		for _, n := range f.Names() {
			if n == name {
				return f
			}
		}
	}
	return nil
}
