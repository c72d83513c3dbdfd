package ossclient

import (
	"context"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
)

// maxListKeys is OSS's largest page.
const maxListKeys = 1000

// List pages through ListObjectsV2 with the SDK paginator; see Bucket.List.
// The SDK asks for encoding-type=url and decodes keys and prefixes. With a
// Limit below 1,000 each page asks for max-keys = Limit, so a Limit 1 probe
// is one small request.
func (c *Client) List(ctx context.Context, prefix string, opts ListOptions) (*Listing, error) {
	const op = "ListObjectsV2"
	full := c.keys.under(prefix)
	if len(full) > maxKeyLen {
		return nil, &Error{Kind: KindNameTooLong, Op: op, Key: prefix}
	}
	req := &oss.ListObjectsV2Request{Bucket: &c.bucket}
	if full != "" {
		req.Prefix = &full
	}
	if !opts.Recursive {
		req.Delimiter = oss.Ptr("/")
	}
	if opts.StartAfter != "" {
		req.StartAfter = oss.Ptr(c.keys.under(opts.StartAfter))
	}
	pageSize := int32(maxListKeys)
	if opts.Limit > 0 && opts.Limit < maxListKeys {
		pageSize = int32(opts.Limit)
	}
	p := c.sdk.NewListObjectsV2Paginator(req, func(o *oss.PaginatorOptions) { o.Limit = pageSize })
	l := &Listing{}
	for p.HasNext() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, convErr(ctx, op, prefix, full, err)
		}
		c.addPage(l, page)
		if opts.Limit > 0 && len(l.Objects)+len(l.Prefixes) >= opts.Limit {
			break
		}
	}
	return l, nil
}

// addPage appends one page, with keys made relative to the mount prefix.
func (c *Client) addPage(l *Listing, page *oss.ListObjectsV2Result) {
	for _, o := range page.Contents {
		k, ok := c.keys.rel(oss.ToString(o.Key))
		if !ok {
			c.log.Warn("oss listing returned a key outside the prefix", "key", oss.ToString(o.Key))
			continue
		}
		obj := Object{
			Key:  k,
			Size: o.Size,
			ETag: unquote(oss.ToString(o.ETag)),
			Type: ObjectType(oss.ToString(o.Type)),

			MetaUnknown: true,
		}
		if o.LastModified != nil {
			obj.ModTime = *o.LastModified
		}
		l.Objects = append(l.Objects, obj)
	}
	for _, cp := range page.CommonPrefixes {
		k, ok := c.keys.rel(oss.ToString(cp.Prefix))
		if !ok {
			c.log.Warn("oss listing returned a prefix outside the prefix", "prefix", oss.ToString(cp.Prefix))
			continue
		}
		l.Prefixes = append(l.Prefixes, k)
	}
}
