package wallet

import (
	"os"
	"testing"

	"github.com/healthwallet/healthwallet/internal/testclock"
)

// TestMain fixes the time zone; every wallet in these tests runs on the
// test clock (fast.Now), so no test depends on the day it runs.
func TestMain(m *testing.M) {
	testclock.Fix()
	os.Exit(m.Run())
}

// must stops the test when a setup step fails.
func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
