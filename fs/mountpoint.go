package fs

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// fuseDevice is the kernel's FUSE device: misc character device 10:229.
const (
	fuseDevice   = "/dev/fuse"
	fuseDevMajor = 10
	fuseDevMinor = 229
)

// CheckMountpoint reports, as one sentence, why a mount on dir cannot work:
// dir is missing or not a directory, a dead FUSE mount, already carries a
// FUSE mount (mounting twice would hide the first), or the machine has no
// usable FUSE device. Mount calls it; callers may call it earlier to fail
// before any other work.
func CheckMountpoint(dir string) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	st, err := os.Stat(abs)
	switch {
	case errors.Is(err, syscall.ENOTCONN):
		return fmt.Errorf("mountpoint %s is a FUSE mount whose process is gone (transport endpoint is not connected): unmount it first with \"fusermount3 -u %s\" or \"umount -l %s\"", abs, abs, abs)
	case err != nil || !st.IsDir():
		return fmt.Errorf("mountpoint %s is not an existing directory", abs)
	}
	if typ := fuseMountAt(abs); typ != "" {
		return fmt.Errorf("mountpoint %s is busy: a FUSE file system (%s) is already mounted there; unmount it first (umount %s)", abs, typ, abs)
	}
	return checkFUSEDevice()
}

// checkFUSEDevice says why /dev/fuse cannot be used, or nil.
func checkFUSEDevice() error {
	const hint = "load the fuse kernel module (modprobe fuse), or in a container pass --device /dev/fuse"
	var st syscall.Stat_t
	if err := syscall.Stat(fuseDevice, &st); err != nil {
		return fmt.Errorf("FUSE is not available: %s: %v; %s", fuseDevice, err, hint)
	}
	if st.Mode&syscall.S_IFMT != syscall.S_IFCHR || major(st.Rdev) != fuseDevMajor || minor(st.Rdev) != fuseDevMinor {
		return fmt.Errorf("FUSE is not available: %s is not the FUSE device (character device %d:%d); %s", fuseDevice, fuseDevMajor, fuseDevMinor, hint)
	}
	f, err := os.OpenFile(fuseDevice, os.O_RDWR, 0)
	if errors.Is(err, os.ErrPermission) {
		// The device is there: the kernel module is loaded, this user may
		// not use it (fusermount3 opens it as the user too).
		return fmt.Errorf("FUSE is not available to this user: %s exists but uid %d may not open it (mode %04o, owner %d:%d); ask an administrator to make it accessible (chmod 0666 %s, the distributions' default), or mount as root",
			fuseDevice, os.Geteuid(), st.Mode&0o7777, st.Uid, st.Gid, fuseDevice)
	}
	if err != nil {
		return fmt.Errorf("FUSE is not available: cannot open %s: %v; %s", fuseDevice, errors.Unwrap(err), hint)
	}
	f.Close()
	return nil
}

func major(dev uint64) uint64 { return (dev >> 8) & 0xfff }
func minor(dev uint64) uint64 { return (dev & 0xff) | ((dev >> 12) & 0xfff00) }

// fuseMountAt returns the type of the FUSE file system mounted on dir
// ("fuse.ossfs"), or "" when the topmost mount there is not FUSE (a plain
// directory, or a bind mount or volume, which a FUSE mount may cover).
func fuseMountAt(dir string) string {
	// ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - TYPE SOURCE SUPER
	fields := topMountAt(dir)
	typ := ""
	for i, fl := range fields {
		if fl == "-" && i+1 < len(fields) {
			typ = fields[i+1]
			break
		}
	}
	if typ == "fuse" || typ == "fuseblk" || strings.HasPrefix(typ, "fuse.") {
		return typ
	}
	return ""
}

// topMountAt returns the fields of the /proc/self/mountinfo line of the
// topmost mount on dir (later lines are mounted on top of earlier ones), or
// nil when nothing is mounted there.
func topMountAt(dir string) []string {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil
	}
	defer f.Close()
	var top []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if fields := strings.Fields(sc.Text()); len(fields) >= 5 && unescapeMountinfo(fields[4]) == dir {
			top = fields
		}
	}
	return top
}

// unescapeMountinfo undoes the octal escapes (\040 for a space) of
// /proc/self/mountinfo paths.
func unescapeMountinfo(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// Detach unmounts lazily (MNT_DETACH; fusermount3 -u -z without root): the
// mount leaves the namespace at once, files still open on it keep working,
// and the file system ends, and Wait returns, when the last of them is
// closed and its upload done. It is how a busy mount is ended on SIGTERM.
func (m *Mounted) Detach() error {
	mp := m.f.opts.Mountpoint
	if os.Geteuid() == 0 {
		if err := syscall.Unmount(mp, syscall.MNT_DETACH); err == nil {
			return nil
		}
	}
	out, err := exec.Command("fusermount3", "-u", "-z", mp).CombinedOutput()
	if err != nil {
		return fmt.Errorf("fusermount3 -u -z %s: %v: %s", mp, err, strings.TrimSpace(string(out)))
	}
	return nil
}
