package osstest

import (
	"crypto/md5"
	"encoding/hex"
	"hash"
	"hash/crc64"
	"strings"
)

var crcTable = crc64.MakeTable(crc64.ECMA)

// crc64Combine returns the CRC-64/ECMA of A||B given crc(A), crc(B) and
// len(B), the zlib crc32_combine algorithm for the 64-bit reflected
// polynomial. It is how the CRC of an appended or multipart object is known
// without rereading its data.
func crc64Combine(crc1, crc2 uint64, len2 int64) uint64 {
	if len2 <= 0 {
		return crc1
	}
	var even, odd [64]uint64
	odd[0] = 0xC96C5795D7870F42 // reflected ECMA-182 polynomial
	row := uint64(1)
	for n := 1; n < 64; n++ {
		odd[n] = row
		row <<= 1
	}
	gf2Square(&even, &odd)
	gf2Square(&odd, &even)
	for {
		gf2Square(&even, &odd)
		if len2&1 != 0 {
			crc1 = gf2Times(&even, crc1)
		}
		len2 >>= 1
		if len2 == 0 {
			break
		}
		gf2Square(&odd, &even)
		if len2&1 != 0 {
			crc1 = gf2Times(&odd, crc1)
		}
		len2 >>= 1
		if len2 == 0 {
			break
		}
	}
	return crc1 ^ crc2
}

func gf2Times(mat *[64]uint64, vec uint64) uint64 {
	var sum uint64
	for i := 0; vec != 0; i++ {
		if vec&1 != 0 {
			sum ^= mat[i]
		}
		vec >>= 1
	}
	return sum
}

func gf2Square(square, mat *[64]uint64) {
	for n := 0; n < 64; n++ {
		square[n] = gf2Times(mat, mat[n])
	}
}

// digester hashes a body as it streams past: MD5 (for ETag and Content-MD5),
// CRC-64/ECMA and the byte count.
type digester struct {
	md5  hash.Hash
	crc  uint64
	size int64
}

func newDigester() *digester { return &digester{md5: md5.New()} }

func (d *digester) Write(p []byte) (int, error) {
	d.md5.Write(p)
	d.crc = crc64.Update(d.crc, crcTable, p)
	d.size += int64(len(p))
	return len(p), nil
}

func (d *digester) etag() string { return strings.ToUpper(hex.EncodeToString(d.md5.Sum(nil))) }
