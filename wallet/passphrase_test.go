package wallet

import (
	"errors"
	"testing"
)

func TestEstimatePassphrase(t *testing.T) {
	tests := []struct {
		in   string
		want Strength
	}{
		{"", VeryWeak},
		{"abc", VeryWeak},
		{"Password1", VeryWeak}, // common, whatever the case
		{"aaaaaaaaaa", Weak},
		{"kitten42", Weak},
		{"Kitten42!x", Fair},
		{"correct horse battery staple", Fair},
		{"correct horse battery staple orbit", Fair},
		{"correct horse battery staple orbit lemon", Strong},
		{"correct horse battery staple orbit lemon jungle", VeryStrong},
		{"q8#Lm2!vT9zR@w4pX", VeryStrong},
	}
	for _, tc := range tests {
		got, hint := EstimatePassphrase(tc.in)
		if got != tc.want {
			t.Errorf("EstimatePassphrase(%q) = %v (%s), want %v", tc.in, got, hint, tc.want)
		}
		if hint == "" {
			t.Errorf("no hint for %q", tc.in)
		}
	}
	if err := CheckPassphrase("short"); !errors.Is(err, ErrWeakPassphrase) {
		t.Errorf("CheckPassphrase(short) = %v", err)
	}
	if err := CheckPassphrase("correct horse battery staple"); err != nil {
		t.Errorf("CheckPassphrase refused a fair phrase: %v", err)
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
	})
}
