package main

import (
	"fmt"
	"strconv"
	"strings"
)

// The -o options of ossfs 1.x and s3fs (and the generic ones mount(8) and
// mount.fuse3 pass), each mapped onto mount flags. docs/ossfs1.md has the
// same table for users; TestOptionTableDocumented keeps the two in step.

// legacyOption maps one option's value onto mount flags.
type legacyOption struct {
	valued bool                             // takes "=VALUE"
	flags  func(v string) ([]string, error) // nil: accepted, no effect
	doc    string                           // what it does here (docs/ossfs1.md)
}

func flag(name string) func(string) ([]string, error) {
	return func(v string) ([]string, error) { return []string{"--" + name + "=" + v}, nil }
}

func set(fl ...string) func(string) ([]string, error) {
	return func(string) ([]string, error) { return fl, nil }
}

var legacyOptions = map[string]legacyOption{
	"url":                    {true, flag("endpoint"), "--endpoint"},
	"region":                 {true, flag("region"), "--region"},
	"passwd_file":            {true, flag("passwd-file"), "--passwd-file"},
	"allow_other":            {false, set("--allow-other"), "--allow-other"},
	"uid":                    {true, flag("uid"), "--uid"},
	"gid":                    {true, flag("gid"), "--gid"},
	"umask":                  {true, umaskFlags, "--file-mode and --dir-mode = 0777 minus the umask"},
	"mp_umask":               {true, mpUmaskFlags, "--root-mode = 0777 minus the umask"},
	"ro":                     {false, set("--read-only"), "--read-only"},
	"nonempty":               {false, set("--nonempty"), "--nonempty"},
	"use_path_request_style": {false, set("--path-style"), "--path-style"},
	"sigv4":                  {false, set("--signature-version=4"), "--signature-version 4 (the default)"},
	"sigv1":                  {false, set("--signature-version=1"), "--signature-version 1"},
	"dbglevel":               {true, dbglevelFlags, "--log-level (crit and err: error; warn; info; dbg: debug)"},
	"logfile":                {true, flag("log-file"), "--log-file"},
	"max_stat_cache_size":    {true, flag("stat-cache-entries"), "--stat-cache-entries"},
	"stat_cache_expire":      {true, statExpireFlags, "--stat-ttl and --list-ttl, in seconds"},
	"multipart_size":         {true, multipartFlags, "--part-size, in MiB"},
	"parallel_count":         {true, flag("upload-parallelism"), "--upload-parallelism"},
	"parallel_upload":        {true, flag("upload-parallelism"), "--upload-parallelism"},
	"retries":                {true, flag("retries"), "--retries (attempts per request)"},
	"tmpdir":                 {true, flag("temp-dir"), "--temp-dir"},
	"use_cache":              {true, flag("cache-dir"), "--cache-dir (the data cache; --cache-size bounds it)"},
	"connect_timeout":        {true, secondsFlag("connect-timeout"), "--connect-timeout, in seconds"},
	"readwrite_timeout":      {true, secondsFlag("read-write-timeout"), "--read-write-timeout, in seconds"},
	"enable_symlink":         {false, nil, "accepted: ln -s always makes a native OSS symlink"},
	"symlink_in_meta":        {false, nil, "accepted: ln -s always makes a native OSS symlink; 1.x links in metadata are read"},
	// Generic options mount(8), fstab and mount.fuse3 pass; as libfuse
	// file systems do, they are accepted. FUSE mounts are always nodev
	// and nosuid here, whatever dev and suid say.
	"rw":                  {false, nil, "accepted (the default)"},
	"defaults":            {false, nil, "accepted"},
	"dev":                 {false, nil, "ignored: always nodev"},
	"nodev":               {false, nil, "accepted (always)"},
	"suid":                {false, nil, "ignored: always nosuid"},
	"nosuid":              {false, nil, "accepted (always)"},
	"exec":                {false, nil, "accepted"},
	"noexec":              {false, nil, "ignored"},
	"auto":                {false, nil, "for mount -a; ignored"},
	"noauto":              {false, nil, "for mount -a; ignored"},
	"user":                {false, nil, "for mount(8); ignored"},
	"nouser":              {false, nil, "for mount(8); ignored"},
	"users":               {false, nil, "for mount(8); ignored"},
	"owner":               {false, nil, "for mount(8); ignored"},
	"_netdev":             {false, nil, "for mount(8) and systemd; ignored"},
	"nofail":              {false, nil, "for mount(8) and systemd; ignored"},
	"async":               {false, nil, "accepted (the default)"},
	"atime":               {false, nil, "ignored: atime is not stored"},
	"noatime":             {false, nil, "accepted: atime is not stored"},
	"relatime":            {false, nil, "accepted: atime is not stored"},
	"strictatime":         {false, nil, "ignored: atime is not stored"},
	"nodiratime":          {false, nil, "accepted: atime is not stored"},
	"default_permissions": {false, nil, "accepted: the kernel checks permissions with allow_other"},
	"big_writes":          {false, nil, "accepted: writes are up to 1 MiB"},
	"large_read":          {false, nil, "accepted"},
	"fsname":              {true, nil, "ignored: the source is shown as ossfs"},
	"subtype":             {true, nil, "ignored: the type is fuse.ossfs"},
	"comment":             {true, nil, "for fstab tools; ignored"},
}

// translateOptions maps one -o argument ("opt1,opt2=v,...") onto mount
// flags, or says which option has no meaning here.
func translateOptions(arg string) ([]string, error) {
	var out []string
	for _, opt := range strings.Split(arg, ",") {
		if opt == "" {
			continue
		}
		name, val, hasVal := strings.Cut(opt, "=")
		if strings.HasPrefix(name, "x-") { // x-systemd.*, x-gvfs-*: for other tools
			continue
		}
		lo, ok := legacyOptions[name]
		switch {
		case !ok:
			return nil, fmt.Errorf("unknown option -o %s: ossfs has no option of that name (docs/ossfs1.md lists the ossfs 1.x options it takes)", name)
		case lo.valued && (!hasVal || val == ""):
			return nil, fmt.Errorf("option -o %s needs a value (-o %s=...)", name, name)
		case !lo.valued && hasVal:
			return nil, fmt.Errorf("option -o %s takes no value (got -o %s)", name, opt)
		case lo.flags == nil:
			continue
		}
		fl, err := lo.flags(val)
		if err != nil {
			return nil, fmt.Errorf("option -o %s: %w", opt, err)
		}
		out = append(out, fl...)
	}
	return out, nil
}

func parseUmask(v string) (uint64, error) {
	u, err := strconv.ParseUint(v, 8, 32)
	if err != nil || u > 0o777 {
		return 0, fmt.Errorf("want octal permission bits to remove, such as 022")
	}
	return u, nil
}

func umaskFlags(v string) ([]string, error) {
	u, err := parseUmask(v)
	if err != nil {
		return nil, err
	}
	m := fmt.Sprintf("%04o", 0o777&^u)
	return []string{"--file-mode=" + m, "--dir-mode=" + m}, nil
}

func mpUmaskFlags(v string) ([]string, error) {
	u, err := parseUmask(v)
	if err != nil {
		return nil, err
	}
	return []string{fmt.Sprintf("--root-mode=%04o", 0o777&^u)}, nil
}

func dbglevelFlags(v string) ([]string, error) {
	switch strings.ToLower(v) {
	case "silent", "critical", "crit", "error", "err":
		return []string{"--log-level=error"}, nil
	case "warn", "warning", "wan":
		return []string{"--log-level=warn"}, nil
	case "info", "inf", "information":
		return []string{"--log-level=info"}, nil
	case "debug", "dbg":
		return []string{"--log-level=debug"}, nil
	}
	return nil, fmt.Errorf("want crit, err, warn, info or dbg")
}

func statExpireFlags(v string) ([]string, error) {
	n, err := strconv.ParseUint(v, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("want a number of seconds (entries that never expire, -1, are not supported)")
	}
	return []string{fmt.Sprintf("--stat-ttl=%ds", n), fmt.Sprintf("--list-ttl=%ds", n)}, nil
}

func multipartFlags(v string) ([]string, error) {
	n, err := strconv.ParseUint(v, 10, 32)
	if err != nil || n == 0 {
		return nil, fmt.Errorf("want a part size in MiB, such as 10")
	}
	return []string{fmt.Sprintf("--part-size=%d", n<<20)}, nil
}

func secondsFlag(name string) func(string) ([]string, error) {
	return func(v string) ([]string, error) {
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil || n == 0 {
			return nil, fmt.Errorf("want a number of seconds")
		}
		return []string{fmt.Sprintf("--%s=%ds", name, n)}, nil
	}
}
