package keystore

import (
	"runtime"
	"testing"
)

// TestOpenReleasesKDFMemory seals and opens a keystore of work factor 2^16
// (64 MiB of scrypt; the default 2^17 takes 128 MiB) and reads the heap
// right after each, without collecting: the derivation's memory is gone
// and the collector's next target is near the live heap. Without the
// release, 64 MiB were still counted and the next target was about
// 128 MiB.
func TestOpenReleasesKDFMemory(t *testing.T) {
	file, err := Seal(testSecret, "correct horse battery staple", 16)
	if err != nil {
		t.Fatal(err)
	}
	for _, step := range []string{"Seal", "Open"} {
		if step == "Open" {
			if _, err := Open(file, "correct horse battery staple", Digest(file)); err != nil {
				t.Fatal(err)
			}
		}
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		const bound = 32 << 20
		if m.HeapAlloc > bound || m.NextGC > bound || m.HeapSys-m.HeapReleased > bound {
			t.Fatalf("after %s: heap %d MiB, next GC at %d MiB, %d MiB held from the OS; want each at most %d MiB",
				step, m.HeapAlloc>>20, m.NextGC>>20, (m.HeapSys-m.HeapReleased)>>20, bound>>20)
		}
	}
}
