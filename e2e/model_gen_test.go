package e2e

import (
	"math/rand/v2"
	"path"
	"path/filepath"
	"sort"
	"syscall"

	"golang.org/x/sys/unix"
)

// gen draws ops from a seeded generator, looking at the model's current
// tree so that most ops hit existing names.
type gen struct {
	r *rand.Rand
	w *world
	// files, dirs (with "" for the root), links, specials (FIFOs,
	// devices, sockets): the model's tree now.
	files, dirs, links, specials []string
}

func newGen(seed uint64, w *world) *gen {
	return &gen{r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), w: w}
}

// weights of the op kinds.
var opWeights = [numOpKinds]int{
	opOpen: 14, opPwrite: 12, opWrite: 14, opPread: 8, opRead: 4, opFtruncate: 3, opTruncate: 2,
	opFsync: 4, opClose: 10, opDup: 2, opForkClose: 2, opRename: 6, opUnlink: 4,
	opMkdir: 4, opRmdir: 2, opSymlink: 5, opChmod: 3, opChown: 2, opUtimes: 3,
	opLink: 1, opMkfifo: 1, opMknod: 1, opSocket: 1, opLchown: 1, opLutimes: 1,
	opRemount: 1, opSDKPut: 3, opSDKDelete: 1, opSDKSymlink: 1,
}

// baseNames are the base names the generator uses: few, so ops collide, with
// characters OSS keys and HTTP headers treat specially.
var baseNames = []string{"a", "b", "c", "d", "e", "s p", "x+y%z", "ü"}

// fileModes: the modes of open(O_CREAT), mknod and chmod; attrModes:
// chmod's, which also meets directories.
var fileModes = []uint32{0o644, 0o600, 0o755, 0o640, 0o444, 0o700, 0o000}
var attrModes = append([]uint32{0o1777, 0o555, 0o000}, fileModes...)
var owners = []int{0, 1000, 1001, 65534}

func (g *gen) refresh() {
	g.files, g.dirs, g.links, g.specials = nil, []string{""}, nil, nil
	tree, _ := snapshot(g.w.model.root, skipAll)
	for name, e := range tree {
		switch e.typ() {
		case syscall.S_IFREG:
			g.files = append(g.files, name)
		case syscall.S_IFDIR:
			g.dirs = append(g.dirs, name)
		case syscall.S_IFLNK:
			g.links = append(g.links, name)
		default:
			g.specials = append(g.specials, name)
		}
	}
	// Map order must not leak into the sequence.
	sort.Strings(g.files)
	sort.Strings(g.dirs)
	sort.Strings(g.links)
	sort.Strings(g.specials)
}

func (g *gen) pick(s []string) string { return s[g.r.IntN(len(s))] }

func (g *gen) chance(percent int) bool { return g.r.IntN(100) < percent }

// newPath is a name in an existing directory (it may exist).
func (g *gen) newPath() string {
	d := g.pick(g.dirs)
	if len(d) > 12 || g.chance(30) {
		d = "" // keep the tree shallow
	}
	return path.Join(d, g.pick(baseNames))
}

// anyPath is mostly an existing name of the wanted kinds, else a new one.
func (g *gen) anyPath(kinds ...[]string) string {
	var all []string
	for _, k := range kinds {
		all = append(all, k...)
	}
	if len(all) > 0 && g.chance(75) {
		return g.pick(all)
	}
	return g.newPath()
}

func (g *gen) slot(open bool) (int, bool) {
	var c []int
	for i, fd := range g.w.model.fds {
		if (fd >= 0) == open {
			c = append(c, i)
		}
	}
	if len(c) == 0 {
		return 0, false
	}
	return c[g.r.IntN(len(c))], true
}

// length: mostly small writes, sometimes across read-ahead boundaries and
// past the model mount's part size, stream memory and in-place edit
// thresholds (modelEnv.mount); 1 in 50 past all three at once.
func (g *gen) length() int64 {
	switch n := g.r.IntN(100); {
	case n < 75:
		return 1 + g.r.Int64N(4096)
	case n < 93:
		return 1 + g.r.Int64N(64<<10)
	case n < 98:
		return 64<<10 + g.r.Int64N(400<<10-64<<10)
	default:
		return 400<<10 + g.r.Int64N(2*modelEditMin)
	}
}

func (g *gen) slotSize(slot int) int64 {
	var st syscall.Stat_t
	if syscall.Fstat(g.w.model.fds[slot], &st) != nil {
		return 0
	}
	return st.Size
}

// offset near or inside the file open in slot, sometimes beyond its end.
func (g *gen) offset(slot int) int64 {
	size := g.slotSize(slot)
	if g.chance(20) {
		return size
	}
	return g.r.Int64N(size + 8192)
}

func (g *gen) kind() opKind {
	total := 0
	for _, w := range opWeights {
		total += w
	}
	n := g.r.IntN(total)
	for k, w := range opWeights {
		if n < w {
			return opKind(k)
		}
		n -= w
	}
	panic("unreachable")
}

// next draws the next op.
func (g *gen) next() op {
	g.refresh()
	for {
		if o, ok := g.draw(g.kind()); ok {
			return o
		}
	}
}

func (g *gen) draw(k opKind) (op, bool) {
	o := op{Kind: k, Seed: g.r.Uint32()}
	switch k {
	case opOpen:
		s, ok := g.slot(false)
		if !ok {
			return o, false
		}
		o.Slot, o.Path = s, g.anyPath(g.files, g.files, g.links)
		o.Flags = []int{syscall.O_RDONLY, syscall.O_WRONLY, syscall.O_RDWR, syscall.O_RDWR}[g.r.IntN(4)]
		for _, f := range []struct{ bit, pct int }{
			{syscall.O_CREAT, 60}, {syscall.O_TRUNC, 30}, {syscall.O_APPEND, 15}, {syscall.O_EXCL, 5},
		} {
			if g.chance(f.pct) {
				o.Flags |= f.bit
			}
		}
		o.Mode = fileModes[g.r.IntN(len(fileModes))]
	case opPwrite, opWrite, opPread, opRead, opFtruncate, opFsync, opClose, opForkClose, opDup:
		s, ok := g.slot(true)
		if !ok {
			return o, false
		}
		if k == opPwrite || k == opWrite || k == opFtruncate {
			// Mostly a descriptor open for writing (EBADF sometimes).
			for range 3 {
				if g.w.model.wr[s] && g.w.model.fds[s] >= 0 || g.chance(10) {
					break
				}
				s, _ = g.slot(true)
			}
		}
		o.Slot, o.Len, o.Off = s, g.length(), g.offset(s)
		if k == opFtruncate && g.chance(30) {
			o.Off = 0
		}
		if k == opDup {
			if o.Slot2, ok = g.slot(false); !ok {
				return o, false
			}
		}
	case opTruncate:
		o.Path, o.Off = g.anyPath(g.files), g.r.Int64N(8192)
		if g.chance(30) {
			o.Off = 0
		}
	case opRename:
		o.Path, o.Path2 = g.anyPath(g.files, g.dirs[1:], g.links, g.specials), g.anyPath(g.files, g.dirs[1:], g.links, g.specials)
		if g.chance(50) {
			o.Path2 = g.newPath()
		}
	case opLink:
		o.Path, o.Path2 = g.anyPath(g.files, g.dirs[1:]), g.newPath()
	case opUnlink:
		o.Path = g.anyPath(g.files, g.links, g.dirs[1:], g.specials)
	case opMkdir:
		o.Path = g.newPath()
	case opMkfifo, opMknod, opSocket:
		o.Path, o.Mode = g.newPath(), fileModes[g.r.IntN(len(fileModes))]
		o.Dev = int(unix.Mkdev(1+g.r.Uint32N(8), g.r.Uint32N(256)))
	case opRmdir:
		o.Path = g.anyPath(g.dirs[1:], g.files)
	case opSymlink:
		o.Path = g.newPath()
		o.Text = g.linkText(path.Dir(o.Path))
	case opChmod:
		o.Path, o.Mode = g.anyPath(g.files, g.links, g.dirs[1:], g.specials), attrModes[g.r.IntN(len(attrModes))]
	case opChown, opLchown:
		o.Path = g.anyPath(g.files, g.links, g.dirs[1:], g.specials)
		if k == opLchown {
			o.Path = g.anyPath(g.links, g.links, g.files, g.dirs[1:], g.specials)
		}
		o.UID, o.GID = owners[g.r.IntN(len(owners))], owners[g.r.IntN(len(owners))]
	case opUtimes, opLutimes:
		// Whole seconds in the past and the future (the documented
		// resolution).
		o.Path, o.Time = g.anyPath(g.files, g.links, g.dirs[1:], g.specials), 1e9+g.r.Int64N(1e9)
		if k == opLutimes {
			o.Path = g.anyPath(g.links, g.links, g.files, g.dirs[1:], g.specials)
		}
	case opRemount:
	case opSDKPut:
		o.Path, o.Len = g.anyPath(g.files), g.r.Int64N(3000)
		if g.chance(15) {
			o.Path = path.Join(g.pick(baseNames), g.pick(baseNames)) // maybe an implicit directory
		}
		if g.chance(30) {
			// Written with ossfs metadata, as another mount (or ossfs
			// 1.x) writes it; sometimes a FIFO.
			o.Mode = syscall.S_IFREG | fileModes[g.r.IntN(len(fileModes))]
			if g.chance(15) {
				o.Mode, o.Len = o.Mode&^syscall.S_IFMT|syscall.S_IFIFO, 0
			}
			o.UID, o.GID = owners[g.r.IntN(len(owners))], owners[g.r.IntN(len(owners))]
			o.Time = 1e9 + g.r.Int64N(1e9)
		}
	case opSDKDelete:
		o.Path = g.anyPath(g.files, g.links, g.specials)
	case opSDKSymlink:
		o.Path = g.anyPath(g.files, g.links, g.specials)
		o.Path2 = g.anyPath(g.files, g.dirs[1:], g.links)
	}
	return o, true
}

// linkText for a link in dir: relative to an existing or missing name
// inside the root, absolute inside the root, dangling outside it
// (absolute, or climbing above it), "." and "..". Outside targets never
// exist, so nothing outside the roots is written through a link (and
// safePath guards what renames make of relative texts).
func (g *gen) linkText(dir string) string {
	target := g.anyPath(g.files, g.dirs[1:], g.links)
	switch n := g.r.IntN(10); {
	case n < 5:
		rel, err := filepath.Rel("/"+dir, "/"+target)
		if err != nil {
			panic(err)
		}
		return rel
	case n < 7:
		return rootMark + "/" + target
	case n < 8:
		return "/nonexistent-ossfs-model/" + g.pick(baseNames)
	case n < 9:
		return "../../../../../../../../../../nonexistent-ossfs-model/" + g.pick(baseNames)
	default:
		return []string{".", ".."}[g.r.IntN(2)]
	}
}
