package ossclient

import (
	"context"
	"errors"
	"mime"
	"net/http"
	"path"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
)

// Copy is a CopyObject inside the bucket (metadata directive COPY, or
// REPLACE with opts.Meta, or with opts.EditMeta's result after a HEAD of
// src, its standard headers kept, conditional on its ETag); OSS copies a symlink as a link. When OSS refuses
// the source as too large for one CopyObject (EntityTooLarge), it is
// copied in parts instead (see copyLarge). See Bucket.Copy. The returned
// Object has Key, ETag and ModTime; neither way reports the size or type,
// so Size is -1 and Type "" (Stat the key when needed).
func (c *Client) Copy(ctx context.Context, src, dst string, opts CopyOptions) (*Object, error) {
	const op = "CopyObject"
	fullSrc, err := c.keys.full(op, src)
	if err != nil {
		return nil, err
	}
	fullDst, err := c.keys.full(op, dst)
	if err != nil {
		return nil, err
	}
	req := &oss.CopyObjectRequest{
		Bucket:            &c.bucket,
		Key:               &fullDst,
		SourceKey:         &fullSrc,
		MetadataDirective: oss.Ptr("COPY"),
	}
	if opts.ReplaceMeta {
		req.MetadataDirective = oss.Ptr("REPLACE")
		req.Metadata = opts.Meta
		h := opts.Headers
		if h == nil {
			h = &Headers{ContentType: mime.TypeByExtension(path.Ext(dst))}
		}
		h.setCopy(req)
	} else if opts.EditMeta != nil {
		head, err := c.sdk.HeadObject(ctx, &oss.HeadObjectRequest{Bucket: &c.bucket, Key: &fullSrc})
		if err != nil {
			return nil, copyErr(ctx, "HeadObject", src, dst, fullDst, err)
		}
		req.MetadataDirective = oss.Ptr("REPLACE")
		req.Metadata = opts.EditMeta(headObject(src, head))
		req.IfMatch = head.ETag
		headersFrom(head.Headers).setCopy(req)
	}
	res, err := c.sdk.CopyObject(ctx, req)
	if isTooLarge(err) {
		return c.copyLarge(ctx, src, dst, fullSrc, fullDst, opts, err)
	}
	if err != nil {
		return nil, copyErr(ctx, op, src, dst, fullDst, err)
	}
	o := &Object{Key: dst, Size: -1, ETag: unquote(oss.ToString(res.ETag))}
	if res.LastModified != nil {
		o.ModTime = *res.LastModified
	} else {
		o.ModTime = respTime(res.Headers)
	}
	return o, nil
}

// headersFrom returns the standard headers of a HEAD's or GET's answer.
func headersFrom(h http.Header) *Headers {
	return &Headers{ContentType: h.Get("Content-Type"), CacheControl: h.Get("Cache-Control"),
		ContentDisposition: h.Get("Content-Disposition"), ContentEncoding: h.Get("Content-Encoding"),
		ContentLanguage: h.Get("Content-Language"), Expires: h.Get("Expires")}
}

// setCopy puts h in a CopyObject request; empty ones are not sent.
func (h *Headers) setCopy(req *oss.CopyObjectRequest) {
	req.ContentType, req.CacheControl = ptrOrNil(h.ContentType), ptrOrNil(h.CacheControl)
	req.ContentDisposition, req.ContentEncoding, req.Expires = ptrOrNil(h.ContentDisposition), ptrOrNil(h.ContentEncoding), ptrOrNil(h.Expires)
	if h.ContentLanguage != "" {
		req.Headers = map[string]string{"Content-Language": h.ContentLanguage}
	}
}

// setInit puts h in an InitiateMultipartUpload request; empty ones are
// not sent.
func (h *Headers) setInit(req *oss.InitiateMultipartUploadRequest) {
	req.ContentType, req.CacheControl = ptrOrNil(h.ContentType), ptrOrNil(h.CacheControl)
	req.ContentDisposition, req.ContentEncoding, req.Expires = ptrOrNil(h.ContentDisposition), ptrOrNil(h.ContentEncoding), ptrOrNil(h.Expires)
	if h.ContentLanguage != "" {
		req.Headers = map[string]string{"Content-Language": h.ContentLanguage}
	}
}

func ptrOrNil(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// headObject is the Object a HEAD of key answered (for CopyOptions.EditMeta).
func headObject(key string, h *oss.HeadObjectResult) *Object {
	o := &Object{Key: key, Size: h.ContentLength, ETag: unquote(oss.ToString(h.ETag)), Meta: lowerMeta(h.Metadata), Headers: headersFrom(h.Headers)}
	if h.LastModified != nil {
		o.ModTime = *h.LastModified
	}
	return o
}

// copyErr converts a failed copy step's err: a missing source is reported
// against src, anything else against dst (where the write failed).
func copyErr(ctx context.Context, op, src, dst, fullDst string, err error) error {
	cerr := convErr(ctx, op, dst, fullDst, err)
	var oe *Error
	if errors.Is(cerr, ErrNotFound) && errors.As(cerr, &oe) {
		oe.Key = src
	}
	return cerr
}

// Delete is a DeleteObject; OSS answers 204 for a missing key too.
func (c *Client) Delete(ctx context.Context, key string) error {
	const op = "DeleteObject"
	full, err := c.keys.full(op, key)
	if err != nil {
		return err
	}
	_, err = c.sdk.DeleteObject(ctx, &oss.DeleteObjectRequest{Bucket: &c.bucket, Key: &full})
	err = convErr(ctx, op, key, full, err)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}

// maxDeleteBatch is the most keys one DeleteMultipleObjects takes.
const maxDeleteBatch = 1000

// DeleteMany sends DeleteMultipleObjects in quiet mode, 1,000 keys at a time,
// and returns the first failure after trying every batch. Keys that cannot
// exist (empty, too long) are skipped: there is nothing to delete.
func (c *Client) DeleteMany(ctx context.Context, keys []string) error {
	const op = "DeleteMultipleObjects"
	var first error
	batch := make([]oss.DeleteObject, 0, min(len(keys), maxDeleteBatch))
	flush := func(firstKey string) {
		if len(batch) == 0 {
			return
		}
		_, err := c.sdk.DeleteMultipleObjects(ctx, &oss.DeleteMultipleObjectsRequest{
			Bucket:  &c.bucket,
			Objects: batch,
			Quiet:   true,
		})
		if err != nil && first == nil {
			first = convErr(ctx, op, firstKey, "", err)
		}
		batch = batch[:0]
	}
	firstKey := ""
	for _, k := range keys {
		full, err := c.keys.full(op, k)
		if err != nil {
			continue
		}
		if len(batch) == 0 {
			firstKey = k
		}
		batch = append(batch, oss.DeleteObject{Key: oss.Ptr(full)})
		if len(batch) == maxDeleteBatch {
			flush(firstKey)
			if ctx.Err() != nil {
				return first
			}
		}
	}
	flush(firstKey)
	return first
}
