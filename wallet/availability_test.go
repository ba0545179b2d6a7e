package wallet

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/healthwallet/healthwallet/wallet/catalog"
	"github.com/healthwallet/healthwallet/wallet/fhir"
)

// availNames lists the names of the places that serve now.
func availNames(a ShareAvailability) []string {
	var out []string
	for _, p := range a.Available() {
		out = append(out, p.Name)
	}
	return out
}

// TestGrantAvailability: a grant naming this device, a keeper and a Kubo
// replica is available from each as the wallet last saw it: the device
// while its node runs, the keeper once a sync succeeded after the grant was
// made, the replica once it pinned every package. With the device the only
// place and the wallet locking when idle, LockRisk warns. A keeper the
// grant does not name is not a place; a revoked grant and a re-share have
// no places of their own.
func TestGrantAvailability(t *testing.T) {
	ctx := context.Background()
	_, chain := startDevnet(t)
	patient := importedPatient(t, "Marguerita_Reilly")
	keeperPeer, kuboPeer, laterPeer := newWallet(t).Info().PeerID, newWallet(t).Info().PeerID, newWallet(t).Info().PeerID
	now := patient.now().UTC()
	keeperAddr := "/ip4/127.0.0.1/tcp/4101/p2p/" + keeperPeer
	mum := &keeperState{Keeper: Keeper{ID: catalog.NewID().String(), Kind: KeeperNode, Name: "Mum's PC", PeerID: keeperPeer, Addr: keeperAddr, Added: now}}
	kubo := &keeperState{Keeper: Keeper{ID: catalog.NewID().String(), Kind: KeeperKubo, Name: "Office Kubo", PeerID: kuboPeer, Gateway: "http://127.0.0.1:8080", Added: now.Add(time.Second)}}
	must(t, patient.putKeeper(mum))
	must(t, patient.putKeeper(kubo))
	providers := []string{
		"/ip4/127.0.0.1/tcp/4001/p2p/" + patient.Info().PeerID,
		keeperAddr,
		keeperAddr + "/p2p-circuit/p2p/" + patient.Info().PeerID,
		"/ip4/127.0.0.1/tcp/8080/http",
	}
	g, err := patient.IssueGrant(ctx, GrantRequest{To: newWallet(t).Info().DID, Selection: Selection{Categories: []fhir.Category{fhir.Labs}}, Duration: time.Hour, Providers: providers}, chain)
	must(t, err)
	// Enrolled after the grant: it is not named, so it is no place.
	later := &keeperState{Keeper: Keeper{ID: catalog.NewID().String(), Kind: KeeperNode, Name: "Later keeper", PeerID: laterPeer, Addr: "/ip4/127.0.0.1/tcp/4102/p2p/" + laterPeer, Added: now.Add(2 * time.Second), LastSync: now}}
	must(t, patient.putKeeper(later))

	phone := Device{Serving: true, LockAfter: 5 * time.Minute}
	a, err := patient.GrantAvailability(g.Record, phone)
	must(t, err)
	if len(a.Places) != 3 || a.Places[0].Kind != PlaceDevice || a.Places[1].Name != "Mum's PC" || a.Places[2].Name != "Office Kubo" {
		t.Fatalf("places %+v", a.Places)
	}
	if got := availNames(a); !slices.Equal(got, []string{"this device"}) || !a.OnlyDevice || !a.LockRisk || a.LockAfter != 5*time.Minute {
		t.Fatalf("before any sync: available %v, only device %v, lock risk %v", got, a.OnlyDevice, a.LockRisk)
	}
	if a.Places[1].Error != "not synced since the share was made" || a.Places[2].Error != "lacks 1 of 1 packages; the next sync pushes them" {
		t.Fatalf("why not: %q, %q", a.Places[1].Error, a.Places[2].Error)
	}
	// A device that never locks by itself: the only place, but no risk.
	if a, _ := patient.GrantAvailability(g.Record, Device{Serving: true}); !a.OnlyDevice || a.LockRisk {
		t.Fatalf("never-locking device: only %v, risk %v", a.OnlyDevice, a.LockRisk)
	}

	// The keeper synced, the replica pinned the package.
	mum.LastSync = g.Record.Created
	roots, err := patient.grantRoots(g.Record)
	must(t, err)
	kubo.Pushed = map[string]int64{}
	for r, exp := range roots {
		kubo.Pushed[r.String()] = exp
	}
	must(t, patient.putKeeper(mum))
	must(t, patient.putKeeper(kubo))
	a, err = patient.GrantAvailability(g.Record, phone)
	must(t, err)
	if got := availNames(a); !slices.Equal(got, []string{"this device", "Mum's PC", "Office Kubo"}) || a.OnlyDevice || a.LockRisk {
		t.Fatalf("after sync: available %v, only device %v, lock risk %v", got, a.OnlyDevice, a.LockRisk)
	}
	// Locked (node stopped): the keepers still serve.
	a, err = patient.GrantAvailability(g.Record, Device{LocksInBackground: true})
	must(t, err)
	if got := availNames(a); !slices.Equal(got, []string{"Mum's PC", "Office Kubo"}) || a.Places[0].OK || a.LockRisk {
		t.Fatalf("node stopped: available %v, places %+v", got, a.Places)
	}
	// The keeper's last sync failed: it no longer counts.
	mum.LastError = "keeper unreachable"
	must(t, patient.putKeeper(mum))
	a, err = patient.GrantAvailability(g.Record, phone)
	must(t, err)
	if got := availNames(a); !slices.Equal(got, []string{"this device", "Office Kubo"}) || a.Places[1].Error != "not reached at the last sync: keeper unreachable" {
		t.Fatalf("keeper down: available %v, places %+v", got, a.Places)
	}

	// Revoked, or a re-share: no places of its own.
	revoked := g.Record
	revoked.RevokedAt = now
	if a, err := patient.GrantAvailability(revoked, phone); err != nil || a.Inactive != "revoked" || len(a.Places) != 0 || a.LockRisk {
		t.Fatalf("revoked: %+v %v", a, err)
	}
	reshare := g.Record
	reshare.Links = 2
	if a, err := patient.GrantAvailability(reshare, phone); err != nil || !a.Upstream || len(a.Places) != 0 {
		t.Fatalf("re-share: %+v %v", a, err)
	}
}

// TestSHLAvailability: a link opens where its manifest URL points: this
// device's node while it runs, or a keeper that holds the link's entry.
func TestSHLAvailability(t *testing.T) {
	w := newWallet(t)
	now := w.now().UTC()
	peerID := newWallet(t).Info().PeerID
	k := &keeperState{Keeper: Keeper{ID: catalog.NewID().String(), Kind: KeeperNode, Name: "Mum's PC", PeerID: peerID, Added: now, LastSync: now}}
	must(t, w.putKeeper(k))
	onDevice := SHLRecord{ID: "device-link-0001", URL: "https://phone.example:8443/shl/device-link-0001", Expires: now.Add(time.Hour), Version: 1}
	onKeeper := SHLRecord{ID: "keeper-link-0002", URL: "https://keeper.example/shl/keeper-link-0002", Expires: now.Add(time.Hour), Version: 1}
	dev := Device{Serving: true, SHLURL: "https://phone.example:8443/", LockAfter: time.Minute}

	a, err := w.SHLAvailability(onDevice, dev)
	must(t, err)
	if got := availNames(a); !slices.Equal(got, []string{"this device"}) || !a.LockRisk {
		t.Fatalf("device link: %v, risk %v", got, a.LockRisk)
	}
	// The keeper has not taken the link yet: nowhere.
	a, err = w.SHLAvailability(onKeeper, dev)
	must(t, err)
	if len(a.Places) != 0 || a.OnlyDevice {
		t.Fatalf("keeper link before the push: %+v", a)
	}
	k.SHLs = map[string]int{onKeeper.ID: 1}
	must(t, w.putKeeper(k))
	a, err = w.SHLAvailability(onKeeper, dev)
	must(t, err)
	if got := availNames(a); !slices.Equal(got, []string{"Mum's PC"}) || a.LockRisk {
		t.Fatalf("keeper link: %v, risk %v", got, a.LockRisk)
	}
	expired := onKeeper
	expired.Expires = now
	if a, err := w.SHLAvailability(expired, dev); err != nil || a.Inactive != "expired" || len(a.Places) != 0 {
		t.Fatalf("expired link: %+v %v", a, err)
	}
}
