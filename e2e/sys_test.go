package e2e

import (
	"golang.org/x/sys/unix"

	"github.com/ossfs/ossfs/ossclient"
)

var ossclientListRecursive = ossclient.ListOptions{Recursive: true}

func unixRenameat2(from, to string, flags uint) error {
	return unix.Renameat2(unix.AT_FDCWD, from, unix.AT_FDCWD, to, flags)
}
