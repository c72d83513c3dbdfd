package writeback

import (
	"sort"

	"github.com/ossfs/ossfs/ossclient"
)

// extents is a set of byte ranges, kept sorted, disjoint and merged.
type extents struct {
	r []ossclient.Extent
}

// add inserts [off, end).
func (x *extents) add(off, end int64) {
	if end <= off {
		return
	}
	// First range that ends at or after off (it may merge).
	i := sort.Search(len(x.r), func(i int) bool { return x.r[i].End() >= off })
	j := i
	for j < len(x.r) && x.r[j].Off <= end {
		off, end = min(off, x.r[j].Off), max(end, x.r[j].End())
		j++
	}
	n := ossclient.Extent{Off: off, Len: end - off}
	x.r = append(x.r[:i], append([]ossclient.Extent{n}, x.r[j:]...)...)
}

// clip drops everything at or past limit.
func (x *extents) clip(limit int64) {
	i := sort.Search(len(x.r), func(i int) bool { return x.r[i].End() > limit })
	if i < len(x.r) && x.r[i].Off < limit {
		x.r[i].Len = limit - x.r[i].Off
		i++
	}
	x.r = x.r[:i]
}

// gaps returns the parts of [off, end) not in the set.
func (x *extents) gaps(off, end int64) []ossclient.Extent {
	var out []ossclient.Extent
	i := sort.Search(len(x.r), func(i int) bool { return x.r[i].End() > off })
	for ; off < end; i++ {
		if i == len(x.r) || x.r[i].Off >= end {
			out = append(out, ossclient.Extent{Off: off, Len: end - off})
			break
		}
		if x.r[i].Off > off {
			out = append(out, ossclient.Extent{Off: off, Len: x.r[i].Off - off})
		}
		off = x.r[i].End()
	}
	return out
}

// list returns a copy of the ranges.
func (x *extents) list() []ossclient.Extent {
	return append([]ossclient.Extent(nil), x.r...)
}
