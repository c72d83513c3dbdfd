package datacache

import (
	"container/list"
	"errors"
	"fmt"
	"hash/crc32"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"sync"

	"golang.org/x/sys/unix"
)

// BlockSize is the unit of caching: blocks start at multiples of it.
const BlockSize = 64 << 10

// DefaultSize is Options.Size's default.
const DefaultSize = 1 << 30

// Options configure a Cache.
type Options struct {
	// Dir is where the cache keeps its files (in a subdirectory of its
	// own). Required; created when missing.
	Dir string
	// Size bounds the bytes cached; least recently used blocks are evicted
	// past it. Default DefaultSize (1 GiB).
	Size int64
	// Logger receives the warnings of faults. Default slog.Default().
	Logger *slog.Logger
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Cache is the index of the cached blocks, shared by every reader of a
// mount. Safe for concurrent use.
//
// Lock order: Cache.mu only; no file I/O is done under it.
type Cache struct {
	dir   string   // this cache's own subdirectory of Options.Dir
	lock  *os.File // flocked while the cache is open
	limit int64
	log   *slog.Logger

	mu      sync.Mutex
	entries map[string]*entry // GUARDED_BY(mu): key -> its newest version
	lru     *list.List        // GUARDED_BY(mu): of *block, most recent first
	used    int64             // GUARDED_BY(mu): bytes of ready and reserved blocks
	nextID  uint64            // GUARDED_BY(mu)
	// A fault is logged once, then not again until the cache has worked:
	// readFailing until a block is served, writeFailing until one is
	// written.
	readFailing, writeFailing bool // GUARDED_BY(mu)
}

// entry is the cached part of one version of a key.
type entry struct {
	key, etag string
	size      int64
	path      string
	blocks    map[int64]*block // GUARDED_BY(Cache.mu): by index
	dead      bool             // GUARDED_BY(Cache.mu): dropped; its file is removed
}

// block is one cached (or being written) block of an entry.
type block struct {
	e     *entry
	idx   int64
	n     int    // bytes (BlockSize but at the object's end)
	crc   uint32 // of the n bytes
	elem  *list.Element
	ready bool // written and checksummed; reserved (being written) otherwise
}

// Open creates the cache's directory under o.Dir, removing the directories
// of caches whose process is gone.
func Open(o Options) (*Cache, error) {
	if o.Dir == "" {
		return nil, errors.New("datacache: Options.Dir is required")
	}
	if o.Size <= 0 {
		o.Size = DefaultSize
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if err := os.MkdirAll(o.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("cache directory: %w", err)
	}
	removeStale(o.Dir)
	dir, err := os.MkdirTemp(o.Dir, "ossfs-cache-")
	if err != nil {
		return nil, fmt.Errorf("cache directory: %w", err)
	}
	lock, err := os.OpenFile(filepath.Join(dir, "lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err == nil {
		err = unix.Flock(int(lock.Fd()), unix.LOCK_EX|unix.LOCK_NB)
	}
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("cache directory: %w", err)
	}
	return &Cache{dir: dir, lock: lock, limit: o.Size, log: o.Logger, entries: map[string]*entry{}, lru: list.New()}, nil
}

// removeStale removes the cache directories under dir that no open Cache
// holds (their lock file can be locked).
func removeStale(dir string) {
	old, _ := filepath.Glob(filepath.Join(dir, "ossfs-cache-*"))
	for _, d := range old {
		f, err := os.Open(filepath.Join(d, "lock"))
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				os.RemoveAll(d) // died before locking
			}
			continue
		}
		if unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB) == nil {
			os.RemoveAll(d)
		}
		f.Close()
	}
}

// Dir is the cache's own directory (under Options.Dir).
func (c *Cache) Dir() string { return c.dir }

// Close removes the cache's files.
func (c *Cache) Close() error {
	c.mu.Lock()
	for _, e := range c.entries {
		e.dead = true
	}
	c.entries, c.used = map[string]*entry{}, 0
	c.lru.Init()
	c.mu.Unlock()
	err := os.RemoveAll(c.dir)
	c.lock.Close()
	return err
}

// Latest returns the newest version of key the cache holds bytes of.
func (c *Cache) Latest(key string) (etag string, size int64, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.entries[key]
	if e == nil || len(e.blocks) == 0 {
		return "", 0, false
	}
	return e.etag, e.size, true
}

// Has reports whether the cache holds bytes of version etag of key.
func (c *Cache) Has(key, etag string) bool {
	got, _, ok := c.Latest(key)
	return ok && got == etag
}

// Used is the number of bytes cached.
func (c *Cache) Used() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.used
}

// entryFor returns the entry of version etag (of size bytes) of key,
// creating it, and dropping the entry of another version.
func (c *Cache) entryFor(key, etag string, size int64) *entry {
	c.mu.Lock()
	old := c.entries[key]
	if old != nil && old.etag == etag && old.size == size {
		c.mu.Unlock()
		return old
	}
	if old != nil {
		c.dropLocked(old)
	}
	c.nextID++
	e := &entry{key: key, etag: etag, size: size, blocks: map[int64]*block{},
		path: filepath.Join(c.dir, strconv.FormatUint(c.nextID, 10))}
	c.entries[key] = e
	c.mu.Unlock()
	if old != nil {
		os.Remove(old.path)
	}
	return e
}

// lookup returns the entry of version etag of key when it holds every
// block of [off, end) (end already cut to the entry's size), marking them
// recently used.
func (c *Cache) lookup(key, etag string, off, end int64) *entry {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.entries[key]
	if e == nil || e.etag != etag {
		return nil
	}
	end = min(end, e.size)
	for i := off / BlockSize; i*BlockSize < end; i++ {
		if b := e.blocks[i]; b == nil || !b.ready {
			return nil
		}
	}
	for i := off / BlockSize; i*BlockSize < end; i++ {
		c.lru.MoveToFront(e.blocks[i].elem)
	}
	return e
}

// checksum returns block idx's CRC and length, or ok false when it is no
// longer cached.
func (c *Cache) checksum(e *entry, idx int64) (crc uint32, n int, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	b := e.blocks[idx]
	if e.dead || b == nil || !b.ready {
		return 0, 0, false
	}
	return b.crc, b.n, true
}

// blockLen is the length of block idx of e.
func (e *entry) blockLen(idx int64) int {
	return int(min(BlockSize, e.size-idx*BlockSize))
}

// store writes block idx of e (data, the whole block) to disk and indexes
// it, evicting older blocks to make room. A write that fails leaves the
// block uncached.
func (c *Cache) store(e *entry, idx int64, data []byte) {
	if int64(len(data)) > c.limit {
		return
	}
	crc := crc32.Checksum(data, castagnoli)
	c.mu.Lock()
	if e.dead || e.blocks[idx] != nil {
		c.mu.Unlock()
		return
	}
	b := &block{e: e, idx: idx, n: len(data), crc: crc}
	e.blocks[idx] = b
	c.used += int64(b.n)
	var evicted []*block
	for c.used > c.limit && c.lru.Len() > 0 {
		old := c.lru.Remove(c.lru.Back()).(*block)
		c.forgetLocked(old)
		evicted = append(evicted, old)
	}
	c.mu.Unlock()
	c.release(evicted)

	err := writeBlock(e.path, data, idx*BlockSize)
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case e.dead:
		os.Remove(e.path) // dropped meanwhile; the file may be new
	case err != nil:
		c.forgetLocked(b)
		c.faultLocked(&c.writeFailing, "cannot write to the cache directory", e, err)
		if e.dead {
			os.Remove(e.path)
		} else {
			punch(e.path, idx*BlockSize, int64(len(data)))
		}
	default:
		b.ready = true
		b.elem = c.lru.PushFront(b)
		c.writeFailing = false
	}
}

func writeBlock(path string, data []byte, off int64) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	_, err = f.WriteAt(data, off)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// forgetLocked removes b from the index (not from the LRU list).
// LOCKS_REQUIRED(c.mu)
func (c *Cache) forgetLocked(b *block) {
	if b.e.blocks[b.idx] == b {
		delete(b.e.blocks, b.idx)
		c.used -= int64(b.n)
	}
	if len(b.e.blocks) == 0 && !b.e.dead {
		b.e.dead = true
		if c.entries[b.e.key] == b.e {
			delete(c.entries, b.e.key)
		}
	}
}

// release frees the disk space of evicted blocks (outside c.mu).
func (c *Cache) release(evicted []*block) {
	for _, b := range evicted {
		if b.e.dead {
			os.Remove(b.e.path)
		} else {
			punch(b.e.path, b.idx*BlockSize, int64(b.n))
		}
	}
}

// punch frees the disk space of [off, off+n) of the file at path.
func punch(path string, off, n int64) {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return
	}
	defer f.Close()
	unix.Fallocate(int(f.Fd()), unix.FALLOC_FL_PUNCH_HOLE|unix.FALLOC_FL_KEEP_SIZE, off, n)
}

// drop removes e (found corrupt or unreadable) and its file.
func (c *Cache) drop(e *entry, why string, err error) {
	c.mu.Lock()
	gone := !e.dead
	c.dropLocked(e)
	if gone {
		c.faultLocked(&c.readFailing, why, e, err)
	}
	c.mu.Unlock()
	os.Remove(e.path)
}

// dropLocked forgets e; the caller removes its file (after unlocking).
// LOCKS_REQUIRED(c.mu)
func (c *Cache) dropLocked(e *entry) {
	for _, b := range e.blocks {
		if b.elem != nil {
			c.lru.Remove(b.elem)
		}
		c.used -= int64(b.n)
	}
	e.blocks = map[int64]*block{}
	e.dead = true
	if c.entries[e.key] == e {
		delete(c.entries, e.key)
	}
}

// faultLocked logs a fault, once until the cache works again (*failing
// is cleared). LOCKS_REQUIRED(c.mu)
func (c *Cache) faultLocked(failing *bool, what string, e *entry, err error) {
	if *failing {
		c.log.Debug("data cache: "+what, "key", e.key, "err", err)
		return
	}
	*failing = true
	c.log.Warn("data cache: "+what+"; reading from OSS instead", "op", "read", "key", e.key, "dir", c.dir, "err", err)
}

// served notes that a block was served, so the next read fault is logged
// again.
func (c *Cache) served() {
	c.mu.Lock()
	c.readFailing = false
	c.mu.Unlock()
}
