package ossclient

import (
	"math/rand"
	"testing"
)

// checkPlan asserts the invariants of an edit's parts: they tile [0, size),
// no changed byte is in a copied part, every part but the last is at least
// minPart and none over maxPartSize, and there are at most maxParts.
func checkPlan(t *testing.T, size int64, changed []Extent, parts []editPart, minPart int64, maxN int) {
	t.Helper()
	pos := int64(0)
	for i, p := range parts {
		if p.Off != pos || p.Len <= 0 {
			t.Fatalf("part %d %+v does not follow %d", i, p, pos)
		}
		if i < len(parts)-1 && p.Len < minPart {
			t.Fatalf("part %d %+v shorter than %d", i, p, minPart)
		}
		if p.Len > maxPartSize {
			t.Fatalf("part %d %+v too long", i, p)
		}
		if p.copy {
			for _, c := range changed {
				if c.Off < p.Off+p.Len && c.End() > p.Off {
					t.Fatalf("copied part %d %+v holds changed %+v", i, p, c)
				}
			}
		}
		pos += p.Len
	}
	if pos != size {
		t.Fatalf("parts end at %d, size %d", pos, size)
	}
	if len(parts) > maxN {
		t.Fatalf("%d parts, max %d", len(parts), maxN)
	}
}

func TestPlanEditCases(t *testing.T) {
	const (
		KiB, MiB, GiB = 1 << 10, 1 << 20, 1 << 30
		min           = 100 * KiB
	)
	sent := func(parts []editPart) (n int64, k int) {
		for _, p := range parts {
			if !p.copy {
				n += p.Len
				k++
			}
		}
		return
	}
	for _, c := range []struct {
		name      string
		size      int64
		changed   []Extent
		maxSent   int64 // bytes sent as new parts
		maxNew    int   // new parts
		wantParts int   // 0: don't care
	}{
		{"1 MiB at 3 GiB of 6 GiB", 6 * GiB, []Extent{{3 * GiB, MiB}}, MiB, 1, 0},
		{"append 1 MiB", 6*GiB + MiB, []Extent{{6 * GiB, MiB}}, MiB, 1, 0},
		{"small edit grows to the minimum", 64 * MiB, []Extent{{10 * MiB, 4 * KiB}}, min, 1, 0},
		{"edit spanning two 8 MiB parts", 64 * MiB, []Extent{{8*MiB - 512*KiB, MiB}}, MiB, 1, 0},
		{"edit in the last short part", 20*MiB + 50*KiB, []Extent{{20*MiB + 10*KiB, 10 * KiB}}, 50 * KiB, 1, 0},
		{"small gap between edits is sent", 64 * MiB, []Extent{{MiB, MiB}, {2*MiB + 10*KiB, MiB}}, 2*MiB + 10*KiB, 1, 0},
		{"edit at 0", 64 * MiB, []Extent{{0, 4 * KiB}}, min, 1, 0},
		{"short tail copy after edit", 64 * MiB, []Extent{{0, 64*MiB - 10*KiB}}, 64 * MiB, 8, 0},
		{"no change", 64 * MiB, nil, 0, 0, 1},
		{"all new", 20 * MiB, []Extent{{0, 20 * MiB}}, 20 * MiB, 3, 3},
	} {
		t.Run(c.name, func(t *testing.T) {
			parts := planEdit(c.size, c.changed, 8*MiB, 64*MiB, min, maxParts)
			checkPlan(t, c.size, c.changed, parts, min, maxParts)
			n, k := sent(parts)
			if n > c.maxSent || k > c.maxNew {
				t.Fatalf("sent %d bytes in %d parts, want <= %d in <= %d: %+v", n, k, c.maxSent, c.maxNew, parts)
			}
			if c.wantParts > 0 && len(parts) != c.wantParts {
				t.Fatalf("%d parts, want %d", len(parts), c.wantParts)
			}
		})
	}
	// 10,000 parts at most: a 5 TiB object at 8 MiB / 64 MiB grows its parts.
	parts := planEdit(5<<40, []Extent{{1 << 40, 1 << 30}}, 8*MiB, 64*MiB, min, maxParts)
	checkPlan(t, 5<<40, []Extent{{1 << 40, 1 << 30}}, parts, min, maxParts)
}

func TestPlanEditRandom(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for i := 0; i < 2000; i++ {
		size := rng.Int63n(40<<20) + 1
		var changed []Extent
		pos := int64(0)
		for pos < size && rng.Intn(6) > 0 {
			off := pos + rng.Int63n(1<<20)
			n := rng.Int63n(600<<10) + 1
			if off >= size {
				break
			}
			n = min(n, size-off)
			changed = append(changed, Extent{off, n})
			pos = off + n + 1
		}
		parts := planEdit(size, changed, 1<<20, 2<<20, 100<<10, 30)
		checkPlan(t, size, changed, parts, 100<<10, 10000)
	}
}
