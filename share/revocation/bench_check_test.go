package revocation

import (
	"context"
	"math"
	"math/big"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/accounts/abi/bind/v2"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"

	"github.com/healthwallet/healthwallet/share/devnet"
	"github.com/healthwallet/healthwallet/share/registry"
)

// benchGrants is how many grants BenchmarkRevocationCheck checks.
const benchGrants = 1000

// BenchmarkRevocationCheck checks 1,000 grants (10 of them revoked), one
// grant per check as a verifier does, three ways, interleaved, against a
// real go-ethereum node (the in-process devnet) over HTTP JSON-RPC on
// loopback:
//
//   - registry: one registry revokedAt eth_call per grant (the baseline);
//   - mirror: Mirror.RevokedAt on a synced mirror, which is what a verifier
//     pays: a quick incremental sync (eth_getBlockByNumber for the head and
//     for the newest remembered block, and a write of the sync time to the
//     mirror file) and then the local lookup;
//   - lookup: the local lookup alone (what RevokedAt answers from once the
//     sync is done, or when the chain is unreachable and the mirror fresh);
//   - all 1,000 grants in one Mirror.RevokedAt call (one sync, one read),
//     against the sum of the 1,000 registry calls.
//
// Per-check latencies are reported as p50 and p99 in µs; ratio = registry
// mean / mirror mean, lookup-ratio = registry mean / lookup mean,
// batch-ratio = 1,000 registry calls / one mirror call for 1,000 (goal:
// p99 ≤ 1 ms per check, ≥ 100× faster than the registry).
func BenchmarkRevocationCheck(b *testing.B) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	d, err := devnet.Start(ctx, devnet.Config{})
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	info := d.Info()
	client, err := ethclient.DialContext(ctx, info.RPC)
	if err != nil {
		b.Fatal(err)
	}
	defer client.Close()
	reg := registry.NewClient(client, info.Registry)
	chainID := new(big.Int).SetUint64(info.ChainID)

	// 1,000 grants; every hundredth one revoked on chain.
	ids := make([][32]byte, benchGrants)
	var revoked [][32]byte
	for i := range ids {
		secret := [32]byte(crypto.Keccak256([]byte("bench revocation secret"), big.NewInt(int64(i)).Bytes()))
		ids[i] = registry.RevocationID(chainID, info.Registry, secret)
		if i%100 == 7 {
			revoked = append(revoked, secret)
		}
	}
	key, err := info.Accounts[1].Key()
	if err != nil {
		b.Fatal(err)
	}
	tx, err := reg.Revoke(ctx, bind.NewKeyedTransactor(key, chainID), revoked...)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := reg.WaitMined(ctx, tx); err != nil {
		b.Fatal(err)
	}

	m, err := Open(filepath.Join(b.TempDir(), "revocations.db"),
		RegistrySource{Client: reg, Backend: client}, info.ChainID, info.Registry, Config{})
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	if err := m.Sync(ctx); err != nil {
		b.Fatal(err)
	}

	var registryT, mirrorT, lookupT []time.Duration
	var batchT time.Duration
	n := 0
	for b.Loop() {
		want := make([]uint64, len(ids))
		for i, id := range ids {
			one := [][32]byte{id}
			var atReg, atMirror, atLookup uint64
			registryCheck := func() {
				start := time.Now()
				at, err := reg.RevokedAt(ctx, id)
				registryT = append(registryT, time.Since(start))
				if err != nil {
					b.Fatal(err)
				}
				atReg = at
			}
			mirrorCheck := func() {
				start := time.Now()
				at, err := m.RevokedAt(ctx, one)
				mirrorT = append(mirrorT, time.Since(start))
				if err != nil {
					b.Fatal(err)
				}
				atMirror = at[0]
			}
			lookupCheck := func() {
				start := time.Now()
				at, err := m.local(one)
				lookupT = append(lookupT, time.Since(start))
				if err != nil {
					b.Fatal(err)
				}
				atLookup = at[0]
			}
			// Rotate the order so that no side always runs first.
			order := []func(){registryCheck, mirrorCheck, lookupCheck}
			for k := range order {
				order[(k+i)%3]()
			}
			if atReg != atMirror || atReg != atLookup || (atReg != 0) != (i%100 == 7) {
				b.Fatalf("grant %d: registry says %d, mirror %d, lookup %d", i, atReg, atMirror, atLookup)
			}
			want[i] = atReg
		}
		start := time.Now()
		at, err := m.RevokedAt(ctx, ids)
		batchT += time.Since(start)
		if err != nil {
			b.Fatal(err)
		}
		if !slices.Equal(at, want) {
			b.Fatal("the mirror's answer for all 1,000 grants at once differs from the registry's one by one")
		}
		n++
	}
	mean := func(ds []time.Duration) float64 {
		var sum time.Duration
		for _, d := range ds {
			sum += d
		}
		return float64(sum.Nanoseconds()) / float64(len(ds))
	}
	// pct is the nearest-rank percentile, in µs.
	pct := func(ds []time.Duration, p float64) float64 {
		s := slices.Clone(ds)
		slices.Sort(s)
		return float64(s[int(math.Ceil(p*float64(len(s))))-1].Nanoseconds()) / 1e3
	}
	b.ReportMetric(pct(registryT, 0.50), "registry-p50-us")
	b.ReportMetric(pct(registryT, 0.99), "registry-p99-us")
	b.ReportMetric(pct(mirrorT, 0.50), "mirror-p50-us")
	b.ReportMetric(pct(mirrorT, 0.99), "mirror-p99-us")
	b.ReportMetric(pct(lookupT, 0.50), "lookup-p50-us")
	b.ReportMetric(pct(lookupT, 0.99), "lookup-p99-us")
	b.ReportMetric(mean(registryT)/mean(mirrorT), "ratio")
	b.ReportMetric(mean(registryT)/mean(lookupT), "lookup-ratio")
	var registrySum time.Duration
	for _, d := range registryT {
		registrySum += d
	}
	b.ReportMetric(float64(registrySum.Nanoseconds())/1e6/float64(n), "registry-1000-ms")
	b.ReportMetric(float64(batchT.Nanoseconds())/1e6/float64(n), "mirror-1000-ms")
	b.ReportMetric(registrySum.Seconds()/batchT.Seconds(), "batch-ratio")
}
