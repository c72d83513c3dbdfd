package ossclient

// Extent is a byte range [Off, Off+Len) of an object.
type Extent struct {
	Off, Len int64
}

// End is the offset just past the extent.
func (e Extent) End() int64 { return e.Off + e.Len }

// editPart is one part of an edit's multipart upload: Len bytes at Off of
// the new object, copied server-side from the same range of the base
// version (copy) or sent as new bytes.
type editPart struct {
	Off, Len int64
	copy     bool
}

// planEdit cuts a new object of size bytes into the parts of one multipart
// upload. changed lists the ranges whose bytes are new (sorted, disjoint);
// every other byte is the base version's byte at the same offset, copied
// server-side. OSS wants every part but the last to be at least minPart
// and at most maxPartSize, and at most maxParts parts, so:
//
//   - an unchanged range shorter than minPart (not the last) is sent as
//     new bytes (read from the base: at most minPart bytes a gap);
//   - a changed range shorter than minPart (not the last) grows into the
//     unchanged range after it, by what it lacks (or all of that range,
//     when the rest would be too short), and those bytes are sent too;
//   - long ranges are split into near-equal parts of at most partSize (new
//     bytes) or copyPartSize (copies), both grown until the total fits in
//     maxParts.
func planEdit(size int64, changed []Extent, partSize, copyPartSize, minPart int64, maxParts int) []editPart {
	segs := segments(size, changed)
	segs = mergeSmall(segs, minPart)
	for {
		parts := split(segs, partSize, copyPartSize)
		if len(parts) <= maxParts || (partSize >= maxPartSize && copyPartSize >= maxPartSize) {
			return parts
		}
		partSize, copyPartSize = min(2*partSize, maxPartSize), min(2*copyPartSize, maxPartSize)
	}
}

// segments covers [0, size) with alternating copied and new ranges.
func segments(size int64, changed []Extent) []editPart {
	var segs []editPart
	add := func(off, end int64, cp bool) {
		if end <= off {
			return
		}
		if n := len(segs); n > 0 && segs[n-1].copy == cp && segs[n-1].Off+segs[n-1].Len == off {
			segs[n-1].Len += end - off
			return
		}
		segs = append(segs, editPart{Off: off, Len: end - off, copy: cp})
	}
	pos := int64(0)
	for _, e := range changed {
		off, end := max(e.Off, pos), min(e.End(), size)
		if end <= off {
			continue
		}
		add(pos, off, true)
		add(off, end, false)
		pos = end
	}
	add(pos, size, true)
	return segs
}

// mergeSmall makes every segment but the last at least minPart long, as
// planEdit describes.
func mergeSmall(segs []editPart, minPart int64) []editPart {
	// Short copies (not last) become new bytes.
	for i := range segs[:max(len(segs)-1, 0)] {
		if segs[i].copy && segs[i].Len < minPart {
			segs[i].copy = false
		}
	}
	segs = coalesce(segs)
	// Short new ranges (not last) take from the copy after them.
	out := segs[:0:0]
	for i := 0; i < len(segs); i++ {
		s := segs[i]
		for !s.copy && s.Len < minPart && i+1 < len(segs) {
			next := &segs[i+1]
			need := minPart - s.Len
			if next.Len-need >= minPart || i+2 == len(segs) && next.Len > need {
				s.Len += need
				next.Off += need
				next.Len -= need
				break
			}
			s.Len += next.Len // the whole copy, and the new range after it
			i++
			if i+1 < len(segs) && !segs[i+1].copy {
				s.Len += segs[i+1].Len
				i++
			}
		}
		out = append(out, s)
	}
	return out
}

// coalesce merges neighbours of one kind.
func coalesce(segs []editPart) []editPart {
	out := segs[:0:0]
	for _, s := range segs {
		if n := len(out); n > 0 && out[n-1].copy == s.copy {
			out[n-1].Len += s.Len
			continue
		}
		out = append(out, s)
	}
	return out
}

// split cuts each segment into near-equal parts of at most partSize (new
// bytes) or copyPartSize (copies).
func split(segs []editPart, partSize, copyPartSize int64) []editPart {
	var parts []editPart
	for _, s := range segs {
		limit := partSize
		if s.copy {
			limit = copyPartSize
		}
		k := (s.Len + limit - 1) / limit
		if k > 1 && s.Len/k < minPartSize {
			k = s.Len / minPartSize // a part size under 2 x minimum: parts a little over it
		}
		off := s.Off
		for j := int64(0); j < k; j++ {
			n := s.Len / k
			if j < s.Len%k {
				n++
			}
			parts = append(parts, editPart{Off: off, Len: n, copy: s.copy})
			off += n
		}
	}
	return parts
}
