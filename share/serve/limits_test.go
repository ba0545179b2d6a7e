package serve

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	"github.com/ethereum/go-ethereum/common"

	"github.com/healthwallet/healthwallet/ipfs"
	"github.com/healthwallet/healthwallet/share/grant"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// fixture is a patient's node serving one package, with a fixed clock.
type fixture struct {
	t       *testing.T
	patient *secp256k1.PrivateKey
	node    *ipfs.Node
	srv     *Server
	revs    *revocations
	clock   *clock
	ref     ipfs.ObjectRef
	mu      sync.Mutex
	log     []Access
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{t: t, patient: key(1), revs: &revocations{revoked: map[[32]byte]uint64{}},
		clock: &clock{t: time.Date(2030, 3, 4, 5, 6, 7, 0, time.UTC)}}
	f.node = node(t, 10, nil)
	f.srv = NewServer(f.node.Host(), address(f.patient), grant.Policy{Domain: domain, Revocations: f.revs, Now: f.clock.Now}, func(a Access) {
		f.mu.Lock()
		f.log = append(f.log, a)
		f.mu.Unlock()
	})
	f.node.SetGate(f.srv)
	ref, err := f.node.Store().Import(t.Context(), strings.NewReader("a share package of the fixture"), 30, nil)
	if err != nil {
		t.Fatal(err)
	}
	f.ref = ref
	return f
}

// grant signs a one-link chain for grantee with revocation id rid.
func (f *fixture) grant(grantee *secp256k1.PrivateKey, rid byte) grant.Chain {
	f.t.Helper()
	now := uint64(f.clock.Now().Unix())
	g := &grant.Grant{Domain: domain, GranteeKey: grantee.PubKey().SerializeCompressed(), Packages: [][]byte{f.ref.Root.Bytes()},
		Operations: grant.Read, NotBefore: now - 10, ExpiresAt: now + 3600, RevocationID: [32]byte{rid, 0xa5, 0x5a, 0x17}, Nonce: uint64(rid)}
	if err := g.Sign(f.patient); err != nil {
		f.t.Fatal(err)
	}
	return grant.Chain{g}
}

func (f *fixture) present(from *ipfs.Node, chain grant.Chain, k *secp256k1.PrivateKey) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := Present(ctx, from.Host(), f.node.AddrInfo(), chain, k)
	return err
}

func (f *fixture) entries() []Access {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Access(nil), f.log...)
}

func TestDenyEndsSessionsBeforeTheChainKnows(t *testing.T) {
	f := newFixture(t)
	specialist := key(2)
	sn := node(t, 20, nil)
	chain := f.grant(specialist, 1)
	other := f.grant(specialist, 2)
	if err := f.present(sn, chain, specialist); err != nil {
		t.Fatal(err)
	}
	if err := f.present(sn, other, specialist); err != nil {
		t.Fatal(err)
	}
	if !f.srv.Allowed(sn.ID(), f.ref.Root) {
		t.Fatal("not allowed after presenting")
	}
	// The patient starts revoking the first grant; the chain knows nothing.
	if n := f.srv.Deny(chain[0].RevocationID); n != 1 {
		t.Fatalf("Deny ended %d sessions, want 1", n)
	}
	if f.srv.Sessions() != 1 {
		t.Fatalf("%d sessions, want the other grant's 1", f.srv.Sessions())
	}
	if err := f.present(sn, chain, specialist); !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "grant revoked") {
		t.Fatalf("presenting a locally revoked grant: %v", err)
	}
	// A Refresh answered by a chain that has not mined it keeps it denied.
	f.srv.Refresh(t.Context())
	if err := f.present(sn, chain, specialist); !errors.Is(err, ErrRefused) {
		t.Fatalf("after refresh: %v", err)
	}
	f.srv.Deny(other[0].RevocationID)
	if f.srv.Allowed(sn.ID(), f.ref.Root) || f.srv.AllowsAny(sn.ID()) || f.srv.Sessions() != 0 {
		t.Fatal("allowed after both grants were denied")
	}
}

func TestPresentationsAreRateLimitedPerPeer(t *testing.T) {
	f := newFixture(t)
	f.srv.SetLimits(Limits{PresentRate: 0.1, PresentBurst: 2})
	specialist, colleague := key(2), key(4)
	sn, cn := node(t, 20, nil), node(t, 40, nil)
	chain := f.grant(specialist, 1)
	for i := range 2 {
		if err := f.present(sn, chain, specialist); err != nil {
			t.Fatalf("presentation %d: %v", i, err)
		}
	}
	if err := f.present(sn, chain, specialist); !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "too many presentations") {
		t.Fatalf("third presentation in a row: %v", err)
	}
	// Another peer has its own bucket.
	if err := f.present(cn, f.grant(colleague, 3), colleague); err != nil {
		t.Fatalf("another peer: %v", err)
	}
	// Ten seconds later (rate 0.1/s) one more token.
	f.clock.Add(10 * time.Second)
	if err := f.present(sn, chain, specialist); err != nil {
		t.Fatalf("after the bucket refilled: %v", err)
	}
}

func TestRefusalLogIsBounded(t *testing.T) {
	f := newFixture(t)
	f.srv.SetLimits(Limits{PresentBurst: 1000, RefusalsPerPeer: 3, RefusalsTotal: 5, RefusalWindow: time.Minute})
	specialist, thief, thief2 := key(2), key(3), key(5)
	sn, tn, tn2 := node(t, 20, nil), node(t, 30, nil), node(t, 50, nil)
	chain := f.grant(specialist, 1)
	for range 12 {
		if err := f.present(tn, chain, thief); !errors.Is(err, ErrRefused) {
			t.Fatalf("thief: %v", err)
		}
	}
	if n := len(f.entries()); n != 3 {
		t.Fatalf("%d refusals of one peer logged, want 3", n)
	}
	// All peers together: 5 per window.
	for range 4 {
		f.present(tn2, chain, thief2)
	}
	if n := len(f.entries()); n != 5 {
		t.Fatalf("%d refusals logged in all, want 5", n)
	}
	// Granted accesses are always logged.
	if err := f.present(sn, chain, specialist); err != nil {
		t.Fatal(err)
	}
	log := f.entries()
	if len(log) != 6 || !log[5].Granted {
		t.Fatalf("granted access not logged: %d entries", len(log))
	}
	// Next window: the thief's next refusal carries the count left out.
	f.clock.Add(time.Minute)
	f.present(tn, chain, thief)
	log = f.entries()
	if len(log) != 7 || log[6].Granted || log[6].Peer != tn.ID() || log[6].Suppressed != 9 {
		t.Fatalf("first refusal of the next window: %d entries, last %+v", len(log), log[len(log)-1])
	}
}

func TestRefusedGranteeIsNotLogged(t *testing.T) {
	f := newFixture(t)
	specialist, thief := key(2), key(3)
	tn := node(t, 30, nil)
	// A stolen link presented with the wrong key.
	if err := f.present(tn, f.grant(specialist, 1), thief); !errors.Is(err, ErrRefused) {
		t.Fatalf("thief: %v", err)
	}
	// A forgery: the thief signs a grant naming a victim as grantee.
	forged := f.grant(specialist, 2)
	forged[0].GranteeKey = key(6).PubKey().SerializeCompressed()
	if err := forged[0].Sign(thief); err != nil {
		t.Fatal(err)
	}
	if err := f.present(tn, forged, thief); !errors.Is(err, ErrRefused) {
		t.Fatalf("forgery: %v", err)
	}
	log := f.entries()
	if len(log) != 2 {
		t.Fatalf("%d entries", len(log))
	}
	for _, a := range log {
		if a.Granted || a.Grantee != (common.Address{}) {
			t.Fatalf("refusal logged grantee %s", a.Grantee)
		}
	}
}

func TestSessionsAreCapped(t *testing.T) {
	f := newFixture(t)
	f.srv.SetLimits(Limits{PresentBurst: 1000, SessionsPerPeer: 2, Sessions: 3})
	specialist, colleague := key(2), key(4)
	sn, cn := node(t, 20, nil), node(t, 40, nil)
	a, b, c := f.grant(specialist, 1), f.grant(specialist, 2), f.grant(specialist, 3)
	for _, ch := range []grant.Chain{a, b, a, b} { // presenting again replaces
		if err := f.present(sn, ch, specialist); err != nil {
			t.Fatal(err)
		}
	}
	if n := f.srv.Sessions(); n != 2 {
		t.Fatalf("%d sessions after presenting two grants twice, want 2", n)
	}
	if err := f.present(sn, c, specialist); !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "too many open sessions for this peer") {
		t.Fatalf("third grant of one peer: %v", err)
	}
	if err := f.present(cn, f.grant(colleague, 4), colleague); err != nil {
		t.Fatal(err)
	}
	if err := f.present(cn, f.grant(colleague, 5), colleague); !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "too many open sessions") {
		t.Fatalf("over the total: %v", err)
	}
	if n := f.srv.Sessions(); n != 3 {
		t.Fatalf("%d sessions, want 3", n)
	}
}
