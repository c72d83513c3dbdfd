package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"
	"github.com/urfave/cli/v2"

	"github.com/ossfs/ossfs/cache"
	ossfs "github.com/ossfs/ossfs/fs"
	"github.com/ossfs/ossfs/ossclient"
	"github.com/ossfs/ossfs/ossclient/osstest"
)

func mountCommand() *cli.Command {
	return &cli.Command{
		Name:      "mount",
		Usage:     "mount BUCKET[:/PREFIX] on MOUNTPOINT",
		ArgsUsage: "BUCKET[:/PREFIX] MOUNTPOINT [-o opt,...]",
		Description: `Mounts an OSS bucket, or the part of it under PREFIX, on MOUNTPOINT.

Credentials, first found wins: --access-key-id/--access-key-secret; the environment
(OSS_ACCESS_KEY_ID, OSS_ACCESS_KEY_SECRET, optional OSS_SESSION_TOKEN); a credential
file in ossfs 1.x format (--passwd-file, else ~/.passwd-ossfs, else /etc/passwd-ossfs;
mode 0600, or 0640 for /etc/passwd-ossfs owned by root); an ECS RAM role
(--ecs-role). --credentials picks one source.

With --local DIR no account is needed: a built-in OSS-compatible server backed by DIR
serves BUCKET on a loopback port, and the mount uses it.

Symlinks: ln -s writes a native OSS symlink. Links written by ossfs 1.x and s3fs
(a regular object whose x-oss-meta-mode has the S_IFLNK type, or with
x-oss-meta-symlink-target) read as symlinks too; "ossfs links convert" rewrites them
as native links. Extended attributes: user.* are stored in x-oss-meta-xattr (ossfs
1.x's format); system.oss.etag, .object_type, .storage_class and .symlink_target
show what OSS holds (getfattr -m -). See docs/semantics.md.

The command returns once the mount is ready and keeps serving in the background
(logs: --log-file); --foreground (-f) stays attached, as does a mount run by systemd
with Type=notify. Unmount with "umount MOUNTPOINT" or "fusermount3 -u MOUNTPOINT", or
SIGINT/SIGTERM: pending uploads finish first. SIGHUP reopens the log file; it never
unmounts. Flags may follow the arguments; -o takes the ossfs 1.x options.`,
		Flags:  mountFlags(),
		Action: runMount,
	}
}

func runMount(c *cli.Context) error {
	if c.NArg() != 2 {
		return fmt.Errorf("mount needs two arguments, BUCKET[:/PREFIX] and MOUNTPOINT (got %d: %q); see ossfs --help", c.NArg(), c.Args().Slice())
	}
	mountpoint, err := filepath.Abs(c.Args().Get(1))
	if err != nil {
		return err
	}
	// Every flag, then the mountpoint and FUSE, are checked before anything
	// starts: a typo or a busy mountpoint costs no fork, no server start and
	// no request.
	s, err := parseMount(c, mountpoint)
	if err != nil {
		return err
	}
	if err := ossfs.CheckMountpoint(mountpoint); err != nil {
		return err
	}
	if !c.Bool("nonempty") {
		if err := checkEmpty(mountpoint); err != nil {
			return err
		}
	}
	// Under systemd with Type=notify the service's main process must be
	// the mount itself: no fork.
	foreground := c.Bool("foreground") || os.Getenv("NOTIFY_SOCKET") != ""
	if isDaemonChild() {
		return serveAndReport(c, s, os.Getenv(logPathEnv), false)
	}
	logPath, err := resolveLogPath(c.String("log-file"), mountpoint, foreground)
	if err != nil {
		return err
	}
	if foreground {
		if logPath != "" { // a log file that cannot be used stops the mount now
			f, err := openLogFile(logPath)
			if err != nil {
				return err
			}
			f.Close()
		}
		return serveAndReport(c, s, logPath, true)
	}
	if err := runInBackground(logPath); err != nil {
		return err
	}
	if logPath == "" {
		logPath = "stderr"
	}
	fmt.Printf("ossfs: mounted %s on %s (logs: %s)\n", c.Args().Get(0), mountpoint, logPath)
	return nil
}

// serveAndReport serves the mount in this process; a failed start says its
// one sentence (to the waiting parent of a background mount), nothing more.
func serveAndReport(c *cli.Context, s *mountSetup, logPath string, foreground bool) error {
	err := serveMount(c, s, logPath, foreground)
	s.startLog.Discard()
	notifyParent(err) // no-op when the mount succeeded and already said so
	return err
}

// checkEmpty refuses a mountpoint with entries, which the mount would hide
// (ossfs 1.x, s3fs and rclone refuse too); --nonempty allows it.
func checkEmpty(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("mountpoint %s: %w", dir, err)
	}
	defer f.Close()
	names, _ := f.Readdirnames(1)
	if len(names) > 0 {
		return fmt.Errorf("mountpoint %s is not empty (it holds %s): the mount would hide its files; give -o nonempty (--nonempty) to mount over them anyway", dir, names[0])
	}
	return nil
}

// mountSetup is what the flags of one mount say.
type mountSetup struct {
	logger         *slog.Logger
	startLog       *startLog // holds info logs until the mount is ready
	bucket, prefix string
	cfg            ossclient.Config
	fsOpts         ossfs.Options
}

func parseMount(c *cli.Context, mountpoint string) (*mountSetup, error) {
	logger, start, err := newLogger(c.String("log-level"), os.Stderr)
	if err != nil {
		return nil, err
	}
	if isDaemonChild() {
		start.Release() // the background process's log file keeps everything
	}
	s := &mountSetup{logger: logger, startLog: start}
	if s.bucket, s.prefix, err = ossclient.ParseBucketSpec(c.Args().Get(0)); err != nil {
		return nil, err
	}
	if s.cfg, err = clientConfig(c, s.bucket, s.prefix, logger); err != nil {
		return nil, err
	}
	if s.fsOpts, err = fsOptions(c, mountpoint, s.prefix, logger); err != nil {
		return nil, err
	}
	return s, nil
}

// serveMount mounts in this process and serves until unmounted or
// signalled. A foreground mount with a log file logs to the terminal until
// it is ready, then to the file.
func serveMount(c *cli.Context, s *mountSetup, logPath string, foreground bool) error {
	logger, cfg := s.logger, s.cfg
	// Signals are caught from the start: one arriving once the parent (or
	// systemd) has been told the mount is ready must not find SIGHUP's
	// default action (exit) in place. Those arriving earlier wait for the
	// mount.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sigs)
	if addr := c.String("pprof-addr"); addr != "" {
		if err := servePprof(addr, logger); err != nil {
			return err
		}
	}
	met, err := startMetrics(c.String("metrics-addr"), &cfg, &s.fsOpts, logger)
	if err != nil {
		return err
	}
	if dir := c.String("local"); dir != "" {
		srv, err := startLocalServer(dir, s.bucket, c.String("region"), &cfg, logger)
		if err != nil {
			return err
		}
		defer srv.Close()
	}
	client, err := ossclient.New(cfg)
	if err != nil {
		return err
	}
	if err := checkBucket(client, cfg); err != nil {
		return err
	}
	abortStaleAtMount(client, c.Duration("abort-stale-uploads"), logger)
	cached := cache.NewBucket(met.wrapBucket(client), cacheOptions(c, logger))
	defer cached.Close()
	met.watchCache(cached)

	m, err := ossfs.Mount(cached, s.fsOpts)
	if err != nil {
		return err
	}
	if foreground && logPath != "" {
		if err := redirectOutput(logPath); err != nil {
			logger.Error("logging to the terminal", "err", err)
		}
	}
	s.startLog.Release()
	logger.Info("mounted", "bucket", s.bucket, "prefix", s.prefix, "mountpoint", s.fsOpts.Mountpoint, "endpoint", cfg.Endpoint)
	notifyParent(nil)
	sdNotify(logger, daemon.SdNotifyReady)

	go handleSignals(sigs, m, logPath, logger)
	m.Wait()
	logger.Info("unmounted", "mountpoint", s.fsOpts.Mountpoint)
	return nil
}

// checkTimeout bounds the first request, which checks bucket and
// credentials before mounting.
const checkTimeout = 30 * time.Second

// checkBucket sends the first request; an endpoint that takes the
// connection and never answers is said as such, with the time waited.
func checkBucket(client *ossclient.Client, cfg ossclient.Config) error {
	ctx, cancel := context.WithTimeout(context.Background(), checkTimeout)
	defer cancel()
	err := client.Check(ctx)
	var ne net.Error
	switch {
	case err == nil:
		return nil
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("endpoint %s did not answer within %v: it accepts connections but sends no response (a wrong port, or a proxy or firewall holding the request)", cfg.Endpoint, checkTimeout)
	case errors.As(err, &ne) && ne.Timeout():
		rw := cfg.ReadWriteTimeout
		if rw <= 0 {
			rw = ossclient.DefaultReadWriteTimeout
		}
		return fmt.Errorf("endpoint %s did not answer within %v (--read-write-timeout): it accepts connections but sends no response (a wrong port, or a proxy or firewall holding the request)", cfg.Endpoint, rw)
	}
	return err
}

// handleSignals: the first SIGINT or SIGTERM ends the mount (pending
// uploads finish, then it unmounts; a mount still in use, with a file open
// or a shell's working directory, is detached instead: it leaves the
// namespace at once, and the process exits when the last open file is
// closed and its upload done, never abandoning data being written). SIGHUP
// reopens the log file, as logrotate expects; it never unmounts.
func handleSignals(sigs <-chan os.Signal, m *ossfs.Mounted, logPath string, logger *slog.Logger) {
	stopping := false
	for s := range sigs {
		switch {
		case s == syscall.SIGHUP && logPath != "":
			if err := redirectOutput(logPath); err != nil {
				logger.Error("SIGHUP: cannot reopen the log file; still logging to the old one", "err", err)
			} else {
				logger.Info("SIGHUP: log file reopened", "path", logPath)
			}
		case s == syscall.SIGHUP:
			logger.Info("SIGHUP ignored: logging to stderr, no log file to reopen")
		case stopping:
			logger.Info("signal received while waiting for open files to be closed; send SIGKILL to stop at once (data not yet closed is lost)", "signal", s.String())
		default:
			stopping = true
			logger.Info("signal received, unmounting", "signal", s.String())
			sdNotify(logger, daemon.SdNotifyStopping)
			go unmountOrDetach(m, logger)
		}
	}
}

func unmountOrDetach(m *ossfs.Mounted, logger *slog.Logger) {
	if err := m.Unmount(); err != nil {
		logger.Warn("mount is busy: detaching it; ossfs exits once the files still open on it are closed", "err", err)
		if err := m.Detach(); err != nil {
			logger.Error("detach failed", "err", err)
		}
	}
}

// sdNotify tells systemd (Type=notify, NOTIFY_SOCKET set) about a state
// change; without NOTIFY_SOCKET it does nothing.
func sdNotify(logger *slog.Logger, state string) {
	if _, err := daemon.SdNotify(false, state); err != nil {
		logger.Warn("cannot notify systemd", "state", state, "err", err)
	}
}

// startLocalServer serves bucket from dir on a loopback port and points cfg at
// it with a fresh, random key pair, so no user credentials are involved.
func startLocalServer(dir, bucket, region string, cfg *ossclient.Config, logger *slog.Logger) (*osstest.Server, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("--local: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("--local: %w", err)
	}
	cred := osstest.Credential{AccessKeyID: "local-" + randomHex(8), AccessKeySecret: randomHex(24)}
	srv, err := osstest.Start(osstest.Options{
		Addr:        "127.0.0.1:0",
		Buckets:     []string{bucket},
		Credentials: []osstest.Credential{cred},
		Region:      region,
		Dir:         dir,
		Logger:      logger.With("component", "local-oss"),
	})
	if err != nil {
		return nil, fmt.Errorf("--local: cannot start the built-in OSS server: %w", err)
	}
	cfg.Endpoint = srv.Endpoint()
	cfg.Region = srv.Region()
	cfg.Credentials = ossclient.Credentials{
		Source:          ossclient.SourceStatic,
		AccessKeyID:     cred.AccessKeyID,
		AccessKeySecret: cred.AccessKeySecret,
	}
	return srv, nil
}

// newLogger logs to w at level; info and debug records are held until the
// startLog is released or discarded.
func newLogger(level string, w *os.File) (*slog.Logger, *startLog, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(strings.ToUpper(level))); err != nil {
		return nil, nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	logger, start := newStartLogger(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l}))
	return logger, start, nil
}

var errNoEndpoint = errors.New("--endpoint is required (e.g. https://oss-cn-hangzhou.aliyuncs.com), or use --local DIR")
