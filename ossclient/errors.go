package ossclient

import (
	"fmt"
)

// Kind classifies an OSS failure by what a filesystem must do about it.
type Kind int

// The kinds of failure. KindOther carries the OSS code and request id.
const (
	KindOther Kind = iota
	KindNotFound
	KindDanglingSymlink
	KindNotSymlink
	KindAccessDenied
	KindAlreadyExists
	KindPreconditionFailed
	KindInvalidName
	KindNameTooLong
	KindThrottled
	// KindUnfollowableSymlink: a HEAD or GET met a symlink whose target
	// OSS does not follow (InvalidTargetType: a link to a link, which is
	// also how links to targets outside the bucket are stored). A HEAD
	// answer has no body: a 400 without an error code is reported as this
	// kind too, so a caller confirms with GetSymlink.
	KindUnfollowableSymlink
)

var kindNames = [...]string{
	KindOther:              "other",
	KindNotFound:           "not found",
	KindDanglingSymlink:    "dangling symlink",
	KindNotSymlink:         "not a symlink",
	KindAccessDenied:       "access denied",
	KindAlreadyExists:      "already exists",
	KindPreconditionFailed: "precondition failed",
	KindInvalidName:        "invalid name",
	KindNameTooLong:        "name too long",
	KindThrottled:          "throttled",

	KindUnfollowableSymlink: "symlink OSS does not follow",
}

func (k Kind) String() string {
	if k < 0 || int(k) >= len(kindNames) {
		return fmt.Sprintf("kind(%d)", int(k))
	}
	return kindNames[k]
}

// Sentinels for errors.Is. An *Error matches the sentinel of its Kind.
var (
	ErrNotFound           = &Error{Kind: KindNotFound}
	ErrDanglingSymlink    = &Error{Kind: KindDanglingSymlink}
	ErrNotSymlink         = &Error{Kind: KindNotSymlink}
	ErrAccessDenied       = &Error{Kind: KindAccessDenied}
	ErrAlreadyExists      = &Error{Kind: KindAlreadyExists}
	ErrPreconditionFailed = &Error{Kind: KindPreconditionFailed}
	ErrInvalidName        = &Error{Kind: KindInvalidName}
	ErrNameTooLong        = &Error{Kind: KindNameTooLong}
	ErrThrottled          = &Error{Kind: KindThrottled}

	ErrUnfollowableSymlink = &Error{Kind: KindUnfollowableSymlink}
)

// Error is a failed OSS operation. It never carries credentials.
type Error struct {
	Kind Kind
	// Op is the OSS operation ("HeadObject", "PutSymlink", ...).
	Op string
	// Key is the key as the caller gave it (relative to the prefix).
	Key string
	// Status is the HTTP status (0 when no response arrived).
	Status int
	// Code and RequestID are OSS's, when the service answered.
	Code      string
	RequestID string
	// Err is the underlying error (the SDK's, or a network error).
	Err error
}

func (e *Error) Error() string {
	s := e.Op
	if s == "" {
		s = "oss"
	}
	if e.Key != "" {
		s += fmt.Sprintf(" %q", e.Key)
	}
	s += ": " + e.Kind.String()
	if e.Code != "" {
		s += " (" + e.Code
		if e.Status != 0 {
			s += fmt.Sprintf(", HTTP %d", e.Status)
		}
		if e.RequestID != "" {
			s += ", request id " + e.RequestID
		}
		s += ")"
	} else if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrNotFound) true for every *Error of that kind.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Op == "" && t.Key == "" && t.Code == "" && t.Err == nil && t.Kind == e.Kind
}
