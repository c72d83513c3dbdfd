package ossclient

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
)

// Stat is a HeadObject; see Bucket.Stat. Its answer always carries the
// metadata, so opts change nothing here.
func (c *Client) Stat(ctx context.Context, key string, opts ...StatOption) (*Object, error) {
	const op = "HeadObject"
	full, err := c.keys.full(op, key)
	if err != nil {
		return nil, err
	}
	res, err := c.sdk.HeadObject(ctx, &oss.HeadObjectRequest{Bucket: &c.bucket, Key: &full})
	if err != nil {
		return nil, headErr(convErr(ctx, op, key, full, err))
	}
	o := &Object{
		Key:  key,
		Size: res.ContentLength,
		ETag: unquote(oss.ToString(res.ETag)),
		Type: ObjectType(oss.ToString(res.ObjectType)),
		Meta: lowerMeta(res.Metadata),

		StorageClass: oss.ToString(res.StorageClass),
		Headers:      headersFrom(res.Headers),
		ReadAt:       respTime(res.Headers),
	}
	if res.LastModified != nil {
		o.ModTime = *res.LastModified
	}
	return o, nil
}

// Read is Get without conditions, keeping only the stream; see
// Bucket.Read.
func (c *Client) Read(ctx context.Context, key string, off, length int64) (io.ReadCloser, error) {
	b, err := c.Get(ctx, key, off, length, ReadOptions{})
	if err != nil {
		return nil, err
	}
	return b.ReadCloser, nil
}

type readCloser struct {
	io.Reader
	io.Closer
}

func unquote(s string) string { return strings.Trim(s, `"`) }

// lowerMeta returns user metadata with lower-case names ("x-oss-meta-"
// already stripped by the SDK); never nil, so that a HEAD's answer differs
// from a listing's.
func lowerMeta(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[strings.ToLower(k)] = v
	}
	return out
}

// respTime is the response's Date header, or now.
func respTime(h http.Header) time.Time {
	if t, err := http.ParseTime(h.Get("Date")); err == nil {
		return t
	}
	return time.Now()
}

// headErr reports a HEAD's 400 without an error code (a HEAD answer has no
// body, and not every server sends x-oss-err) as ErrUnfollowableSymlink: on
// a well-formed HEAD that is what OSS refuses with 400 (InvalidTargetType).
func headErr(err error) error {
	var oe *Error
	if errors.As(err, &oe) && oe.Kind == KindOther && oe.Code == "" && oe.Status == http.StatusBadRequest {
		oe.Kind = KindUnfollowableSymlink
	}
	return err
}
