package main

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/ossfs/ossfs/cache"
	ossfs "github.com/ossfs/ossfs/fs"
	"github.com/ossfs/ossfs/fs/datacache"
	"github.com/ossfs/ossfs/internal/bytesize"
	"github.com/ossfs/ossfs/ossclient"
)

// Flag categories, as --help groups them.
const (
	catOSS     = "OSS"
	catCreds   = "Credentials"
	catSymlink = "Symlinks"
	catCache   = "Caches"
	catFiles   = "Files and permissions"
	catProcess = "Process"
)

func mountFlags() []cli.Flag {
	cd := cache.DefaultOptions()
	fd := ossfs.DefaultOptions()
	return []cli.Flag{
		&cli.StringFlag{Name: "endpoint", Category: catOSS, EnvVars: []string{"OSS_ENDPOINT"}, Usage: "OSS endpoint URL, e.g. https://oss-cn-hangzhou.aliyuncs.com (https when no scheme)"},
		&cli.StringFlag{Name: "region", Category: catOSS, EnvVars: []string{"OSS_REGION"}, Usage: "region of the endpoint, e.g. cn-hangzhou (required for V4 signatures)"},
		&cli.StringFlag{Name: "local", Category: catOSS, Usage: "serve BUCKET from this directory with the built-in OSS-compatible server (no account needed)"},
		&cli.IntFlag{Name: "signature-version", Category: catOSS, Value: 4, Usage: "request signature version: 4 or 1"},
		&cli.BoolFlag{Name: "cname", Category: catOSS, Usage: "the endpoint is a custom domain (CNAME) bound to the bucket"},
		&cli.BoolFlag{Name: "path-style", Category: catOSS, Usage: "address the bucket in the path, not the host (automatic for IP and localhost endpoints)"},
		&cli.IntFlag{Name: "retries", Category: catOSS, Value: ossclient.DefaultMaxAttempts, Usage: "attempts per request, first try included (the SDK's retryer with backoff)"},
		&cli.IntFlag{Name: "max-connections", Category: catOSS, Value: ossclient.DefaultMaxConnections, Usage: "HTTP connection pool size"},
		&cli.DurationFlag{Name: "connect-timeout", Category: catOSS, Value: ossclient.DefaultConnectTimeout, Usage: "timeout to establish a connection"},
		&cli.DurationFlag{Name: "read-write-timeout", Category: catOSS, Value: ossclient.DefaultReadWriteTimeout, Usage: "timeout for each read or write on a connection"},
		&cli.Int64Flag{Name: "part-size", Category: catOSS, Value: ossclient.DefaultPartSize, Usage: "multipart upload part size in bytes; smaller files go in one PutObject"},
		&cli.DurationFlag{Name: "abort-stale-uploads", Category: catOSS, Usage: "at mount, abort multipart uploads under the prefix initiated at least this long ago, e.g. 24h: what a killed mount left open (0: off; see ossfs uploads --help)"},
		&cli.IntFlag{Name: "upload-parallelism", Category: catOSS, Value: ossclient.DefaultUploadParallelism, Usage: "parts of one file uploaded in parallel"},

		&cli.StringFlag{Name: "credentials", Category: catCreds, Usage: "use only this credential source: flags, env, file, ecs or anonymous (default: try flags, env, file, then ecs when --ecs-role is set)"},
		&cli.StringFlag{Name: "access-key-id", Category: catCreds, Usage: "AccessKey ID (prefer OSS_ACCESS_KEY_ID: flags are visible in ps)"},
		&cli.StringFlag{Name: "access-key-secret", Category: catCreds, Usage: "AccessKey secret (prefer OSS_ACCESS_KEY_SECRET: flags are visible in ps)"},
		&cli.StringFlag{Name: "session-token", Category: catCreds, Usage: "STS security token (or OSS_SESSION_TOKEN)"},
		&cli.StringFlag{Name: "passwd-file", Category: catCreds, Usage: "credential file, ossfs 1.x format, mode 0600 or 0640 for a root-owned /etc/passwd-ossfs (default ~/.passwd-ossfs, then /etc/passwd-ossfs)"},
		&cli.StringFlag{Name: "ecs-role", Category: catCreds, Usage: "ECS RAM role name to take credentials from the instance metadata service"},

		&cli.BoolFlag{Name: "symlink-forbid-overwrite", Category: catSymlink, Usage: "ln -s onto an existing name fails with EEXIST (x-oss-forbid-overwrite); ln -sf still replaces"},
		&cli.StringFlag{Name: "symlink-acl", Category: catSymlink, Usage: "object ACL of new symlinks: private, public-read, public-read-write or default"},
		&cli.StringFlag{Name: "symlink-storage-class", Category: catSymlink, Usage: "storage class of new symlinks: Standard, IA, Archive, ColdArchive, DeepColdArchive"},

		&cli.DurationFlag{Name: "stat-ttl", Category: catCache, Value: cd.StatTTL, Usage: "how long object attributes are cached; changes made outside this mount show up within this (0: no caching)"},
		&cli.DurationFlag{Name: "negative-ttl", Category: catCache, Value: cd.NegativeTTL, Usage: "how long a missing name is remembered (0: no caching)"},
		&cli.DurationFlag{Name: "list-ttl", Category: catCache, Value: cd.ListTTL, Usage: "how long a directory listing is cached (0: no caching)"},
		&cli.DurationFlag{Name: "symlink-ttl", Category: catCache, Value: cd.SymlinkTTL, Usage: "how long a symlink target is cached (local changes invalidate it at once) (0: no caching)"},
		&cli.IntFlag{Name: "stat-cache-entries", Category: catCache, Value: cd.StatEntries, Usage: "attribute cache size, in entries"},
		&cli.IntFlag{Name: "list-cache-entries", Category: catCache, Value: cd.ListEntries, Usage: "listing cache size, in directories"},
		&cli.IntFlag{Name: "symlink-cache-entries", Category: catCache, Value: cd.SymlinkEntries, Usage: "symlink target cache size, in entries"},
		&cli.IntFlag{Name: "symlink-prefetch", Category: catCache, Value: cd.PrefetchSymlinks, Usage: "symlinks seen in a listing are resolved this many at a time in the background (0: off)"},
		&cli.IntFlag{Name: "metadata-prefetch", Category: catCache, Value: cd.PrefetchMeta, Usage: "once ls -l or stat asks for one entry of a listed directory, the metadata (mode, owner, times) of its other entries is read this many HEADs at a time in the background (0: off, one HEAD per stat)"},
		&cli.DurationFlag{Name: "entry-timeout", Category: catCache, Value: fd.EntryTimeout, Usage: "how long the kernel caches a name lookup (0: no caching)"},
		&cli.DurationFlag{Name: "attr-timeout", Category: catCache, Value: fd.AttrTimeout, Usage: "how long the kernel caches attributes (0: no caching)"},
		&cli.DurationFlag{Name: "negative-timeout", Category: catCache, Value: fd.NegativeTimeout, Usage: "how long the kernel caches a missing name (0: no caching)"},

		&cli.StringFlag{Name: "uid", Category: catFiles, Usage: "owner of files without ossfs metadata (default: the mounting user)"},
		&cli.StringFlag{Name: "gid", Category: catFiles, Usage: "group of files without ossfs metadata (default: the mounting user's group)"},
		&cli.StringFlag{Name: "file-mode", Category: catFiles, Value: fmt.Sprintf("%04o", fd.FileMode), Usage: "permission bits of files without ossfs metadata (octal)"},
		&cli.StringFlag{Name: "dir-mode", Category: catFiles, Value: fmt.Sprintf("%04o", fd.DirMode), Usage: "permission bits of directories without ossfs metadata (octal)"},
		&cli.BoolFlag{Name: "no-legacy-links", Category: catSymlink, Usage: "show links written by ossfs 1.x / s3fs (S_IFLNK in x-oss-meta-mode, or x-oss-meta-symlink-target) as the regular files they are stored as; saves the HEAD of small files a lookup meets without metadata"},
		&cli.BoolFlag{Name: "no-metadata", Category: catFiles, Usage: "do not store or read mode/uid/gid/times in x-oss-meta-* (every object shows the defaults; chmod, chown, touch -m, mkfifo and mknod then fail)"},
		&cli.BoolFlag{Name: "allow-other", Category: catFiles, Usage: "let other users access the mount; the kernel checks every access against the mode, uid and gid stored with each object (non-root needs user_allow_other in /etc/fuse.conf)"},
		&cli.StringFlag{Name: "root-mode", Category: catFiles, Usage: "permission bits of the mount's root directory (octal; default: --dir-mode)"},
		&cli.BoolFlag{Name: "nonempty", Category: catFiles, Usage: "mount over a directory that has entries (hiding them); refused without it"},
		&cli.BoolFlag{Name: "read-only", Category: catFiles, Usage: "mount read-only: every change fails with EROFS"},
		&cli.StringFlag{Name: "temp-dir", Category: catFiles, Usage: "where files written other than sequentially are staged (default: $TMPDIR or /tmp)"},
		&cli.StringFlag{Name: "read-ahead", Category: catFiles, Value: bytesize.Format(fd.ReadAhead), Usage: "most a sequential reader of one file gets fetched ahead, in parallel ranged GETs (K, M, G suffixes)"},
		&cli.StringFlag{Name: "read-ahead-total", Category: catFiles, Value: bytesize.Format(fd.ReadAheadTotal), Usage: "read-ahead memory of all open files together"},
		&cli.StringFlag{Name: "cache-dir", Category: catCache, Usage: "keep the bytes of files read in this directory and read them again from there while OSS confirms they are current (ossfs 1.x use_cache; default: no data cache)"},
		&cli.StringFlag{Name: "cache-size", Category: catCache, Value: bytesize.Format(datacache.DefaultSize), Usage: "most bytes the data cache keeps on disk; least recently used blocks are evicted (K, M, G suffixes)"},
		&cli.IntFlag{Name: "kernel-read-ahead-kb", Category: catFiles, Value: fd.KernelReadAheadKB, Usage: "the kernel's read-ahead for the mount in KiB, i.e. the size of sequential FUSE reads (needs root; -1 keeps the kernel's 128)"},

		&cli.BoolFlag{Name: "foreground", Aliases: []string{"f"}, Category: catProcess, Usage: "stay attached to the terminal instead of running in the background"},
		&cli.StringFlag{Name: "log-level", Category: catProcess, Value: "info", Usage: "debug, info, warn or error"},
		&cli.StringFlag{Name: "log-file", Category: catProcess, Usage: "log to this file, also in the foreground; SIGHUP reopens it (default: stderr in the foreground and under systemd; in the background /var/log/ossfs/MOUNTPOINTNAME-HASH.log for root, else ~/.local/state/ossfs/...)"},
		&cli.BoolFlag{Name: "debug-fuse", Category: catProcess, Usage: "log every FUSE request (very verbose)"},
		&cli.StringFlag{Name: "metrics-addr", Category: catProcess, Usage: "serve Prometheus metrics at http://ADDR/metrics, e.g. 127.0.0.1:9464 (docs/metrics.md)"},
		&cli.StringFlag{Name: "pprof-addr", Category: catProcess, Usage: "serve Go's runtime profiles (net/http/pprof) on this address, e.g. 127.0.0.1:6060, for performance diagnosis"},
	}
}

// clientConfig maps the OSS and credential flags onto ossclient.Config.
func clientConfig(c *cli.Context, bucket, prefix string, logger *slog.Logger) (ossclient.Config, error) {
	var cfg ossclient.Config
	cfg.Endpoint = c.String("endpoint")
	cfg.Region = c.String("region")
	cfg.Bucket = bucket
	cfg.Prefix = prefix
	cfg.SignatureVersion = c.Int("signature-version")
	cfg.CNAME = c.Bool("cname")
	cfg.PathStyle = c.Bool("path-style")
	cfg.MaxAttempts = c.Int("retries")
	cfg.MaxConnections = c.Int("max-connections")
	cfg.ConnectTimeout = c.Duration("connect-timeout")
	cfg.ReadWriteTimeout = c.Duration("read-write-timeout")
	cfg.PartSize = c.Int64("part-size")
	cfg.UploadParallelism = c.Int("upload-parallelism")
	cfg.Logger = logger
	source, err := credentialSource(c.String("credentials"))
	if err != nil {
		return cfg, err
	}
	cfg.Credentials = ossclient.Credentials{
		Source:          source,
		AccessKeyID:     c.String("access-key-id"),
		AccessKeySecret: c.String("access-key-secret"),
		SessionToken:    c.String("session-token"),
		File:            c.String("passwd-file"),
		ECSRole:         c.String("ecs-role"),
	}
	if cfg.Endpoint == "" && c.String("local") == "" {
		return cfg, errNoEndpoint
	}
	return cfg, nil
}

func cacheOptions(c *cli.Context, logger *slog.Logger) cache.Options {
	o := cache.DefaultOptions()
	o.StatTTL = ttl(c, "stat-ttl")
	o.NegativeTTL = ttl(c, "negative-ttl")
	o.ListTTL = ttl(c, "list-ttl")
	o.SymlinkTTL = ttl(c, "symlink-ttl")
	o.StatEntries = c.Int("stat-cache-entries")
	o.ListEntries = c.Int("list-cache-entries")
	o.SymlinkEntries = c.Int("symlink-cache-entries")
	o.PrefetchSymlinks = c.Int("symlink-prefetch")
	o.PrefetchMeta = c.Int("metadata-prefetch")
	o.Logger = logger
	return o
}

func fsOptions(c *cli.Context, mountpoint, prefix string, logger *slog.Logger) (ossfs.Options, error) {
	o := ossfs.DefaultOptions()
	o.Mountpoint = mountpoint
	o.PrefixDepth = prefixDepth(prefix)
	var err error
	if o.FileMode, err = parseMode("file-mode", c.String("file-mode")); err != nil {
		return o, err
	}
	if o.DirMode, err = parseMode("dir-mode", c.String("dir-mode")); err != nil {
		return o, err
	}
	if s := c.String("uid"); s != "" {
		if o.UID, err = parseID("uid", s); err != nil {
			return o, err
		}
	}
	if s := c.String("gid"); s != "" {
		if o.GID, err = parseID("gid", s); err != nil {
			return o, err
		}
	}
	if s := c.String("root-mode"); s != "" {
		if o.RootMode, err = parseMode("root-mode", s); err != nil {
			return o, err
		}
	}
	o.ReadOnly = c.Bool("read-only")
	o.AllowOther = c.Bool("allow-other")
	o.EntryTimeout = ttl(c, "entry-timeout")
	o.AttrTimeout = ttl(c, "attr-timeout")
	o.NegativeTimeout = ttl(c, "negative-timeout")
	o.SymlinkForbidOverwrite = c.Bool("symlink-forbid-overwrite")
	if o.SymlinkACL, err = oneOf("symlink-acl", c.String("symlink-acl"), symlinkACLs); err != nil {
		return o, err
	}
	if o.SymlinkStorageClass, err = oneOf("symlink-storage-class", c.String("symlink-storage-class"), storageClasses); err != nil {
		return o, err
	}
	o.PersistMetadata = !c.Bool("no-metadata")
	o.NoLegacyLinks = c.Bool("no-legacy-links")
	if o.ReadAhead, err = parseSize("read-ahead", c.String("read-ahead")); err != nil {
		return o, err
	}
	if o.ReadAheadTotal, err = parseSize("read-ahead-total", c.String("read-ahead-total")); err != nil {
		return o, err
	}
	o.KernelReadAheadKB = c.Int("kernel-read-ahead-kb")
	if s := c.String("temp-dir"); s != "" {
		if o.TempDir, err = filepath.Abs(s); err != nil {
			return o, err
		}
	}
	if s := c.String("cache-dir"); s != "" {
		if o.CacheDir, err = filepath.Abs(s); err != nil {
			return o, err
		}
	}
	if o.CacheSize, err = parseSize("cache-size", c.String("cache-size")); err != nil {
		return o, err
	}
	o.Logger = logger
	o.Debug = c.Bool("debug-fuse")
	return o, nil
}

// ttl reads a TTL or timeout flag, where 0 (or less) means no caching:
// cache.Options and fs.Options take a negative value for that, since
// their zero value means the default.
func ttl(c *cli.Context, flag string) time.Duration {
	if d := c.Duration(flag); d > 0 {
		return d
	}
	return -1
}

// The values OSS accepts in x-oss-object-acl and x-oss-storage-class.
var (
	symlinkACLs    = []string{"private", "public-read", "public-read-write", "default"}
	storageClasses = []string{"Standard", "IA", "Archive", "ColdArchive", "DeepColdArchive"}
)

// oneOf returns the canonical spelling of s among allowed (compared without
// case), "" for "", or an error naming the flag: a typo must stop the mount,
// not fail every later ln -s with EIO.
func oneOf(flag, s string, allowed []string) (string, error) {
	if s == "" {
		return "", nil
	}
	for _, a := range allowed {
		if strings.EqualFold(s, a) {
			return a, nil
		}
	}
	return "", fmt.Errorf("--%s %q: want one of %s", flag, s, strings.Join(allowed, ", "))
}

func prefixDepth(prefix string) int {
	n := 0
	for _, r := range prefix {
		if r == '/' {
			n++
		}
	}
	return n
}

func parseMode(flag, s string) (os.FileMode, error) {
	v, err := strconv.ParseUint(s, 8, 32)
	if err != nil || v > 0o7777 {
		return 0, fmt.Errorf("--%s %q: want octal permission bits such as 0644", flag, s)
	}
	if v == 0 {
		return ossfs.NoPermissions, nil // 0 in the Options is the default
	}
	return os.FileMode(v), nil
}

func parseID(flag, s string) (uint32, error) {
	v, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("--%s %q: want a number", flag, s)
	}
	return uint32(v), nil
}

// randomHex returns n random bytes in hex (crypto/rand.Read cannot fail
// since Go 1.24).
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// credentialSource maps --credentials onto ossclient's source names.
func credentialSource(s string) (string, error) {
	switch s {
	case "":
		return ossclient.SourceAuto, nil
	case "flags", "static":
		return ossclient.SourceStatic, nil
	case "env", "file", "ecs", "anonymous":
		return s, nil
	}
	return "", fmt.Errorf("--credentials %q: want flags, env, file, ecs or anonymous", s)
}

// parseSize reads a byte count with an optional K, M or G suffix (KiB,
// MiB, GiB), as --read-ahead takes it.
func parseSize(flag, s string) (int64, error) {
	n, err := bytesize.Parse(s)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("--%s %q: want a size such as 64M", flag, s)
	}
	return n, nil
}
