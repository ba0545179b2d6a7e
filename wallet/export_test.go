package wallet

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/healthwallet/healthwallet/ipfs"
	"github.com/healthwallet/healthwallet/share/grant"
	"github.com/healthwallet/healthwallet/wallet/fhir"
)

// TestExportOperationEnforced: a view-only grant is read in the wallet, but
// a redemption that would save the Bundle outside it (the CLI's --out) is
// refused, and so is exporting from a view-only delegation.
func TestExportOperationEnforced(t *testing.T) {
	ctx := context.Background()
	_, chain := startDevnet(t)
	patient, srv := servingPatient(t, chain)
	specialist, family := newWallet(t), newWallet(t)
	sel := Selection{Categories: []fhir.Category{fhir.Labs}}

	viewOnly, err := patient.IssueGrant(ctx, GrantRequest{To: specialist.Info().DID, Selection: sel, Duration: time.Hour, Providers: srv.Addrs(), ViewOnly: true}, chain)
	if err != nil {
		t.Fatal(err)
	}
	if viewOnly.Record.AllowsExport() || viewOnly.Chain.Leaf().Operations.Has(grant.Export) {
		t.Fatalf("view-only grant allows %s", viewOnly.Chain.Leaf().Operations)
	}
	if _, err := specialist.Redeem(ctx, viewOnly.Link, chain, RedeemOptions{Listen: ipfs.LoopbackListen, Export: true}); !errors.Is(err, grant.ErrNotGranted) {
		t.Fatalf("export of a view-only grant: %v, want ErrNotGranted", err)
	}
	red, err := specialist.Redeem(ctx, viewOnly.Link, chain, RedeemOptions{Listen: ipfs.LoopbackListen})
	if err != nil || len(red.Bundle) == 0 || red.Record.AllowsExport() {
		t.Fatalf("reading a view-only grant: %v (allows export: %v)", err, red != nil && red.Record.AllowsExport())
	}

	// A full grant exports; its view-only delegation does not.
	full, err := patient.IssueGrant(ctx, GrantRequest{To: family.Info().DID, Selection: sel, Duration: time.Hour, Delegable: 1, Providers: srv.Addrs()}, chain)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := family.Redeem(ctx, full.Link, chain, RedeemOptions{Listen: ipfs.LoopbackListen, Export: true}); err != nil || !full.Record.AllowsExport() {
		t.Fatalf("export of a full grant: %v", err)
	}
	child, err := family.Delegate(ctx, full.Link, DelegateRequest{To: specialist.Info().DID, Duration: time.Hour, ViewOnly: true}, chain)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := specialist.Redeem(ctx, child.Link, chain, RedeemOptions{Listen: ipfs.LoopbackListen, Export: true}); !errors.Is(err, grant.ErrNotGranted) {
		t.Fatalf("export of a view-only delegation: %v, want ErrNotGranted", err)
	}
}
