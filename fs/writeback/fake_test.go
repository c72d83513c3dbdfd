package writeback

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"sync"

	"github.com/ossfs/ossfs/ossclient"
)

// fakeStore is an in-memory Store with failure and stall hooks, for the
// state table tests (store_test.go runs the same against the local OSS
// server).
type fakeStore struct {
	mu    sync.Mutex
	objs  map[string][]byte            // GUARDED_BY(mu)
	metas map[string]map[string]string // GUARDED_BY(mu)
	calls map[string]int               // GUARDED_BY(mu)
	etags int                          // GUARDED_BY(mu)

	// putFail: every Put fails after reading this many body bytes (< 0:
	// none fail). readFail: every Read fails. GUARDED_BY(mu)
	putFail  int
	readFail bool
	// readGate, when set, makes a Read wait for it (or for its ctx) after
	// signalling readStarted. GUARDED_BY(mu)
	readGate    chan struct{}
	readStarted chan struct{}
}

var errInjected = errors.New("injected failure")

func newFakeStore() *fakeStore {
	return &fakeStore{objs: map[string][]byte{}, metas: map[string]map[string]string{}, calls: map[string]int{}, putFail: -1}
}

func (s *fakeStore) count(op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[op]
}

func (s *fakeStore) object(key string) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.objs[key]
	return b, ok
}

func (s *fakeStore) set(fn func(s *fakeStore)) {
	s.mu.Lock()
	fn(s)
	s.mu.Unlock()
}

func (s *fakeStore) store(key string, b []byte, meta map[string]string) *ossclient.Object {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.objs[key] = b
	s.metas[key] = maps.Clone(meta)
	s.etags++
	return &ossclient.Object{Key: key, Size: int64(len(b)), ETag: fmt.Sprintf("etag-%d", s.etags)}
}

func (s *fakeStore) Put(ctx context.Context, key string, r io.Reader, opts ossclient.PutOptions) (*ossclient.Object, error) {
	s.mu.Lock()
	s.calls["Put"]++
	fail := s.putFail
	s.mu.Unlock()
	var body []byte
	var err error
	if fail >= 0 {
		body, err = io.ReadAll(io.LimitReader(r, int64(fail)))
		if err == nil {
			err = errInjected
		}
	} else {
		body, err = io.ReadAll(r)
	}
	if err != nil {
		return nil, err // an abandoned or failed stream: nothing stored
	}
	meta := opts.Meta
	if opts.MetaAtSend != nil { // as a PutObject: after the whole body
		meta = opts.MetaAtSend()
	}
	return s.store(key, body, meta), nil
}

func (s *fakeStore) Read(ctx context.Context, key string, off, length int64) (io.ReadCloser, error) {
	s.mu.Lock()
	s.calls["Read"]++
	gate, started, fail := s.readGate, s.readStarted, s.readFail
	s.mu.Unlock()
	if gate != nil {
		close(started)
		select {
		case <-gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if fail {
		return nil, errInjected
	}
	b, ok := s.object(key)
	if !ok {
		return nil, ossclient.ErrNotFound
	}
	b = b[min(off, int64(len(b))):]
	if length >= 0 && int64(len(b)) > length {
		b = b[:length]
	}
	return io.NopCloser(bytes.NewReader(b)), nil
}

func (s *fakeStore) Copy(ctx context.Context, src, dst string, opts ossclient.CopyOptions) (*ossclient.Object, error) {
	s.mu.Lock()
	s.calls["Copy"]++
	b, ok := s.objs[src]
	meta := s.metas[src]
	s.mu.Unlock()
	if !ok {
		return nil, ossclient.ErrNotFound
	}
	if opts.ReplaceMeta {
		meta = opts.Meta
	}
	return s.store(dst, b, meta), nil
}

func (s *fakeStore) Delete(ctx context.Context, key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls["Delete"]++
	delete(s.objs, key)
	delete(s.metas, key)
	return nil
}

// fakeHost is a file whose key and metadata the test sets.
type fakeHost struct {
	mu      sync.Mutex
	key     string            // GUARDED_BY(mu)
	gone    bool              // GUARDED_BY(mu): unlinked from the tree
	meta    map[string]string // GUARDED_BY(mu)
	uploads []int64           // GUARDED_BY(mu): sizes passed to Uploaded
	etag    string            // GUARDED_BY(mu)
}

func (h *fakeHost) Key() (string, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.key, !h.gone
}

func (h *fakeHost) Meta() map[string]string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return maps.Clone(h.meta)
}

func (h *fakeHost) Uploaded(obj *ossclient.Object, size int64) {
	h.mu.Lock()
	h.uploads = append(h.uploads, size)
	h.etag = obj.ETag
	h.mu.Unlock()
}

func (h *fakeHost) MetaStored(obj *ossclient.Object) {
	h.mu.Lock()
	h.etag = obj.ETag
	h.mu.Unlock()
}

func (h *fakeHost) set(fn func(h *fakeHost)) {
	h.mu.Lock()
	fn(h)
	h.mu.Unlock()
}

// state names the File's state as the package doc draws it.
func (f *File) state() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case f.lost != nil:
		return "Lost"
	case f.file != nil:
		return "Staged"
	case f.stream != nil:
		return "Streaming"
	case f.size > 0:
		return "Uploaded"
	}
	return "Empty"
}
