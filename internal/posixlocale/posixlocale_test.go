package posixlocale

import (
	"os"
	"testing"
)

func TestNormalize(t *testing.T) {
	for in, want := range map[string]string{"C.UTF-8": "C", "POSIX.utf8": "C", "C": "C", "en_GB.UTF-8": "en_GB.UTF-8", "": ""} {
		t.Setenv("LANG", in)
		Normalize()
		if got := os.Getenv("LANG"); got != want {
			t.Errorf("LANG=%q normalised to %q, want %q", in, got, want)
		}
	}
}
