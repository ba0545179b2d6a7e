package wallet

import (
	"context"
	"testing"
	"time"

	"github.com/healthwallet/healthwallet/internal/fixtures"
	"github.com/healthwallet/healthwallet/internal/testclock"
	"github.com/healthwallet/healthwallet/wallet/fhir"
)

func TestChainStatusAndRevokedOnChain(t *testing.T) {
	ctx := context.Background()
	d, chain := startDevnet(t)
	w, grantee := newWallet(t), newWallet(t)
	st, err := w.ChainStatus(ctx, chain, false)
	if err != nil || st.HeadErr != nil || !st.Mirror.SyncedAt.IsZero() || st.Fresh(testclock.Now()) || st.MaxAge != DefaultMirrorMaxAge {
		t.Fatalf("before sync: %+v %v", st, err)
	}
	st, err = w.ChainStatus(ctx, chain, true)
	if err != nil || !st.Fresh(testclock.Now()) || st.Mirror.SyncedBlock != st.Head {
		t.Fatalf("after sync: %+v %v", st, err)
	}

	data, _ := fixtures.Named("Marguerita_Reilly").Read()
	w.ImportFHIR(ctx, "m.json", data)
	g, err := w.IssueGrant(ctx, GrantRequest{To: grantee.Info().DID, Selection: Selection{Categories: []fhir.Category{fhir.Labs}},
		Duration: time.Hour, Providers: []string{"/ip4/127.0.0.1/tcp/4101/p2p/" + w.Info().PeerID}}, chain)
	if err != nil {
		t.Fatal(err)
	}
	if at, err := w.RevokedOnChain(ctx, chain, g.Record); err != nil || !at.IsZero() {
		t.Fatalf("before revoking: %v %v", at, err)
	}
	if _, err := w.Revoke(ctx, g.Record, directRevoker(t, d, chain), chain); err != nil {
		t.Fatal(err)
	}
	if at, err := w.RevokedOnChain(ctx, chain, g.Record); err != nil || at.IsZero() {
		t.Fatalf("after revoking: %v %v", at, err)
	}

	d.Close()
	if st, err := w.ChainStatus(ctx, chain, true); err != nil || st.HeadErr == nil {
		t.Fatalf("chain down: %+v %v", st, err)
	}
}
