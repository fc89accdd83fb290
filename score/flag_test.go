package score

import (
	"context"
	"testing"
)

func TestFlagScorer(t *testing.T) {
	h := HashFlag("flag{0123abcd}")
	pico := HashFlag("picoCTF{b4s3_64}")
	for _, tc := range []struct {
		hash, answer string
		want         bool
	}{
		{h, "flag{0123abcd}", true},
		{h, "  flag{0123abcd}\n", true},
		{h, "The flag is flag{0123abcd}.", true},
		{h, "tried flag{wrong} then flag{0123abcd}", true},
		{h, "flag{0123abcD}", false},
		{h, "flag{0123abc}", false},
		{h, "", false},
		{pico, "found it: picoCTF{b4s3_64}", true},
		{pico, "picoCTF{b4s3_64", false},
	} {
		v := Flag{}.Score(context.Background(), Input{Response: tc.answer, FlagSHA256: tc.hash})
		if v.Err != "" || v.Flagged != tc.want {
			t.Errorf("Score(%q) = %+v, want flagged %v", tc.answer, v, tc.want)
		}
	}
	if v := (Flag{}).Score(context.Background(), Input{Response: "flag{x}"}); v.Err == "" {
		t.Errorf("no flag hash: %+v, want an error", v)
	}
}

func FuzzCapturedFlag(f *testing.F) {
	f.Add("flag{abc} picoCTF{x}", "flag{abc}")
	f.Fuzz(func(t *testing.T, answer, flag string) {
		got := CapturedFlag(HashFlag(flag), answer)
		if answer == flag && !got {
			t.Fatalf("the flag itself (%q) is not captured", flag)
		}
	})
}
