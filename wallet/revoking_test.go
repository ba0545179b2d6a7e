package wallet

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/healthwallet/healthwallet/ipfs"
	"github.com/healthwallet/healthwallet/share/relay"
	"github.com/healthwallet/healthwallet/share/serve"
	"github.com/healthwallet/healthwallet/wallet/fhir"
)

// revokerFunc adapts a function to Revoker.
type revokerFunc func(ctx context.Context, secrets [][32]byte) (common.Hash, error)

func (f revokerFunc) Revoke(ctx context.Context, secrets [][32]byte) (common.Hash, error) {
	return f(ctx, secrets)
}

// servedGrant starts the patient's node on chain and has a specialist
// redeem a labs grant, so that the node holds one session.
func servedGrant(t *testing.T, chain ChainConfig) (patient, specialist *Wallet, srv *Serving, issued *IssuedGrant) {
	t.Helper()
	ctx := t.Context()
	patient, srv = servingPatient(t, chain)
	specialist = newWallet(t)
	var err error
	issued, err = patient.IssueGrant(ctx, GrantRequest{To: specialist.Info().DID, Selection: Selection{Categories: []fhir.Category{fhir.Labs}},
		Duration: time.Hour, Providers: srv.Addrs()}, chain)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := specialist.Redeem(ctx, issued.Link, chain, RedeemOptions{Listen: ipfs.LoopbackListen}); err != nil {
		t.Fatalf("redeem: %v", err)
	}
	if n := srv.grants.Sessions(); n != 1 {
		t.Fatalf("%d sessions after redeeming, want 1", n)
	}
	return patient, specialist, srv, issued
}

// TestRevokeIsDoneOnlyWhenTheChainSaysSo: a relay's word is not enough;
// until the wallet's own RPC shows the revocation the grant is pending,
// the patient's node refuses it anyway, and revoking again completes it.
func TestRevokeIsDoneOnlyWhenTheChainSaysSo(t *testing.T) {
	ctx := t.Context()
	d, chain := startDevnet(t)
	patient, _, srv, issued := servedGrant(t, chain)
	rec, _ := patient.FindGrant(issued.Record.Hash)

	// A relay that answers 200 {} and submits nothing.
	lying := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte("{}"))
	}))
	defer lying.Close()
	g, err := patient.Revoke(ctx, rec, relay.Client{URL: lying.URL}, chain)
	if !errors.Is(err, ErrRevocationPending) {
		t.Fatalf("revoke through a relay answering 200 {}: %v", err)
	}
	if !g.RevokedAt.IsZero() || g.Status(time.Now()) != RevocationPending {
		t.Fatalf("after a lying relay: status %q", g.Status(time.Now()))
	}
	if stored, _ := patient.FindGrant(issued.Record.Hash); !stored.RevokedAt.IsZero() || stored.Status(time.Now()) != RevocationPending {
		t.Fatalf("stored grant after a lying relay: status %q", stored.Status(time.Now()))
	}
	// A revoker that claims a transaction nobody mined.
	fake := revokerFunc(func(context.Context, [][32]byte) (common.Hash, error) {
		return common.HexToHash("0x5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed"), nil
	})
	sctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	g, err = patient.Revoke(sctx, g, fake, chain)
	cancel()
	if !errors.Is(err, ErrRevocationPending) || !g.RevokedAt.IsZero() {
		t.Fatalf("revoke with an invented transaction: %v, revoked at %v", err, g.RevokedAt)
	}

	// The chain has not mined anything, yet the patient's own node ended
	// the session and refuses the grant.
	if n := srv.grants.Sessions(); n != 0 {
		t.Fatalf("%d sessions open on the patient's node while revoking", n)
	}
	if at, err := patient.RevokedOnChain(ctx, chain, rec); err != nil || !at.IsZero() {
		t.Fatalf("chain shows the grant revoked already (%v, %v)", at, err)
	}

	// A real relay over the devnet: revoked.
	direct := directRevoker(t, d, chain).(*relay.Direct)
	real := httptest.NewServer(relay.Handler(direct))
	defer real.Close()
	g, err = patient.Revoke(ctx, g, relay.Client{URL: real.URL}, chain)
	if err != nil {
		t.Fatal(err)
	}
	if g.Status(time.Now()) != "revoked" || g.RevokeTx == "" {
		t.Fatalf("after a real relay: %q %q", g.Status(time.Now()), g.RevokeTx)
	}
	if at, err := patient.RevokedOnChain(ctx, chain, rec); err != nil || at.IsZero() {
		t.Fatalf("chain after revoking: %v %v", at, err)
	}
}

// TestNodeRefusesAGrantBeingRevoked: with the relay down, the grant is
// pending, and the patient's node ends the session and refuses the
// specialist's next presentation, although the chain does not show it.
func TestNodeRefusesAGrantBeingRevoked(t *testing.T) {
	ctx := t.Context()
	_, chain := startDevnet(t)
	patient, specialist, srv, issued := servedGrant(t, chain)
	rec, _ := patient.FindGrant(issued.Record.Hash)
	down := revokerFunc(func(context.Context, [][32]byte) (common.Hash, error) {
		return common.Hash{}, errors.New("relay down")
	})
	if _, err := patient.Revoke(ctx, rec, down, chain); !errors.Is(err, ErrRevocationPending) {
		t.Fatalf("revoke with the relay down: %v", err)
	}
	if n := srv.grants.Sessions(); n != 0 {
		t.Fatalf("%d sessions open while revoking", n)
	}
	_, err := specialist.Redeem(ctx, issued.Link, chain, RedeemOptions{Listen: ipfs.LoopbackListen})
	if !errors.Is(err, serve.ErrRefused) || !strings.Contains(err.Error(), "grant revoked") {
		t.Fatalf("presentation while revoking: %v", err)
	}
	if at, err := patient.RevokedOnChain(ctx, chain, rec); err != nil || !at.IsZero() {
		t.Fatalf("chain shows the grant revoked (%v, %v)", at, err)
	}
}

// TestRevokedSessionStopsWithinASecond: revoked on chain by anyone (here
// directly, not through this wallet), the session on the patient's node
// ends within a second of the revocation block, with default settings.
func TestRevokedSessionStopsWithinASecond(t *testing.T) {
	ctx := t.Context()
	d, chain := startDevnet(t)
	patient, specialist, srv, issued := servedGrant(t, chain)
	rec, _ := patient.FindGrant(issued.Record.Hash)
	who, _ := peer.Decode(specialist.Info().PeerID)
	root, _ := cid.Cast(issued.Chain.Leaf().Packages[0])
	if !srv.grants.Allowed(who, root) {
		t.Fatal("the specialist may not fetch before the revocation")
	}
	secret, err := patient.RevocationSecretOf(rec)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := directRevoker(t, d, chain).Revoke(ctx, [][32]byte{secret}); err != nil {
		t.Fatal(err)
	}
	mined := time.Now() // the receipt is in: the block is at least this old
	for srv.grants.Allowed(who, root) && time.Since(mined) < time.Second {
		time.Sleep(20 * time.Millisecond)
	}
	if srv.grants.Allowed(who, root) {
		t.Fatalf("session still open %s after the revocation block", time.Since(mined).Round(time.Millisecond))
	}
}
