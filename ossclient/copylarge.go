package ossclient

import (
	"context"
	"errors"
	"fmt"
	"mime"
	"path"
	"sync"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
)

// maxParts is the most parts one multipart upload (or copy) may have.
const maxParts = 10000

// isTooLarge reports whether OSS refused a single CopyObject because the
// source is too large for one (EntityTooLarge: the code the SDK's own
// Copier falls back to a multipart copy on).
func isTooLarge(err error) bool {
	var se *oss.ServiceError
	return errors.As(err, &se) && se.Code == "EntityTooLarge"
}

// copyLarge is Copy's path for a source OSS refused to copy in one
// CopyObject (refused is that error): a multipart copy. It HEADs src (size,
// ETag, metadata), initiates an upload on dst with the source's metadata
// (or opts.Meta when replacing, EditMeta's result when editing), copies CopyPartSize ranges with
// UploadPartCopy, UploadParallelism at a time, and completes. Every part
// is conditional on the source's ETag (x-oss-copy-source-if-match), so a
// source changed during the copy fails it (ErrPreconditionFailed) instead
// of mixing two versions. On any failure the upload is aborted (see
// abortUpload) and dst is left as it was.
//
// The SDK's Copier does the same steps but has no such condition (a source
// overwritten meanwhile is only caught by its CRC check, after the mixed
// object has replaced dst) and aborts with the caller's context, which
// fails once that context has ended.
func (c *Client) copyLarge(ctx context.Context, src, dst, fullSrc, fullDst string, opts CopyOptions, refused error) (*Object, error) {
	head, err := c.sdk.HeadObject(ctx, &oss.HeadObjectRequest{Bucket: &c.bucket, Key: &fullSrc})
	if err != nil {
		return nil, copyErr(ctx, "HeadObject", src, dst, fullDst, err)
	}
	if ObjectType(oss.ToString(head.ObjectType)) == TypeSymlink || head.ContentLength <= 0 {
		// A link is copied as a link or not at all (and an empty
		// object is never too large): keep OSS's refusal.
		return nil, copyErr(ctx, "CopyObject", src, dst, fullDst, refused)
	}
	init := &oss.InitiateMultipartUploadRequest{Bucket: &c.bucket, Key: &fullDst, DisableAutoDetectMimeType: true}
	if opts.ReplaceMeta {
		init.Metadata = opts.Meta
		h := opts.Headers
		if h == nil {
			h = &Headers{ContentType: mime.TypeByExtension(path.Ext(dst))}
		}
		h.setInit(init)
	} else {
		init.Metadata = head.Metadata
		if opts.EditMeta != nil {
			init.Metadata = opts.EditMeta(headObject(src, head))
		}
		headersFrom(head.Headers).setInit(init)
	}
	ir, err := c.sdk.InitiateMultipartUpload(ctx, init)
	if err != nil {
		return nil, copyErr(ctx, "InitiateMultipartUpload", src, dst, fullDst, err)
	}
	id := oss.ToString(ir.UploadId)
	res, op, err := c.copyParts(ctx, fullSrc, fullDst, id, head)
	if err != nil {
		c.abortUpload(ctx, fullDst, id)
		return nil, copyErr(ctx, op, src, dst, fullDst, err)
	}
	o := &Object{Key: dst, Size: -1, ETag: unquote(oss.ToString(res.ETag)), ModTime: respTime(res.Headers)}
	return o, nil
}

// copyParts sends the UploadPartCopy requests of upload id and completes
// it. On failure it returns the failed operation's name.
func (c *Client) copyParts(ctx context.Context, fullSrc, fullDst, id string, head *oss.HeadObjectResult) (*oss.CompleteMultipartUploadResult, string, error) {
	size := head.ContentLength
	partSize := c.cfg.CopyPartSize
	for (size+partSize-1)/partSize > maxParts {
		partSize += c.cfg.CopyPartSize
	}
	n := int((size + partSize - 1) / partSize)
	parts := make([]oss.UploadPart, n)
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg    sync.WaitGroup
		once  sync.Once
		first error
	)
	sem := make(chan struct{}, c.cfg.UploadParallelism)
	for i := 0; i < n && pctx.Err() == nil; i++ {
		sem <- struct{}{}
		wg.Add(1)
		go func(i int) {
			defer func() { <-sem; wg.Done() }()
			off := int64(i) * partSize
			res, err := c.sdk.UploadPartCopy(pctx, &oss.UploadPartCopyRequest{
				Bucket: &c.bucket, Key: &fullDst, UploadId: &id, PartNumber: int32(i + 1),
				SourceKey: &fullSrc, IfMatch: head.ETag,
				Range: oss.Ptr(fmt.Sprintf("bytes=%d-%d", off, min(off+partSize, size)-1)),
			})
			if err != nil {
				once.Do(func() { first = err; cancel() })
				return
			}
			parts[i] = oss.UploadPart{PartNumber: int32(i + 1), ETag: res.ETag}
		}(i)
	}
	wg.Wait()
	if first == nil {
		first = ctx.Err() // ended before every part was sent
	}
	if first != nil {
		return nil, "UploadPartCopy", first
	}
	res, err := c.sdk.CompleteMultipartUpload(ctx, &oss.CompleteMultipartUploadRequest{
		Bucket: &c.bucket, Key: &fullDst, UploadId: &id,
		CompleteMultipartUpload: &oss.CompleteMultipartUpload{Parts: parts},
	})
	if err != nil {
		return nil, "CompleteMultipartUpload", err
	}
	return res, "", nil
}
