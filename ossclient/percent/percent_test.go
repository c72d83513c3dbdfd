package percent

import "testing"

func TestEncode(t *testing.T) {
	for in, want := range map[string]string{
		"a/b c+d%e~f_g.h-i": "a/b%20c%2Bd%25e~f_g.h-i",
		"ü\x00\xff":         "%C3%BC%00%FF",
		"":                  "",
	} {
		if got := Encode(in, false); got != want {
			t.Errorf("Encode(%q) = %q, want %q", in, got, want)
		}
		if got, ok := DecodeStrict(Encode(in, false)); !ok || got != in {
			t.Errorf("DecodeStrict(Encode(%q)) = %q, %v", in, got, ok)
		}
		if got := Decode(Encode(in, true)); got != in {
			t.Errorf("Decode(Encode(%q, true)) = %q", in, got)
		}
	}
	if got := Encode("a/b", true); got != "a%2Fb" {
		t.Errorf("Encode with encodeSlash = %q", got)
	}
}

// TestDecoders: the lenient decoder keeps what is not an escape; the
// strict one refuses it.
func TestDecoders(t *testing.T) {
	for in, lenient := range map[string]string{
		"a+b":    "a+b",
		"%41%2f": "A/",
		"100%":   "100%",
		"%4":     "%4",
		"%zz%41": "%zzA",
	} {
		if got := Decode(in); got != lenient {
			t.Errorf("Decode(%q) = %q, want %q", in, got, lenient)
		}
		_, ok := DecodeStrict(in)
		if wantOK := in == "a+b" || in == "%41%2f"; ok != wantOK {
			t.Errorf("DecodeStrict(%q) ok = %v, want %v", in, ok, wantOK)
		}
	}
}
