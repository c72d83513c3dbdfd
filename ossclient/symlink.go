package ossclient

import (
	"context"
	"net/http"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
)

// PutSymlink resolves target against the prefix (leading "../" climbs out of
// it; above the bucket root is ErrInvalidName), percent-encodes it and sends
// PutSymlink. See Bucket.PutSymlink.
func (c *Client) PutSymlink(ctx context.Context, key, target string, opts SymlinkOptions) error {
	const op = "PutSymlink"
	full, err := c.keys.full(op, key)
	if err != nil {
		return err
	}
	tk, err := c.keys.targetKey(op, key, target)
	if err != nil {
		return err
	}
	req := &oss.PutSymlinkRequest{
		Bucket:   &c.bucket,
		Key:      &full,
		Target:   oss.Ptr(encodeTarget(tk)),
		Metadata: opts.Meta,
	}
	if opts.ForbidOverwrite {
		req.ForbidOverwrite = oss.Ptr("true")
	}
	if opts.ACL != "" {
		req.Acl = oss.ObjectACLType(opts.ACL)
	}
	if opts.StorageClass != "" {
		req.StorageClass = oss.StorageClassType(opts.StorageClass)
	}
	_, err = c.sdk.PutSymlink(ctx, req)
	return convErr(ctx, op, key, full, err)
}

// GetSymlink sends GetSymlink, decodes the target and makes it relative to
// the prefix. See Bucket.GetSymlink.
func (c *Client) GetSymlink(ctx context.Context, key string) (*Symlink, error) {
	const op = "GetSymlink"
	full, err := c.keys.full(op, key)
	if err != nil {
		return nil, err
	}
	res, err := c.sdk.GetSymlink(ctx, &oss.GetSymlinkRequest{Bucket: &c.bucket, Key: &full})
	if err != nil {
		return nil, convErr(ctx, op, key, full, err)
	}
	if res.Target == nil {
		// A 200 without a target: what OSS answers for no symlink.
		return nil, &Error{Kind: KindNotSymlink, Op: op, Key: key, Status: res.StatusCode,
			RequestID: res.Headers.Get("x-oss-request-id")}
	}
	s := &Symlink{
		Target:    c.keys.relTarget(decodeTarget(*res.Target)),
		RawTarget: decodeTarget(*res.Target),
		Meta:      lowerMeta(res.Metadata),
		ETag:      unquote(oss.ToString(res.ETag)),
	}
	if t, err := http.ParseTime(res.Headers.Get("Last-Modified")); err == nil {
		s.ModTime = t
	}
	return s, nil
}
