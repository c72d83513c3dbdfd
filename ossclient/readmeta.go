package ossclient

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
)

// ErrTooLarge is what ReadSmall returns (wrapped) for a body over its limit.
var ErrTooLarge = errors.New("body over the limit")

// ReadSmall is one GetObject of a small object that returns, from the same
// response, its attributes (as Stat would: size, ETag, type, user metadata)
// and its whole body. It is conditional on etag (If-Match; "" sends none):
// an object changed since the caller saw etag is ErrPreconditionFailed and
// no body is read. A body longer than max bytes is refused with an error
// wrapping ErrTooLarge after reading max+1 bytes. GetObject follows
// symlinks: callers use it on objects a listing reported as not links.
//
// It is not part of Bucket: the link converter (package links) uses it to
// read a legacy link's metadata and text in one request instead of a HEAD
// and a GET.
func (c *Client) ReadSmall(ctx context.Context, key, etag string, max int64) (*Object, []byte, error) {
	const op = "GetObject"
	full, err := c.keys.full(op, key)
	if err != nil {
		return nil, nil, err
	}
	req := &oss.GetObjectRequest{Bucket: &c.bucket, Key: &full}
	if etag != "" {
		req.IfMatch = oss.Ptr(`"` + etag + `"`)
	}
	res, err := c.sdk.GetObject(ctx, req)
	if err != nil {
		return nil, nil, convErr(ctx, op, key, full, err)
	}
	defer res.Body.Close()
	o := &Object{
		Key:  key,
		Size: res.ContentLength,
		ETag: unquote(oss.ToString(res.ETag)),
		Type: ObjectType(oss.ToString(res.ObjectType)),
		Meta: lowerMeta(res.Metadata),

		StorageClass: oss.ToString(res.StorageClass),
	}
	if res.LastModified != nil {
		o.ModTime = *res.LastModified
	}
	body, err := io.ReadAll(io.LimitReader(res.Body, max+1))
	if err != nil {
		return nil, nil, convErr(ctx, op, key, full, err)
	}
	if int64(len(body)) > max {
		return nil, nil, fmt.Errorf("%s %q: body over %d bytes: %w", op, key, max, ErrTooLarge)
	}
	return o, body, nil
}
