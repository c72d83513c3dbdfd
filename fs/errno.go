package fs

import (
	"context"
	"errors"
	"log/slog"
	"syscall"

	"github.com/ossfs/ossfs/fs/names"
	"github.com/ossfs/ossfs/ossclient"
)

// toErrno is the one place where errors become errno values. Expected
// outcomes (not found, exists, ...) map silently; anything else is EIO and is
// logged with the operation, the key, the OSS code and the request id.
//
//	ossclient.ErrNotFound           ENOENT
//	ossclient.ErrDanglingSymlink    ENOENT (only reached when following a link)
//	ossclient.ErrNotSymlink         EINVAL (readlink of a non-link)
//	ossclient.ErrAccessDenied       EACCES
//	ossclient.ErrAlreadyExists      EEXIST
//	ossclient.ErrInvalidName        EINVAL
//	ossclient.ErrNameTooLong        ENAMETOOLONG
//	ossclient.ErrPreconditionFailed EIO (logged)
//	ossclient.ErrThrottled          EIO (logged): the SDK already retried with
//	                                backoff; EAGAIN on a regular file makes
//	                                programs spin or fail obscurely
//	names.ErrNameTooLong            ENAMETOOLONG
//	names.ErrEmptyTarget            ENOENT (as symlink(2) with "")
//	errVersionGone                  ESTALE (logged): the version a read
//	                                handle pinned was replaced or deleted
//	                                in OSS (412/404 on its If-Match GET)
//	errRetired                      ESTALE: an open or stat by path of a
//	                                file whose name has a newer version's
//	                                node (retire.go); the kernel looks the
//	                                name up again and retries
//	context.Canceled                EINTR (the caller was interrupted)
//	a syscall.Errno (local files)   itself
//	anything else                   EIO (logged)
func toErrno(log *slog.Logger, op, key string, err error) syscall.Errno {
	if err == nil {
		return 0
	}
	var oe *ossclient.Error
	switch {
	case errors.Is(err, context.Canceled):
		return syscall.EINTR
	case errors.Is(err, errRetired):
		return syscall.ESTALE
	case errors.Is(err, errVersionGone):
		if log != nil {
			log.Warn("file changed in OSS under an open reader", "op", op, "key", key, "err", err)
		}
		return syscall.ESTALE
	case errors.Is(err, names.ErrNameTooLong):
		return syscall.ENAMETOOLONG
	case errors.Is(err, names.ErrEmptyTarget):
		return syscall.ENOENT
	case errors.As(err, &oe):
		if e, ok := kindErrno[oe.Kind]; ok {
			return e
		}
		if log != nil {
			log.Error("oss request failed", "op", op, "key", key, "kind", oe.Kind.String(),
				"ossOp", oe.Op, "status", oe.Status, "code", oe.Code, "requestId", oe.RequestID, "err", err)
		}
		return syscall.EIO
	}
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return errno
	}
	if log != nil {
		log.Error("operation failed", "op", op, "key", key, "err", err)
	}
	return syscall.EIO
}

var kindErrno = map[ossclient.Kind]syscall.Errno{
	ossclient.KindNotFound:        syscall.ENOENT,
	ossclient.KindDanglingSymlink: syscall.ENOENT,
	ossclient.KindNotSymlink:      syscall.EINVAL,
	ossclient.KindAccessDenied:    syscall.EACCES,
	ossclient.KindAlreadyExists:   syscall.EEXIST,
	ossclient.KindInvalidName:     syscall.EINVAL,
	ossclient.KindNameTooLong:     syscall.ENAMETOOLONG,
}

// errno maps err with the mount's logger.
func (f *fsys) errno(op, key string, err error) syscall.Errno {
	return toErrno(f.log, op, key, err)
}
