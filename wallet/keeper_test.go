package wallet

import (
	"context"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/healthwallet/healthwallet/internal/fixtures"
	"github.com/healthwallet/healthwallet/internal/plaintext"
	"github.com/healthwallet/healthwallet/internal/testclock"
	"github.com/healthwallet/healthwallet/ipfs"
	"github.com/healthwallet/healthwallet/share/grant"
	"github.com/healthwallet/healthwallet/share/keep"
	"github.com/healthwallet/healthwallet/share/serve"
	"github.com/healthwallet/healthwallet/wallet/fhir"
)

var tcpLoopback = []string{"/ip4/127.0.0.1/tcp/0"}

// keeperBlocks lists the multihashes in a keeper wallet's block store.
func keeperBlocks(t *testing.T, w *Wallet) map[string]bool {
	t.Helper()
	s, err := w.objectStore()
	must(t, err)
	cs, err := s.Blocks(context.Background())
	must(t, err)
	out := map[string]bool{}
	for _, c := range cs {
		out[c.Hash().HexString()] = true
	}
	return out
}

// importedPatient is a wallet holding a fixture patient's records.
func importedPatient(t *testing.T, name string) *Wallet {
	t.Helper()
	w := newWallet(t)
	data, err := fixtures.Named(name).Read()
	must(t, err)
	_, err = w.ImportFHIR(context.Background(), name+".json", data)
	must(t, err)
	return w
}

// TestKeeperServesWhilePatientAway: a patient enrols a keeper, issues a
// grant while its own node is stopped, and the grantee redeems it from the
// keeper alone; the keeper logs the presentation, the patient merges the
// record once, the keeper holds no plaintext, refuses strangers, refuses
// the grant once it is revoked, and deletes its copies when removed.
func TestKeeperServesWhilePatientAway(t *testing.T) {
	ctx := context.Background()
	d, chain := startDevnet(t)
	patient := importedPatient(t, "Marguerita_Reilly")
	keeperW, specialist, stranger := newWallet(t), newWallet(t), newWallet(t)

	k, err := keeperW.Keep(ctx, KeeperConfig{Listen: tcpLoopback, Chain: chain, RefreshEvery: 200 * time.Millisecond})
	must(t, err)
	defer k.Close()
	baseline := keeperBlocks(t, keeperW)

	// The patient's node ran once (its addresses are what node.json keeps)
	// and is stopped now.
	srv, err := patient.Serve(ctx, ServeConfig{Listen: tcpLoopback, Chain: chain})
	must(t, err)
	own := srv.Addrs()
	must(t, srv.Close())

	kp, err := patient.AddKeeper(ctx, k.Addrs()[0], "Mum's PC")
	if err != nil {
		t.Fatal(err)
	}
	if kp.Kind != KeeperNode || kp.PeerID != k.PeerID() || !kp.Reachable || kp.Held != 0 {
		t.Fatalf("added keeper %+v", kp)
	}
	if k.Patients() != 1 {
		t.Fatalf("keeper has %d patients, want 1", k.Patients())
	}
	extra, err := patient.KeeperProviders()
	must(t, err)
	wantProviders := []string{k.Addrs()[0], k.Addrs()[0] + "/p2p-circuit/p2p/" + patient.Info().PeerID}
	if !slices.Equal(extra, wantProviders) {
		t.Fatalf("keeper providers %v, want %v", extra, wantProviders)
	}

	sel := Selection{Categories: []fhir.Category{fhir.Labs, fhir.Medications}}
	g, err := patient.IssueGrant(ctx, GrantRequest{To: specialist.Info().DID, Selection: sel, Duration: time.Hour, Providers: append(own, extra...)}, chain)
	must(t, err)
	avail, err := patient.PushToKeepers(ctx, g.Record)
	must(t, err)
	if len(avail) != 2 || !avail[1].OK || avail[1].Name != "Mum's PC" || avail[1].Kind != KeeperNode {
		t.Fatalf("availability %+v", avail)
	}
	roots, err := patient.grantRoots(g.Record)
	must(t, err)
	for r := range roots {
		if !keeperBlocks(t, keeperW)[r.Hash().HexString()] {
			t.Fatalf("keeper lacks package root %s after the push", r)
		}
	}

	// Redeem with the patient's node down: the keeper serves.
	want, _, _ := patient.SharePackage(ctx, sel, testclock.Now())
	red, err := specialist.Redeem(ctx, g.Link, chain, RedeemOptions{Listen: ipfs.LoopbackListen})
	if err != nil {
		t.Fatalf("redeem from the keeper: %v", err)
	}
	if !slices.Equal(resourceSet(t, red.Bundle), resourceSet(t, want)) {
		t.Fatal("bundle from the keeper differs from the share package")
	}

	// The patient's access log gets the keeper's record, once.
	for range 2 {
		s, err := patient.SyncKeepers(ctx)
		must(t, err)
		if len(s.Keepers) != 1 || s.Keepers[0].Err != nil {
			t.Fatalf("sync %+v", s)
		}
	}
	log, err := patient.AccessLog()
	must(t, err)
	var fromKeeper []AccessEntry
	for _, e := range log {
		if e.Keeper != "" {
			fromKeeper = append(fromKeeper, e)
		}
	}
	if len(fromKeeper) != 1 || fromKeeper[0].Keeper != "Mum's PC" || !fromKeeper[0].Granted ||
		fromKeeper[0].Root != g.Record.Hash || fromKeeper[0].Grantee != specialist.Info().Address {
		t.Fatalf("keeper records in the access log: %+v", fromKeeper)
	}
	if ks, _ := patient.Keepers(); len(ks) != 1 || ks[0].Held != len(roots) || ks[0].Pending != 0 || ks[0].LastSync.IsZero() {
		t.Fatalf("keepers after sync %+v", ks)
	}

	// Nothing plaintext reached the keeper.
	needles := []string{"Hydrochlorothiazide", "Marguerita"}
	if hits, err := plaintext.Find("bundle", red.Bundle, needles...); err != nil || len(hits) != len(needles) {
		t.Fatalf("needles not in the shared bundle (the scan below could not fail): %v %v", hits, err)
	}
	hits, files, err := plaintext.ScanDir(keeperW.Home(), needles...)
	must(t, err)
	if len(hits) > 0 || files < len(roots) {
		t.Fatalf("keeper home: %d files, plaintext %v", files, hits)
	}

	// A peer no enrolment names may not put.
	strangerNode, err := stranger.startNode(ctx, ipfs.LoopbackListen, nil)
	must(t, err)
	defer strangerNode.Close()
	kai, _ := peer.AddrInfoFromString(k.Addrs()[0])
	sc := &keep.Client{Host: strangerNode.Host(), Keeper: *kai}
	_, sref, err := stranger.PutObject(ctx, strings.NewReader("a stranger's ciphertext"), 23, nil)
	must(t, err)
	err = sc.Put(ctx, []keep.Item{{Root: sref.Root.String(), Expires: testclock.Now().Add(time.Hour).Unix()}},
		func(w io.Writer) error { return strangerNode.Store().ExportCAR(ctx, w, sref.Root) })
	if !errors.Is(err, keep.ErrNotEnrolled) {
		t.Fatalf("stranger's put: %v, want ErrNotEnrolled", err)
	}
	if keeperBlocks(t, keeperW)[sref.Root.Hash().HexString()] {
		t.Fatal("the keeper stored a stranger's block")
	}
	if _, err := sc.Have(ctx); !errors.Is(err, keep.ErrNotEnrolled) {
		t.Fatalf("stranger's have: %v, want ErrNotEnrolled", err)
	}

	// Revoked: the keeper refuses the grant itself (local checks skipped).
	rec, _ := patient.FindGrant(g.Record.Hash[:12])
	_, err = patient.Revoke(ctx, rec, directRevoker(t, d, chain), chain)
	must(t, err)
	_, err = specialist.Redeem(ctx, g.Link, chain, RedeemOptions{Listen: ipfs.LoopbackListen, SkipLocalChecks: true})
	if !errors.Is(err, serve.ErrRefused) || !strings.Contains(err.Error(), "revoked") {
		t.Fatalf("redeem of a revoked grant from the keeper: %v", err)
	}

	// Removing the keeper deletes its copies.
	must(t, patient.RemoveKeeper(ctx, kp.ID))
	after := keeperBlocks(t, keeperW)
	for r := range roots {
		if after[r.Hash().HexString()] {
			t.Fatalf("package root %s still on the keeper after removal", r)
		}
	}
	if len(after) != len(baseline) {
		t.Fatalf("keeper holds %d blocks after removal, %d before the patient came", len(after), len(baseline))
	}
	if k.Patients() != 0 {
		t.Fatalf("keeper still has %d patients", k.Patients())
	}
	if ks, _ := patient.Keepers(); len(ks) != 0 {
		t.Fatalf("keepers after removal %+v", ks)
	}
}

// TestKeeperKeepsPatientsApart: one keeper keeps for two patients and
// serves each only its own packages: a grant of patient B naming patient
// A's package is refused, B's own grant is served.
func TestKeeperKeepsPatientsApart(t *testing.T) {
	ctx := context.Background()
	_, chain := startDevnet(t)
	a, b := importedPatient(t, "Marguerita_Reilly"), importedPatient(t, "Clemente_Kreiger")
	keeperW, specialist := newWallet(t), newWallet(t)
	k, err := keeperW.Keep(ctx, KeeperConfig{Listen: tcpLoopback, Chain: chain})
	must(t, err)
	defer k.Close()
	sel := Selection{Categories: []fhir.Category{fhir.Labs}}
	grants := map[*Wallet]*IssuedGrant{}
	for _, p := range []*Wallet{a, b} {
		_, err := p.AddKeeper(ctx, k.Addrs()[0], "")
		must(t, err)
		providers, _ := p.KeeperProviders()
		g, err := p.IssueGrant(ctx, GrantRequest{To: specialist.Info().DID, Selection: sel, Duration: time.Hour, Providers: providers}, chain)
		must(t, err)
		avail, err := p.PushToKeepers(ctx, g.Record)
		if err != nil || len(avail) != 2 || !avail[1].OK {
			t.Fatalf("push: %+v %v", avail, err)
		}
		grants[p] = g
	}
	if k.Patients() != 2 {
		t.Fatalf("%d patients enrolled, want 2", k.Patients())
	}

	// B signs a grant naming A's package.
	forged := *grants[b].Chain[0]
	forged.Packages = grants[a].Chain[0].Packages
	forged.Nonce++
	bKeys, _ := b.Keys()
	must(t, b.sealAndSign(&forged, bKeys, make([]grant.PackageKey, len(forged.Packages))))

	node, err := specialist.startNode(ctx, ipfs.LoopbackListen, nil)
	must(t, err)
	defer node.Close()
	sKeys, _ := specialist.Keys()
	kai, _ := peer.AddrInfoFromString(k.Addrs()[0])
	_, err = serve.Present(ctx, node.Host(), *kai, grant.Chain{&forged}, sKeys.PrivateKey())
	if !errors.Is(err, serve.ErrRefused) || !strings.Contains(err.Error(), serve.ReasonNotHeld) {
		t.Fatalf("B's grant naming A's package: %v, want %q", err, serve.ReasonNotHeld)
	}
	for _, p := range []*Wallet{a, b} {
		if _, err := serve.Present(ctx, node.Host(), *kai, grants[p].Chain, sKeys.PrivateKey()); err != nil {
			t.Fatalf("a patient's own grant: %v", err)
		}
	}
	// The refusal is B's record, not A's.
	sb, err := b.SyncKeepers(ctx)
	must(t, err)
	sa, err := a.SyncKeepers(ctx)
	must(t, err)
	if sb.Keepers[0].Records != 2 || sa.Keepers[0].Records != 1 {
		t.Fatalf("records merged: B %d (want the refusal and its grant), A %d (want its grant)", sb.Keepers[0].Records, sa.Keepers[0].Records)
	}
}
