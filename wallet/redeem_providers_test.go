package wallet

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/healthwallet/healthwallet/internal/fixtures"
	"github.com/healthwallet/healthwallet/ipfs"
	"github.com/healthwallet/healthwallet/ipfs/kubo"
	"github.com/healthwallet/healthwallet/share/grant"
	"github.com/healthwallet/healthwallet/share/serve"
	"github.com/healthwallet/healthwallet/wallet/fhir"
)

// The tests in this file redeem grants whose providers are real nodes on
// loopback: the patient's node, a node holding a copy without the grant
// protocol (a stock replica), trustless gateways, and addresses nobody
// answers at.

var labsSel = Selection{Categories: []fhir.Category{fhir.Labs}}

// fastRedeem is how the tests redeem: loopback, short presentations.
func fastRedeem() RedeemOptions {
	return RedeemOptions{Listen: ipfs.LoopbackListen, ProviderTimeout: 3 * time.Second}
}

// reissue re-signs g (a grant to grantee) with providers instead of its
// own, as the patient would have issued it: same packages, keys and
// revocation id. Issuance checks provider addresses the grant's issuer
// gives; this reaches kinds (gateways, dead peers) directly.
func reissue(t *testing.T, patient, grantee *Wallet, g *IssuedGrant, providers ...string) string {
	t.Helper()
	pk, _ := patient.Keys()
	gk, _ := grantee.Keys()
	leaf := *g.Chain.Leaf()
	core, _ := leaf.CoreHash()
	pks, err := grant.Unwrap(gk.PrivateKey(), core, leaf.WrappedKey)
	if err != nil {
		t.Fatal(err)
	}
	leaf.Providers = nil
	for _, p := range providers {
		leaf.Providers = append(leaf.Providers, ma.StringCast(p).Bytes())
	}
	if err := patient.sealAndSign(&leaf, pk, pks); err != nil {
		t.Fatal(err)
	}
	link, err := grant.Chain{&leaf}.Link(pk.PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	return link
}

// deadPeer is a peer address nobody answers at: a loopback port just
// closed, and a peer id nobody holds.
func deadPeer(t *testing.T, seed byte) (addr string, id peer.ID) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	key, _ := ipfs.PeerKeyFromSeed(bytes.Repeat([]byte{seed}, 32))
	id, _ = peer.IDFromPrivateKey(key)
	return fmt.Sprintf("/ip4/127.0.0.1/tcp/%d/p2p/%s", port, id), id
}

// replicaNode is a node holding copies of roots from store that serves
// them to anyone and does not speak the grant protocol: what a stock IPFS
// node is to a redeemer.
func replicaNode(t *testing.T, from *ipfs.Store, roots ...cid.Cid) *ipfs.Node {
	t.Helper()
	ctx := context.Background()
	s, err := ipfs.OpenStore(t.TempDir(), ipfs.StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var car bytes.Buffer
	if err := from.ExportCAR(ctx, &car, roots...); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ImportCAR(ctx, &car); err != nil {
		t.Fatal(err)
	}
	key, _ := ipfs.PeerKeyFromSeed(bytes.Repeat([]byte{0x5e}, 32))
	n, err := ipfs.StartNode(ctx, s, ipfs.NodeConfig{Key: key, Gate: ipfs.GateFunc(func(peer.ID, cid.Cid) bool { return true })})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	return n
}

func packageRoots(t *testing.T, g *IssuedGrant) []cid.Cid {
	t.Helper()
	var out []cid.Cid
	for _, p := range g.Chain.Leaf().Packages {
		c, err := cid.Cast(p)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, c)
	}
	return out
}

func p2pAddrs(n *ipfs.Node) []string {
	var out []string
	for _, a := range n.Addrs() {
		out = append(out, a.String())
	}
	return out
}

// TestRedeemSkipsUnreachableProvider: the grant names first a peer nobody
// answers for, then the patient's node; the patient's node serves, and
// Redeemed names it.
func TestRedeemSkipsUnreachableProvider(t *testing.T) {
	ctx := context.Background()
	_, chain := startDevnet(t)
	patient, srv := servingPatient(t, chain)
	specialist := newWallet(t)
	g, err := patient.IssueGrant(ctx, GrantRequest{To: specialist.Info().DID, Selection: labsSel, Duration: time.Hour, Providers: srv.Addrs()}, chain)
	if err != nil {
		t.Fatal(err)
	}
	dead, _ := deadPeer(t, 0x11)
	link := reissue(t, patient, specialist, g, append([]string{dead}, srv.Addrs()...)...)
	red, err := specialist.Redeem(ctx, link, chain, fastRedeem())
	if err != nil {
		t.Fatalf("redeem: %v", err)
	}
	if red.Via != ViaDirect || !strings.HasPrefix(red.Provider, "/ip4/127.0.0.1/") || !strings.HasSuffix(red.Provider, "/p2p/"+srv.PeerID()) {
		t.Fatalf("served by %q via %q, want the patient's node %s direct", red.Provider, red.Via, srv.PeerID())
	}
	if !bytes.Contains(red.Bundle, []byte(`"Observation"`)) {
		t.Fatal("the bundle holds no lab result")
	}
}

// TestRedeemFromReplicaWhenNodeStopped: the patient's node is down; a
// node holding a copy without a gate serves over bitswap (Via replica).
func TestRedeemFromReplicaWhenNodeStopped(t *testing.T) {
	ctx := context.Background()
	_, chain := startDevnet(t)
	patient, srv := servingPatient(t, chain)
	specialist := newWallet(t)
	g, err := patient.IssueGrant(ctx, GrantRequest{To: specialist.Info().DID, Selection: labsSel, Duration: time.Hour, Providers: srv.Addrs()}, chain)
	if err != nil {
		t.Fatal(err)
	}
	store, _ := patient.objectStore()
	rep := replicaNode(t, store, packageRoots(t, g)...)
	addrs := srv.Addrs()
	srv.Close()
	link := reissue(t, patient, specialist, g, append(addrs, p2pAddrs(rep)...)...)
	red, err := specialist.Redeem(ctx, link, chain, fastRedeem())
	if err != nil {
		t.Fatalf("redeem: %v", err)
	}
	if red.Via != ViaReplica || !strings.HasSuffix(red.Provider, "/p2p/"+rep.ID().String()) {
		t.Fatalf("served by %q via %q, want the replica %s", red.Provider, red.Via, rep.ID())
	}
	if served, _ := rep.Stats(); served == 0 {
		t.Fatal("the replica served no block")
	}
}

// corruptingGateway answers like the gateway at upstream, with the last
// byte of every answer flipped: in a CAR, a byte of the last block.
func corruptingGateway(t *testing.T, upstream string) *httptest.Server {
	t.Helper()
	var asked atomic.Int64
	gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked.Add(1)
		req, _ := http.NewRequestWithContext(r.Context(), r.Method, upstream+r.URL.RequestURI(), nil)
		req.Header = r.Header.Clone()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if len(b) > 0 {
			b[len(b)-1] ^= 0x01
		}
		w.Header().Set("Content-Type", resp.Header.Get("Content-Type"))
		w.WriteHeader(resp.StatusCode)
		w.Write(b)
	}))
	t.Cleanup(func() {
		gw.Close()
		if asked.Load() == 0 {
			t.Error("the corrupting gateway was never asked")
		}
	})
	return gw
}

// gatewayAddr turns http://127.0.0.1:PORT into /ip4/127.0.0.1/tcp/PORT/http.
func gatewayAddr(t *testing.T, u string) string {
	t.Helper()
	host, port, err := net.SplitHostPort(strings.TrimPrefix(u, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("/ip4/%s/tcp/%s/http", host, port)
}

// TestRedeemSkipsGatewayServingBadBlock: the first gateway serves a block
// that does not hash to its CID; it is skipped and the next one serves.
func TestRedeemSkipsGatewayServingBadBlock(t *testing.T) {
	ctx := context.Background()
	_, chain := startDevnet(t)
	patient := newWallet(t)
	data, _ := fixtures.Named("Marguerita_Reilly").Read()
	patient.ImportFHIR(ctx, "m.json", data)
	srv, err := patient.Serve(ctx, ServeConfig{Listen: ipfs.LoopbackListen, Chain: chain, Gateway: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	specialist := newWallet(t)
	g, err := patient.IssueGrant(ctx, GrantRequest{To: specialist.Info().DID, Selection: labsSel, Duration: time.Hour, Providers: srv.Addrs()}, chain)
	if err != nil {
		t.Fatal(err)
	}
	good := srv.GatewayURL()
	bad := corruptingGateway(t, good)
	link := reissue(t, patient, specialist, g, gatewayAddr(t, bad.URL), gatewayAddr(t, good))
	red, err := specialist.Redeem(ctx, link, chain, fastRedeem())
	if err != nil {
		t.Fatalf("redeem: %v", err)
	}
	if red.Via != ViaGateway || red.Provider != good {
		t.Fatalf("served by %q via %q, want the honest gateway %s", red.Provider, red.Via, good)
	}
	// Only the bad gateway: the error says it served a bad block.
	link = reissue(t, patient, specialist, g, gatewayAddr(t, bad.URL))
	_, err = newWallet(t).Redeem(ctx, link, chain, fastRedeem())
	if !errors.Is(err, grant.ErrNotAddressed) {
		t.Fatalf("another wallet: %v", err)
	}
	_, err = specialist.Redeem(ctx, link, chain, fastRedeem())
	if !errors.Is(err, ErrNoProviderServed) || !errors.Is(err, kubo.ErrBadBlock) || !strings.Contains(err.Error(), "gateway "+bad.URL+" served a block that does not match its CID") {
		t.Fatalf("bad gateway alone: %v", err)
	}
}

// closingGate is a patient's node gate that stops the node as soon as a
// grantee with an open session asks for a block: a phone locking mid-fetch.
type closingGate struct {
	srv   atomic.Pointer[serve.Server]
	node  atomic.Pointer[ipfs.Node]
	once  sync.Once
	fired atomic.Bool
}

func (g *closingGate) Allowed(p peer.ID, root cid.Cid) bool {
	if s := g.srv.Load(); s == nil || !s.Allowed(p, root) {
		return false
	}
	g.once.Do(func() { g.fired.Store(true); go g.node.Load().Close() })
	return false
}

// TestRedeemNoticesNodeClosingMidFetch: the patient's node accepts the
// grant, then stops while the grantee waits for its first block. The
// redemption ends long before the 30 s stall timeout, and says the
// patient's node closed the connection.
func TestRedeemNoticesNodeClosingMidFetch(t *testing.T) {
	ctx := context.Background()
	_, chain := startDevnet(t)
	patient, specialist := newWallet(t), newWallet(t)
	data, _ := fixtures.Named("Marguerita_Reilly").Read()
	patient.ImportFHIR(ctx, "m.json", data)
	// The patient's node as Serve builds it (its identity and store, the
	// grant protocol with the chain's policy), behind a gate that stops it.
	gate := &closingGate{}
	node, err := patient.startNode(ctx, ipfs.LoopbackListen, gate)
	if err != nil {
		t.Fatal(err)
	}
	defer node.Close()
	gate.node.Store(node)
	conn, err := patient.connect(ctx, chain)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	pk, _ := patient.Keys()
	gate.srv.Store(serve.NewServer(node.Host(), common.HexToAddress(pk.Address().String()), conn.policy(patient.now), nil))

	g, err := patient.IssueGrant(ctx, GrantRequest{To: specialist.Info().DID, Selection: labsSel, Duration: time.Hour, Providers: p2pAddrs(node)}, chain)
	if err != nil {
		t.Fatal(err)
	}
	opts := fastRedeem()
	opts.StallTimeout = ipfs.DefaultStallTimeout
	start := time.Now()
	_, err = specialist.Redeem(ctx, g.Link, chain, opts)
	took := time.Since(start)
	if !gate.fired.Load() {
		t.Fatalf("the node was never asked for a block: %v", err)
	}
	var pe *ProvidersError
	if !errors.Is(err, ErrNoProviderServed) || !errors.Is(err, ipfs.ErrConnectionClosed) || !errors.As(err, &pe) || len(pe.Tried) != 1 {
		t.Fatalf("node closed mid-fetch: %v", err)
	}
	if want := "the patient's node " + node.ID().String() + " closed the connection"; !strings.Contains(err.Error(), want) {
		t.Fatalf("error %q does not say %q", err, want)
	}
	// Generous against a slow machine, and still well short of the stall
	// timeout the fetch used to wait out.
	if took >= ipfs.DefaultStallTimeout/3 {
		t.Fatalf("noticed after %s; the stall timeout is %s", took, ipfs.DefaultStallTimeout)
	}
	t.Logf("the closed connection was reported %s after the redemption began", took.Round(time.Millisecond))
}

// TestRedeemAllProvidersFail: a dead peer, the patient's node stopped and a
// gateway nobody listens on: one error names all three and why.
func TestRedeemAllProvidersFail(t *testing.T) {
	ctx := context.Background()
	_, chain := startDevnet(t)
	patient, srv := servingPatient(t, chain)
	specialist := newWallet(t)
	g, err := patient.IssueGrant(ctx, GrantRequest{To: specialist.Info().DID, Selection: labsSel, Duration: time.Hour, Providers: srv.Addrs()}, chain)
	if err != nil {
		t.Fatal(err)
	}
	addrs := srv.Addrs()
	srv.Close()
	dead, deadID := deadPeer(t, 0x22)
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	gwPort := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	gw := fmt.Sprintf("/ip4/127.0.0.1/tcp/%d/http", gwPort)
	link := reissue(t, patient, specialist, g, append(append(addrs, dead), gw)...)
	_, err = specialist.Redeem(ctx, link, chain, fastRedeem())
	var pe *ProvidersError
	if !errors.Is(err, ErrNoProviderServed) || !errors.As(err, &pe) || len(pe.Tried) != 3 {
		t.Fatalf("all down: %v", err)
	}
	for _, want := range []string{
		"the patient's node " + srv.PeerID() + " unreachable",
		"provider " + deadID.String() + " unreachable",
		fmt.Sprintf("gateway http://127.0.0.1:%d failed", gwPort),
	} {
		if !strings.Contains(err.Error(), want) {
			t.Fatalf("error %q does not say %q", err, want)
		}
	}
	t.Log(err)
	if strings.Contains(err.Error(), "\n") {
		t.Fatalf("error is not one line: %q", err)
	}
}

// TestRevokedRefusalIsFinal: after revocation the patient's node refuses
// the grant (redeemed with SkipLocalChecks, so only the node decides); a
// replica listed first is not fetched from.
func TestRevokedRefusalIsFinal(t *testing.T) {
	ctx := context.Background()
	d, chain := startDevnet(t)
	patient := newWallet(t)
	data, _ := fixtures.Named("Marguerita_Reilly").Read()
	patient.ImportFHIR(ctx, "m.json", data)
	srv, err := patient.Serve(ctx, ServeConfig{Listen: ipfs.LoopbackListen, Chain: chain, RefreshEvery: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	specialist := newWallet(t)
	g, err := patient.IssueGrant(ctx, GrantRequest{To: specialist.Info().DID, Selection: labsSel, Duration: time.Hour, Providers: srv.Addrs()}, chain)
	if err != nil {
		t.Fatal(err)
	}
	family := newWallet(t)
	g2, err := patient.IssueGrant(ctx, GrantRequest{To: family.Info().DID, Selection: labsSel, Duration: time.Hour, Providers: srv.Addrs()}, chain)
	if err != nil {
		t.Fatal(err)
	}
	store, _ := patient.objectStore()
	rep := replicaNode(t, store, append(packageRoots(t, g), packageRoots(t, g2)...)...)
	link := reissue(t, patient, specialist, g, append(p2pAddrs(rep), srv.Addrs()...)...)
	link2 := reissue(t, patient, family, g2, append(p2pAddrs(rep), srv.Addrs()...)...)

	// The node accepts the family's grant and, a gated node being
	// preferred, serves it although the replica is listed first.
	red, err := family.Redeem(ctx, link2, chain, fastRedeem())
	if err != nil || red.Via != ViaDirect || !strings.HasSuffix(red.Provider, srv.PeerID()) {
		t.Fatalf("unrevoked grant: %+v %v", red, err)
	}
	if served, _ := rep.Stats(); served != 0 {
		t.Fatalf("the replica served %d blocks while the patient's node was preferred", served)
	}
	// The specialist's grant, never redeemed, is revoked.
	issued, _ := patient.FindGrant(g.Record.Hash[:12])
	if _, err := patient.Revoke(ctx, issued, directRevoker(t, d, chain), chain); err != nil {
		t.Fatal(err)
	}
	opts := fastRedeem()
	opts.SkipLocalChecks = true
	_, err = specialist.Redeem(ctx, link, chain, opts)
	var rev *RevokedByProviderError
	if !errors.Is(err, grant.ErrRevoked) || !errors.Is(err, serve.ErrRefused) || !errors.As(err, &rev) || !strings.Contains(rev.Provider, srv.PeerID()) {
		t.Fatalf("revoked, node refuses: %v", err)
	}
	if !strings.Contains(err.Error(), "node refused the grant: grant revoked") {
		t.Fatalf("error %q hides the node's reason", err)
	}
	if served, _ := rep.Stats(); served != 0 {
		t.Fatalf("the replica served %d blocks after the node said revoked", served)
	}
	store2, _ := specialist.objectStore()
	if ok, _ := store2.Has(ctx, packageRoots(t, g)[0]); ok {
		t.Fatal("the revoked package reached the specialist's store")
	}
	// Without the node's answer (its node stopped), nothing stops a stock
	// replica: the replica serves, which is what the check above excludes.
	srv.Close()
	if red, err := specialist.Redeem(ctx, link, chain, opts); err != nil || red.Via != ViaReplica {
		t.Fatalf("with the patient's node stopped, the replica should serve a grant checked nowhere: %+v %v", red, err)
	}
}
