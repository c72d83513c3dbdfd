package e2e

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"syscall"
	"time"
)

// The reference-model test's handling of attributes beyond a file's:
// directories' stored mtimes, special files (FIFOs, device nodes,
// sockets), and the rule that spares re-reading large files that nothing
// changed.

// skipAll is a snapshot that reads no file.
func skipAll(string, *syscall.Stat_t) bool { return true }

// special reports whether p, links followed, is a FIFO, a device node or a
// socket: never opened (an open of a FIFO with no writer blocks, a device
// node opens a device; the mount is nodev).
func (w *world) special(p string) bool {
	fi, err := os.Stat(w.model.path(p))
	return err == nil && !fi.IsDir() && !fi.Mode().IsRegular()
}

// dtypeOK: readdir's type agrees with lstat's. A FIFO, socket or device
// node whose metadata the listing did not carry may be listed as a regular
// file (docs/semantics.md, "FIFOs, sockets and device nodes"); lstat looks
// it up and shows its type.
func dtypeOK(e *entry) bool {
	switch e.typ() {
	case syscall.S_IFREG:
		return e.dtype == 0
	case syscall.S_IFDIR:
		return e.dtype == os.ModeDir
	case syscall.S_IFLNK:
		return e.dtype == os.ModeSymlink
	case syscall.S_IFIFO:
		return e.dtype == os.ModeNamedPipe || e.dtype == 0
	case syscall.S_IFSOCK:
		return e.dtype == os.ModeSocket || e.dtype == 0
	case syscall.S_IFCHR:
		return e.dtype == os.ModeDevice|os.ModeCharDevice || e.dtype == 0
	}
	return false
}

// mkdirImplicit makes the model's missing directories of dir as the mount
// shows a directory that is only a common prefix: --dir-mode (0755, the
// umask aside) and the mount's owner.
func (w *world) mkdirImplicit(dir string) error {
	if dir == "." || dir == "" {
		return nil
	}
	p := w.model.path(dir)
	if _, err := os.Lstat(p); err == nil {
		return nil
	}
	if err := w.mkdirImplicit(path.Dir(dir)); err != nil {
		return err
	}
	if err := os.Mkdir(p, 0o755); err != nil {
		return err
	}
	if err := os.Chmod(p, 0o755); err != nil {
		return err
	}
	return os.Lchown(p, int(w.uid), int(w.gid))
}

// dirMtime: a directory's mtime as utimes set it (sec), while the model
// directory's mtime is still that one (localNs). The mount keeps a
// directory's mtime in its marker and does not move it when entries are
// made or removed (docs, "Reference-model test"): once the model's moves,
// the directory's mtime is no longer compared.
type dirMtime struct{ sec, localNs int64 }

// updateDirMtimes follows the model directories' mtimes after a step.
func (w *world) updateDirMtimes(tree map[string]*entry) {
	seen := map[uint64]bool{}
	for _, e := range tree {
		if e.typ() != syscall.S_IFDIR {
			continue
		}
		ino, ns := e.st.Ino, e.st.Mtim.Nano()
		seen[ino] = true
		if t, ok := w.explicit[ino]; ok {
			w.dirMtimes[ino] = &dirMtime{sec: t, localNs: ns}
		} else if ds := w.dirMtimes[ino]; ds != nil && ds.localNs != ns {
			delete(w.dirMtimes, ino)
		}
	}
	for ino := range w.dirMtimes {
		if !seen[ino] {
			delete(w.dirMtimes, ino)
		}
	}
}

// verifyMin is the size from which a file's content, once read on the
// mount and found equal, is not read again while neither side's file
// changes: the rare large files would otherwise cost a read of up to a
// MiB through the mount after every op.
const verifyMin = modelStreamMemory

// verifiedRead is what the model's and the mount's file looked like when
// its content was last compared.
type verifiedRead struct{ model, mount statKey }

type statKey struct {
	ino, size, mtimeNs, ctimeNs int64
}

func keyOf(st *syscall.Stat_t) statKey {
	return statKey{int64(st.Ino), st.Size, st.Mtim.Nano(), st.Ctim.Nano()}
}

// contentVerified reports whether the mount's file name (stat st) was read
// and found equal to the model's file we since the last change of either:
// same inode, size, mtime and ctime on both sides, and no remount since.
// Every change through the mount or by another client (in the model: a
// rewrite of the file) moves one of them.
func (w *world) contentVerified(name string, we *entry, st *syscall.Stat_t) bool {
	v, ok := w.verified[name]
	return ok && we != nil && v == verifiedRead{keyOf(&we.st), keyOf(st)}
}

// verify records the large files of a comparison that found the trees
// equal.
func (w *world) verify(want, got map[string]*entry, skipped map[string]bool) {
	next := map[string]verifiedRead{}
	for name, ge := range got {
		if ge.typ() == syscall.S_IFREG && ge.st.Size >= verifyMin && !skipped[name] {
			next[name] = verifiedRead{keyOf(&want[name].st), keyOf(&ge.st)}
		}
	}
	w.verified = next
}

// isRoot: p, links followed, is the root.
func (w *world) isRoot(p string) bool {
	real, err := filepath.EvalSymlinks(w.model.path(p))
	root, err2 := filepath.EvalSymlinks(w.model.root)
	return err == nil && err2 == nil && real == root
}

// rootAttrs: chmod and chown of the mount root (through a link to it)
// fail with EPERM when they would change its mode or owner, which come
// from --dir-mode, --uid and --gid (docs, "Directories"): 0755 and the
// mount's owner here. The model's root is left alone.
func (w *world) rootAttrs(o op) error {
	want := result{}
	switch {
	case o.Kind == opChmod && o.Mode != 0o755:
		want.errno = syscall.EPERM
	case o.Kind == opChown && (uint32(o.UID) != w.uid || uint32(o.GID) != w.gid):
		want.errno = syscall.EPERM
	}
	if want.errno != 0 {
		w.failed[o.Kind]++
	}
	if got := w.mount.do(o); got.errno != want.errno {
		return diverged(o.Kind.String(), "%v (the root): model (documented) %v, mount %v", o, want, got)
	}
	return nil
}

// largeRequests says how often the write paths of large files ran: the
// server's multipart uploads (streams past the part size, flushes of
// in-place edits), their aborts (a stream falling back to a staged copy
// from memory) and part copies (the unchanged ranges of in-place edits).
func (w *world) largeRequests() string {
	c := w.env.srv.Counts()
	return fmt.Sprintf("multipart uploads %d (aborted %d), part copies %d",
		c["InitiateMultipartUpload"], c["AbortMultipartUpload"], c["UploadPartCopy"])
}

// sdkMeta is the ossfs metadata of an sdk-put that carries it (nil
// otherwise): decimal st_mode with its type, uid, gid, mtime.
func sdkMeta(o op) map[string]string {
	if o.Mode == 0 {
		return nil
	}
	return map[string]string{
		"mode": fmt.Sprint(o.Mode), "uid": fmt.Sprint(o.UID), "gid": fmt.Sprint(o.GID), "mtime": fmt.Sprint(o.Time),
	}
}

// sdkPutWithMeta makes in the model what an object with ossfs metadata
// shows: a file (or, for an empty object whose mode says so, a FIFO) with
// the stored mode, owner and mtime. The fake clock then moves as after any
// sdk op.
func (w *world) sdkPutWithMeta(p string, data []byte, o op) error {
	os.Remove(p)
	var err error
	if o.Mode&syscall.S_IFMT == syscall.S_IFIFO {
		err = syscall.Mknod(p, o.Mode, 0)
	} else {
		err = os.WriteFile(p, data, 0o600)
	}
	if err != nil {
		return err
	}
	if err := os.Chmod(p, os.FileMode(o.Mode&0o777)); err != nil {
		return err
	}
	if err := os.Lchown(p, o.UID, o.GID); err != nil {
		return err
	}
	if err := os.Chtimes(p, time.Unix(o.Time, 0), time.Unix(o.Time, 0)); err != nil {
		return err
	}
	fi, err := os.Lstat(p)
	if err != nil {
		return err
	}
	w.explicit[fi.Sys().(*syscall.Stat_t).Ino] = o.Time
	w.env.clock.Advance(staleTTL)
	return nil
}
