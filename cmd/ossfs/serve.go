package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/ossfs/ossfs/internal/bytesize"
	"github.com/ossfs/ossfs/ossclient/osstest"
)

const serveFaultHelp = `Fault flags (repeatable; OP is an OSS operation name such as GetObject,
PutObject, UploadPart, CompleteMultipartUpload, HeadObject, ListObjectsV2,
GetSymlink, PutSymlink, or * for any; TIMES 0 = every request, N = the next N;
PROB is the chance per matching request, default 1):

  --fault OP:STATUS[:CODE[:TIMES[:PROB]]]   answer with an OSS error
        e.g. --fault UploadPart:503:ServiceUnavailable:3
  --stall OP:DURATION[:TIMES[:PROB]]        hold the request, then serve it
        e.g. --stall GetObject:5s:1
  --drop OP:BYTES[:TIMES[:PROB]]            close the connection after BYTES
        of the response body (or of the request body, for uploads)
        e.g. --drop GetObject:65536:1`

func serveCommand() *cli.Command {
	return &cli.Command{
		Name:  "serve",
		Usage: "run a local OSS-compatible server (for tests, benchmarks and trying ossfs without an account)",
		Description: `Serves one or more buckets over the OSS REST API (V1 and V4 signatures,
path-style and bucket-in-host addressing) on --addr, in memory or in --dir,
where the data survives restarts. It prints the endpoint and the ossfs mount
line to use against it, and stops cleanly on SIGINT or SIGTERM.

Request counts per operation: GET ENDPOINT/_ossfs/stats (JSON), reset with
POST ENDPOINT/_ossfs/stats/reset.

` + serveFaultHelp,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "addr", Value: "127.0.0.1:9000", Usage: "address to listen on (port 0 picks a free one)"},
			&cli.StringFlag{Name: "dir", Usage: "keep objects in this directory (default: in memory, lost on exit)"},
			&cli.StringSliceFlag{Name: "bucket", Value: cli.NewStringSlice("test-bucket"), Usage: "bucket to serve (repeatable)"},
			&cli.StringFlag{Name: "access-key-id", Value: osstest.DefaultAccessKeyID, Usage: "AccessKey ID clients must sign with"},
			&cli.StringFlag{Name: "access-key-secret", Value: osstest.DefaultAccessKeySecret, Usage: "AccessKey secret clients must sign with"},
			&cli.StringFlag{Name: "security-token", Usage: "require this STS security token with the key pair"},
			&cli.StringFlag{Name: "region", Value: "cn-hangzhou", Usage: "region V4 signatures must be scoped to"},
			&cli.DurationFlag{Name: "latency", Usage: "delay added to every request, e.g. 10ms"},
			&cli.StringFlag{Name: "bandwidth", Usage: "cap on request and response bodies per direction, bytes/s (suffixes K, M, G = KiB, MiB, GiB), e.g. 50M"},
			&cli.StringSliceFlag{Name: "fault", Usage: "OP:STATUS[:CODE[:TIMES[:PROB]]] (see above)"},
			&cli.StringSliceFlag{Name: "stall", Usage: "OP:DURATION[:TIMES[:PROB]] (see above)"},
			&cli.StringSliceFlag{Name: "drop", Usage: "OP:BYTES[:TIMES[:PROB]] (see above)"},
			&cli.StringFlag{Name: "log-level", Value: "info", Usage: "debug (one line per request), info, warn or error; logs go to stderr"},
		},
		Action: runServe,
	}
}

func runServe(c *cli.Context) error {
	if c.NArg() != 0 {
		return fmt.Errorf("serve takes no arguments (got %q); see ossfs serve --help", c.Args().Slice())
	}
	logger, err := serveLogger(c.String("log-level"), os.Stderr)
	if err != nil {
		return err
	}
	bw, err := bytesize.Parse(c.String("bandwidth"))
	if err != nil {
		return fmt.Errorf("--bandwidth: %w", err)
	}
	faults, err := serveFaults(c)
	if err != nil {
		return err
	}
	cred := osstest.Credential{AccessKeyID: c.String("access-key-id"), AccessKeySecret: c.String("access-key-secret"),
		SecurityToken: c.String("security-token")}
	srv, err := osstest.Start(osstest.Options{
		Addr: c.String("addr"), Buckets: c.StringSlice("bucket"), Credentials: []osstest.Credential{cred},
		Region: c.String("region"), Dir: c.String("dir"), Logger: logger,
	})
	if err != nil {
		return err
	}
	srv.SetLatency(c.Duration("latency"))
	srv.SetBandwidth(bw)
	for _, f := range faults {
		srv.AddFault(f)
	}
	// Catch the signals before the banner tells anyone the server is up:
	// a SIGTERM right after it must stop the server cleanly, not kill it.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sig)
	printServeBanner(c.App.Writer, srv, cred, c.String("dir"))
	s := <-sig
	logger.Info("stopping", "signal", s.String())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		_ = srv.Close()
	}
	return nil
}

func printServeBanner(w io.Writer, srv *osstest.Server, cred osstest.Credential, dir string) {
	storage := "memory (lost on exit)"
	if dir != "" {
		storage = dir
	}
	buckets := srv.Buckets()
	fmt.Fprintf(w, "ossfs local OSS server\n  endpoint: %s\n  region:   %s\n  buckets:  %s\n  storage:  %s\n  stats:    %s/_ossfs/stats\n\n",
		srv.Endpoint(), srv.Region(), strings.Join(buckets, ", "), storage, srv.Endpoint())
	secret := "<the --access-key-secret you chose>" // never print a secret the user chose
	if cred.AccessKeySecret == osstest.DefaultAccessKeySecret {
		secret = shellQuote(cred.AccessKeySecret) // the public built-in test secret
	}
	env := fmt.Sprintf("OSS_ACCESS_KEY_ID=%s OSS_ACCESS_KEY_SECRET=%s", shellQuote(cred.AccessKeyID), secret)
	if cred.SecurityToken != "" {
		env += " OSS_SESSION_TOKEN=<the --security-token you chose>"
	}
	fmt.Fprintf(w, "Mount it with:\n  %s \\\n    ossfs mount --endpoint %s --region %s %s /mnt/oss\n\nPress Ctrl-C to stop.\n",
		env, srv.Endpoint(), srv.Region(), buckets[0])
}

func shellQuote(s string) string {
	if strings.ContainsAny(s, " <>'\"$`\\|&;()*?[]#~") {
		return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
	}
	return s
}

func serveLogger(level string, w io.Writer) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(strings.ToUpper(level))); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l})), nil
}

// serveFaults turns --fault, --stall and --drop into osstest.Faults.
func serveFaults(c *cli.Context) ([]osstest.Fault, error) {
	var out []osstest.Fault
	for _, kind := range []string{"fault", "stall", "drop"} {
		for _, spec := range c.StringSlice(kind) {
			f, err := parseFault(kind, spec)
			if err != nil {
				return nil, fmt.Errorf("--%s %q: %w (see ossfs serve --help)", kind, spec, err)
			}
			out = append(out, f)
		}
	}
	return out, nil
}

func parseFault(kind, spec string) (osstest.Fault, error) {
	var f osstest.Fault
	p := strings.Split(spec, ":")
	if len(p) < 2 || p[0] == "" {
		return f, fmt.Errorf("want OP:VALUE[:...]")
	}
	if p[0] != "*" {
		f.Op = p[0]
	}
	rest := p[2:]
	switch kind {
	case "fault":
		st, err := strconv.Atoi(p[1])
		if err != nil || st < 400 || st > 599 {
			return f, fmt.Errorf("STATUS must be an HTTP error status, 400..599")
		}
		f.Status = st
		if len(rest) > 0 {
			f.Code, rest = rest[0], rest[1:]
		}
	case "stall":
		d, err := time.ParseDuration(p[1])
		if err != nil || d <= 0 {
			return f, fmt.Errorf("DURATION must be positive, e.g. 5s")
		}
		f.Stall = d
	case "drop":
		n, err := strconv.ParseInt(p[1], 10, 64)
		if err != nil || n <= 0 {
			return f, fmt.Errorf("BYTES must be a positive integer")
		}
		f.DropAfter = n
	}
	if len(rest) > 0 && rest[0] != "" {
		n, err := strconv.Atoi(rest[0])
		if err != nil || n < 0 {
			return f, fmt.Errorf("TIMES must be 0 (always) or a positive count")
		}
		f.Times = n
	}
	if len(rest) > 1 {
		pr, err := strconv.ParseFloat(rest[1], 64)
		if err != nil || pr <= 0 || pr > 1 {
			return f, fmt.Errorf("PROB must be in (0, 1]")
		}
		f.Probability = pr
	}
	if len(rest) > 2 {
		return f, fmt.Errorf("too many fields")
	}
	return f, nil
}
