package e2e

import (
	"bytes"
	"fmt"
	"os"
	"sort"
	"strings"
	"syscall"
	"time"
)

// entry is one name of a tree snapshot.
type entry struct {
	st    syscall.Stat_t
	dtype os.FileMode // the type readdir reported
	text  string      // link text, the root's path replaced by rootMark
	data  []byte
	read  bool // data was read
}

func (e *entry) typ() uint32 { return e.st.Mode & syscall.S_IFMT }

// snapshot lists root recursively (never following links), lstat-ing every
// name, reading every link and the content of every file but those skip
// says not to read (files open for writing: reading one would change how it
// is uploaded, docs "Writing"; large files verified before, see
// contentVerified).
func snapshot(root string, skip func(name string, st *syscall.Stat_t) bool) (map[string]*entry, error) {
	out := map[string]*entry{}
	var walk func(rel string) error
	walk = func(rel string) error {
		dir := root
		if rel != "" {
			dir += "/" + rel
		}
		ents, err := os.ReadDir(dir)
		if err != nil {
			return fmt.Errorf("readdir %q: %w", rel, err)
		}
		for _, de := range ents {
			name := de.Name()
			if rel != "" {
				name = rel + "/" + name
			}
			p := root + "/" + name
			e := &entry{dtype: de.Type()}
			if err := syscall.Lstat(p, &e.st); err != nil {
				return fmt.Errorf("lstat %q: %w", name, err)
			}
			out[name] = e
			switch e.typ() {
			case syscall.S_IFDIR:
				if err := walk(name); err != nil {
					return err
				}
			case syscall.S_IFLNK:
				t, err := os.Readlink(p)
				if err != nil {
					return fmt.Errorf("readlink %q: %w", name, err)
				}
				e.text = t
				if strings.HasPrefix(t, root+"/") || t == root {
					e.text = rootMark + t[len(root):]
				}
			case syscall.S_IFREG:
				if skip == nil || !skip(name, &e.st) {
					if e.data, err = os.ReadFile(p); err != nil {
						return fmt.Errorf("read %q: %w", name, err)
					}
					e.read = true
				}
			}
		}
		return nil
	}
	return out, walk("")
}

// updateMtimes records, for every model file, link and special file whose
// mtime the step changed, the seconds the mount may show: [lo, hi] (see
// mtimeState), or exactly the time utimes or another client set.
func (w *world) updateMtimes(start, end time.Time) error {
	_, writing := w.openInos()
	seen := map[uint64]bool{}
	tree, err := snapshot(w.model.root, skipAll)
	if err != nil {
		return err
	}
	w.updateDirMtimes(tree)
	for _, e := range tree {
		if e.typ() == syscall.S_IFDIR {
			continue
		}
		ino := e.st.Ino
		seen[ino] = true
		ms := w.mtimes[ino]
		if ms == nil {
			ms = &mtimeState{localNs: -1, dirtySince: -1}
			w.mtimes[ino] = ms
		}
		ns := e.st.Mtim.Nano()
		if t, ok := w.explicit[ino]; ok {
			ms.lo, ms.hi, ms.dirtySince = t, t, -1
		} else if ns != ms.localNs {
			if ms.dirtySince < 0 {
				ms.dirtySince = start.Unix()
			}
			ms.lo, ms.hi = ms.dirtySince, end.Unix()
		}
		ms.localNs = ns
		if w.flushed[ino] || !writing[ino] {
			ms.dirtySince = -1
		}
	}
	for ino := range w.mtimes {
		if !seen[ino] && !writing[ino] {
			delete(w.mtimes, ino)
		}
	}
	return nil
}

// compare checks the mount's tree against the model's.
func (w *world) compare() error {
	_, writing := w.openInos()
	want, err := snapshot(w.model.root, nil)
	if err != nil {
		return err
	}
	skip := map[string]bool{}
	for name, e := range want {
		if e.typ() == syscall.S_IFREG && writing[e.st.Ino] {
			skip[name] = true
		}
	}
	got, err := snapshot(w.mount.root, func(name string, st *syscall.Stat_t) bool {
		return skip[name] || w.contentVerified(name, want[name], st)
	})
	if err != nil {
		return diverged("walk", "walking the mount: %v", err)
	}
	var diffs []diff
	for _, name := range sortedNames(want, got) {
		we, ge := want[name], got[name]
		switch {
		case ge == nil:
			diffs = append(diffs, diff{"missing on the mount", name + ": missing on the mount"})
		case we == nil:
			diffs = append(diffs, diff{"only on the mount", fmt.Sprintf("%s: only on the mount (%s)", name, typeName(ge.typ()))})
		default:
			diffs = append(diffs, w.compareEntry(name, we, ge)...)
		}
	}
	if len(diffs) > 0 {
		var lines []string
		for _, d := range diffs {
			lines = append(lines, d.msg)
		}
		return diverged(diffs[0].kind, "tree differs:\n\t%s", strings.Join(lines, "\n\t"))
	}
	w.verify(want, got, skip)
	return nil
}

// diff is one difference of a tree comparison.
type diff struct{ kind, msg string }

func (w *world) compareEntry(name string, we, ge *entry) []diff {
	var d []diff
	check := func(ok bool, format string, args ...any) {
		if !ok {
			msg := fmt.Sprintf(format, args...)
			kind := strings.TrimSuffix(strings.Fields(msg)[0], ":")
			d = append(d, diff{kind, fmt.Sprintf("%q: %s", name, msg)})
		}
	}
	if we.typ() != ge.typ() {
		check(false, "type: model %s, mount %s", typeName(we.typ()), typeName(ge.typ()))
		return d
	}
	check(dtypeOK(ge), "readdir type %v, lstat type %s", ge.dtype, typeName(ge.typ()))
	ws, gs := &we.st, &ge.st
	// Documented for every type: st_nlink 1. atime and ctime are not
	// compared (docs/semantics.md, "Reference-model test").
	check(gs.Nlink == 1, "st_nlink %d, want 1", gs.Nlink)
	if ge.typ() == syscall.S_IFLNK {
		check(gs.Mode&0o7777 == 0o777, "link mode %#o, want 0777", gs.Mode&0o7777)
	} else {
		check(ws.Mode&0o7777 == gs.Mode&0o7777, "mode: model %#o, mount %#o", ws.Mode&0o7777, gs.Mode&0o7777)
	}
	check(ws.Uid == gs.Uid && ws.Gid == gs.Gid, "owner: model %d:%d, mount %d:%d", ws.Uid, ws.Gid, gs.Uid, gs.Gid)
	if ms := w.mtimes[ws.Ino]; ms != nil && ge.typ() != syscall.S_IFDIR {
		sec := gs.Mtim.Sec
		check(sec >= ms.lo && sec <= ms.hi, "mtime %d (%v), want within [%d, %d]",
			sec, time.Unix(sec, 0).UTC().Format(time.TimeOnly), ms.lo, ms.hi)
	}
	switch ge.typ() {
	case syscall.S_IFDIR:
		// A directory's size is not compared, nor its mtime but while it
		// is the one utimes set (see updateDirMtimes).
		if ds := w.dirMtimes[ws.Ino]; ds != nil {
			check(gs.Mtim.Sec == ds.sec, "dir-mtime %d, want %d (set by utimes)", gs.Mtim.Sec, ds.sec)
		}
	case syscall.S_IFLNK:
		check(we.text == ge.text, "link text: model %q, mount %q", we.text, ge.text)
		check(gs.Size == int64(len(ge.text)) || strings.HasPrefix(ge.text, rootMark),
			"link size %d for text %q", gs.Size, ge.text)
	case syscall.S_IFREG:
		check(ws.Size == gs.Size, "size: model %d, mount %d", ws.Size, gs.Size)
		check(gs.Blocks == (gs.Size+511)/512, "st_blocks %d for size %d", gs.Blocks, gs.Size)
		if ge.read {
			check(bytes.Equal(we.data, ge.data), "content%s", dataDiff(we.data, ge.data))
		}
	default: // FIFO, socket, device node: an empty object
		check(gs.Size == 0 && gs.Blocks == 0, "special size %d, st_blocks %d, want 0", gs.Size, gs.Blocks)
		check(ws.Rdev == gs.Rdev, "rdev: model %#x, mount %#x", ws.Rdev, gs.Rdev)
	}
	return d
}

func typeName(t uint32) string {
	switch t {
	case syscall.S_IFDIR:
		return "dir"
	case syscall.S_IFLNK:
		return "symlink"
	case syscall.S_IFREG:
		return "file"
	case syscall.S_IFIFO:
		return "fifo"
	case syscall.S_IFCHR:
		return "char device"
	case syscall.S_IFSOCK:
		return "socket"
	}
	return fmt.Sprintf("type %#o", t)
}

func sortedNames(a, b map[string]*entry) []string {
	var names []string
	for n := range a {
		names = append(names, n)
	}
	for n := range b {
		if a[n] == nil {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return names
}
