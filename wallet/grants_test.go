package wallet

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"math/big"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/accounts/abi/bind/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/ethclient"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/healthwallet/healthwallet/internal/fixtures"
	"github.com/healthwallet/healthwallet/internal/testclock"
	"github.com/healthwallet/healthwallet/ipfs"
	"github.com/healthwallet/healthwallet/share/devnet"
	"github.com/healthwallet/healthwallet/share/grant"
	"github.com/healthwallet/healthwallet/share/registry"
	"github.com/healthwallet/healthwallet/share/relay"
	"github.com/healthwallet/healthwallet/wallet/fhir"
	"github.com/healthwallet/healthwallet/wallet/identity"
)

// startDevnet runs a real local chain (go-ethereum, the registry deployed)
// on 127.0.0.1 for the test.
func startDevnet(t testing.TB) (*devnet.Devnet, ChainConfig) {
	t.Helper()
	d, err := devnet.Start(context.Background(), devnet.Config{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	info := d.Info()
	return d, ChainConfig{RPC: info.RPC, ChainID: info.ChainID, Registry: info.Registry}
}

func directRevoker(t *testing.T, d *devnet.Devnet, cfg ChainConfig) Revoker {
	t.Helper()
	key, err := d.Info().Accounts[0].Key()
	if err != nil {
		t.Fatal(err)
	}
	client, err := ethclient.Dial(cfg.RPC)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(client.Close)
	return &relay.Direct{Client: registry.NewClient(client, cfg.Registry), Opts: bind.NewKeyedTransactor(key, new(big.Int).SetUint64(cfg.ChainID))}
}

func TestGrantRedeemDelegateRevoke(t *testing.T) {
	ctx := context.Background()
	d, chain := startDevnet(t)
	patient, specialist, family, second, stranger := newWallet(t), newWallet(t), newWallet(t), newWallet(t), newWallet(t)
	data, _ := fixtures.Named("Marguerita_Reilly").Read()
	if _, err := patient.ImportFHIR(ctx, "m.json", data); err != nil {
		t.Fatal(err)
	}
	srv, err := patient.Serve(ctx, ServeConfig{Listen: ipfs.LoopbackListen, Chain: chain, RefreshEvery: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()

	// Patient → specialist: labs and medications for one hour.
	sel := Selection{Categories: []fhir.Category{fhir.Labs, fhir.Medications}}
	g1, err := patient.IssueGrant(ctx, GrantRequest{To: specialist.Info().DID, Selection: sel, Duration: time.Hour, Providers: srv.Addrs()}, chain)
	if err != nil {
		t.Fatal(err)
	}
	want, _, _ := patient.SharePackage(ctx, sel, testclock.Now())
	var out bytes.Buffer
	red, err := specialist.Redeem(ctx, g1.Link, chain, RedeemOptions{Out: &out, Listen: ipfs.LoopbackListen})
	if err != nil {
		t.Fatalf("specialist redeem: %v", err)
	}
	if !bytes.Equal(out.Bytes(), red.Bundle) || !slices.Equal(resourceSet(t, red.Bundle), resourceSet(t, want)) {
		t.Fatal("redeemed bundle differs from the share package")
	}
	if len(want) == 0 || !bytes.Contains(out.Bytes(), []byte("Hydrochlorothiazide")) || bytes.Contains(out.Bytes(), []byte("28 Day Pack")) {
		t.Fatal("redeemed bundle does not hold the selection")
	}
	if gs, _ := specialist.Grants(); len(gs) != 1 || gs[0].Direction != Received || gs[0].Status(testclock.Now()) != "active" {
		t.Fatalf("specialist grants %+v", gs)
	}

	// A stolen link is useless to another wallet: it cannot even open it.
	if _, err := stranger.Redeem(ctx, g1.Link, chain, RedeemOptions{Listen: ipfs.LoopbackListen}); !errors.Is(err, grant.ErrNotAddressed) {
		t.Fatalf("stranger: %v", err)
	}

	// Patient → family: delegable once, seven days. Family → second specialist.
	g2, err := patient.IssueGrant(ctx, GrantRequest{To: family.Info().DID, Selection: sel, Duration: 7 * 24 * time.Hour, Delegable: 1, Providers: srv.Addrs()}, chain)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := family.Redeem(ctx, g2.Link, chain, RedeemOptions{Listen: ipfs.LoopbackListen}); err != nil {
		t.Fatalf("family redeem: %v", err)
	}
	g3, err := family.Delegate(ctx, g2.Link, DelegateRequest{To: second.Info().DID, Duration: 24 * time.Hour, Categories: []fhir.Category{fhir.Labs}}, chain)
	if err != nil {
		t.Fatal(err)
	}
	if len(g3.Chain) != 2 || g3.Chain.Leaf().Depth != 0 || g3.Chain.Leaf().ExpiresAt > g2.Chain.Leaf().ExpiresAt {
		t.Fatalf("delegated chain %d links, depth %d", len(g3.Chain), g3.Chain.Leaf().Depth)
	}
	if _, err := second.Redeem(ctx, g3.Link, chain, RedeemOptions{Listen: ipfs.LoopbackListen}); err != nil {
		t.Fatalf("second specialist redeem: %v", err)
	}
	// The second specialist cannot delegate further.
	if _, err := second.Delegate(ctx, g3.Link, DelegateRequest{To: stranger.Info().DID, Duration: time.Hour}, chain); !errors.Is(err, grant.ErrNotGranted) {
		t.Fatalf("delegating without depth: %v", err)
	}

	// The patient revokes the family grant: what was delegated from it dies too.
	issued, _ := patient.FindGrant(g2.Record.Hash[:12])
	revoked, err := patient.Revoke(ctx, issued, directRevoker(t, d, chain), chain)
	if err != nil {
		t.Fatal(err)
	}
	if revoked.Status(testclock.Now()) != "revoked" || revoked.RevokeTx == "" {
		t.Fatalf("after revoke: %+v", revoked)
	}
	_, err = second.Redeem(ctx, g3.Link, chain, RedeemOptions{Listen: ipfs.LoopbackListen})
	if !errors.Is(err, grant.ErrRevoked) {
		t.Fatalf("second specialist after revocation: %v", err)
	}
	// The patient's node dropped the family's and the second specialist's
	// sessions (refresh every 200 ms) and refuses them now.
	deadline := time.Now().Add(5 * time.Second)
	for srv.grants.Sessions() != 1 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if n := srv.grants.Sessions(); n != 1 {
		t.Fatalf("%d sessions open after revocation, want the specialist's 1", n)
	}
	// The specialist's own grant is unaffected.
	if _, err := specialist.Redeem(ctx, g1.Link, chain, RedeemOptions{Listen: ipfs.LoopbackListen}); err != nil {
		t.Fatalf("unrevoked grant after another's revocation: %v", err)
	}

	// The access log lists every redemption.
	log, _ := patient.AccessLog()
	granted := 0
	for _, e := range log {
		if e.Granted {
			granted++
		}
	}
	if granted != 4 {
		t.Fatalf("access log: %d granted presentations, want 4 (specialist twice, family, second): %+v", granted, log)
	}
	if !strings.EqualFold(log[0].Grantee, specialist.Info().Address) {
		t.Fatalf("first access by %s, want %s", log[0].Grantee, specialist.Info().Address)
	}

	// Chain RPC stopped: the verifier fails closed once its mirror is stale.
	d.Close()
	chain.MirrorMaxAge = -1
	if _, err := specialist.Redeem(ctx, g1.Link, chain, RedeemOptions{Listen: ipfs.LoopbackListen}); !errors.Is(err, grant.ErrRevocationUnknown) || !strings.Contains(err.Error(), "registry unreachable") {
		t.Fatalf("chain down: %v", err)
	}
}

// TestLongGrantThroughKeyBundle: a grant link too long for a QR code is
// replaced by a pointer to a key bundle the patient's node serves.
func TestLongGrantThroughKeyBundle(t *testing.T) {
	ctx := context.Background()
	_, chain := startDevnet(t)
	patient, specialist := newWallet(t), newWallet(t)
	data, _ := fixtures.Named("Clemente_Kreiger").Read()
	patient.ImportFHIR(ctx, "c.json", data)
	srv, err := patient.Serve(ctx, ServeConfig{Listen: ipfs.LoopbackListen, Chain: chain, RefreshEvery: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	providers := srv.Addrs()
	for port := 20001; len(providers) < 40; port++ { // many address hints make a long link
		providers = append(providers, fmt.Sprintf("/ip4/127.0.0.1/tcp/%d/p2p/%s", port, srv.node.ID()))
	}
	g, err := patient.IssueGrant(ctx, GrantRequest{To: specialist.Info().DID, Selection: Selection{Categories: []fhir.Category{fhir.Labs}}, Duration: time.Hour, Providers: providers}, chain)
	if err != nil {
		t.Fatal(err)
	}
	if len(g.Link) <= grant.MaxQRLink {
		t.Fatalf("link is only %d characters; the test needs a long one", len(g.Link))
	}
	png, text, err := patient.ShareQR(ctx, g.Link, srv.Addrs())
	if err != nil {
		t.Fatal(err)
	}
	if !grant.IsBundleLink(text) || len(text) > 600 || len(png) == 0 {
		t.Fatalf("QR holds %d characters: %.60s", len(text), text)
	}
	// Neither the link nor the QR code shows the patient, the scope or the
	// node's addresses.
	addr, _ := ma.NewMultiaddr(providers[0])
	needles := [][]byte{[]byte(patient.Info().Address), common.HexToAddress(patient.Info().Address).Bytes(), []byte("Observation"), addr.Bytes()[:8], []byte(srv.node.ID())}
	for _, shown := range []string{g.Link, text} {
		raw, err := base64.RawURLEncoding.DecodeString(shown[strings.Index(shown, "/")+1:])
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range needles {
			if len(n) < 8 || bytes.Contains(raw, n) || strings.Contains(shown, string(n)) {
				t.Fatalf("%.30s… shows %q", shown, n)
			}
		}
	}
	time.Sleep(300 * time.Millisecond) // the node picks up the new public bundle
	var out bytes.Buffer
	if _, err := specialist.Redeem(ctx, text, chain, RedeemOptions{Out: &out, Listen: ipfs.LoopbackListen}); err != nil {
		t.Fatalf("redeem through the key bundle: %v", err)
	}
	if out.Len() == 0 {
		t.Fatal("nothing received")
	}
}

// TestRestoredWalletRevocation: a wallet restored from its phrase (catalog
// lost) issues grants that are not born revoked, and can still revoke a
// grant it issued before, from the grant's link.
func TestRestoredWalletRevocation(t *testing.T) {
	ctx := context.Background()
	d, chain := startDevnet(t)
	phrase, _ := identity.NewPhrase()
	before, err := Create(filepath.Join(t.TempDir(), "before"), phrase, pass, fast)
	if err != nil {
		t.Fatal(err)
	}
	specialist := newWallet(t)
	data, _ := fixtures.Named("Clemente_Kreiger").Read()
	before.ImportFHIR(ctx, "c.json", data)
	req := GrantRequest{To: specialist.Info().DID, Selection: Selection{Categories: []fhir.Category{fhir.Labs}}, Duration: time.Hour, Providers: []string{"/ip4/127.0.0.1/tcp/1/p2p/12D3KooWA4Xop1JaT3MHxwYMkCepYsv4iPVopMXwCz5iHYdBfeSB"}}
	old1, _ := before.IssueGrant(ctx, req, chain)
	old2, _ := before.IssueGrant(ctx, req, chain)
	revoker := directRevoker(t, d, chain)
	issued, _ := before.FindGrant(old1.Record.Hash[:12])
	if _, err := before.Revoke(ctx, issued, revoker, chain); err != nil {
		t.Fatal(err)
	}
	before.Lock()

	// Restored elsewhere, a moment later: a new grant is valid.
	restored, err := Create(filepath.Join(t.TempDir(), "after"), phrase, pass, fast)
	if err != nil {
		t.Fatal(err)
	}
	defer restored.Lock()
	restored.clock = func() time.Time { return testclock.Now().Add(2 * time.Second) }
	restored.ImportFHIR(ctx, "c.json", data)
	fresh, err := restored.IssueGrant(ctx, req, chain)
	if err != nil {
		t.Fatal(err)
	}
	client, _ := ethclient.Dial(chain.RPC)
	defer client.Close()
	reg := registry.NewClient(client, chain.Registry)
	at, err := reg.RevokedAtBatch(ctx, [][32]byte{fresh.Chain.Leaf().RevocationID, old2.Chain.Leaf().RevocationID})
	if err != nil || at[0] != 0 || at[1] != 0 {
		t.Fatalf("after restore: new grant revoked at %v (%v)", at, err)
	}
	// The restored wallet revokes the old, unrevoked grant from its link.
	if _, err := restored.RevokeLink(ctx, old2.Link, revoker, chain); err != nil {
		t.Fatal(err)
	}
	at, _ = reg.RevokedAtBatch(ctx, [][32]byte{old2.Chain.Leaf().RevocationID, fresh.Chain.Leaf().RevocationID})
	if at[0] == 0 || at[1] != 0 {
		t.Fatalf("revoke by link: old %d, fresh %d", at[0], at[1])
	}
	// Another wallet's grant is refused.
	other := newWallet(t)
	if _, err := other.RevokeLink(ctx, old2.Link, revoker, chain); !errors.Is(err, ErrNotIssuedHere) {
		t.Fatalf("foreign grant: %v", err)
	}
}

// servingPatient is a patient's wallet holding a Synthea patient's records
// (Marguerita Reilly), with its node serving grants on chain over loopback
// until the test ends.
func servingPatient(t *testing.T, chain ChainConfig) (*Wallet, *Serving) {
	t.Helper()
	patient := newWallet(t)
	data, _ := fixtures.Named("Marguerita_Reilly").Read()
	if _, err := patient.ImportFHIR(t.Context(), "m.json", data); err != nil {
		t.Fatal(err)
	}
	srv, err := patient.Serve(t.Context(), ServeConfig{Listen: ipfs.LoopbackListen, Chain: chain})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return patient, srv
}
