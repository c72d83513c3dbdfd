package osstest

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// dirBackend keeps everything under one directory, laid out so that no key
// ever becomes a path (keys may hold "..", "//", NUL-free arbitrary UTF-8 and
// be 1023 bytes long):
//
//	DIR/blobs/<random id>                 immutable object data
//	DIR/buckets/<bucket>/<sha256(key)>.json  one object's metadata, key inside
//	DIR/tmp/                              bodies being received
//
// Bodies stream into DIR/tmp and are renamed into blobs/ once complete;
// metadata files are written to tmp and renamed, so each is replaced
// atomically. A put writes its blob first and its metadata second, so a
// crash leaves at worst an unreferenced blob, which the next start deletes.
type dirBackend struct {
	root string
}

func newDirBackend(root string) (*dirBackend, error) {
	for _, d := range []string{"blobs", "buckets", "tmp"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o700); err != nil {
			return nil, err
		}
	}
	// Leftovers of bodies that were being received when the last run ended.
	if ents, err := os.ReadDir(filepath.Join(root, "tmp")); err == nil {
		for _, e := range ents {
			_ = os.Remove(filepath.Join(root, "tmp", e.Name()))
		}
	}
	return &dirBackend{root: root}, nil
}

type dirWriter struct {
	b *dirBackend
	f *os.File
}

func (w *dirWriter) Write(p []byte) (int, error) { return w.f.Write(p) }

func (w *dirWriter) abort() {
	_ = w.f.Close()
	_ = os.Remove(w.f.Name())
}

func (w *dirWriter) commit() (string, error) {
	if err := w.f.Close(); err != nil {
		_ = os.Remove(w.f.Name())
		return "", err
	}
	id := newID()
	if err := os.Rename(w.f.Name(), w.b.blobPath(id)); err != nil {
		_ = os.Remove(w.f.Name())
		return "", err
	}
	return id, nil
}

func (b *dirBackend) blobPath(id string) string { return filepath.Join(b.root, "blobs", id) }

func (b *dirBackend) metaPath(bucket, key string) string {
	sum := sha256.Sum256([]byte(key))
	return filepath.Join(b.root, "buckets", bucket, hex.EncodeToString(sum[:])+".json")
}

func (b *dirBackend) create(int64) (blobWriter, error) {
	f, err := os.CreateTemp(filepath.Join(b.root, "tmp"), "body-*")
	if err != nil {
		return nil, err
	}
	return &dirWriter{b: b, f: f}, nil
}

func (b *dirBackend) open(id string) (blobHandle, error) {
	f, err := os.Open(b.blobPath(id))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s", errNoBlob, id)
	}
	return f, err
}

func (b *dirBackend) remove(id string) { _ = os.Remove(b.blobPath(id)) }

func (b *dirBackend) createBucket(name string) error {
	return os.MkdirAll(filepath.Join(b.root, "buckets", name), 0o700)
}

func (b *dirBackend) saveMeta(bucket string, o *object) error {
	data, err := json.Marshal(o)
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Join(b.root, "tmp"), "meta-*")
	if err != nil {
		return err
	}
	if _, err = f.Write(data); err == nil {
		err = f.Close()
	} else {
		_ = f.Close()
	}
	if err == nil {
		err = os.Rename(f.Name(), b.metaPath(bucket, o.Key))
	}
	if err != nil {
		_ = os.Remove(f.Name())
	}
	return err
}

func (b *dirBackend) deleteMeta(bucket, key string) error {
	err := os.Remove(b.metaPath(bucket, key))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

func (b *dirBackend) load() (map[string][]*object, error) {
	out := map[string][]*object{}
	buckets, err := os.ReadDir(filepath.Join(b.root, "buckets"))
	if err != nil {
		return nil, err
	}
	for _, bd := range buckets {
		if !bd.IsDir() {
			continue
		}
		dir := filepath.Join(b.root, "buckets", bd.Name())
		ents, err := os.ReadDir(dir)
		if err != nil {
			return nil, err
		}
		objs := []*object{}
		for _, e := range ents {
			if !strings.HasSuffix(e.Name(), ".json") {
				continue
			}
			data, err := os.ReadFile(filepath.Join(dir, e.Name()))
			if err != nil {
				return nil, err
			}
			o := &object{}
			if err := json.Unmarshal(data, o); err != nil {
				return nil, fmt.Errorf("%s: %w", filepath.Join(dir, e.Name()), err)
			}
			objs = append(objs, o)
		}
		out[bd.Name()] = objs
	}
	return out, nil
}

func (b *dirBackend) removeUnreferenced(live map[string]int) {
	ents, err := os.ReadDir(filepath.Join(b.root, "blobs"))
	if err != nil {
		return
	}
	for _, e := range ents {
		if live[e.Name()] == 0 {
			_ = os.Remove(b.blobPath(e.Name()))
		}
	}
}
