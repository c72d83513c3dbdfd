package osstest

import (
	"fmt"
	"sort"
	"sync"
	"time"
)

// store is the bucket namespace over a backend: per bucket a sorted key
// index and the object metadata, the open multipart uploads, and a
// reference count per blob. One mutex guards it all; it is held for
// metadata work and local disk I/O (metadata files, blob removal), never
// while a request or response body moves over the network.
type store struct {
	be backend

	mu      sync.Mutex
	buckets map[string]*bucket // GUARDED_BY(mu)
	refs    map[string]int     // GUARDED_BY(mu); blob id -> objects, parts and readers using it
	now     func() time.Time   // Options.Clock
}

type bucket struct {
	name    string
	created time.Time
	keys    []string           // GUARDED_BY(store.mu); sorted by bytes
	objs    map[string]*object // GUARDED_BY(store.mu)
	uploads map[string]*upload // GUARDED_BY(store.mu)
}

func newStore(be backend, names []string, now func() time.Time) (*store, error) {
	s := &store{be: be, buckets: map[string]*bucket{}, refs: map[string]int{}, now: now}
	loaded, err := be.load()
	if err != nil {
		return nil, fmt.Errorf("osstest: loading stored objects: %w", err)
	}
	for name, objs := range loaded {
		b := s.addBucket(name)
		for _, o := range objs {
			normalize(o)
			b.objs[o.Key] = o
			b.keys = append(b.keys, o.Key)
			s.incref(o.Segments)
		}
		sort.Strings(b.keys)
	}
	for _, name := range names {
		if err := validBucketName(name); err != nil {
			return nil, err
		}
		if err := be.createBucket(name); err != nil {
			return nil, err
		}
		s.addBucket(name)
	}
	be.removeUnreferenced(s.refs)
	return s, nil
}

// normalize brings an object stored by an older version of the server to
// what the current one would have stored: whole-second times, and a
// symlink's size being the length of its target key.
func normalize(o *object) {
	o.Modified = o.Modified.UTC().Truncate(time.Second)
	if o.Type == typeSymlink {
		o.Size = int64(len(o.Target))
	}
}

func (s *store) addBucket(name string) *bucket {
	if b := s.buckets[name]; b != nil {
		return b
	}
	b := &bucket{name: name, created: s.stamp(), objs: map[string]*object{}, uploads: map[string]*upload{}}
	s.buckets[name] = b
	return b
}

func (s *store) hasBucket(name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buckets[name] != nil
}

func (s *store) bucketNames() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	names := make([]string, 0, len(s.buckets))
	for n := range s.buckets {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// LOCKS_REQUIRED(s.mu)
func (s *store) incref(segs []segment) {
	for _, sg := range segs {
		s.refs[sg.ID]++
	}
}

// LOCKS_REQUIRED(s.mu)
func (s *store) decref(segs []segment) {
	for _, sg := range segs {
		if s.refs[sg.ID]--; s.refs[sg.ID] <= 0 {
			delete(s.refs, sg.ID)
			s.be.remove(sg.ID)
		}
	}
}

// discard removes freshly written blobs that never became referenced (a
// put that failed its checks).
func (s *store) discard(segs []segment) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sg := range segs {
		if s.refs[sg.ID] == 0 {
			s.be.remove(sg.ID)
		}
	}
}

// LOCKS_REQUIRED(s.mu)
func (s *store) bucketLocked(name string) (*bucket, *ossError) {
	b := s.buckets[name]
	if b == nil {
		return nil, errNoSuchBucket()
	}
	return b, nil
}

// lookup returns the object stored at key, or nil.
func (s *store) lookup(bname, key string) (*object, *ossError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, e := s.bucketLocked(bname)
	if e != nil {
		return nil, e
	}
	return b.objs[key], nil
}

// commit stores the object that build makes from the current one (nil when
// the key is absent). build may refuse with an error (forbid-overwrite,
// append position); then nothing changes. Segments of the new object that
// are not referenced afterwards are removed on failure.
func (s *store) commit(bname, key string, build func(old *object) (*object, *ossError)) (*object, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, e := s.bucketLocked(bname)
	if e != nil {
		return nil, e
	}
	old := b.objs[key]
	o, e := build(old)
	if e != nil {
		return nil, e
	}
	if err := s.be.saveMeta(bname, o); err != nil {
		return nil, err
	}
	s.setLocked(b, o, old)
	return o, nil
}

// LOCKS_REQUIRED(s.mu)
func (s *store) setLocked(b *bucket, o, old *object) {
	s.incref(o.Segments)
	b.objs[o.Key] = o
	if old == nil {
		i := sort.SearchStrings(b.keys, o.Key)
		b.keys = append(b.keys, "")
		copy(b.keys[i+1:], b.keys[i:])
		b.keys[i] = o.Key
	} else {
		s.decref(old.Segments)
	}
}

// remove deletes key; deleting an absent key is not an error (as in OSS).
func (s *store) remove(bname, key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, e := s.bucketLocked(bname)
	if e != nil {
		return e
	}
	old := b.objs[key]
	if old == nil {
		return nil
	}
	if err := s.be.deleteMeta(bname, key); err != nil {
		return err
	}
	delete(b.objs, key)
	i := sort.SearchStrings(b.keys, key)
	b.keys = append(b.keys[:i], b.keys[i+1:]...)
	s.decref(old.Segments)
	return nil
}

// view is an object pinned for reading: its blobs stay on disk (or in
// memory) until release, whatever happens to the key meanwhile.
type view struct {
	link *object // the symlink that was followed, or nil
	obj  *object
	s    *store
}

func (v *view) release() {
	v.s.mu.Lock()
	v.s.decref(v.obj.Segments)
	v.s.mu.Unlock()
}

// get returns key's object, following a symlink when follow is set (OSS
// follows exactly one level: a link to a link is InvalidTargetType).
func (s *store) get(bname, key string, follow bool) (*view, *ossError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, e := s.bucketLocked(bname)
	if e != nil {
		return nil, e
	}
	o := b.objs[key]
	if o == nil {
		return nil, errNoSuchKey()
	}
	v := &view{obj: o, s: s}
	if follow && o.Type == typeSymlink {
		t := b.objs[o.Target]
		if t == nil {
			return nil, errSymlinkTargetNotExist()
		}
		if t.Type == typeSymlink {
			return nil, errInvalidTargetType()
		}
		v.link, v.obj = o, t
	}
	s.incref(v.obj.Segments)
	return v, nil
}
