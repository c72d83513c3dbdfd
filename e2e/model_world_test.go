package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/ossfs/ossfs/ossclient"
)

// world runs one op sequence on the model (a local directory) and on the
// mount, and compares them after every op.
type world struct {
	env          *modelEnv
	model, mount *side
	// mtimes are the admissible mtimes (Unix seconds) of each model file,
	// link and special file, by model inode number; see updateMtimes.
	mtimes map[uint64]*mtimeState
	// dirMtimes: the directories whose mtime utimes set and nothing has
	// changed since, by model inode number (see updateDirMtimes).
	dirMtimes map[uint64]*dirMtime
	// verified: large files whose mount content was last read and found
	// equal, and what both sides looked like then (see contentVerified).
	verified map[string]verifiedRead
	// explicit: mtimes set this step by utimes or another client, by inode.
	explicit map[uint64]int64
	// flushed: inodes uploaded by this step (close, fsync). Not a
	// fork-close: a child's close does not end a streamed upload, whose
	// mtime stays the second its writing began.
	flushed map[uint64]bool
	// uid and gid of objects without metadata (the mount's defaults).
	uid, gid uint32
	// ran counts the ops run (applicable), failed those that failed
	// (on both sides alike), by kind.
	ran, failed [numOpKinds]int
}

// mtimeState: a file's mtime is a second within [lo, hi]. A file changed
// through the mount keeps the time of its last change in the inode, but
// uploads the time its writing began when it streamed (docs: "A streamed
// file's x-oss-meta-mtime is the second its writing began"), so while the
// file is dirty lo stays at the start of its first change since the last
// upload (dirtySince) and hi follows its last change.
type mtimeState struct {
	localNs    int64 // the model file's mtime when last looked at
	lo, hi     int64
	dirtySince int64 // -1: clean
}

func newWorld(env *modelEnv, modelRoot string, f *forker) *world {
	return &world{
		env: env, model: newSide(modelRoot, f), mount: newSide(env.mnt, f),
		mtimes: map[uint64]*mtimeState{}, explicit: map[uint64]int64{}, flushed: map[uint64]bool{},
		dirMtimes: map[uint64]*dirMtime{}, verified: map[string]verifiedRead{},
		uid: uint32(os.Getuid()), gid: uint32(os.Getgid()),
	}
}

// divergence is a difference between the model and the mount. kind names
// what differed ("pread", "mtime", "only on the mount"...): shrinking keeps
// a sequence only if it still shows the same kind.
type divergence struct{ kind, msg string }

func (d *divergence) Error() string { return d.msg }

func diverged(kind, format string, args ...any) error {
	return &divergence{kind, fmt.Sprintf(format, args...)}
}

// step applies o to both sides and compares the outcome and then the whole
// tree. An error that is not a *divergence is a failure of the harness.
func (w *world) step(o op) error {
	if !w.applicable(o) {
		return nil
	}
	w.ran[o.Kind]++
	clear(w.explicit)
	clear(w.flushed)
	// A step that hangs fails the test with every goroutine's stack
	// rather than waiting for go test's -timeout.
	watchdog := time.AfterFunc(stepTimeout, func() {
		debug.SetTraceback("all")
		panic(fmt.Sprintf("model test: op %v has not finished after %v", o, stepTimeout))
	})
	defer watchdog.Stop()
	start := time.Now()
	if err := w.apply(o); err != nil {
		return err
	}
	end := time.Now()
	if err := w.updateMtimes(start, end); err != nil {
		return err
	}
	return w.compare()
}

// stepTimeout bounds one op and the comparison after it.
const stepTimeout = 2 * time.Minute

// applicable reports whether o's precondition holds now.
func (w *world) applicable(o op) bool {
	// Paths never pass through a link (a replayed, shrunk sequence could
	// otherwise reach outside the roots through a link to "..").
	if !w.linkFree(o.Path) || !w.linkFree(o.Path2) {
		return false
	}
	switch o.Kind {
	case opPwrite, opWrite, opPread, opRead, opFtruncate, opFsync, opClose, opForkClose:
		return w.model.fds[o.Slot] >= 0
	case opDup:
		return w.model.fds[o.Slot] >= 0 && w.model.fds[o.Slot2] < 0
	case opOpen:
		return w.model.fds[o.Slot] < 0 && w.safePath(o.Path) && !w.special(o.Path)
	case opTruncate:
		return w.safePath(o.Path)
	case opChmod, opChown, opUtimes:
		return w.attrTarget(o.Path)
	case opSDKPut, opSDKDelete, opSDKSymlink:
		return w.sdkApplicable(o)
	}
	return true
}

// linkFree: no directory on the way to p is a link.
func (w *world) linkFree(p string) bool {
	for d := path.Dir(p); d != "." && d != "/" && p != ""; d = path.Dir(d) {
		if fi, err := os.Lstat(w.model.path(d)); err == nil && fi.Mode()&os.ModeSymlink != 0 {
			return false
		}
	}
	return true
}

// safePath: following p (links included) ends inside the model root, or in
// a directory that does not exist (the call fails): a link to ".." or
// "../x" must never open, create or truncate anything outside the roots.
func (w *world) safePath(p string) bool {
	cur := w.model.path(p)
	for range 40 {
		dir, err := filepath.EvalSymlinks(filepath.Dir(cur))
		if err != nil {
			return true // no such directory: nothing can be created
		}
		cur = filepath.Join(dir, filepath.Base(cur))
		fi, err := os.Lstat(cur)
		if err != nil || fi.Mode()&os.ModeSymlink == 0 {
			return w.inside(cur)
		}
		text, err := os.Readlink(cur)
		if err != nil {
			return false
		}
		if filepath.IsAbs(text) {
			cur = text
		} else {
			cur = filepath.Join(filepath.Dir(cur), text)
		}
	}
	return false // a loop: leave it alone
}

func (w *world) inside(p string) bool {
	rel, err := filepath.Rel(w.model.root, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, "../")
}

// attrTarget: chmod, chown and utimes follow links, which must not lead
// outside the roots.
func (w *world) attrTarget(p string) bool {
	return w.safePath(p)
}

// openInos returns the model inodes open in some slot, and those open for
// writing.
func (w *world) openInos() (open, writing map[uint64]bool) {
	open, writing = map[uint64]bool{}, map[uint64]bool{}
	for i, fd := range w.model.fds {
		if fd < 0 {
			continue
		}
		var st syscall.Stat_t
		if syscall.Fstat(fd, &st) == nil {
			open[st.Ino] = true
			if w.model.wr[i] {
				writing[st.Ino] = true
			}
		}
	}
	return open, writing
}

func (w *world) apply(o op) error {
	switch o.Kind {
	case opSDKPut, opSDKDelete, opSDKSymlink:
		return w.sdk(o)
	case opRemount:
		return w.remount()
	case opTick:
		now := time.Now()
		time.Sleep(now.Truncate(time.Second).Add(time.Second).Sub(now))
		return nil
	case opLink:
		return w.unsupported(o)
	case opChmod, opChown:
		if w.isRoot(o.Path) {
			return w.rootAttrs(o)
		}
	}
	var ino uint64
	if fd := w.model.fds[o.Slot]; fd >= 0 && o.Kind != opOpen {
		var st syscall.Stat_t
		if syscall.Fstat(fd, &st) == nil {
			ino = st.Ino
		}
	}
	want := w.model.do(o)
	got := w.mount.do(o)
	if (w.model.fds[o.Slot] < 0) != (w.mount.fds[o.Slot] < 0) && o.Kind == opOpen {
		w.closeOne(o.Slot)
	}
	if o.Kind == opDup && (w.model.fds[o.Slot2] < 0) != (w.mount.fds[o.Slot2] < 0) {
		w.closeOne(o.Slot2)
	}
	switch o.Kind {
	case opClose, opFsync:
		if w.model.wr[o.Slot] {
			w.flushed[ino] = true
		}
	case opUtimes, opLutimes:
		stat := os.Stat
		if o.Kind == opLutimes {
			stat = os.Lstat
		}
		if fi, err := stat(w.model.path(o.Path)); err == nil && want.errno == 0 {
			w.explicit[fi.Sys().(*syscall.Stat_t).Ino] = o.Time
		}
	}
	if want.errno != 0 {
		w.failed[o.Kind]++
	}
	if want.errno != got.errno || want.n != got.n || !bytes.Equal(want.data, got.data) {
		return diverged(o.Kind.String(), "%v: model %v, mount %v%s", o, want, got, dataDiff(want.data, got.data))
	}
	return nil
}

// closeOne closes slot on whichever side has it open, after a divergence.
func (w *world) closeOne(slot int) {
	for _, s := range []*side{w.model, w.mount} {
		if s.fds[slot] >= 0 {
			syscall.Close(s.fds[slot])
			s.fds[slot] = -1
		}
	}
}

// flushAll marks every file open for writing as uploaded (remount closes
// them all).
func (w *world) flushAll() {
	_, writing := w.openInos()
	for ino := range writing {
		w.flushed[ino] = true
	}
}

// closeAll closes every slot on both sides, comparing each close.
func (w *world) closeAll() error {
	for i := range w.model.fds {
		if w.model.fds[i] < 0 && w.mount.fds[i] < 0 {
			continue
		}
		o := op{Kind: opClose, Slot: i}
		if w.model.fds[i] < 0 || w.mount.fds[i] < 0 {
			w.closeOne(i)
			return diverged("slot", "slot %d open on one side only", i)
		}
		if err := w.apply(o); err != nil {
			return err
		}
	}
	return nil
}

func (w *world) remount() error {
	w.flushAll()
	if err := w.closeAll(); err != nil {
		return err
	}
	clear(w.verified) // a new mount: read everything again
	return w.env.remount()
}

// unsupported: link fails with EPERM on the mount (docs, "Hard links:
// EPERM") where the kernel lets it through, i.e. where it would succeed
// locally; otherwise with the local errno (the kernel's own checks come
// first). The model undoes a successful local call.
func (w *world) unsupported(o op) error {
	want := w.model.do(o)
	if want.errno == 0 {
		undo := o.Path
		if o.Kind == opLink {
			undo = o.Path2
		}
		if err := os.Remove(w.model.path(undo)); err != nil {
			return err
		}
		want.errno = syscall.EPERM
	}
	got := w.mount.do(o)
	if got.errno != want.errno {
		return diverged(o.Kind.String(), "%v: model (documented) %v, mount %v", o, want, got)
	}
	return nil
}

func dataDiff(a, b []byte) string {
	if bytes.Equal(a, b) {
		return ""
	}
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	return fmt.Sprintf(" (data: model %d bytes, mount %d bytes, first difference at %d)", len(a), len(b), i)
}

func (w *world) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 30*time.Second)
}

// sdkApplicable: another client changes only keys nothing has open (an
// open file's object is the mount's to write; docs: the last upload wins)
// and never puts a key under a file (a key both file and directory: the
// directory wins, a hidden object the model does not keep).
func (w *world) sdkApplicable(o op) bool {
	for d := path.Dir(o.Path); d != "."; d = path.Dir(d) {
		if fi, err := os.Lstat(w.model.path(d)); err == nil && !fi.IsDir() {
			return false
		}
	}
	fi, err := os.Lstat(w.model.path(o.Path))
	if o.Kind == opSDKDelete && (err != nil || fi.IsDir()) {
		return false
	}
	if err != nil {
		return true
	}
	if fi.IsDir() {
		return false
	}
	open, _ := w.openInos()
	return !open[fi.Sys().(*syscall.Stat_t).Ino]
}

// sdk applies a change made by another OSS client to the bucket and to the
// model, then moves the fake clock past every TTL: the mount must show it
// on the next access (kernel timeouts are 0).
func (w *world) sdk(o op) error {
	ctx, cancel := w.ctx()
	defer cancel()
	p := w.model.path(o.Path)
	if err := w.mkdirImplicit(path.Dir(o.Path)); err != nil {
		return err
	}
	switch o.Kind {
	case opSDKPut:
		data := content(o.Seed, o.Len)
		if _, err := w.env.raw.Put(ctx, o.Path, bytes.NewReader(data), ossclient.PutOptions{Meta: sdkMeta(o)}); err != nil {
			return err
		}
		if o.Mode != 0 {
			return w.sdkPutWithMeta(p, data, o)
		}
		obj, err := w.env.raw.Stat(ctx, o.Path)
		if err != nil {
			return err
		}
		// An object without metadata: the mount's modes and owner, and
		// Last-Modified as its mtime.
		os.Remove(p)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			return err
		}
		if err := w.setForeignAttrs(p, 0o644, obj.ModTime); err != nil {
			return err
		}
	case opSDKSymlink:
		if err := w.env.raw.PutSymlink(ctx, o.Path, o.Path2, ossclient.SymlinkOptions{}); err != nil {
			return err
		}
		// readlink of a link with only a target key: the relative path from
		// the link's directory to the key (docs, "readlink").
		text, err := filepath.Rel(filepath.Dir("/"+o.Path), "/"+o.Path2)
		if err != nil {
			return err
		}
		os.Remove(p)
		if err := os.Symlink(text, p); err != nil {
			return err
		}
	case opSDKDelete:
		if err := w.env.raw.Delete(ctx, o.Path); err != nil {
			return err
		}
		if err := os.Remove(p); err != nil {
			return err
		}
		if err := w.dropImplicitDirs(ctx, path.Dir(o.Path)); err != nil {
			return err
		}
	}
	w.env.clock.Advance(staleTTL)
	return nil
}

func (w *world) setForeignAttrs(p string, mode os.FileMode, mtime time.Time) error {
	if err := os.Chmod(p, mode); err != nil {
		return err
	}
	if err := os.Lchown(p, int(w.uid), int(w.gid)); err != nil {
		return err
	}
	sec := mtime.Unix()
	if err := os.Chtimes(p, time.Unix(sec, 0), time.Unix(sec, 0)); err != nil {
		return err
	}
	fi, err := os.Stat(p)
	if err != nil {
		return err
	}
	w.explicit[fi.Sys().(*syscall.Stat_t).Ino] = sec
	return nil
}

// dropImplicitDirs: a directory that is only a common prefix (no marker
// object) vanishes with its last key, deleted by another client. The
// mount writes markers for directories it changes (docs, "Implicit
// directories stay"); whether a marker exists is read from the bucket.
func (w *world) dropImplicitDirs(ctx context.Context, dir string) error {
	for ; dir != "."; dir = path.Dir(dir) {
		ents, err := os.ReadDir(w.model.path(dir))
		if err != nil || len(ents) > 0 {
			return err
		}
		_, err = w.env.raw.Stat(ctx, dir+"/")
		if err == nil {
			return nil
		}
		if !errors.Is(err, ossclient.ErrNotFound) {
			return err
		}
		if err := os.Remove(w.model.path(dir)); err != nil {
			return err
		}
	}
	return nil
}
