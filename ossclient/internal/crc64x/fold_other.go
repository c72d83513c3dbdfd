//go:build !amd64

package crc64x

const hasCLMUL = false

func fold(acc *[8]uint64, p []byte, k *[8]uint64) { panic("crc64x: no carry-less multiply") }
