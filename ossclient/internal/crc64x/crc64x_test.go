package crc64x

import (
	"hash/crc64"
	"math/rand"
	"testing"
)

func TestMatchesHashCRC64(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	buf := make([]byte, 1<<20+77)
	rng.Read(buf)
	for n := 0; n <= 1024; n++ {
		for _, crc := range []uint64{0, rng.Uint64()} {
			off := rng.Intn(16)
			p := buf[off : off+n]
			if got, want := Update(crc, p), crc64.Update(crc, tab, p); got != want {
				t.Fatalf("len %d crc %x: %x, want %x", n, crc, got, want)
			}
		}
	}
	for _, n := range []int{4095, 65536, 1 << 20, len(buf) - 3} {
		if got, want := Checksum(buf[3:3+n]), crc64.Checksum(buf[3:3+n], tab); got != want {
			t.Fatalf("len %d: %x, want %x", n, got, want)
		}
	}
	h := New()
	for p := buf; len(p) > 0; {
		k := min(len(p), rng.Intn(5000))
		h.Write(p[:k])
		p = p[k:]
	}
	if got, want := h.Sum64(), crc64.Checksum(buf, tab); got != want {
		t.Fatalf("streamed: %x, want %x", got, want)
	}
	if !hasCLMUL {
		t.Log("no carry-less multiply here: hash/crc64 was tested against itself")
	}
}

func BenchmarkUpdate(b *testing.B) {
	buf := make([]byte, 8<<20)
	b.SetBytes(int64(len(buf)))
	for range b.N {
		Update(0, buf)
	}
}

func BenchmarkHashCRC64(b *testing.B) {
	buf := make([]byte, 8<<20)
	b.SetBytes(int64(len(buf)))
	for range b.N {
		crc64.Update(0, tab, buf)
	}
}
