package cache

import (
	"context"
	"io"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ossfs/ossfs/ossclient"
)

// gated wraps a Bucket so that a test can hold one call of an operation
// after the inner call returned and before its result reaches the cache:
// arm(op) makes the next call of op signal on reached and wait for release
// (or its context). Used only for the deterministic race tests.
type gated struct {
	ossclient.Bucket
	mu      sync.Mutex
	armed   map[string]bool // GUARDED_BY(mu)
	reached chan string
	release chan struct{}
	calls   sync.Map // op -> *atomic.Int64

	symNow, symMax atomic.Int64 // GetSymlink calls in the inner Bucket now, at most
}

func newGated(inner ossclient.Bucket) *gated {
	return &gated{Bucket: inner, armed: map[string]bool{},
		reached: make(chan string, 16), release: make(chan struct{})}
}

func (g *gated) arm(op string) {
	g.mu.Lock()
	g.armed[op] = true
	g.mu.Unlock()
}

func (g *gated) count(op string) int64 {
	v, _ := g.calls.LoadOrStore(op, new(atomic.Int64))
	return v.(*atomic.Int64).Load()
}

// hold counts the call and, when op is armed, disarms it and blocks.
func (g *gated) hold(ctx context.Context, op string) error {
	v, _ := g.calls.LoadOrStore(op, new(atomic.Int64))
	v.(*atomic.Int64).Add(1)
	g.mu.Lock()
	armed := g.armed[op]
	delete(g.armed, op)
	g.mu.Unlock()
	if !armed {
		return nil
	}
	g.reached <- op
	select {
	case <-g.release:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// waitReached waits for a held call of op.
func (g *gated) waitReached(op string) bool {
	select {
	case got := <-g.reached:
		return got == op
	case <-time.After(10 * time.Second):
		return false
	}
}

func (g *gated) Stat(ctx context.Context, key string, opts ...ossclient.StatOption) (*ossclient.Object, error) {
	o, err := g.Bucket.Stat(ctx, key, opts...)
	if herr := g.hold(ctx, "Stat"); herr != nil {
		return nil, herr
	}
	return o, err
}

func (g *gated) List(ctx context.Context, prefix string, opts ossclient.ListOptions) (*ossclient.Listing, error) {
	l, err := g.Bucket.List(ctx, prefix, opts)
	if herr := g.hold(ctx, "List"); herr != nil {
		return nil, herr
	}
	return l, err
}

func (g *gated) Copy(ctx context.Context, src, dst string, opts ossclient.CopyOptions) (*ossclient.Object, error) {
	o, err := g.Bucket.Copy(ctx, src, dst, opts)
	if herr := g.hold(ctx, "Copy"); herr != nil {
		return nil, herr
	}
	return o, err
}

func (g *gated) GetSymlink(ctx context.Context, key string) (*ossclient.Symlink, error) {
	n := g.symNow.Add(1)
	for m := g.symMax.Load(); n > m && !g.symMax.CompareAndSwap(m, n); m = g.symMax.Load() {
	}
	s, err := g.Bucket.GetSymlink(ctx, key)
	g.symNow.Add(-1)
	if herr := g.hold(ctx, "GetSymlink"); herr != nil {
		return nil, herr
	}
	return s, err
}

// memBucket is a minimal in-memory Bucket, used only under gated in the
// race tests (request counts are tested against the real server).
type memBucket struct {
	mu   sync.Mutex
	objs map[string]memObj // GUARDED_BY(mu)
}

type memObj struct {
	data   string
	target string // non-empty: a symlink
	mod    time.Time
}

func newMemBucket() *memBucket { return &memBucket{objs: map[string]memObj{}} }

func notFound(op, key string) error {
	return &ossclient.Error{Kind: ossclient.KindNotFound, Op: op, Key: key, Code: "NoSuchKey", Status: 404}
}

func (m *memBucket) object(key string, o memObj) ossclient.Object {
	t := ossclient.TypeNormal
	if o.target != "" {
		t = ossclient.TypeSymlink
	}
	return ossclient.Object{Key: key, Size: int64(len(o.data)), ETag: key + "|" + o.data + "|" + o.target, Type: t, ModTime: o.mod}
}

func (m *memBucket) Stat(_ context.Context, key string, _ ...ossclient.StatOption) (*ossclient.Object, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	o, ok := m.objs[key]
	if !ok {
		return nil, notFound("HeadObject", key)
	}
	obj := m.object(key, o)
	obj.Meta = map[string]string{}
	return &obj, nil
}

func (m *memBucket) List(_ context.Context, prefix string, opts ossclient.ListOptions) (*ossclient.Listing, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	l := &ossclient.Listing{}
	seen := map[string]bool{}
	for k, o := range m.objs {
		if !strings.HasPrefix(k, prefix) {
			continue
		}
		rest := k[len(prefix):]
		if i := strings.IndexByte(rest, '/'); i >= 0 && !opts.Recursive {
			p := prefix + rest[:i+1]
			if !seen[p] {
				seen[p] = true
				l.Prefixes = append(l.Prefixes, p)
			}
			continue
		}
		obj := m.object(k, o)
		obj.MetaUnknown = true
		l.Objects = append(l.Objects, obj)
	}
	sort.Slice(l.Objects, func(i, j int) bool { return l.Objects[i].Key < l.Objects[j].Key })
	sort.Strings(l.Prefixes)
	return l, nil
}

func (m *memBucket) Read(_ context.Context, key string, off, length int64) (io.ReadCloser, error) {
	return nil, &ossclient.Error{Kind: ossclient.KindOther, Op: "GetObject", Key: key}
}

func (m *memBucket) Get(_ context.Context, key string, off, length int64, _ ossclient.ReadOptions) (*ossclient.Body, error) {
	return nil, &ossclient.Error{Kind: ossclient.KindOther, Op: "GetObject", Key: key}
}

func (m *memBucket) Put(_ context.Context, key string, r io.Reader, _ ossclient.PutOptions) (*ossclient.Object, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.objs[key] = memObj{data: string(b)}
	o := m.object(key, m.objs[key])
	return &o, nil
}

func (m *memBucket) Copy(_ context.Context, src, dst string, _ ossclient.CopyOptions) (*ossclient.Object, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	o, ok := m.objs[src]
	if !ok {
		return nil, notFound("CopyObject", src)
	}
	m.objs[dst] = o
	obj := m.object(dst, o)
	return &obj, nil
}

func (m *memBucket) Delete(_ context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.objs, key)
	return nil
}

func (m *memBucket) DeleteMany(ctx context.Context, keys []string) error {
	for _, k := range keys {
		m.Delete(ctx, k)
	}
	return nil
}

func (m *memBucket) PutSymlink(_ context.Context, key, target string, _ ossclient.SymlinkOptions) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.objs[key] = memObj{target: target}
	return nil
}

func (m *memBucket) GetSymlink(_ context.Context, key string) (*ossclient.Symlink, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	o, ok := m.objs[key]
	if !ok {
		return nil, notFound("GetSymlink", key)
	}
	if o.target == "" {
		return nil, &ossclient.Error{Kind: ossclient.KindNotSymlink, Op: "GetSymlink", Key: key}
	}
	return &ossclient.Symlink{Target: o.target, Meta: map[string]string{}}, nil
}
