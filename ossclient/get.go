package ossclient

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
)

// Downloads: one GetObject per Get, and more only to resume a body cut off
// by a dropped connection (resumingBody).

// resumeProgress is how many bytes a resumed request must deliver before
// the count of resumes in a row starts again.
const resumeProgress = 256 << 10

// defaultResumeBackoff: the first resume at once (a dropped connection is
// usually a one-off), then 100 ms doubling.
func defaultResumeBackoff(n int) time.Duration {
	if n <= 1 {
		return 0
	}
	return min(100*time.Millisecond<<(n-2), 2*time.Second)
}

// Get is a GetObject of [off, off+length) (length < 0: to the end); see
// Bucket.Get.
func (c *Client) Get(ctx context.Context, key string, off, length int64, opts ReadOptions) (*Body, error) {
	const op = "GetObject"
	full, err := c.keys.full(op, key)
	if err != nil {
		return nil, err
	}
	if off < 0 {
		return nil, &Error{Kind: KindOther, Op: op, Key: key, Err: fmt.Errorf("negative offset %d", off)}
	}
	if length == 0 {
		return &Body{ReadCloser: emptyBody(), Object: Object{Key: key, Size: -1}}, nil
	}
	g, err := c.getRange(ctx, key, full, off, length, opts)
	if err != nil {
		return nil, err
	}
	if g.notModified {
		return &Body{ReadCloser: emptyBody(), Object: Object{Key: key, Size: -1, ETag: opts.IfNoneMatch}, NotModified: true}, nil
	}
	g.obj.Key = key
	end := int64(-1)
	if length > 0 {
		end = off + length
	}
	if g.obj.Size >= 0 && (end < 0 || end > g.obj.Size) {
		end = g.obj.Size
	}
	rb := &resumingBody{c: c, ctx: ctx, key: key, full: full, etag: g.obj.ETag, rc: g.body, pos: off, end: end}
	return &Body{ReadCloser: rb, Object: g.obj}, nil
}

// got is one GetObject's answer.
type got struct {
	obj         Object
	body        io.ReadCloser // exactly the bytes of the range asked (empty past the end)
	notModified bool
}

// getRange sends one GetObject for [off, off+length). A range starting at 0
// is sent without x-oss-range-behavior, so that an empty object answers
// 200 with its headers (the standard behaviour answers 416, which carries
// no version); any other range with the standard behaviour (a start past
// the end is an empty body, not the whole object).
func (c *Client) getRange(ctx context.Context, key, full string, off, length int64, opts ReadOptions) (*got, error) {
	const op = "GetObject"
	req := &oss.GetObjectRequest{Bucket: &c.bucket, Key: &full}
	if opts.IfMatch != "" {
		req.IfMatch = oss.Ptr(quote(opts.IfMatch))
	}
	if opts.IfNoneMatch != "" {
		req.IfNoneMatch = oss.Ptr(quote(opts.IfNoneMatch))
	}
	ranged := off > 0 || length > 0
	if ranged {
		r := fmt.Sprintf("bytes=%d-", off)
		if length > 0 {
			r += fmt.Sprint(off + length - 1)
		}
		req.Range = &r
		if off > 0 {
			req.RangeBehavior = oss.Ptr("standard")
		}
	}
	res, err := c.sdk.GetObject(ctx, req)
	if err != nil {
		var se *oss.ServiceError
		if errors.As(err, &se) {
			switch se.StatusCode {
			case http.StatusNotModified:
				return &got{notModified: true}, nil
			case http.StatusRequestedRangeNotSatisfiable:
				// No user metadata (nor, on OSS, a version) in a 416:
				// MetaUnknown, as the Object contract asks of a nil Meta.
				o := Object{Size: rangeTotal(se.Headers.Get("Content-Range"), -1), ETag: unquote(se.Headers.Get("ETag")), MetaUnknown: true}
				return &got{obj: o, body: emptyBody()}, nil
			}
		}
		return nil, convErr(ctx, op, key, full, err)
	}
	o := Object{
		ETag: unquote(oss.ToString(res.ETag)),
		Type: ObjectType(oss.ToString(res.ObjectType)),
		Meta: lowerMeta(res.Metadata),
		Size: res.ContentLength,

		StorageClass: oss.ToString(res.StorageClass),
		Headers:      headersFrom(res.Headers),
	}
	if res.LastModified != nil {
		o.ModTime = *res.LastModified
	}
	body := res.Body
	if res.StatusCode == http.StatusPartialContent {
		o.Size = rangeTotal(oss.ToString(res.ContentRange), -1)
	} else if ranged {
		// The range was ignored (or, at 0, the object is empty): cut the
		// window out of the whole body.
		if _, err := io.CopyN(io.Discard, res.Body, off); err != nil && err != io.EOF {
			res.Body.Close()
			return nil, convErr(ctx, op, key, full, err)
		}
		if length > 0 {
			body = readCloser{io.LimitReader(res.Body, length), res.Body}
		}
	}
	return &got{obj: o, body: body}, nil
}

// rangeTotal reads the total of a Content-Range ("bytes 0-9/44", "bytes
// */44"), or returns def.
func rangeTotal(cr string, def int64) int64 {
	_, total, ok := strings.Cut(cr, "/")
	if !ok {
		return def
	}
	n, err := strconv.ParseInt(strings.TrimSpace(total), 10, 64)
	if err != nil {
		return def
	}
	return n
}

func quote(etag string) string { return `"` + unquote(etag) + `"` }

func emptyBody() io.ReadCloser { return io.NopCloser(strings.NewReader("")) }

// resumingBody is a GET's body that survives dropped connections: a read
// error other than the end (io.EOF) or the caller's context ending closes
// the connection and asks for the rest from pos, If-Match the first
// answer's ETag, after Config.ResumeBackoff. More than Config.ReadResumes
// resumes in a row (without resumeProgress bytes in between) fail the read
// with the last connection error. Not safe for concurrent use (nor is any
// io.Reader).
type resumingBody struct {
	c               *Client
	ctx             context.Context
	key, full, etag string
	rc              io.ReadCloser // nil after a drop, until resumed
	pos, end        int64         // next byte; end of the range (-1: the object's end)
	since           int64         // bytes since the last (re)start
	drops           int           // resumes in a row
	cut             error         // the last connection error
	err             error         // sticky
}

func (b *resumingBody) Read(p []byte) (int, error) {
	for {
		if b.err != nil {
			return 0, b.err
		}
		if b.rc == nil {
			b.err = b.resume()
			continue
		}
		n, err := b.rc.Read(p)
		b.pos += int64(n)
		b.since += int64(n)
		switch {
		case err == nil || err == io.EOF:
			return n, err
		case b.ctx.Err() != nil:
			b.err = convErr(b.ctx, "GetObject", b.key, b.full, err)
			return n, b.err
		}
		b.rc.Close()
		b.rc, b.cut = nil, err
		if n > 0 {
			return n, nil
		}
	}
}

// resume replaces the dropped connection with a GET of the rest.
func (b *resumingBody) resume() error {
	const op = "GetObject"
	if b.since >= resumeProgress {
		b.drops = 0
	}
	b.drops++
	if b.etag == "" || b.drops > b.c.cfg.ReadResumes {
		b.c.log.Warn("download cut off, not resumed", "op", op, "key", b.key, "at", b.pos, "resumes", b.drops-1, "err", b.cut)
		return &Error{Kind: KindOther, Op: op, Key: b.key, Err: fmt.Errorf("connection dropped at byte %d after %d resumes: %w", b.pos, b.drops-1, b.cut)}
	}
	b.c.log.Debug("resuming a cut-off download", "op", op, "key", b.key, "at", b.pos, "resume", b.drops, "err", b.cut)
	backoff := b.c.cfg.ResumeBackoff
	if backoff == nil {
		backoff = defaultResumeBackoff
	}
	if d := backoff(b.drops); d > 0 {
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-b.ctx.Done():
			t.Stop()
			return fmt.Errorf("%s %q: %w", op, b.key, b.ctx.Err())
		}
	}
	length := int64(-1)
	if b.end >= 0 {
		if length = b.end - b.pos; length <= 0 {
			b.rc = emptyBody()
			return nil
		}
	}
	// A resume never starts at 0 with the standard behaviour off: pos > 0
	// unless the first answer's body was cut before its first byte, when
	// the non-standard 0 range is as right as at first.
	g, err := b.c.getRange(b.ctx, b.key, b.full, b.pos, length, ReadOptions{IfMatch: b.etag})
	if err != nil {
		return err
	}
	b.rc, b.since = g.body, 0
	return nil
}

func (b *resumingBody) Close() error {
	if b.rc == nil {
		return nil
	}
	return b.rc.Close()
}
