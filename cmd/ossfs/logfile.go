package main

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// Log files. A background mount logs to a file: --log-file, or by default
// one per mountpoint path in a directory only its user can enter
// (/var/log/ossfs for root, $XDG_STATE_HOME/ossfs or ~/.local/state/ossfs
// for other users, mode 0700). Every log file is opened without following
// a symbolic link, and refused unless it is a regular file the user owns:
// a file planted by another user (a symlink to /etc/shadow, or a file they
// can read) never receives a line. SIGHUP reopens it (logrotate).

// logPathEnv passes the log path of a background mount to its process,
// which reopens it on SIGHUP.
const logPathEnv = "OSSFS_LOG_FILE"

// defaultLogDir is the private directory of the default log files.
func defaultLogDir() (string, error) {
	if os.Geteuid() == 0 {
		return "/var/log/ossfs", nil
	}
	if d := os.Getenv("XDG_STATE_HOME"); filepath.IsAbs(d) {
		return filepath.Join(d, "ossfs"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil || !filepath.IsAbs(home) {
		return "", errors.New("no home directory for the default log file ($HOME is not set): give --log-file")
	}
	return filepath.Join(home, ".local", "state", "ossfs"), nil
}

// defaultLogPath is where a background mount logs without --log-file:
// DIR/NAME-HASH.log, NAME the mountpoint's last element and HASH a short
// digest of its whole path, so that /a/data and /b/data do not share a log.
func defaultLogPath(dir, mountpoint string) string {
	sum := sha256.Sum256([]byte(mountpoint))
	return filepath.Join(dir, fmt.Sprintf("%s-%x.log", filepath.Base(mountpoint), sum[:4]))
}

// privateDir creates dir (and missing parents, 0700) and makes sure it is
// a real directory of this user that no one else can enter.
func privateDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("cannot create the log directory: %w", err)
	}
	var st syscall.Stat_t
	if err := syscall.Lstat(dir, &st); err != nil {
		return fmt.Errorf("log directory %s: %w", dir, err)
	}
	switch {
	case st.Mode&syscall.S_IFMT != syscall.S_IFDIR:
		return fmt.Errorf("log directory %s is not a directory (a symbolic link?): refusing to use it", dir)
	case int(st.Uid) != os.Geteuid():
		return fmt.Errorf("log directory %s belongs to uid %d, not to you (uid %d): refusing to use it", dir, st.Uid, os.Geteuid())
	case st.Mode&0o077 != 0:
		if err := os.Chmod(dir, 0o700); err != nil {
			return fmt.Errorf("log directory %s: %w", dir, err)
		}
	}
	return nil
}

// openLogFile opens path for appending, creating it with mode 0600. It
// refuses a symbolic link and a file that is not a regular file owned by
// this user.
func openLogFile(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND|syscall.O_NOFOLLOW, 0o600)
	if errors.Is(err, syscall.ELOOP) {
		return nil, fmt.Errorf("log file %s is a symbolic link: refusing to follow it (remove it, or give another --log-file)", path)
	}
	if err != nil {
		return nil, fmt.Errorf("cannot open log file: %w", err)
	}
	var st syscall.Stat_t
	if err := syscall.Fstat(int(f.Fd()), &st); err != nil {
		f.Close()
		return nil, fmt.Errorf("log file %s: %w", path, err)
	}
	switch {
	case st.Mode&syscall.S_IFMT != syscall.S_IFREG:
		f.Close()
		return nil, fmt.Errorf("log file %s is not a regular file: refusing to write to it", path)
	case int(st.Uid) != os.Geteuid():
		f.Close()
		return nil, fmt.Errorf("log file %s belongs to uid %d, not to you (uid %d): refusing to write to a file another user controls", path, st.Uid, os.Geteuid())
	}
	return f, nil
}

// resolveLogPath returns the absolute log path of a mount, "" for stderr.
// Flag --log-file wins; a foreground mount, or one run by systemd, logs to
// stderr (the terminal or the journal); a background mount gets the
// default file, its directory created.
func resolveLogPath(flagPath, mountpoint string, foreground bool) (string, error) {
	if flagPath != "" {
		return filepath.Abs(flagPath)
	}
	if foreground || underSystemd() {
		return "", nil
	}
	dir, err := defaultLogDir()
	if err != nil {
		return "", err
	}
	if err := privateDir(dir); err != nil {
		return "", err
	}
	return defaultLogPath(dir, mountpoint), nil
}

// underSystemd reports whether systemd started this process with its
// output going to the journal or expecting a readiness notification.
func underSystemd() bool {
	return os.Getenv("NOTIFY_SOCKET") != "" || os.Getenv("JOURNAL_STREAM") != ""
}

// redirectOutput makes path this process's stdout and stderr (so also
// panics and anything else written there land in it).
func redirectOutput(path string) error {
	f, err := openLogFile(path)
	if err != nil {
		return err
	}
	defer f.Close()
	for _, fd := range []int{1, 2} {
		if err := syscall.Dup3(int(f.Fd()), fd, 0); err != nil {
			return fmt.Errorf("log file %s: %w", path, err)
		}
	}
	return nil
}
