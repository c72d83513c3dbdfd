package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"
)

// The ossfs 1.x / s3fs command line. "ossfs BUCKET[:/PREFIX] MOUNTPOINT
// -o opt,... [-f] [-d]" (no subcommand) and mount(8)'s helpers (mount.fuse3
// runs "ossfs SOURCE MOUNTPOINT -o OPTIONS") are rewritten into "ossfs
// mount FLAGS... BUCKET MOUNTPOINT" before urfave/cli parses anything, so
// there is one set of flags and one code path. "ossfs mount" goes through
// the same rewriting, which is what lets its flags follow its arguments and
// take -o too.

// rewriteArgs returns the argument list urfave/cli should parse. args is
// os.Args; commands are the names of the subcommands.
func rewriteArgs(args []string, commands []string) ([]string, error) {
	if len(args) < 2 || args[len(args)-1] == "--generate-bash-completion" {
		return args, nil // shell completion asks urfave/cli itself
	}
	first := args[1]
	switch {
	case first == "mount":
		rest, err := mountArgs(args[2:])
		if err != nil {
			return nil, err
		}
		return append([]string{args[0], "mount"}, rest...), nil
	case slices.Contains(commands, first), slices.Contains(appFlags, first):
		return args, nil // another subcommand, --help, --version
	}
	rest, err := mountArgs(args[1:])
	if err != nil {
		return nil, err
	}
	return append([]string{args[0], "mount"}, rest...), nil
}

// appFlags are the flags of ossfs itself; any other first argument
// starting with "-" begins a mount command line ("ossfs -o url=... BUCKET
// MNT" and "ossfs --read-only BUCKET MNT" are mounts).
var appFlags = []string{"-h", "--help", "-help", "-v", "--version", "-version"}

// mountArgs puts the flags of a mount command line first and its
// positional arguments last (after "--"), translating -o options and the
// 1.x single-letter flags into mount flags.
func mountArgs(args []string) ([]string, error) {
	valued := valuedFlags(mountFlags())
	var flags, pos []string
	debug := 0
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			pos = append(pos, args[i+1:]...)
			i = len(args)
		case a == "-o":
			if i+1 == len(args) {
				return nil, fmt.Errorf("-o needs a value, e.g. -o allow_other,url=https://oss-cn-hangzhou.aliyuncs.com")
			}
			i++
			fl, err := translateOptions(args[i])
			if err != nil {
				return nil, err
			}
			flags = append(flags, fl...)
		case strings.HasPrefix(a, "-o") && !strings.HasPrefix(a, "--"):
			fl, err := translateOptions(a[2:])
			if err != nil {
				return nil, err
			}
			flags = append(flags, fl...)
		case a == "-d":
			debug++
		case a == "-s": // libfuse's single-threaded mode: no meaning here
		case a == "-" || !strings.HasPrefix(a, "-"):
			pos = append(pos, a)
		default:
			flags = append(flags, a)
			name := strings.TrimLeft(a, "-")
			if !strings.Contains(name, "=") && valued[name] && i+1 < len(args) {
				i++
				flags = append(flags, args[i])
			}
		}
	}
	if debug > 0 {
		flags = append(flags, "--log-level=debug")
	}
	if debug > 1 { // as with libfuse, a second -d shows every FUSE request
		flags = append(flags, "--debug-fuse")
	}
	return append(append(flags, "--"), pos...), nil
}

// valuedFlags returns the names (and aliases) of the flags that take a
// value, i.e. every flag but the booleans.
func valuedFlags(fl []cli.Flag) map[string]bool {
	m := map[string]bool{}
	for _, f := range fl {
		_, isBool := f.(*cli.BoolFlag)
		for _, n := range f.Names() {
			m[n] = !isBool
		}
	}
	return m
}
