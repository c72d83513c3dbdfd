package bytesize

import "testing"

func TestParse(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int64
		bad  bool
	}{
		{in: "", want: 0},
		{in: "0", want: 0},
		{in: "1048576", want: 1 << 20},
		{in: " 512K ", want: 512 << 10},
		{in: "512k", want: 512 << 10},
		{in: "50M", want: 50 << 20},
		{in: "1G", want: 1 << 30},
		{in: "8g", want: 8 << 30},
		{in: "-1", bad: true},
		{in: "1T", bad: true},
		{in: "M", bad: true},
		{in: "1.5M", bad: true},
		{in: "99999999999G", bad: true},
	} {
		got, err := Parse(c.in)
		if c.bad {
			if err == nil {
				t.Errorf("Parse(%q) = %d, want an error", c.in, got)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("Parse(%q) = %d, %v; want %d", c.in, got, err, c.want)
		}
	}
}

func TestFormatRoundTrips(t *testing.T) {
	for _, c := range []struct {
		in   int64
		want string
	}{
		{0, "0"}, {1000, "1000"}, {1536, "1536"}, {3072, "3K"}, {1 << 20, "1M"}, {3 << 30, "3G"}, {1<<30 + 1<<20, "1025M"},
	} {
		got := Format(c.in)
		if got != c.want {
			t.Errorf("Format(%d) = %q, want %q", c.in, got, c.want)
		}
		if back, err := Parse(got); err != nil || back != c.in {
			t.Errorf("Parse(Format(%d)) = %d, %v", c.in, back, err)
		}
	}
}
