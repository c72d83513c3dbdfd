// Command ossfs mounts an Alibaba Cloud OSS bucket as a directory, and serves
// a local OSS-compatible bucket for tests and demos.
//
//	ossfs mount [flags] BUCKET[:/PREFIX] MOUNTPOINT
//	ossfs mount --local DIR BUCKET MOUNTPOINT
//	ossfs serve [flags]
//
// This package only maps flags onto the Options structs of the packages that
// do the work (ossclient, cache, fs, ossclient/osstest).
package main

import (
	"fmt"
	"os"

	"github.com/urfave/cli/v2"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	app := &cli.App{
		Name:    "ossfs",
		Usage:   "mount an Alibaba Cloud OSS bucket as a directory, with native OSS symlinks",
		Version: version,
		Commands: []*cli.Command{
			mountCommand(),
			serveCommand(),
			linksCommand(),
			uploadsCommand(),
		},
		// Errors are printed once, as one sentence, by main.
		ExitErrHandler: func(*cli.Context, error) {},
	}
	if err := app.Run(os.Args); err != nil {
		fmt.Fprintf(os.Stderr, "ossfs: %v\n", err)
		os.Exit(1)
	}
}
