package grant_test

import (
	"context"
	"testing"
	"time"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/healthwallet/healthwallet/share/grant"
)

// benchNotRevoked is a grant.Revocations that answers "not revoked" for every id
// without any I/O, so BenchmarkVerifyChain times the format and the
// signature checks only; the cost of a real revocation check is
// share/revocation's BenchmarkRevocationCheck.
type benchNotRevoked struct{}

func (benchNotRevoked) RevokedAt(_ context.Context, ids [][32]byte) ([]uint64, error) {
	return make([]uint64, len(ids)), nil
}

// benchChain builds, with the package's API, the 3-link chain of a
// realistic delegation: patient → family member (may delegate twice) →
// specialist (may delegate once) → colleague, each link signed by its
// issuer, with two packages, a provider, categories and a wrapped key.
func benchChain(b *testing.B) (grant.Chain, grant.Domain, *secp256k1.PublicKey) {
	b.Helper()
	key := func(n byte) *secp256k1.PrivateKey {
		var k [32]byte
		k[0], k[31] = 0x42, n
		return secp256k1.PrivKeyFromBytes(k[:])
	}
	domain := grant.Domain{ChainID: 1337, Registry: common.HexToAddress("0x5FbDB2315678afecb367f032d93F642f64180aa3")}
	keys := []*secp256k1.PrivateKey{key(1), key(2), key(3), key(4)} // patient, family, specialist, colleague
	start := uint64(1795000000)
	var chain grant.Chain
	for i := range 3 {
		g := &grant.Grant{
			Domain:     domain,
			GranteeKey: keys[i+1].PubKey().SerializeCompressed(),
			Packages: [][]byte{
				append([]byte{0x01, 0x55, 0x12, 0x20}, crypto.Keccak256([]byte("package one"))...),
				append([]byte{0x01, 0x55, 0x12, 0x20}, crypto.Keccak256([]byte("package two"))...),
			},
			Providers:    [][]byte{{0x04, 127, 0, 0, 1, 0x06, 0x10, 0x01}},
			Categories:   []string{"labs", "medications"},
			Operations:   grant.Read | grant.Export | grant.Delegate,
			Depth:        uint8(2 - i),
			NotBefore:    start,
			ExpiresAt:    start + 30*86400,
			RevocationID: [32]byte(crypto.Keccak256([]byte{byte(i)}, []byte("revocation id of link"))),
			Nonce:        uint64(i + 1),
			WrappedKey:   crypto.Keccak256([]byte("wrapped key"), []byte{byte(i)}),
		}
		if i == 2 {
			g.Operations = grant.Read
		}
		if i > 0 {
			h, err := chain[i-1].Hash()
			if err != nil {
				b.Fatal(err)
			}
			g.Parent = h
		}
		if err := g.Sign(keys[i]); err != nil {
			b.Fatal(err)
		}
		chain = append(chain, g)
	}
	return chain, domain, keys[3].PubKey()
}

// BenchmarkVerifyChain compares grant.Verify of a 3-link delegation chain
// with its floor, three go-ethereum crypto.Ecrecover calls on the same
// hashes and signatures (precomputed), in the same run. Revocations are
// answered by benchNotRevoked (no I/O) so that both sides do the same work but
// for the format: EIP-712 hashing, the EIP-2 low-S check, the delegation
// rules. ratio = Ecrecover×3 time / Verify time (goal ≥ 0.8: the format
// costs at most 25%).
func BenchmarkVerifyChain(b *testing.B) {
	chain, domain, holder := benchChain(b)
	ctx := context.Background()
	policy := grant.Policy{
		Domain:      domain,
		Revocations: benchNotRevoked{},
		Now:         func() time.Time { return time.Unix(1795000100, 0) },
	}
	req := grant.Request{Holder: holder, Operations: grant.Read, Categories: []string{"labs"}}
	type recover struct{ hash, sig []byte }
	var raw []recover
	for _, g := range chain {
		h, err := g.Hash()
		if err != nil {
			b.Fatal(err)
		}
		sig := append([]byte(nil), g.Signature...)
		sig[64] -= 27
		raw = append(raw, recover{h[:], sig})
	}
	if _, err := grant.Verify(ctx, chain, policy, req); err != nil {
		b.Fatalf("the benchmark chain does not verify: %v", err)
	}
	const inner = 200 // calls per side per iteration, alternating sides
	verify := func() time.Duration {
		start := time.Now()
		for range inner {
			if _, err := grant.Verify(ctx, chain, policy, req); err != nil {
				b.Fatal(err)
			}
		}
		return time.Since(start)
	}
	ecrecover := func() time.Duration {
		start := time.Now()
		for range inner {
			for _, r := range raw {
				if _, err := crypto.Ecrecover(r.hash, r.sig); err != nil {
					b.Fatal(err)
				}
			}
		}
		return time.Since(start)
	}
	var ours, base time.Duration
	i := 0
	for b.Loop() {
		if i%2 == 0 {
			ours += verify()
			base += ecrecover()
		} else {
			base += ecrecover()
			ours += verify()
		}
		i++
	}
	calls := float64(inner * b.N)
	b.ReportMetric(float64(ours.Nanoseconds())/1e3/calls, "verify-us")
	b.ReportMetric(float64(base.Nanoseconds())/1e3/calls, "ecrecover3-us")
	b.ReportMetric(base.Seconds()/ours.Seconds(), "ratio")
}
