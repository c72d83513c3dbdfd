package ossclient

import (
	"context"
	"errors"
	"fmt"
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

		ReadAt: respTime(res.Headers),
	}
	if res.LastModified != nil {
		o.ModTime = *res.LastModified
	}
	return o, nil
}

// Read is a GetObject with a Range and x-oss-range-behavior: standard; see
// Bucket.Read. length 0 returns an empty stream without a request.
func (c *Client) Read(ctx context.Context, key string, off, length int64) (io.ReadCloser, error) {
	const op = "GetObject"
	full, err := c.keys.full(op, key)
	if err != nil {
		return nil, err
	}
	if off < 0 {
		return nil, &Error{Kind: KindOther, Op: op, Key: key, Err: fmt.Errorf("negative offset %d", off)}
	}
	if length == 0 {
		return io.NopCloser(strings.NewReader("")), nil
	}
	req := &oss.GetObjectRequest{Bucket: &c.bucket, Key: &full}
	ranged := off > 0 || length > 0
	if ranged {
		r := fmt.Sprintf("bytes=%d-", off)
		if length > 0 {
			r += fmt.Sprint(off + length - 1)
		}
		req.Range = &r
		// Standard behaviour: a range starting past the end is 416 (an
		// empty read below), not the whole object.
		req.RangeBehavior = oss.Ptr("standard")
	}
	res, err := c.sdk.GetObject(ctx, req)
	if err != nil {
		var se *oss.ServiceError
		if errors.As(err, &se) && se.StatusCode == http.StatusRequestedRangeNotSatisfiable {
			return io.NopCloser(strings.NewReader("")), nil
		}
		return nil, convErr(ctx, op, key, full, err)
	}
	if ranged && res.StatusCode == http.StatusOK {
		// The range was ignored: cut the window out of the whole body.
		if _, err := io.CopyN(io.Discard, res.Body, off); err != nil && err != io.EOF {
			res.Body.Close()
			return nil, convErr(ctx, op, key, full, err)
		}
		if length > 0 {
			return readCloser{io.LimitReader(res.Body, length), res.Body}, nil
		}
	}
	return res.Body, nil
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
