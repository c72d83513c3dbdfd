package ossclient

import (
	"context"
	"errors"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
)

// Upload is one open (initiated, neither completed nor aborted) multipart
// upload, as ListMultipartUploads reports it.
type Upload struct {
	// Key is relative to the Bucket's prefix, like Object.Key.
	Key string
	// ID is the upload id.
	ID string
	// Initiated is when OSS started the upload (its clock).
	Initiated time.Time
}

// Uploads is the part of OSS that finds and ends multipart uploads left open
// by a writer that died (a killed mount, a crashed SDK program): OSS bills
// their parts until someone aborts them. *Client implements it; it is kept
// apart from Bucket because only the cleanup command and the mount-time
// cleanup use it, never the filesystem.
type Uploads interface {
	// ListUploads returns every open multipart upload whose key lies under
	// prefix (relative to the Bucket's prefix; "" for all of it), in key
	// then upload-id order, following every page (the SDK paginator over
	// ListMultipartUploads). Nothing open is an empty slice, not an error.
	ListUploads(ctx context.Context, prefix string) ([]Upload, error)

	// AbortUpload aborts upload id of key (relative to the prefix): its
	// parts are deleted and it can no longer be completed. An upload that is
	// already gone (completed or aborted meanwhile, NoSuchUpload) is not an
	// error: the caller wanted it not open, and it is not.
	AbortUpload(ctx context.Context, key, id string) error
}

var _ Uploads = (*Client)(nil)

// uploadsPageSize is max-uploads per ListMultipartUploads page (OSS's
// largest); tests lower it to exercise paging.
var uploadsPageSize int32 = maxListKeys

// ListUploads implements Uploads.
func (c *Client) ListUploads(ctx context.Context, prefix string) ([]Upload, error) {
	const op = "ListMultipartUploads"
	full := c.keys.under(prefix)
	req := &oss.ListMultipartUploadsRequest{Bucket: &c.bucket}
	if full != "" {
		req.Prefix = &full
	}
	p := c.sdk.NewListMultipartUploadsPaginator(req, func(o *oss.PaginatorOptions) { o.Limit = uploadsPageSize })
	var out []Upload
	for p.HasNext() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, convErr(ctx, op, prefix, full, err)
		}
		for _, u := range page.Uploads {
			k, ok := c.keys.rel(oss.ToString(u.Key))
			if !ok {
				continue // cannot happen with a prefix filter; never touch it
			}
			up := Upload{Key: k, ID: oss.ToString(u.UploadId)}
			if u.Initiated != nil {
				up.Initiated = *u.Initiated
			}
			out = append(out, up)
		}
	}
	return out, nil
}

// AbortUpload implements Uploads.
func (c *Client) AbortUpload(ctx context.Context, key, id string) error {
	const op = "AbortMultipartUpload"
	full := c.keys.under(key)
	_, err := c.sdk.AbortMultipartUpload(ctx, &oss.AbortMultipartUploadRequest{
		Bucket: &c.bucket, Key: &full, UploadId: &id,
	})
	var se *oss.ServiceError
	if err != nil && errors.As(err, &se) && se.Code == "NoSuchUpload" {
		return nil
	}
	return convErr(ctx, op, key, full, err)
}

// StaleUploads returns the uploads under prefix that were initiated at
// least age before now. An upload with no initiation time is never stale:
// a cleanup must never abort an upload it cannot prove old.
func StaleUploads(ctx context.Context, u Uploads, prefix string, age time.Duration, now time.Time) ([]Upload, error) {
	all, err := u.ListUploads(ctx, prefix)
	if err != nil {
		return nil, err
	}
	var stale []Upload
	for _, up := range all {
		if !up.Initiated.IsZero() && !up.Initiated.After(now.Add(-age)) {
			stale = append(stale, up)
		}
	}
	return stale, nil
}
