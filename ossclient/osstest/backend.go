package osstest

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"
)

// object is one key's metadata. Stored objects are never mutated: a change
// replaces the pointer under store.mu, so a reader may keep using a pointer
// it got under the lock after releasing it.
type object struct {
	Key          string            `json:"key"`
	Type         string            `json:"type"` // Normal, Appendable, Multipart, Symlink
	Size         int64             `json:"size"`
	ETag         string            `json:"etag"` // upper-case hex, no quotes
	CRC64        uint64            `json:"crc64"`
	ContentMD5   string            `json:"contentMD5,omitempty"` // base64; Normal objects only
	Modified     time.Time         `json:"modified"`
	ContentType  string            `json:"contentType,omitempty"`
	Headers      map[string]string `json:"headers,omitempty"` // Cache-Control, Content-Disposition, ...
	Meta         map[string]string `json:"meta,omitempty"`    // user metadata, lower-case names
	ACL          string            `json:"acl,omitempty"`
	StorageClass string            `json:"storageClass,omitempty"`
	Target       string            `json:"target,omitempty"` // symlink target key (decoded)
	Segments     []segment         `json:"segments,omitempty"`
}

// segment is a run of an object's bytes held in one immutable blob. Put
// makes one segment, each append adds one, a multipart object has one per
// part, and a copy shares its source's blobs (blobs are reference counted).
type segment struct {
	ID   string `json:"id"`
	Size int64  `json:"size"`
}

// blobHandle reads one committed blob.
type blobHandle interface {
	io.ReaderAt
	io.Closer
}

// blobWriter receives a new blob's bytes; commit makes it readable by id.
type blobWriter interface {
	io.Writer
	commit() (id string, err error)
	abort()
}

// backend is where blobs and object metadata live: memory or a directory.
// Blobs are immutable once committed. saveMeta/deleteMeta persist one
// object's metadata (a no-op in memory); load returns what a previous run
// persisted.
type backend interface {
	// create starts a new blob; sizeHint is its expected size (≤ 0: not
	// known), which a backend may reserve.
	create(sizeHint int64) (blobWriter, error)
	open(id string) (blobHandle, error)
	remove(id string)
	createBucket(name string) error
	saveMeta(bucket string, o *object) error
	deleteMeta(bucket, key string) error
	load() (map[string][]*object, error)
	// removeUnreferenced deletes every stored blob not in live (called once
	// after load, to clean up after a crash or unfinished uploads).
	removeUnreferenced(live map[string]int)
}

func newID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b[:])
}

var errNoBlob = errors.New("osstest: blob not found")

// memBackend keeps blobs as byte slices; metadata lives only in the store.
type memBackend struct {
	mu    sync.Mutex
	blobs map[string][]byte // GUARDED_BY(mu)
}

func newMemBackend() *memBackend { return &memBackend{blobs: map[string][]byte{}} }

type memWriter struct {
	b   *memBackend
	buf bytes.Buffer
}

func (w *memWriter) Write(p []byte) (int, error) { return w.buf.Write(p) }
func (w *memWriter) abort()                      {}
func (w *memWriter) commit() (string, error) {
	id := newID()
	w.b.mu.Lock()
	w.b.blobs[id] = w.buf.Bytes()
	w.b.mu.Unlock()
	return id, nil
}

type memHandle struct{ *bytes.Reader }

func (memHandle) Close() error { return nil }

// maxSizeHint bounds the memory a blob's declared size reserves up front.
const maxSizeHint = 256 << 20

// create reserves sizeHint bytes at once when it is known (a request's
// Content-Length): growing by doubling zeroed and copied every large part
// about twice, most of the server's CPU in a benchmark's upload.
func (b *memBackend) create(sizeHint int64) (blobWriter, error) {
	w := &memWriter{b: b}
	if sizeHint > 0 && sizeHint <= maxSizeHint {
		w.buf.Grow(int(sizeHint))
	}
	return w, nil
}

func (b *memBackend) open(id string) (blobHandle, error) {
	b.mu.Lock()
	data, ok := b.blobs[id]
	b.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("%w: %s", errNoBlob, id)
	}
	return memHandle{bytes.NewReader(data)}, nil
}

func (b *memBackend) remove(id string) {
	b.mu.Lock()
	delete(b.blobs, id)
	b.mu.Unlock()
}

func (b *memBackend) createBucket(string) error              { return nil }
func (b *memBackend) saveMeta(string, *object) error         { return nil }
func (b *memBackend) deleteMeta(string, string) error        { return nil }
func (b *memBackend) load() (map[string][]*object, error)    { return nil, nil }
func (b *memBackend) removeUnreferenced(live map[string]int) {}
