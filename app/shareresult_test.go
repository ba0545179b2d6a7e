package app

import (
	"strings"
	"testing"
	"time"

	"github.com/healthwallet/healthwallet/wallet"
)

// TestAvailabilityWords: where a share opens, said for people: the places
// that serve it now, those that do not and why, nowhere, a re-share, and
// the warning when only this device serves it and it is about to lock
// (idle on desktop, leaving the app on a phone).
func TestAvailabilityWords(t *testing.T) {
	device := wallet.Availability{Name: "this device", Kind: wallet.PlaceDevice, OK: true}
	mum := wallet.Availability{Name: "Mum's PC", Kind: wallet.KeeperNode, OK: true}
	office := wallet.Availability{Name: "Office Kubo", Kind: wallet.KeeperKubo, Error: "lacks 1 of 1 packages; the next sync pushes them"}

	all := wallet.ShareAvailability{Places: []wallet.Availability{device, mum, office}}
	if got, want := availabilityText(all), "Can be opened now from: this device, Mum's PC (keeper). Not now from Office Kubo (Kubo replica): lacks 1 of 1 packages; the next sync pushes them."; got != want {
		t.Fatalf("text %q, want %q", got, want)
	}
	if got := shortAvailability(all); got != "opens from this device, Mum's PC (keeper)" {
		t.Fatalf("short %q", got)
	}
	if lockWarning(all) != "" {
		t.Fatal("a warning although keepers serve it")
	}

	desktop := wallet.ShareAvailability{Places: []wallet.Availability{device}, OnlyDevice: true, LockRisk: true, LockAfter: 5 * time.Minute}
	if got := lockWarning(desktop); !strings.HasPrefix(got, "Only this device serves it, and it stops after 5 minutes without use, when the wallet locks: ") {
		t.Fatalf("desktop warning %q", got)
	}
	if got := shortAvailability(desktop); got != "opens from this device only" {
		t.Fatalf("short %q", got)
	}
	phone := desktop
	phone.LocksInBackground = true
	if got := lockWarning(phone); !strings.Contains(got, "as soon as you leave the app, or after 5 minutes without use") {
		t.Fatalf("phone warning %q", got)
	}
	phone.LockAfter = 0
	if got := lockWarning(phone); !strings.Contains(got, "stops as soon as you leave the app:") {
		t.Fatalf("phone warning without idle lock %q", got)
	}

	stopped := device
	stopped.OK, stopped.Error = false, "the node is not running"
	nowhere := wallet.ShareAvailability{Places: []wallet.Availability{stopped}}
	if got := availabilityText(nowhere); got != "Nobody can open it right now. Not now from this device: the node is not running." {
		t.Fatalf("nowhere %q", got)
	}
	if got := shortAvailability(nowhere); got != "nobody can open it now" {
		t.Fatalf("short %q", got)
	}
	if got := availabilityText(wallet.ShareAvailability{Upstream: true}); !strings.Contains(got, "The patient's node and keepers serve it") || !strings.Contains(got, reshareNotice) {
		t.Fatalf("re-share %q", got)
	}
	if got := availabilityText(wallet.ShareAvailability{Inactive: "revoked"}); got != "Nobody can open it any more: it is revoked." {
		t.Fatalf("revoked %q", got)
	}
}
