package ossclient

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
)

// convErr turns an SDK error into what Bucket methods return: an *Error with
// its Kind, or a context error (errors.Is(err, context.Canceled) holds) when
// the caller's context ended. op is the OSS operation, key the caller's
// (prefix-relative) key, fullKey the bucket key (for the length rule).
func convErr(ctx context.Context, op, key, fullKey string, err error) error {
	if err == nil {
		return nil
	}
	var oe *Error
	if errors.As(err, &oe) {
		return err // already converted (e.g. client-side checks)
	}
	if ctxErr := ctx.Err(); ctxErr != nil &&
		(errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || isCanceled(err)) {
		return fmt.Errorf("%s %q: %w", op, key, ctxErr)
	}
	var se *oss.ServiceError
	if !errors.As(err, &se) {
		return &Error{Kind: KindOther, Op: op, Key: key, Err: err}
	}
	return &Error{
		Kind:      serviceKind(se.StatusCode, se.Code, se.EC, len(fullKey)),
		Op:        op,
		Key:       key,
		Status:    se.StatusCode,
		Code:      se.Code,
		RequestID: se.RequestID,
		Err:       err,
	}
}

func isCanceled(err error) bool {
	var ce *oss.CanceledError
	return errors.As(err, &ce)
}

// notSymlinkEC is the OSS error EC of GetSymlink on an object that is not a
// symlink (documented as 0043-00000101).
const notSymlinkEC = "0043-00000101"

// invalidTargetTypeEC is the EC of InvalidTargetType (a link to a link).
const invalidTargetTypeEC = "0026-00000013"

// serviceKind classifies an OSS error response. The code decides when OSS
// sent one (a HEAD has no body: the SDK reads the code from x-oss-err); the
// HTTP status decides otherwise. keyLen is the bucket key's length, which
// tells a too-long name from an otherwise invalid one.
func serviceKind(status int, code, ec string, keyLen int) Kind {
	switch code {
	case "NoSuchKey":
		return KindNotFound
	case "SymlinkTargetNotExist":
		return KindDanglingSymlink
	case "NotSymlink":
		return KindNotSymlink
	case "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "SecurityTokenExpired", "InvalidSecurityToken":
		return KindAccessDenied
	case "FileAlreadyExists":
		return KindAlreadyExists
	case "PreconditionFailed":
		return KindPreconditionFailed
	case "InvalidObjectName", "KeyTooLong":
		if keyLen > maxKeyLen || code == "KeyTooLong" {
			return KindNameTooLong
		}
		return KindInvalidName
	case "SlowDown", "Throttling", "ServiceUnavailable", "RequestThrottled", "TooManyRequests":
		return KindThrottled
	case "InvalidTargetType":
		return KindUnfollowableSymlink
	case "NoSuchBucket", "NoSuchUpload":
		return KindOther
	}
	switch ec {
	case notSymlinkEC:
		return KindNotSymlink
	case invalidTargetTypeEC:
		return KindUnfollowableSymlink
	}
	switch status {
	case http.StatusNotFound:
		return KindNotFound
	case http.StatusForbidden:
		return KindAccessDenied
	case http.StatusConflict:
		return KindAlreadyExists
	case http.StatusPreconditionFailed:
		return KindPreconditionFailed
	case http.StatusTooManyRequests, http.StatusServiceUnavailable:
		return KindThrottled
	}
	return KindOther
}
