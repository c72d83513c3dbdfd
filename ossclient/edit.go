package ossclient

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"path"
	"sync"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
)

// Editor is a Bucket that can change part of a large object without moving
// the rest of it: the unchanged ranges are copied server-side. *Client
// implements it (and cache.Bucket passes it through).
type Editor interface {
	// Head returns key's current version, never from a cache (a HEAD).
	Head(ctx context.Context, key string) (*Object, error)

	// ReadIf is Read of version etag only: when key's ETag is another one
	// it fails with ErrPreconditionFailed and yields no byte.
	ReadIf(ctx context.Context, key, etag string, off, length int64) (io.ReadCloser, error)

	// Edit replaces key, whose current version has ETag base, with a new
	// object of size bytes: the ranges in changed (sorted, disjoint) are
	// read from data at their own offsets, every other byte is base's byte
	// at the same offset (so changed must cover whatever lies past base's
	// size). It is one multipart upload: unchanged ranges are
	// UploadPartCopy of key conditional on base
	// (x-oss-copy-source-if-match), changed ones UploadPart; an unchanged
	// gap too short for a part of its own (OSS's minimum is 100 KiB) is
	// read from base (conditional on it too) and sent with its neighbour.
	// A base replaced meanwhile is ErrPreconditionFailed. On any failure
	// the upload is aborted: key is left as it was and no upload stays
	// open (unless the abort itself fails: logged with the upload id).
	Edit(ctx context.Context, key, base string, size int64, changed []Extent, data io.ReaderAt, opts PutOptions) (*Object, error)
}

var _ Editor = (*Client)(nil)

// Head is Stat; on a Client nothing is cached.
func (c *Client) Head(ctx context.Context, key string) (*Object, error) { return c.Stat(ctx, key) }

// ReadIf is Get with If-Match; see Editor.ReadIf.
func (c *Client) ReadIf(ctx context.Context, key, etag string, off, length int64) (io.ReadCloser, error) {
	b, err := c.Get(ctx, key, off, length, ReadOptions{IfMatch: etag})
	if err != nil {
		return nil, err
	}
	return b.ReadCloser, nil
}

func quoteETag(etag string) string { return `"` + etag + `"` }

// Edit sends the multipart upload that Editor.Edit describes, its parts
// planned by planEdit (new bytes in parts of Config.PartSize, copies of
// CopyPartSize) and sent UploadParallelism at a time.
func (c *Client) Edit(ctx context.Context, key, base string, size int64, changed []Extent, data io.ReaderAt, opts PutOptions) (*Object, error) {
	const op = "MultipartUpload"
	full, err := c.keys.full(op, key)
	if err != nil {
		return nil, err
	}
	ct := opts.ContentType
	if ct == "" {
		ct = mime.TypeByExtension(path.Ext(key))
	}
	init := &oss.InitiateMultipartUploadRequest{Bucket: &c.bucket, Key: &full, Metadata: opts.Meta, DisableAutoDetectMimeType: true}
	if ct != "" {
		init.ContentType = &ct
	}
	ir, err := c.sdk.InitiateMultipartUpload(ctx, init)
	if err != nil {
		return nil, convErr(ctx, "InitiateMultipartUpload", key, full, err)
	}
	id := oss.ToString(ir.UploadId)
	// Copies of CopyPartSize: a copy part is one request that moves no
	// data here but takes OSS time in proportion to its size, and must
	// answer within ReadWriteTimeout (a 768 MiB part copy did not, on the
	// local server).
	plan := planEdit(size, changed, c.cfg.PartSize, c.cfg.CopyPartSize, minPartSize, maxParts)
	e := &edit{c: c, key: key, full: full, id: id, base: base, changed: changed, data: data}
	res, failed, err := e.send(ctx, plan)
	if err != nil {
		c.abortUpload(ctx, full, id)
		return nil, convErr(ctx, failed, key, full, err)
	}
	return &Object{
		Key: key, Size: size, ETag: unquote(oss.ToString(res.ETag)), ModTime: respTime(res.Headers),
		Type: TypeMultipart, Meta: copyMeta(opts.Meta),
	}, nil
}

// edit is one Edit's upload.
type edit struct {
	c             *Client
	key, full, id string
	base          string
	changed       []Extent
	data          io.ReaderAt
}

// send uploads the planned parts, UploadParallelism at a time, and
// completes the upload. On failure it returns the failed operation.
func (e *edit) send(ctx context.Context, plan []editPart) (*oss.CompleteMultipartUploadResult, string, error) {
	parts := make([]oss.UploadPart, len(plan))
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg      sync.WaitGroup
		once    sync.Once
		first   error
		firstOp string
	)
	sem := make(chan struct{}, e.c.cfg.UploadParallelism)
	for i := 0; i < len(plan) && pctx.Err() == nil; i++ {
		sem <- struct{}{}
		wg.Add(1)
		go func(i int) {
			defer func() { <-sem; wg.Done() }()
			etag, op, err := e.part(pctx, int32(i+1), plan[i])
			if err != nil {
				once.Do(func() { first, firstOp = err, op; cancel() })
				return
			}
			parts[i] = oss.UploadPart{PartNumber: int32(i + 1), ETag: etag}
		}(i)
	}
	wg.Wait()
	if first == nil && ctx.Err() != nil {
		first, firstOp = ctx.Err(), "UploadPart" // ended before every part was sent
	}
	if first != nil {
		return nil, firstOp, first
	}
	res, err := e.c.sdk.CompleteMultipartUpload(ctx, &oss.CompleteMultipartUploadRequest{
		Bucket: &e.c.bucket, Key: &e.full, UploadId: &e.id,
		CompleteMultipartUpload: &oss.CompleteMultipartUpload{Parts: parts},
	})
	if err != nil {
		return nil, "CompleteMultipartUpload", err
	}
	return res, "", nil
}

// part sends one planned part and returns its ETag.
func (e *edit) part(ctx context.Context, num int32, p editPart) (*string, string, error) {
	if p.copy {
		res, err := e.c.sdk.UploadPartCopy(ctx, &oss.UploadPartCopyRequest{
			Bucket: &e.c.bucket, Key: &e.full, UploadId: &e.id, PartNumber: num,
			SourceKey: &e.full, IfMatch: oss.Ptr(quoteETag(e.base)),
			Range: oss.Ptr(fmt.Sprintf("bytes=%d-%d", p.Off, p.Off+p.Len-1)),
		})
		if err != nil {
			return nil, "UploadPartCopy", err
		}
		return res.ETag, "", nil
	}
	buf := make([]byte, p.Len)
	if err := e.fill(ctx, buf, p.Off); err != nil {
		return nil, "GetObject", err
	}
	res, err := e.c.sdk.UploadPart(ctx, &oss.UploadPartRequest{
		Bucket: &e.c.bucket, Key: &e.full, UploadId: &e.id, PartNumber: num,
		Body: bytes.NewReader(buf), ContentLength: oss.Ptr(p.Len),
	})
	if err != nil {
		return nil, "UploadPart", err
	}
	return res.ETag, "", nil
}

// fill puts the new object's bytes at off into buf: the changed ranges
// from data, the rest from the base version (conditional on its ETag).
func (e *edit) fill(ctx context.Context, buf []byte, off int64) error {
	end := off + int64(len(buf))
	pos := off
	fromBase := func(to int64) error {
		if to <= pos {
			return nil
		}
		r, err := e.c.ReadIf(ctx, e.key, e.base, pos, to-pos)
		if err != nil {
			return err
		}
		defer r.Close()
		if _, err := io.ReadFull(r, buf[pos-off:to-off]); err != nil {
			return fmt.Errorf("reading bytes %d-%d of the base version: %w", pos, to-1, err)
		}
		pos = to
		return nil
	}
	for _, x := range e.changed {
		if x.End() <= pos || x.Off >= end {
			continue
		}
		if err := fromBase(max(x.Off, pos)); err != nil {
			return err
		}
		to := min(x.End(), end)
		if _, err := e.data.ReadAt(buf[pos-off:to-off], pos); err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		pos = to
	}
	return fromBase(end)
}
