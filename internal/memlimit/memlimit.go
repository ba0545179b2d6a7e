// Package memlimit bounds the memory of healthwallet's long-running
// processes: it sets the Go runtime's soft memory limit of `healthwallet
// node`, `healthwallet keeper` and the app, and hands a key derivation's
// memory back to the operating system once the derivation is done.
//
// Unlocking a wallet runs scrypt with N = 2^17, r = 8: 128 MiB that are
// garbage the moment the key is derived. Left to the collector, that
// garbage is still counted at the next collection, which then sets its
// next target near twice that (about 267 MB), and a node under load grows
// to 300 MiB before it collects again. [ReleaseKDF] collects at once and
// returns the freed pages; the limit keeps the collector's target near
// the live heap afterwards.
//
// The limits are soft: the runtime collects harder as the process
// approaches one, and never fails an allocation because of it. The
// environment variable GOMEMLIMIT (the Go runtime's own, e.g.
// GOMEMLIMIT=200MiB, or GOMEMLIMIT=off) overrides them.
package memlimit

import (
	"os"
	"runtime"
	"runtime/debug"
)

// Default limits. A node serving 50 concurrent grantees of an 8 MiB
// package keeps 35–45 MiB live; 64 MiB leaves it room and held its resident
// set (the binary's own pages included) to about 110 MiB in `make bench`,
// where 96 MiB let it reach 135 MiB. A keeper holds many patients'
// packages and serves their grantees: 96 MiB. The app adds fyne's images
// and fonts: 256 MiB. The unlock itself still peaks at scrypt's 128 MiB
// plus the process, for the second it takes.
const (
	Node   = 64 << 20
	Keeper = 96 << 20
	App    = 256 << 20
)

// Apply sets the runtime's memory limit to def bytes unless GOMEMLIMIT is
// set, and returns the limit in force.
func Apply(def int64) int64 {
	if os.Getenv("GOMEMLIMIT") != "" {
		return debug.SetMemoryLimit(-1)
	}
	debug.SetMemoryLimit(def)
	return def
}

// ReleaseKDF collects the garbage of a finished key derivation and returns
// the freed memory to the operating system. It costs one full collection
// (milliseconds on a small heap); callers run it after a costly KDF only.
func ReleaseKDF() {
	runtime.GC()
	debug.FreeOSMemory()
}
