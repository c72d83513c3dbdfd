package fs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/ossfs/ossfs/fs/names"
	"github.com/ossfs/ossfs/ossclient"
)

func TestToErrno(t *testing.T) {
	oe := func(k ossclient.Kind) error {
		return &ossclient.Error{Kind: k, Op: "HeadObject", Key: "k", Status: 500, Code: "C", RequestID: "RID"}
	}
	for _, c := range []struct {
		err    error
		want   syscall.Errno
		logged bool
	}{
		{nil, 0, false},
		{oe(ossclient.KindNotFound), syscall.ENOENT, false},
		{fmt.Errorf("wrapped: %w", oe(ossclient.KindNotFound)), syscall.ENOENT, false},
		{oe(ossclient.KindDanglingSymlink), syscall.ENOENT, false},
		{oe(ossclient.KindNotSymlink), syscall.EINVAL, false},
		{oe(ossclient.KindAccessDenied), syscall.EACCES, false},
		{oe(ossclient.KindAlreadyExists), syscall.EEXIST, false},
		{oe(ossclient.KindInvalidName), syscall.EINVAL, false},
		{oe(ossclient.KindNameTooLong), syscall.ENAMETOOLONG, false},
		{oe(ossclient.KindPreconditionFailed), syscall.EIO, true},
		{oe(ossclient.KindThrottled), syscall.EIO, true},
		{oe(ossclient.KindOther), syscall.EIO, true},
		{names.ErrNameTooLong, syscall.ENAMETOOLONG, false},
		{names.ErrEmptyTarget, syscall.ENOENT, false},
		{context.Canceled, syscall.EINTR, false},
		{&ossclient.Error{Kind: ossclient.KindOther, Err: context.Canceled}, syscall.EINTR, false},
		{&os.PathError{Op: "write", Path: "/tmp/x", Err: syscall.ENOSPC}, syscall.ENOSPC, false},
		{errors.New("boom"), syscall.EIO, true},
		{context.DeadlineExceeded, syscall.EIO, true},
	} {
		var buf bytes.Buffer
		log := slog.New(slog.NewTextHandler(&buf, nil))
		got := toErrno(log, "op", "key", c.err)
		if got != c.want {
			t.Errorf("toErrno(%v) = %v, want %v", c.err, got, c.want)
		}
		if logged := buf.Len() > 0; logged != c.logged {
			t.Errorf("toErrno(%v): logged %v, want %v: %s", c.err, logged, c.logged, buf.String())
		}
		if c.logged && c.err != nil && strings.Contains(c.err.Error(), "RID") && !strings.Contains(buf.String(), "requestId=RID") {
			t.Errorf("request id not logged: %s", buf.String())
		}
	}
}
