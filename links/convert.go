// Package links converts symlinks between the formats ossfs 1.x (and s3fs)
// wrote and native OSS symlinks, in place, over a whole bucket or prefix.
//
// To native (the default direction): a listing of the prefix (one
// ListObjectsV2 page per 1,000 keys) names the candidates: objects that are
// not already native links or directory markers and are shorter than
// PATH_MAX (a legacy link's body is at most its text). Each candidate is
// read with one GetObject (ossclient's Get: headers and body in one response,
// conditional on the ETag the listing reported). Package fs/legacy decides from the
// metadata whether it is a link and in which format; a regular file is
// never written. A link is rewritten with one PutSymlink whose target key
// and stored text come from names.Mapper.Native, the code path ln -s on the
// mount uses, and which keeps the object's other user metadata (mode, mtime,
// uid, gid, xattrs).
//
// To legacy (--to legacy): each native link (listed with Type Symlink) is
// read with one GetSymlink and, unless its ETag changed since the listing,
// rewritten with one PutObject as format 1 (mode S_IFLNK, body = the text
// the mount's readlink returns).
//
// # Safety
//
// OSS offers no conditional overwrite for PutSymlink or PutObject: the only
// write precondition they take is x-oss-forbid-overwrite, which refuses any
// existing object. So the read is conditional (If-Match on the listed ETag
// for GetObject; the link's ETag compared for GetSymlink) and the write
// follows immediately. An object changed before the read is skipped and
// reported; a change that lands between the read and the write (one round
// trip) is replaced by the link. Run the converter when no client is writing
// links' keys, or on a versioned bucket, where the overwritten version stays.
//
// A rerun finds nothing left to convert: converted objects are native links
// (not candidates to native) or format 1 objects (not candidates to legacy).
package links

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/ossfs/ossfs/fs/legacy"
	"github.com/ossfs/ossfs/fs/names"
	"github.com/ossfs/ossfs/ossclient"
)

// Store is the part of a bucket the converter uses; *ossclient.Client
// implements it.
type Store interface {
	List(ctx context.Context, prefix string, opts ossclient.ListOptions) (*ossclient.Listing, error)
	Get(ctx context.Context, key string, off, length int64, opts ossclient.ReadOptions) (*ossclient.Body, error)
	GetSymlink(ctx context.Context, key string) (*ossclient.Symlink, error)
	PutSymlink(ctx context.Context, key, target string, opts ossclient.SymlinkOptions) error
	Put(ctx context.Context, key string, r io.Reader, opts ossclient.PutOptions) (*ossclient.Object, error)
}

// Direction is what the converter writes.
type Direction string

// The directions.
const (
	ToNative Direction = "native"
	ToLegacy Direction = "legacy"
)

// Options say what Run does. The zero value is a dry run to native links.
type Options struct {
	// To is the format written. Default "" = ToNative.
	To Direction
	// Apply writes; default false: a dry run that reads and reports only.
	Apply bool
	// Mapper maps link texts to target keys as the mount does: Mountpoint is
	// where the links' absolute texts saw the prefix mounted (ossfs 1.x's
	// mountpoint), PrefixDepth the number of segments of the prefix.
	// Default zero: every absolute text points outside the bucket.
	Mapper names.Mapper
	// Parallel is the number of objects converted at once. Default 0 = 32.
	Parallel int
	// ACL and StorageClass of the native links written, as the mount's
	// --symlink-acl and --symlink-storage-class. Default "": not sent.
	ACL, StorageClass string
	// OnItem, when not nil, is called once per candidate processed, one
	// call at a time.
	OnItem func(Item)
	// OnListed, when not nil, is called once with the number of candidates
	// after the listing.
	OnListed func(candidates int)
}

// Action is what happened to one candidate.
type Action int

// The actions.
const (
	NotLink      Action = iota // a regular file: left alone
	WouldConvert               // dry run: a link that Apply would rewrite
	Converted                  // rewritten
	Changed                    // changed (or deleted) since the listing: skipped
	Invalid                    // a damaged link (empty or too long a text): skipped
	Failed                     // the read or the write failed: Err says why
)

func (a Action) String() string {
	return [...]string{"not a link", "would convert", "converted", "skipped (changed since listed)",
		"skipped (invalid link)", "failed"}[a]
}

// Item is one candidate's outcome.
type Item struct {
	Key    string
	Action Action
	// Format is the legacy format found (ToNative), or NotLink for a native
	// link read for ToLegacy.
	Format legacy.Format
	// Text is the link's text; Target the native target key (ToNative).
	Text, Target string
	// Outside: the text points outside the bucket (ToNative).
	Outside bool
	Err     error
}

// Summary counts what Run saw and did.
type Summary struct {
	Objects    int // listed, directory markers included
	Candidates int // read (one request each)
	Regular    int // candidates that were regular files
	Found      map[legacy.Format]int
	Native     int // native links found (ToLegacy)
	// Inside counts links whose target is in the bucket; Outside those
	// whose text points outside it (ToNative).
	Inside, Outside int
	WouldConvert    int
	Converted       int
	Changed         int
	Invalid         int
	Failed          int
}

// Links is the number of links found.
func (s Summary) Links() int {
	n := s.Native
	for _, c := range s.Found {
		n += c
	}
	return n
}

// Run lists everything under the Store's prefix and converts its links as
// opts say. It returns the first listing error; per-object failures are
// counted in the Summary (and reported through OnItem), not returned.
func Run(ctx context.Context, s Store, opts Options) (Summary, error) {
	sum := Summary{Found: map[legacy.Format]int{}}
	l, err := s.List(ctx, "", ossclient.ListOptions{Recursive: true})
	if err != nil {
		return sum, fmt.Errorf("listing the bucket: %w", err)
	}
	sum.Objects = len(l.Objects)
	var cands []ossclient.Object
	for _, o := range l.Objects {
		if isCandidate(o, opts.To) {
			cands = append(cands, o)
		}
	}
	sum.Candidates = len(cands)
	if opts.OnListed != nil {
		opts.OnListed(len(cands))
	}
	par := opts.Parallel
	if par <= 0 {
		par = 32
	}
	work := make(chan ossclient.Object)
	var mu sync.Mutex // serialises OnItem and the counts
	var wg sync.WaitGroup
	for range min(par, max(len(cands), 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for o := range work {
				it := convertOne(ctx, s, o, opts)
				mu.Lock()
				sum.add(it)
				if opts.OnItem != nil {
					opts.OnItem(it)
				}
				mu.Unlock()
			}
		}()
	}
	for _, o := range cands {
		if ctx.Err() != nil {
			break
		}
		work <- o
	}
	close(work)
	wg.Wait()
	return sum, ctx.Err()
}

func isCandidate(o ossclient.Object, to Direction) bool {
	if to == ToLegacy {
		return o.IsSymlink()
	}
	return !o.IsSymlink() && !strings.HasSuffix(o.Key, "/") && o.Size < names.PathMax
}

func (s *Summary) add(it Item) {
	switch it.Action {
	case NotLink:
		s.Regular++
		return
	case Changed:
		s.Changed++
		return
	case Failed:
		s.Failed++
		if it.Text == "" {
			return // failed before the object was known to be a link
		}
	case Invalid:
		s.Invalid++
	case WouldConvert:
		s.WouldConvert++
	case Converted:
		s.Converted++
	}
	if it.Format == legacy.NotLink {
		s.Native++
	} else {
		s.Found[it.Format]++
	}
	if it.Action == Invalid || it.Text == "" {
		return
	}
	if it.Outside {
		s.Outside++
	} else {
		s.Inside++
	}
}

func convertOne(ctx context.Context, s Store, o ossclient.Object, opts Options) Item {
	if opts.To == ToLegacy {
		return toLegacy(ctx, s, o, opts)
	}
	return toNative(ctx, s, o, opts)
}

// changed reports whether err says the object is not what the listing saw.
func changed(err error) bool {
	return errors.Is(err, ossclient.ErrPreconditionFailed) || errors.Is(err, ossclient.ErrNotFound) ||
		errors.Is(err, errGrown) || errors.Is(err, ossclient.ErrNotSymlink) ||
		errors.Is(err, ossclient.ErrDanglingSymlink)
}

func toNative(ctx context.Context, s Store, o ossclient.Object, opts Options) Item {
	it := Item{Key: o.Key}
	obj, body, err := readSmall(ctx, s, o)
	if err != nil {
		return fail(it, err)
	}
	if obj.IsSymlink() {
		it.Action = Changed // became a link since the listing
		return it
	}
	f, htext, ok := legacy.Classify(obj.Meta)
	it.Format = f
	switch f {
	case legacy.NotLink:
		return it
	case legacy.Format2Header:
		it.Text = htext
	default:
		it.Text, ok = legacy.BodyText(body), true
	}
	if !ok || it.Text == "" {
		it.Action, it.Err = Invalid, errors.New("empty link text")
		return it
	}
	n, err := opts.Mapper.Native(o.Key, it.Text)
	if err != nil {
		it.Action, it.Err = Invalid, fmt.Errorf("link text: %w", err)
		return it
	}
	it.Target, it.Outside = n.Target, n.Outside
	if !opts.Apply {
		it.Action = WouldConvert
		return it
	}
	meta := legacy.NativeMeta(obj.Meta)
	delete(meta, names.MetaSymlink)
	for k, v := range n.Meta {
		meta[k] = v
	}
	err = s.PutSymlink(ctx, o.Key, n.Target, ossclient.SymlinkOptions{
		ACL: opts.ACL, StorageClass: opts.StorageClass, Meta: meta,
	})
	if err != nil {
		return fail(it, err)
	}
	it.Action = Converted
	return it
}

// errGrown: the object is larger than the listing said (so, changed).
var errGrown = errors.New("object larger than listed")

// readSmall reads a candidate's metadata and body in one GetObject,
// conditional on the ETag the listing reported (a changed object is
// ErrPreconditionFailed and sends no byte).
func readSmall(ctx context.Context, s Store, o ossclient.Object) (*ossclient.Object, []byte, error) {
	b, err := s.Get(ctx, o.Key, 0, names.PathMax, ossclient.ReadOptions{IfMatch: o.ETag})
	if err != nil {
		return nil, nil, err
	}
	defer b.Close()
	if b.Object.Size >= names.PathMax {
		return nil, nil, fmt.Errorf("%q: %w", o.Key, errGrown)
	}
	body, err := io.ReadAll(b)
	if err != nil {
		return nil, nil, err
	}
	return &b.Object, body, nil
}

func toLegacy(ctx context.Context, s Store, o ossclient.Object, opts Options) Item {
	it := Item{Key: o.Key}
	l, err := s.GetSymlink(ctx, o.Key)
	if err != nil {
		return fail(it, err)
	}
	if l.ETag != o.ETag {
		it.Action = Changed
		return it
	}
	it.Text = opts.Mapper.ReadlinkMeta(o.Key, l.Target, l.Meta)
	it.Target = l.Target
	if legacy.BodyText([]byte(it.Text)) != it.Text {
		// ossfs 1.x trims the body it reads: this text would not survive.
		it.Action, it.Err = Invalid, errors.New("a text with leading or trailing white space has no format 1 form")
		return it
	}
	if !opts.Apply {
		it.Action = WouldConvert
		return it
	}
	meta := legacy.Format1Meta(l.Meta)
	delete(meta, names.MetaSymlink)
	if _, err := s.Put(ctx, o.Key, strings.NewReader(it.Text), ossclient.PutOptions{Meta: meta}); err != nil {
		return fail(it, err)
	}
	it.Action = Converted
	return it
}

func fail(it Item, err error) Item {
	if changed(err) {
		it.Action = Changed
	} else {
		it.Action = Failed
	}
	it.Err = err
	return it
}
