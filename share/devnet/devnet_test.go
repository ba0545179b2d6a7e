package devnet_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math/big"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcutil/hdkeychain"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/ethereum/go-ethereum/accounts/abi/bind/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/ethereum/go-ethereum/params/forks"
	"github.com/tyler-smith/go-bip39"

	"github.com/healthwallet/healthwallet/share/devnet"
	"github.com/healthwallet/healthwallet/share/registry"
)

func start(t *testing.T, dir string) *devnet.Devnet {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	d, err := devnet.Start(ctx, devnet.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	info := d.Info()
	u, err := url.Parse(info.RPC)
	if err != nil || u.Hostname() != "127.0.0.1" || u.Port() == "" || u.Port() == "0" {
		t.Fatalf("RPC endpoint %q: want http://127.0.0.1:PORT", info.RPC)
	}
	return d
}

func dial(t *testing.T, d *devnet.Devnet) *ethclient.Client {
	t.Helper()
	c, err := ethclient.DialContext(t.Context(), d.Info().RPC)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func secret() [32]byte {
	var s [32]byte
	rand.Read(s[:])
	return s
}

// revoke revokes secrets over HTTP JSON-RPC from dev account 1 and waits for
// the block.
func revoke(t *testing.T, d *devnet.Devnet, secrets ...[32]byte) uint64 {
	t.Helper()
	info := d.Info()
	c := dial(t, d)
	key, err := info.Accounts[1].Key()
	if err != nil {
		t.Fatal(err)
	}
	reg := registry.NewClient(c, info.Registry)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	tx, err := reg.Revoke(ctx, bind.NewKeyedTransactor(key, new(big.Int).SetUint64(info.ChainID)), secrets...)
	if err != nil {
		t.Fatal(err)
	}
	rcpt, err := reg.WaitMined(ctx, tx)
	if err != nil {
		t.Fatal(err)
	}
	h, err := c.HeaderByNumber(ctx, rcpt.BlockNumber)
	if err != nil {
		t.Fatal(err)
	}
	return h.Time
}

func TestRestartKeepsRevocationsHeightAndNonces(t *testing.T) {
	dir := t.TempDir()
	d := start(t, dir)
	info := d.Info()
	if info.ChainID != devnet.ChainID {
		t.Fatalf("chain id %d, want %d", info.ChainID, devnet.ChainID)
	}
	if want := common.HexToAddress("0x5FbDB2315678afecb367f032d93F642f64180aa3"); info.Registry != want {
		t.Fatalf("registry at %s, want %s (account 0's first contract)", info.Registry.Hex(), want.Hex())
	}
	c := dial(t, d)
	if id, err := c.ChainID(t.Context()); err != nil || id.Uint64() != devnet.ChainID {
		t.Fatalf("eth_chainId = %v, %v", id, err)
	}

	s1 := secret()
	at1 := revoke(t, d, s1)
	id1 := registry.RevocationID(big.NewInt(devnet.ChainID), info.Registry, s1)
	height, err := c.BlockNumber(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	sender := info.Accounts[1].Address
	nonce, err := c.NonceAt(t.Context(), sender, nil)
	if err != nil || nonce != 1 {
		t.Fatalf("nonce %d, %v; want 1", nonce, err)
	}
	c.Close()
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}

	// Same data directory: same registry, revocation, height and nonce.
	d = start(t, dir)
	if d.Info().Registry != info.Registry {
		t.Fatalf("registry moved from %s to %s", info.Registry.Hex(), d.Info().Registry.Hex())
	}
	c = dial(t, d)
	reg := registry.NewClient(c, info.Registry)
	if at, err := reg.RevokedAt(t.Context(), id1); err != nil || at != at1 {
		t.Fatalf("after restart RevokedAt = %d, %v; want %d", at, err, at1)
	}
	if h, err := c.BlockNumber(t.Context()); err != nil || h < height {
		t.Fatalf("after restart height %d, %v; want ≥ %d", h, err, height)
	}
	if n, err := c.PendingNonceAt(t.Context(), sender); err != nil || n != nonce {
		t.Fatalf("after restart nonce %d, %v; want %d", n, err, nonce)
	}

	// The chain goes on: a new revocation lands in a later block, and the
	// event history holds both.
	s2 := secret()
	at2 := revoke(t, d, s2)
	if at2 <= at1 {
		t.Fatalf("second revocation at %d, not after %d", at2, at1)
	}
	head, err := c.BlockNumber(t.Context())
	if err != nil || head <= height {
		t.Fatalf("head %d, %v; want > %d", head, err, height)
	}
	events, err := reg.RevokedEvents(t.Context(), 0, head)
	if err != nil {
		t.Fatal(err)
	}
	id2 := registry.RevocationID(big.NewInt(devnet.ChainID), info.Registry, s2)
	if len(events) != 2 || events[0].ID != id1 || events[0].At != at1 || events[1].ID != id2 || events[1].At != at2 {
		t.Fatalf("events %+v, want %x@%d then %x@%d", events, id1, at1, id2, at2)
	}
	if n, err := c.NonceAt(t.Context(), sender, nil); err != nil || n != nonce+1 {
		t.Fatalf("nonce %d, %v; want %d", n, err, nonce+1)
	}
}

func TestDataDirInUse(t *testing.T) {
	dir := t.TempDir()
	start(t, dir)
	d, err := devnet.Start(t.Context(), devnet.Config{DataDir: dir})
	if err == nil {
		d.Close()
		t.Fatal("second devnet on the same data directory started")
	}
}

func TestRegistryRecordMustMatchChain(t *testing.T) {
	dir := t.TempDir()
	d := start(t, dir)
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	rec := filepath.Join(dir, "registry.json")
	if err := os.WriteFile(rec, []byte(`{"chainId":1337,"registry":"0x000000000000000000000000000000000000dEaD"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	d, err := devnet.Start(t.Context(), devnet.Config{DataDir: dir})
	if !errors.Is(err, devnet.ErrRegistryMissing) {
		if d != nil {
			d.Close()
		}
		t.Fatalf("Start with a bogus registry record = %v, want ErrRegistryMissing", err)
	}
}

func TestEphemeralAndWriteInfo(t *testing.T) {
	d := start(t, "")
	path := filepath.Join(t.TempDir(), "devnet.json")
	if err := d.WriteInfo(path); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var got devnet.Info
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	want := d.Info()
	if got.RPC != want.RPC || got.ChainID != want.ChainID || got.Registry != want.Registry || len(got.Accounts) != len(want.Accounts) {
		t.Fatalf("info file %+v, want %+v", got, want)
	}
	var raw map[string]any
	if err := json.Unmarshal(data, &raw); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"rpc", "chainId", "registry", "accounts"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("info file lacks %q", k)
		}
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("info file mode %v, %v; want 0600", fi.Mode(), err)
	}
	// Dev accounts are funded and usable right away.
	c := dial(t, d)
	for _, a := range want.Accounts {
		bal, err := c.BalanceAt(t.Context(), a.Address, nil)
		if err != nil || bal.Sign() <= 0 {
			t.Fatalf("balance of %s = %v, %v", a.Address.Hex(), bal, err)
		}
	}
	revoke(t, d, secret(), secret())
}

func TestChainConfigIsCurrentMainnet(t *testing.T) {
	cfg := devnet.ChainConfig(devnet.ChainID)
	if err := cfg.CheckConfigForkOrder(); err != nil {
		t.Fatal(err)
	}
	if got := cfg.LatestFork(0); got != forks.BPO2 {
		t.Fatalf("latest fork at genesis = %v, want BPO2 (Osaka + mainnet's blob forks)", got)
	}
	r := cfg.Rules(big.NewInt(1), true, 0)
	if !r.IsOsaka || !r.IsPrague || !r.IsCancun || r.IsAmsterdam || r.IsBogota || r.IsUBT {
		t.Fatalf("rules %+v: want Osaka and nothing later", r)
	}
	if cfg.ChainID.Uint64() != devnet.ChainID {
		t.Fatal("chain id")
	}
	g1, g2 := devnet.Genesis(), devnet.Genesis()
	if g1.ToBlock().Hash() != g2.ToBlock().Hash() {
		t.Fatal("genesis is not deterministic")
	}
}

func TestDevAccountsFromMnemonic(t *testing.T) {
	seed := bip39.NewSeed("test test test test test test test test test test test junk", "")
	master, err := hdkeychain.NewMaster(seed, &chaincfg.MainNetParams)
	if err != nil {
		t.Fatal(err)
	}
	const h = hdkeychain.HardenedKeyStart
	for i, acc := range devnet.Accounts() {
		k := master
		for _, idx := range []uint32{h + 44, h + 60, h + 0, 0, uint32(i)} {
			if k, err = k.Derive(idx); err != nil {
				t.Fatal(err)
			}
		}
		priv, err := k.ECPrivKey()
		if err != nil {
			t.Fatal(err)
		}
		if got := hex.EncodeToString(priv.Serialize()); got != acc.PrivateKey {
			t.Fatalf("account %d key %s, want m/44'/60'/0'/0/%d = %s", i, acc.PrivateKey, i, got)
		}
		key, err := acc.Key()
		if err != nil || crypto.PubkeyToAddress(key.PublicKey) != acc.Address {
			t.Fatalf("account %d address mismatch", i)
		}
	}
}
