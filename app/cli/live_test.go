package cli

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestLiveFlagsCLI: the live flags' usage errors, one line each, before
// any wallet or chain is touched.
func TestLiveFlagsCLI(t *testing.T) {
	home := filepath.Join(t.TempDir(), "w")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"grant", "--to", "did:key:zQ3sx", "--for", "30d", "--category", "labs", "--live", "--delegable", "1"}, "a live grant cannot be delegated"},
		{[]string{"redeem", "hwg1:x", "--follow", "--every", "10ms"}, "--every at least 1s"},
	} {
		r := run(t, "", passEnv, append([]string{"--home", home}, tc.args...)...)
		if r.code != ExitUsage || !strings.Contains(r.stderr, tc.want) || strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("%v: exit %d, %q; want usage error with %q", tc.args, r.code, r.stderr, tc.want)
		}
	}
}
