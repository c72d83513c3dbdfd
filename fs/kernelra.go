package fs

import (
	"fmt"
	"os"
	"strconv"
)

// The kernel reads a FUSE file ahead of a sequential reader by the
// read_ahead_kb of the backing device it made for the mount, 128 KiB by
// default: every sequential read then reaches ossfs as 128 KiB requests.
// Raising it to the mount's max_read (1 MiB) makes them 8 times fewer,
// which is most of what a FUSE read costs in CPU. Only root can write it;
// elsewhere the kernel's default stays.

// setKernelReadAhead sets read_ahead_kb of the mount at mountpoint to kb.
func setKernelReadAhead(mountpoint string, kb int) error {
	dev, err := mountDevice(mountpoint)
	if err != nil {
		return err
	}
	return os.WriteFile("/sys/class/bdi/"+dev+"/read_ahead_kb", []byte(strconv.Itoa(kb)), 0)
}

// mountDevice returns the "major:minor" of the mount at mountpoint, from
// /proc/self/mountinfo (a stat of the mountpoint would be a FUSE request to
// ourselves).
func mountDevice(mountpoint string) (string, error) {
	fields := topMountAt(mountpoint)
	if fields == nil {
		return "", fmt.Errorf("%s is not in /proc/self/mountinfo", mountpoint)
	}
	return fields[2], nil
}
