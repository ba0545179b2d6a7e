package wallet

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/healthwallet/healthwallet/internal/kubotest"
	"github.com/healthwallet/healthwallet/ipfs/kubo"
)

// TestRedeemFromKuboReplica: the share packages are pushed to a stock Kubo
// daemon (dag/import, roots pinned) and the patient's node stops. A grant
// naming Kubo's swarm address first is fetched from Kubo over bitswap
// (Via replica); one naming Kubo's gateway is fetched through it, every
// block checked against its CID (Via gateway). Both decrypt to the share.
// Skipped without the Kubo binary, failed under $CI.
func TestRedeemFromKuboReplica(t *testing.T) {
	k := kubotest.Start(t)
	ctx := context.Background()
	_, chain := startDevnet(t)
	patient, srv := servingPatient(t, chain)
	specialist, family := newWallet(t), newWallet(t)
	g1, err := patient.IssueGrant(ctx, GrantRequest{To: specialist.Info().DID, Selection: labsSel, Duration: time.Hour, Providers: srv.Addrs()}, chain)
	if err != nil {
		t.Fatal(err)
	}
	g2, err := patient.IssueGrant(ctx, GrantRequest{To: family.Info().DID, Selection: labsSel, Duration: time.Hour, Providers: srv.Addrs()}, chain)
	if err != nil {
		t.Fatal(err)
	}
	want, _, _ := patient.SharePackage(ctx, labsSel, patient.now())

	c, err := kubo.NewClient(k.API, nil)
	if err != nil {
		t.Fatal(err)
	}
	store, _ := patient.objectStore()
	if err := c.Push(ctx, store, append(packageRoots(t, g1), packageRoots(t, g2)...)...); err != nil {
		t.Fatalf("push: %v\n%s", err, k.Log())
	}
	id, err := c.ID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	addrs := srv.Addrs()
	srv.Close()

	// Kubo's swarm address first, then the stopped node: bitswap from Kubo.
	link := reissue(t, patient, specialist, g1, append(slices.Clone(id.Addresses), addrs...)...)
	red, err := specialist.Redeem(ctx, link, chain, fastRedeem())
	if err != nil {
		t.Fatalf("redeem from kubo over bitswap: %v\n%s", err, k.Log())
	}
	if red.Via != ViaReplica || !strings.HasSuffix(red.Provider, "/p2p/"+id.ID) {
		t.Fatalf("served by %q via %q, want kubo %s as a replica", red.Provider, red.Via, id.ID)
	}
	if !slices.Equal(resourceSet(t, red.Bundle), resourceSet(t, want)) {
		t.Fatal("the bundle from kubo differs from the share package")
	}

	// The stopped node, then Kubo's gateway.
	link = reissue(t, patient, family, g2, append(slices.Clone(addrs), gatewayAddr(t, k.Gateway))...)
	red, err = family.Redeem(ctx, link, chain, fastRedeem())
	if err != nil {
		t.Fatalf("redeem through kubo's gateway: %v\n%s", err, k.Log())
	}
	if red.Via != ViaGateway || red.Provider != k.Gateway {
		t.Fatalf("served by %q via %q, want kubo's gateway %s", red.Provider, red.Via, k.Gateway)
	}
	if !slices.Equal(resourceSet(t, red.Bundle), resourceSet(t, want)) || !bytes.Contains(red.Bundle, []byte(`"Observation"`)) {
		t.Fatal("the bundle through the gateway differs from the share package")
	}
}
