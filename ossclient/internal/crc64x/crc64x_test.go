package crc64x

import (
	"hash/crc64"
	"math/rand"
	"testing"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
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

// TestCombine: Combine of two pieces' CRCs is the CRC of the whole, and
// what the SDK's CRC64Combine answers, for lengths from 0 to megabytes.
func TestCombine(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	buf := make([]byte, 3<<20)
	r.Read(buf)
	for _, n2 := range []int{0, 1, 7, 8, 63, 64, 1000, 4096, 65537, 1 << 20, 3<<20 - 5} {
		for _, n1 := range []int{0, 1, 100, 5000} {
			a, b := buf[:n1], buf[len(buf)-n2:]
			c1, c2 := Checksum(a), Checksum(b)
			whole := crc64.Update(crc64.Update(0, tab, a), tab, b)
			if got := Combine(c1, c2, int64(n2)); got != whole {
				t.Errorf("Combine(len %d, len %d) = %x, want %x", n1, n2, got, whole)
			}
			if sdk := oss.CRC64Combine(c1, c2, uint64(n2)); sdk != whole {
				t.Errorf("oss.CRC64Combine(len %d, len %d) = %x, want %x", n1, n2, sdk, whole)
			}
		}
	}
	// Lengths too large to hash here: against the SDK.
	for _, n2 := range []int64{8 << 20, 1<<30 + 3, 5 << 40} {
		c1, c2 := r.Uint64(), r.Uint64()
		if got, want := Combine(c1, c2, n2), oss.CRC64Combine(c1, c2, uint64(n2)); got != want {
			t.Errorf("Combine(_, _, %d) = %x, the SDK says %x", n2, got, want)
		}
	}
}

func BenchmarkCombine(b *testing.B) {
	for b.Loop() {
		Combine(0x1234, 0x5678, 8<<20)
	}
}

func BenchmarkSDKCombine(b *testing.B) {
	for b.Loop() {
		oss.CRC64Combine(0x1234, 0x5678, 8<<20)
	}
}
