// Package bytesize reads and writes byte counts the way ossfs's flags take
// them: a whole number with an optional binary suffix K, M or G (2^10,
// 2^20, 2^30; either case). It is shared by the CLI and the benchmark so
// that both read "64M" alike.
package bytesize

import (
	"fmt"
	"strconv"
	"strings"
)

// Parse reads "1048576", "512K", "50M" or "1G". Surrounding space is
// ignored; an empty string is 0. Negative numbers and other suffixes are
// errors.
func Parse(s string) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	num, shift := s, 0
	switch strings.ToUpper(s[len(s)-1:]) {
	case "K":
		shift = 10
	case "M":
		shift = 20
	case "G":
		shift = 30
	}
	if shift != 0 {
		num = s[:len(s)-1]
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n < 0 || n > (1<<63-1)>>shift {
		return 0, fmt.Errorf("%q is not a byte count (e.g. 1048576, 512K, 50M, 1G)", s)
	}
	return n << shift, nil
}

// Format writes n with the largest suffix that divides it exactly, so that
// Parse(Format(n)) == n: 1<<20 is "1M", 3072 is "3K", 1536 is "1536".
func Format(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%dG", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%dM", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%dK", n>>10)
	}
	return strconv.FormatInt(n, 10)
}
