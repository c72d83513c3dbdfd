package ossclient

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"

	"github.com/ossfs/ossfs/ossclient/internal/crc64x"
)

// abortTimeout bounds the clean-up AbortMultipartUpload, which is sent even
// after the caller's context ended.
const abortTimeout = 30 * time.Second

// Put reads up to PartSize+1 bytes; a body that fits in PartSize goes in one
// PutObject (seekable, so the SDK may retry it), a longer one as a
// multipart upload (upload.go): parts of PartSize sent UploadParallelism at
// a time while r is still read, the upload aborted on any failure. Either
// way the body's CRC-64 is checked against the one OSS computed. See
// Bucket.Put.
func (c *Client) Put(ctx context.Context, key string, r io.Reader, opts PutOptions) (*Object, error) {
	full, err := c.keys.full("PutObject", key)
	if err != nil {
		return nil, err
	}
	head, err := readHead(r, c.cfg.PartSize+1)
	if err != nil {
		return nil, &Error{Kind: KindOther, Op: "PutObject", Key: key, Err: err}
	}
	n := int64(len(head))
	meta := opts.Meta
	if opts.MetaAtSend != nil {
		// The whole body is read (PutObject), or its first part (the
		// Initiate of a multipart upload comes next).
		meta = opts.MetaAtSend()
	}
	req := &oss.PutObjectRequest{Bucket: &c.bucket, Key: &full, Metadata: meta}
	if opts.ForbidOverwrite {
		req.ForbidOverwrite = oss.Ptr("true")
	}
	if opts.ContentType != "" {
		req.ContentType = oss.Ptr(opts.ContentType)
	}
	if n <= c.cfg.PartSize {
		return c.putSingle(ctx, key, full, req, head)
	}
	return c.putMultipart(ctx, key, full, req, head, r)
}

// readHead reads up to limit bytes of r: a small body into a small buffer,
// a larger one into one buffer of exactly limit bytes (never a buffer grown
// by doubling, which would hold twice the part size).
func readHead(r io.Reader, limit int64) ([]byte, error) {
	const small = 64 << 10
	buf := make([]byte, min(limit, small))
	n, err := io.ReadFull(r, buf)
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return buf[:n], nil
	}
	if err != nil || int64(n) == limit {
		return buf[:n], err
	}
	big := make([]byte, limit)
	copy(big, buf)
	m, err := io.ReadFull(r, big[n:])
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		err = nil
	}
	return big[:n+m], err
}

func (c *Client) putSingle(ctx context.Context, key, full string, req *oss.PutObjectRequest, body []byte) (*Object, error) {
	const op = "PutObject"
	br := &bodyReader{data: body}
	req.Body = br
	req.ContentLength = oss.Ptr(int64(len(body)))
	res, err := c.upl.PutObject(withInPlaceBody(ctx, br), req)
	if err == nil {
		err = checkCRC("the object", crc64x.Checksum(body), oss.ToString(res.HashCRC64))
	}
	if err != nil {
		return nil, convErr(ctx, op, key, full, err)
	}
	return &Object{
		Key:     key,
		Size:    int64(len(body)),
		ModTime: respTime(res.Headers),
		ETag:    unquote(oss.ToString(res.ETag)),
		Type:    TypeNormal,
		Meta:    copyMeta(req.Metadata),
	}, nil
}

// abortUpload aborts upload id on the bucket key full. It is the only abort
// of a failed upload: it runs even when the caller's context has ended
// (bounded by abortTimeout), with the SDK's retries, and a failure is
// logged with the upload id, as the upload is then left open. NoSuchUpload
// means there is nothing left.
func (c *Client) abortUpload(ctx context.Context, full, id string) {
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), abortTimeout)
	defer cancel()
	_, aerr := c.sdk.AbortMultipartUpload(actx, &oss.AbortMultipartUploadRequest{
		Bucket: &c.bucket, Key: &full, UploadId: &id,
	})
	var se *oss.ServiceError
	if aerr != nil && !(errors.As(aerr, &se) && se.Code == "NoSuchUpload") {
		c.log.Warn("oss: aborting a failed multipart upload failed; it is left open",
			"key", full, "uploadId", id, "err", convErr(actx, "AbortMultipartUpload", full, full, aerr))
	}
}

func copyMeta(m map[string]string) map[string]string {
	return lowerMeta(m)
}
