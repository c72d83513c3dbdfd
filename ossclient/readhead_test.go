package ossclient

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

func TestReadHead(t *testing.T) {
	const limit = 200 << 10
	data := make([]byte, limit+5)
	for i := range data {
		data[i] = byte(i * 7)
	}
	for _, size := range []int{0, 1, 64<<10 - 1, 64 << 10, 64<<10 + 1, limit - 1, limit, limit + 5} {
		got, err := readHead(bytes.NewReader(data[:size]), limit)
		want := data[:min(size, limit)]
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("size %d: %d bytes, %v; want %d bytes", size, len(got), err, len(want))
		}
		if cap(got) > limit {
			t.Errorf("size %d: buffer of %d bytes, more than the limit", size, cap(got))
		}
	}
	boom := errors.New("boom")
	if _, err := readHead(io.MultiReader(bytes.NewReader(data[:100<<10]), &failing{boom}), limit); !errors.Is(err, boom) {
		t.Errorf("a failing reader: %v", err)
	}
}

type failing struct{ err error }

func (f *failing) Read([]byte) (int, error) { return 0, f.err }
