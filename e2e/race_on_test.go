//go:build race

package e2e

// raceBuild: the race detector slows the in-process FUSE server several
// times, so long randomized runs shrink their default size under it.
const raceBuild = true
