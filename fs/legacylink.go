package fs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"syscall"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/ossfs/ossfs/fs/legacy"
	"github.com/ossfs/ossfs/fs/names"
	"github.com/ossfs/ossfs/ossclient"
)

// Links written by ossfs 1.x and s3fs (formats 1 and 2, package fs/legacy)
// are regular objects that only their metadata marks as links. A lookup of
// an object small enough to be one (under PATH_MAX) whose metadata it does
// not have reads it (Stat WithMeta: a HEAD unless the Bucket's cache knows
// it), so lookup and getattr always show such a link as a link. A listing
// carries no metadata: readdir shows it as a link once its metadata is
// known, and a READDIRPLUS answer for a small file whose metadata is unknown
// expires at once (entry timeout 0), so the next use looks the name up.
//
// readlink reads the text from the header (format 2) or the body (at most
// PATH_MAX bytes), and keeps it per key with the version it was read from:
// a warm readlink costs the Stat the cache answers, a cold one a HEAD and,
// for a text in the body, one GET.

// legacyTextEntries bounds the texts kept.
const legacyTextEntries = 4096

// legacyText is a legacy link's text and the version it was read from.
type legacyText struct {
	etag string
	sec  int64
	text string
}

func newLegacyTexts() *lru.Cache[string, legacyText] {
	c, err := lru.New[string, legacyText](legacyTextEntries)
	if err != nil {
		panic(err) // only for a size <= 0
	}
	return c
}

// maybeLegacy reports whether o, a non-link object, could be a legacy link
// whose metadata must be read to tell.
func (f *fsys) maybeLegacy(o *ossclient.Object) bool {
	return f.legacyLinks() && o.MetaUnknown && !o.IsSymlink() && o.Size < names.PathMax
}

// isLegacyLink reports whether o, an answer with metadata, is a legacy link.
func (f *fsys) isLegacyLink(o *ossclient.Object) bool {
	if !f.legacyLinks() || o.MetaUnknown || o.IsSymlink() || o.Size >= names.PathMax {
		return false
	}
	fm, _, _ := legacy.Classify(o.Meta)
	return fm != legacy.NotLink
}

// legacyLinks reports whether this mount reads legacy links: not with
// NoLegacyLinks, and not without metadata (PersistMetadata false), where no
// metadata is read at all.
func (f *fsys) legacyLinks() bool { return !f.opts.NoLegacyLinks && f.opts.PersistMetadata }

// errEmptyLegacy is a legacy link without a text (ossfs 1.x answers EIO).
var errEmptyLegacy = errors.New("legacy symlink without a text")

// readLegacy returns the text of the legacy link at key, and the link as a
// Symlink (its metadata, ETag and time; no Target). ErrNotSymlink when key
// is not a legacy link (a native link included).
func (f *fsys) readLegacy(ctx context.Context, key string) (string, *ossclient.Symlink, error) {
	o, err := f.bucket.Stat(ctx, key, ossclient.WithMeta)
	if err != nil {
		return "", nil, err
	}
	if !f.isLegacyLink(o) {
		return "", nil, fmt.Errorf("%q: %w", key, ossclient.ErrNotSymlink)
	}
	s := &ossclient.Symlink{Meta: o.Meta, ETag: o.ETag, ModTime: o.ModTime}
	fm, text, ok := legacy.Classify(o.Meta)
	if fm == legacy.Format2Header {
		if !ok {
			return "", nil, fmt.Errorf("%q: %w", key, errEmptyLegacy)
		}
		return text, s, nil
	}
	if t, hit := f.legacyTexts.Get(key); hit && t.etag == o.ETag && t.sec == o.ModTime.Unix() {
		return t.text, s, nil
	}
	b, err := f.bucket.Get(ctx, key, 0, names.PathMax, ossclient.ReadOptions{})
	if err != nil {
		return "", nil, err
	}
	body, err := io.ReadAll(b)
	b.Close()
	if err != nil {
		return "", nil, err
	}
	if text = legacy.BodyText(body); text == "" {
		return "", nil, fmt.Errorf("%q: %w", key, errEmptyLegacy)
	}
	// Kept with the version the body came from (the GET's own answer).
	f.legacyTexts.Add(key, legacyText{etag: b.Object.ETag, sec: b.Object.ModTime.Unix(), text: text})
	return text, s, nil
}

// setLegacyAttrs stores a legacy link's changed owner and times (lchown,
// lutimes) as chmod stores a file's: one metadata copy, which keeps it a
// legacy link.
func (l *linkNode) setLegacyAttrs(ctx context.Context, key string, s *ossclient.Symlink, a attrs) syscall.Errno {
	meta := map[string]string{}
	for k, v := range s.Meta {
		meta[k] = v
	}
	for k, v := range l.f.metaOf(a, syscall.S_IFLNK) {
		meta[k] = v
	}
	if _, err := l.f.bucket.Copy(ctx, key, key, ossclient.CopyOptions{ReplaceMeta: true, Meta: meta}); err != nil {
		return l.f.errno("setattr", key, err)
	}
	return 0
}
