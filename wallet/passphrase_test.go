package wallet

import (
	"errors"
	"math"
	"strings"
	"testing"
)

func TestEstimatePassphrase(t *testing.T) {
	tests := []struct {
		in   string
		want Strength
		bits float64 // PassphraseBits, when not 0
	}{
		{"", VeryWeak, 0},
		{"abc", VeryWeak, 0},
		{"Password1", VeryWeak, 0}, // common, whatever the case
		{"aaaaaaaaaa", Weak, 0},
		{"kitten42", Weak, 11 + 0.75*2*math.Log2(10)}, // a list word and two digits
		{"maple maple maple maple", Weak, 11 + 3},     // one word, repeated
		{"mapleriver", Weak, 22},                      // two list words run together
		{"xkqzvtplmn", Weak, 26},                      // letters: a word per 8 of them at most
		{"Kitten42!x", Fair, 0},
		{"maple river orbit", Fair, 33},
		// The fair hint's advice: four random words are strong, whether
		// all from the list or not.
		{"maple river orbit lemon", Strong, 44},
		{"maple river quiet lantern", Strong, 11 + 11 + 13 + 13},
		{"correct horse battery staple", Strong, 0},
		{"Maple River Orbit Lemon", Strong, 48}, // capitals add a bit a word
		{"correct horse battery staple orbit lemon", VeryStrong, 0},
		{"q8#Lm2!vT9zR@w4pX", VeryStrong, 0},
	}
	for _, tc := range tests {
		got, hint := EstimatePassphrase(tc.in)
		if got != tc.want {
			t.Errorf("EstimatePassphrase(%q) = %v (%s, %.1f bits), want %v", tc.in, got, hint, PassphraseBits(tc.in), tc.want)
		}
		if hint == "" {
			t.Errorf("no hint for %q", tc.in)
		}
		if b := PassphraseBits(tc.in); tc.bits != 0 && math.Abs(b-tc.bits) > 1e-9 {
			t.Errorf("PassphraseBits(%q) = %.2f, want %.2f", tc.in, b, tc.bits)
		}
	}
	// The advice agrees with the grades: what the fair hint recommends
	// grades above fair.
	if _, hint := EstimatePassphrase("maple river orbit"); !strings.Contains(hint, "four or more random words") {
		t.Fatalf("fair hint %q", hint)
	}
	if err := CheckPassphrase("short"); !errors.Is(err, ErrWeakPassphrase) {
		t.Errorf("CheckPassphrase(short) = %v", err)
	}
	if err := CheckPassphrase("correct horse battery staple"); err != nil {
		t.Errorf("CheckPassphrase refused a strong phrase: %v", err)
	}
	if s := Strength(7).String(); s != "Strength(7)" {
		t.Errorf("out of range grade %q", s)
	}
}

func FuzzEstimatePassphrase(f *testing.F) {
	f.Add("correct horse battery staple")
	f.Add("\xff\xfe")
	f.Fuzz(func(t *testing.T, s string) {
		g, hint := EstimatePassphrase(s)
		if g < VeryWeak || g > VeryStrong || hint == "" {
			t.Fatalf("EstimatePassphrase(%q) = %v, %q", s, g, hint)
		}
		if b := PassphraseBits(s); b < 0 || math.IsNaN(b) || b > 8*float64(len(s))+1 {
			t.Fatalf("PassphraseBits(%q) = %v", s, b)
		}
	})
}
