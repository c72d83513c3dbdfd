package cache

import (
	"context"
	"io"

	"github.com/ossfs/ossfs/ossclient"
)

var _ ossclient.Editor = (*Bucket)(nil)

// editor returns the inner Bucket's Editor, or an error saying it has none.
func (b *Bucket) editor() (ossclient.Editor, error) {
	if e, ok := b.inner.(ossclient.Editor); ok {
		return e, nil
	}
	return nil, &ossclient.Error{Kind: ossclient.KindOther, Op: "Edit", Err: errNoEditor}
}

type noEditor struct{}

func (noEditor) Error() string { return "the wrapped bucket cannot edit objects in place" }

var errNoEditor error = noEditor{}

// CanEdit says whether the wrapped Bucket is an ossclient.Editor (the
// Editor methods of a Bucket that wraps one that is not fail).
func (b *Bucket) CanEdit() bool {
	_, ok := b.inner.(ossclient.Editor)
	return ok
}

// Head passes through: it is the inner Bucket's answer, never the cache's.
func (b *Bucket) Head(ctx context.Context, key string) (*ossclient.Object, error) {
	e, err := b.editor()
	if err != nil {
		return nil, err
	}
	return e.Head(ctx, key)
}

// ReadIf passes through: object bodies are not cached here.
func (b *Bucket) ReadIf(ctx context.Context, key, etag string, off, length int64) (io.ReadCloser, error) {
	e, err := b.editor()
	if err != nil {
		return nil, err
	}
	return e.ReadIf(ctx, key, etag, off, length)
}

// Edit changes key in place, then records the new object as Put does.
func (b *Bucket) Edit(ctx context.Context, key, base string, size int64, changed []ossclient.Extent, data io.ReaderAt, opts ossclient.PutOptions) (*ossclient.Object, error) {
	e, err := b.editor()
	if err != nil {
		return nil, err
	}
	m := b.begin(key)
	o, err := e.Edit(ctx, key, base, size, changed, data, opts)
	if err == nil && o != nil && o.Key == key {
		b.noteWritten(o, m)
	} else {
		b.invalidateEnd(m, true)
	}
	return o, err
}
