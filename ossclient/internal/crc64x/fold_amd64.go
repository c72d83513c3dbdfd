package crc64x

import "golang.org/x/sys/cpu"

var hasCLMUL = cpu.X86.HasPCLMULQDQ && cpu.X86.HasSSE41

// fold folds p (a multiple of 64 bytes) into the four accumulators acc
// (the first 64 bytes of the message), then the four into acc[0:2].
//
//go:noescape
func fold(acc *[8]uint64, p []byte, k *[8]uint64)
