package memlimit

import (
	"math"
	"runtime/debug"
	"testing"
)

func TestApply(t *testing.T) {
	t.Cleanup(func() { debug.SetMemoryLimit(math.MaxInt64) })
	t.Setenv("GOMEMLIMIT", "")
	if got := Apply(Node); got != Node || debug.SetMemoryLimit(-1) != Node {
		t.Fatalf("Apply(Node) = %d, limit %d; want %d", got, debug.SetMemoryLimit(-1), Node)
	}
	// GOMEMLIMIT wins: Apply leaves the limit the runtime read from it.
	debug.SetMemoryLimit(200 << 20)
	t.Setenv("GOMEMLIMIT", "200MiB")
	if got := Apply(App); got != 200<<20 || debug.SetMemoryLimit(-1) != 200<<20 {
		t.Fatalf("Apply(App) under GOMEMLIMIT=200MiB = %d, want %d", got, 200<<20)
	}
}
