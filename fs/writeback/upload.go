package writeback

import (
	"context"
	"fmt"
	"io"
	"maps"
	"mime"
	"net"
	"path"

	"github.com/ossfs/ossfs/ossclient"
)

// Flush sends the content if it is dirty: by completing the stream, or
// with one Put of the staged file. A file unlinked while open is not
// uploaded: its data goes with it, as on a local disk. It runs to the end
// whatever ctx says (only ctx's values are used): an upload is never left
// half done, and an interrupt never becomes the file's state.
func (f *File) Flush(ctx context.Context) error {
	ctx = context.WithoutCancel(ctx)
	f.upMu.Lock()
	defer f.upMu.Unlock()
	return f.flushLocked(ctx)
}

// FlushInherited is Flush for a close by a process that did not open the
// descriptor (a forked child): a stream in flight goes on, since its
// writer is still writing (the opener's flush, an fsync or the last
// release ends it); anything else is flushed as by Flush.
func (f *File) FlushInherited(ctx context.Context) error {
	f.mu.Lock()
	streaming := f.stream != nil
	f.mu.Unlock()
	if streaming {
		return nil
	}
	return f.Flush(ctx)
}

// flushLocked is Flush. LOCKS_REQUIRED(upMu)
func (f *File) flushLocked(ctx context.Context) error {
	if f.Unlinked() {
		return nil // its data goes with it, as on a local disk
	}
	if done, err := f.finishStream(ctx); done {
		return err
	}
	f.mu.Lock()
	dirty, gen, size, file, lost := f.dirty, f.gen, f.size, f.file, f.lost
	var snap *editSnap
	if f.edit != nil && dirty {
		s := f.edit.snapLocked(size)
		snap = &s
	}
	f.mu.Unlock()
	if lost != nil {
		return lost
	}
	if !dirty {
		return nil
	}
	key, ok := f.host.Key()
	if !ok {
		return nil
	}
	if file == nil && size != 0 {
		// A completed stream holds the bytes, but something changed since
		// (attributes, or a write that raced with the flush): read the
		// object back and upload it whole.
		if err := f.materializeLocked(ctx); err != nil {
			return err
		}
		f.mu.Lock()
		dirty, gen, size, file = f.dirty, f.gen, f.size, f.file
		f.mu.Unlock()
		if !dirty {
			return nil
		}
	}
	if snap != nil {
		return f.flushEdit(ctx, key, *snap, size, gen)
	}
	var body io.Reader = eofReader{}
	if file != nil {
		body = io.NewSectionReader(file, 0, size)
	} else if size != 0 {
		return fmt.Errorf("writeback: %d staged bytes of %s have no copy", size, key) // a bug, reported rather than uploading nothing
	}
	o, err := f.store.Put(ctx, key, body, ossclient.PutOptions{
		Meta:        f.host.Meta(),
		ContentType: mime.TypeByExtension(path.Ext(key)),
	})
	if err != nil {
		return err
	}
	f.recordUpload(o, size, gen)
	return nil
}

// eofReader is an empty body.
type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }

// Unlink runs del, the deletion of the file's object, so that nothing of
// the file reaches OSS after it: an upload in progress (a close) ends
// first, and a stream is read into the staged copy (the descriptors still
// open keep working, as on a local disk) rather than left to complete at
// a key that a new file may take. Like Flush, it ignores ctx's end.
func (f *File) Unlink(ctx context.Context, del func() error) error {
	ctx = context.WithoutCancel(ctx)
	f.upMu.Lock()
	defer f.upMu.Unlock()
	f.mu.Lock()
	streamed := f.file == nil && f.size > 0
	f.mu.Unlock()
	if streamed {
		if err := f.materializeLocked(ctx); err != nil {
			key, _ := f.host.Key()
			f.opts.Logger.Warn("unlink of a file being written: its data could not be kept for the descriptors still open", "key", key, "err", err)
		}
	}
	// An edit reads the rest of its base now, for the descriptors still
	// open: the base goes with the unlink.
	if err := f.localize(ctx); err != nil {
		key, _ := f.host.Key()
		f.opts.Logger.Warn("unlink of a file being edited: its unchanged bytes could not be kept for the descriptors still open", "key", key, "err", err)
		f.mu.Lock()
		if f.edit != nil {
			f.lost = fmt.Errorf("the unchanged bytes of this unlinked file could not be read: %w", err)
		}
		f.mu.Unlock()
	}
	f.mu.Lock()
	f.unlinked = true
	f.mu.Unlock()
	if err := del(); err != nil {
		f.mu.Lock()
		f.unlinked = false
		f.mu.Unlock()
		return err
	}
	return nil
}

// finishStream ends the file's stream, if any, at a flush. done says the
// flush is over (the upload completed, or failed for good: err); when it
// is false, whatever the stream held is in the staged file and the caller
// uploads that. LOCKS_REQUIRED(upMu)
func (f *File) finishStream(ctx context.Context) (done bool, err error) {
	f.mu.Lock()
	gen := f.gen
	f.mu.Unlock()
	key, ok := f.host.Key()
	s, head, kept := f.takeStream(func(bool) bool { return ok })
	switch {
	case s == nil:
		return false, nil
	case !ok: // unlinked while open: its data goes with it, as on a disk
		f.mu.Lock()
		f.dirty = false
		f.mu.Unlock()
		return true, nil
	case s.err != nil && kept:
		f.opts.Logger.Warn("streamed upload failed; retrying from the copy in memory", "key", key, "err", s.err)
		return false, f.stageHead(head)
	case s.err != nil:
		return true, f.lose(fmt.Errorf("streamed upload failed: %w", s.err))
	}
	f.recordUpload(s.obj, s.pos, gen)
	if key != s.key { // a directory above was renamed while writing
		if _, err := f.store.Copy(ctx, s.key, key, ossclient.CopyOptions{}); err != nil {
			return true, err
		}
		if err := f.store.Delete(ctx, s.key); err != nil {
			return true, err
		}
	}
	return true, f.fixMetaAfterStream(ctx, key, s.meta)
}

// stageHead puts a failed stream's head into a new staged file.
func (f *File) stageHead(head net.Buffers) error {
	tmp, err := newTempFile(f.opts.TempDir)
	if err == nil {
		_, err = head.WriteTo(tmp)
	}
	if err != nil {
		if tmp != nil {
			tmp.Close()
		}
		return f.lose(fmt.Errorf("no temp file for the staged copy: %w", err))
	}
	f.mu.Lock()
	f.file = tmp
	f.mu.Unlock()
	return nil
}

// fixMetaAfterStream stores attributes changed after the stream's upload
// sent its metadata (sent), which it did not carry: a chmod, chown or
// utimes, or the mtime of writes in a later second (a multipart upload
// sends its metadata after its first part). One CopyObject, only when the
// metadata differs. LOCKS_REQUIRED(upMu)
func (f *File) fixMetaAfterStream(ctx context.Context, key string, sent map[string]string) error {
	f.mu.Lock()
	f.attrsSet = false
	f.mu.Unlock()
	meta := f.host.Meta()
	if maps.Equal(meta, sent) {
		return nil
	}
	o, err := f.store.Copy(ctx, key, key, ossclient.CopyOptions{ReplaceMeta: true, Meta: meta})
	if err != nil {
		return err
	}
	f.host.MetaStored(o)
	return nil
}

// recordUpload notes that obj (size bytes) is now the file's object; the
// File is clean when nothing changed since generation gen.
func (f *File) recordUpload(obj *ossclient.Object, size int64, gen uint64) {
	f.mu.Lock()
	if f.gen == gen {
		f.dirty = false
	}
	f.uploaded = size
	f.mu.Unlock()
	f.host.Uploaded(obj, size)
}
