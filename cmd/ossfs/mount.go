package main

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

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
		ArgsUsage: "BUCKET[:/PREFIX] MOUNTPOINT",
		Description: `Mounts an OSS bucket, or the part of it under PREFIX, on MOUNTPOINT.

Credentials, first found wins: --access-key-id/--access-key-secret; the environment
(OSS_ACCESS_KEY_ID, OSS_ACCESS_KEY_SECRET, optional OSS_SESSION_TOKEN); a credential
file in ossfs 1.x format (--passwd-file, else ~/.passwd-ossfs, else /etc/passwd-ossfs;
mode 0600 required); an ECS RAM role (--ecs-role). --credentials picks one source.

With --local DIR no account is needed: a built-in OSS-compatible server backed by DIR
serves BUCKET on a loopback port, and the mount uses it.

Symlinks: ln -s writes a native OSS symlink. Links written by ossfs 1.x and s3fs
(a regular object whose x-oss-meta-mode has the S_IFLNK type, or with
x-oss-meta-symlink-target) read as symlinks too; "ossfs links convert" rewrites them
as native links. Extended attributes: user.* are stored in x-oss-meta-xattr (ossfs
1.x's format); system.oss.etag, .object_type, .storage_class and .symlink_target
show what OSS holds (getfattr -m -). See docs/semantics.md.

The command returns once the mount is ready and keeps serving in the background
(logs go to --log-file); --foreground stays attached. Unmount with "umount MOUNTPOINT"
or "fusermount3 -u MOUNTPOINT", or SIGINT/SIGTERM/SIGHUP in the foreground: pending uploads
finish first.`,
		Flags:  mountFlags(),
		Action: runMount,
	}
}

func runMount(c *cli.Context) error {
	if c.NArg() != 2 {
		return fmt.Errorf("mount needs two arguments, BUCKET[:/PREFIX] and MOUNTPOINT (got %d); see ossfs mount --help", c.NArg())
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
	if !c.Bool("foreground") && !isDaemonChild() {
		logPath := c.String("log-file")
		if logPath == "" {
			logPath = defaultLogPath(mountpoint)
		}
		if err := runInBackground(logPath); err != nil {
			return err
		}
		fmt.Printf("ossfs: mounted %s on %s (logs: %s)\n", c.Args().Get(0), mountpoint, logPath)
		return nil
	}
	err = serveMount(c, s)
	s.startLog.Discard() // a failed start says its one sentence, nothing more
	notifyParent(err)    // no-op when the mount succeeded and already said so
	return err
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
	if !c.Bool("foreground") {
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

// serveMount mounts in this process and serves until unmounted or signalled.
func serveMount(c *cli.Context, s *mountSetup) error {
	logger, cfg := s.logger, s.cfg
	if addr := c.String("pprof-addr"); addr != "" {
		if err := servePprof(addr, logger); err != nil {
			return err
		}
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
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	err = client.Check(ctx)
	cancel()
	if err != nil {
		return err
	}
	abortStaleAtMount(client, c.Duration("abort-stale-uploads"), logger)
	cached := cache.NewBucket(client, cacheOptions(c, logger))
	defer cached.Close()

	// Signals are caught before the mount appears: a SIGTERM the moment
	// it is visible must unmount it, not kill the process and leave a dead
	// mount. SIGHUP too: closing the terminal of a foreground mount must
	// unmount it cleanly.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sigs)
	m, err := ossfs.Mount(cached, s.fsOpts)
	if err != nil {
		return err
	}
	s.startLog.Release()
	logger.Info("mounted", "bucket", s.bucket, "prefix", s.prefix, "mountpoint", s.fsOpts.Mountpoint, "endpoint", cfg.Endpoint)
	notifyParent(nil)

	go unmountOnSignal(sigs, m, logger)
	m.Wait()
	logger.Info("unmounted", "mountpoint", s.fsOpts.Mountpoint)
	return nil
}

// unmountOnSignal ends the mount at the first SIGINT, SIGTERM or SIGHUP: pending
// uploads finish, then it unmounts. A mount still in use (a file open, a
// shell's working directory) is detached instead: it leaves the namespace at
// once, and the process exits when the last open file is closed and its
// upload done, never abandoning data being written.
func unmountOnSignal(sigs <-chan os.Signal, m *ossfs.Mounted, logger *slog.Logger) {
	s := <-sigs
	logger.Info("signal received, unmounting", "signal", s.String())
	if err := m.Unmount(); err != nil {
		logger.Warn("mount is busy: detaching it; ossfs exits once the files still open on it are closed", "err", err)
		if err := m.Detach(); err != nil {
			logger.Error("detach failed", "err", err)
		}
	}
	for s := range sigs {
		logger.Info("signal received while waiting for open files to be closed; send SIGKILL to stop at once (data not yet closed is lost)", "signal", s.String())
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

// defaultLogPath is where a background mount logs without --log-file:
// $TMPDIR/ossfs-UID-NAME-HASH.log, NAME the mountpoint's last element and
// HASH a short digest of its whole path, so that /a/data and /b/data do not
// share a log.
func defaultLogPath(mountpoint string) string {
	sum := sha256.Sum256([]byte(mountpoint))
	name := fmt.Sprintf("ossfs-%d-%s-%x.log", os.Getuid(), filepath.Base(mountpoint), sum[:4])
	return filepath.Join(os.TempDir(), name)
}
