package registry_test

import (
	"context"
	"crypto/rand"
	"errors"
	"math/big"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/accounts/abi/bind/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/eth/ethconfig"
	"github.com/ethereum/go-ethereum/ethclient/simulated"
	"github.com/ethereum/go-ethereum/node"
	"github.com/ethereum/go-ethereum/params"

	"github.com/healthwallet/healthwallet/share/devnet"
	"github.com/healthwallet/healthwallet/share/registry"
)

// Gas goals under current mainnet rules (DESIGN.md, "Revocation registry").
const (
	maxRevokeGas         = 46_000
	maxBatchGasPerSecret = 27_000
)

type env struct {
	sim     *simulated.Backend
	backend simulated.Client
	chainID *big.Int
	opts    *bind.TransactOpts
	client  *registry.Client
}

// newEnv starts a simulated chain under current mainnet rules and deploys
// a registry on it.
func newEnv(t *testing.T) *env {
	t.Helper()
	key, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	chainID := big.NewInt(devnet.ChainID)
	addr := crypto.PubkeyToAddress(key.PublicKey)
	sim := simulated.NewBackend(types.GenesisAlloc{
		addr: {Balance: new(big.Int).Mul(big.NewInt(1000), big.NewInt(params.Ether))},
	}, func(_ *node.Config, ec *ethconfig.Config) {
		ec.Genesis.Config = devnet.ChainConfig(chainID.Uint64())
	})
	t.Cleanup(func() { sim.Close() })

	opts := bind.NewKeyedTransactor(key, chainID)
	e := &env{sim: sim, backend: sim.Client(), chainID: chainID, opts: opts}
	ctx := t.Context()
	_, tx, err := registry.Deploy(ctx, e.backend, opts)
	if err != nil {
		t.Fatal(err)
	}
	sim.Commit()
	rcpt, err := registry.WaitDeployed(ctx, e.backend, tx)
	if err != nil {
		t.Fatal(err)
	}
	e.client = registry.NewClient(e.backend, rcpt.ContractAddress)
	return e
}

// revoke sends one revocation transaction, mines it and returns the receipt.
func (e *env) revoke(t *testing.T, secrets ...[32]byte) *types.Receipt {
	t.Helper()
	ctx := t.Context()
	tx, err := e.client.Revoke(ctx, e.opts, secrets...)
	if err != nil {
		t.Fatal(err)
	}
	e.sim.Commit()
	rcpt, err := e.client.WaitMined(ctx, tx)
	if err != nil {
		t.Fatal(err)
	}
	return rcpt
}

func (e *env) blockTime(t *testing.T, rcpt *types.Receipt) uint64 {
	t.Helper()
	h, err := e.backend.HeaderByNumber(t.Context(), rcpt.BlockNumber)
	if err != nil {
		t.Fatal(err)
	}
	return h.Time
}

func (e *env) id(secret [32]byte) [32]byte {
	return registry.RevocationID(e.chainID, e.client.Address(), secret)
}

func randSecrets(n int) [][32]byte {
	s := make([][32]byte, n)
	for i := range s {
		rand.Read(s[i][:])
	}
	return s
}

func TestTag(t *testing.T) {
	want := common.HexToHash("0x1fd6cbdb2b067554364663148ab5dac8416bb89066d85bb7873dd85856ba406d")
	if registry.Tag != want {
		t.Fatalf("Tag = %x, want %x", registry.Tag, want)
	}
	e := newEnv(t)
	rr := registry.NewRevocationRegistry()
	got, err := bind.Call(rr.Instance(e.backend, e.client.Address()), nil, rr.PackTAG(), rr.UnpackTAG)
	if err != nil {
		t.Fatal(err)
	}
	if got != registry.Tag {
		t.Fatalf("contract TAG = %x, want %x", got, registry.Tag)
	}
}

func TestRevocationIDMatchesContract(t *testing.T) {
	e := newEnv(t)
	secrets := append(randSecrets(3), [32]byte{}, [32]byte{0: 0xff, 31: 0x01})
	for _, s := range secrets {
		onChain, err := e.client.RevocationIDOf(t.Context(), s)
		if err != nil {
			t.Fatal(err)
		}
		if off := e.id(s); off != onChain {
			t.Fatalf("RevocationID(%x) = %x, contract says %x", s, off, onChain)
		}
	}
	// The id binds chain and registry.
	s := secrets[0]
	if e.id(s) == registry.RevocationID(big.NewInt(1), e.client.Address(), s) {
		t.Fatal("id does not depend on the chain id")
	}
	if e.id(s) == registry.RevocationID(e.chainID, common.Address{1}, s) {
		t.Fatal("id does not depend on the registry address")
	}
}

func TestRevoke(t *testing.T) {
	e := newEnv(t)
	secret := randSecrets(1)[0]
	id := e.id(secret)

	if at, err := e.client.RevokedAt(t.Context(), id); err != nil || at != 0 {
		t.Fatalf("before revoke: RevokedAt = %d, %v; want 0", at, err)
	}
	rcpt := e.revoke(t, secret)
	ts := e.blockTime(t, rcpt)

	at, err := e.client.RevokedAt(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	if at != ts {
		t.Fatalf("RevokedAt = %d, want block time %d", at, ts)
	}
	// Exactly one log: topic0 = Revoked, topic1 = id, data = at; no addresses.
	if len(rcpt.Logs) != 1 {
		t.Fatalf("%d logs, want 1", len(rcpt.Logs))
	}
	l := rcpt.Logs[0]
	if l.Address != e.client.Address() || len(l.Topics) != 2 || l.Topics[0] != registry.RevokedTopic || l.Topics[1] != id {
		t.Fatalf("unexpected log %+v", l)
	}
	if want := common.BigToHash(new(big.Int).SetUint64(ts)); common.BytesToHash(l.Data) != want || len(l.Data) != 32 {
		t.Fatalf("log data %x, want %x", l.Data, want)
	}
	rr := registry.NewRevocationRegistry()
	ev, err := rr.UnpackRevokedEvent(l)
	if err != nil {
		t.Fatal(err)
	}
	if ev.Id != id || ev.At != ts {
		t.Fatalf("abigen decodes %x/%d, want %x/%d", ev.Id, ev.At, id, ts)
	}
}

func TestRevokeBatchAndLookup(t *testing.T) {
	e := newEnv(t)
	secrets := randSecrets(5)
	rcpt := e.revoke(t, secrets...)
	ts := e.blockTime(t, rcpt)
	if len(rcpt.Logs) != len(secrets) {
		t.Fatalf("%d logs, want %d", len(rcpt.Logs), len(secrets))
	}

	// Revoked ids interleaved with unknown ones.
	var ids [][32]byte
	var want []uint64
	for i, s := range secrets {
		ids = append(ids, e.id(s))
		want = append(want, ts)
		if rcpt.Logs[i].Topics[1] != e.id(s) {
			t.Fatalf("log %d is for %x, want %x (batch order)", i, rcpt.Logs[i].Topics[1], e.id(s))
		}
		ids = append(ids, randSecrets(1)[0])
		want = append(want, 0)
	}
	got, err := e.client.RevokedAtBatch(t.Context(), ids)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("got %d values, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("RevokedAtBatch[%d] = %d, want %d", i, got[i], want[i])
		}
		single, err := e.client.RevokedAt(t.Context(), ids[i])
		if err != nil || single != want[i] {
			t.Fatalf("RevokedAt(ids[%d]) = %d, %v; want %d", i, single, err, want[i])
		}
	}
	if got, err := e.client.RevokedAtBatch(t.Context(), nil); err != nil || len(got) != 0 {
		t.Fatalf("empty batch: %v, %v", got, err)
	}

	// More ids than one eth_call carries: split, same snapshot.
	many := randSecrets(4500)
	many[4321] = e.id(secrets[2])
	got, err = e.client.RevokedAtBatch(t.Context(), many)
	if err != nil {
		t.Fatal(err)
	}
	for i, at := range got {
		if (i == 4321) != (at == ts) || (i != 4321 && at != 0) {
			t.Fatalf("large batch[%d] = %d", i, at)
		}
	}
}

func TestRevokeIsIdempotent(t *testing.T) {
	e := newEnv(t)
	secret := randSecrets(1)[0]
	first := e.revoke(t, secret)
	ts := e.blockTime(t, first)

	if err := e.sim.AdjustTime(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	again := e.revoke(t, secret)
	if again.Status != types.ReceiptStatusSuccessful {
		t.Fatal("second revoke reverted; want a no-op")
	}
	if len(again.Logs) != 0 {
		t.Fatalf("second revoke emitted %d logs, want 0", len(again.Logs))
	}
	if e.blockTime(t, again) <= ts {
		t.Fatal("test setup: second revoke not in a later block")
	}
	t.Logf("revoke of an already revoked secret: %d gas", again.GasUsed)

	// Inside a batch: the known one and a duplicate are skipped.
	fresh := randSecrets(1)[0]
	batch := e.revoke(t, secret, fresh, fresh)
	if len(batch.Logs) != 1 || batch.Logs[0].Topics[1] != e.id(fresh) {
		t.Fatalf("batch with repeats emitted %d logs, want 1 for the fresh secret", len(batch.Logs))
	}
	if at, err := e.client.RevokedAt(t.Context(), e.id(secret)); err != nil || at != ts {
		t.Fatalf("RevokedAt after repeats = %d, %v; want the first time %d", at, err, ts)
	}
	events, err := e.client.RevokedEvents(t.Context(), 0, batch.BlockNumber.Uint64())
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 2 {
		t.Fatalf("%d events, want 2 (one per id)", len(events))
	}
}

func TestRevokedEvents(t *testing.T) {
	e := newEnv(t)
	start, err := e.backend.BlockNumber(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var want []registry.Event
	for _, n := range []int{1, 3, 2} {
		secrets := randSecrets(n)
		rcpt := e.revoke(t, secrets...)
		ts := e.blockTime(t, rcpt)
		for i, s := range secrets {
			want = append(want, registry.Event{
				ID: e.id(s), At: ts, Block: rcpt.BlockNumber.Uint64(), BlockHash: rcpt.BlockHash,
				TxHash: rcpt.TxHash, LogIndex: rcpt.Logs[i].Index,
			})
		}
		e.sim.Commit() // an empty block between revocations
	}
	head, err := e.backend.BlockNumber(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	got, err := e.client.RevokedEvents(t.Context(), start, head)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("%d events, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("event %d = %+v, want %+v", i, got[i], want[i])
		}
		h, err := e.backend.HeaderByNumber(t.Context(), new(big.Int).SetUint64(got[i].Block))
		if err != nil || h.Hash() != got[i].BlockHash {
			t.Fatalf("event %d block hash does not match header: %v", i, err)
		}
	}
	// Sub-ranges.
	last := want[len(want)-1].Block
	if got, err := e.client.RevokedEvents(t.Context(), last, last); err != nil || len(got) != 2 {
		t.Fatalf("last block: %d events, %v; want 2", len(got), err)
	}
	if got, err := e.client.RevokedEvents(t.Context(), last+1, head); err != nil || len(got) != 0 {
		t.Fatalf("after last: %d events, %v; want 0", len(got), err)
	}
	if got, err := e.client.RevokedEvents(t.Context(), 5, 4); err != nil || len(got) != 0 {
		t.Fatalf("empty range: %v, %v", got, err)
	}
}

// worstCaseSecrets returns random secrets without zero bytes: calldata
// costs 16 gas per non-zero byte and 4 per zero byte, so these cost the most.
func worstCaseSecrets(n int) [][32]byte {
	s := randSecrets(n)
	for i := range s {
		for j := range s[i] {
			if s[i][j] == 0 {
				s[i][j] = 1
			}
		}
	}
	return s
}

// TestGas checks the gas goals under current mainnet rules (see
// devnet.ChainConfig) and prints the measured numbers.
func TestGas(t *testing.T) {
	e := newEnv(t)
	// Measure from a steady state: the registry already has entries.
	e.revoke(t, randSecrets(1)...)

	single := e.revoke(t, worstCaseSecrets(1)[0])
	t.Logf("revoke, 1 fresh secret: %d gas (goal ≤ %d)", single.GasUsed, maxRevokeGas)
	if single.GasUsed > maxRevokeGas {
		t.Errorf("revoke used %d gas, goal ≤ %d", single.GasUsed, maxRevokeGas)
	}

	batch := e.revoke(t, worstCaseSecrets(10)...)
	per := batch.GasUsed / 10
	t.Logf("revokeBatch, 10 fresh secrets: %d gas, %d per secret (goal ≤ %d per secret)", batch.GasUsed, per, maxBatchGasPerSecret)
	if batch.GasUsed > 10*maxBatchGasPerSecret {
		t.Errorf("revokeBatch(10) used %d gas, goal ≤ %d", batch.GasUsed, 10*maxBatchGasPerSecret)
	}
	if len(batch.Logs) != 10 {
		t.Fatalf("%d logs, want 10", len(batch.Logs))
	}
}

func TestErrors(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	if _, err := e.client.Revoke(ctx, e.opts); !errors.Is(err, registry.ErrNoSecrets) {
		t.Fatalf("Revoke() = %v, want ErrNoSecrets", err)
	}
	if _, err := e.client.Revoke(ctx, e.opts, make([][32]byte, registry.MaxRevokeBatch+1)...); !errors.Is(err, registry.ErrTooManySecrets) {
		t.Fatalf("Revoke(too many) = %v, want ErrTooManySecrets", err)
	}

	nowhere := registry.NewClient(e.backend, common.Address{0xde, 0xad})
	if _, err := nowhere.RevokedAtBatch(ctx, randSecrets(2)); !errors.Is(err, registry.ErrNoCode) {
		t.Fatalf("RevokedAtBatch on empty address = %v, want ErrNoCode", err)
	}
	if _, err := nowhere.Revoke(ctx, e.opts, randSecrets(1)[0]); !errors.Is(err, registry.ErrNoCode) {
		t.Fatalf("Revoke on empty address = %v, want ErrNoCode", err)
	}

	// A transaction that reverts yields a *TxFailedError: send one that
	// calls a non-existent function, with a fixed gas limit.
	opts := *e.opts
	opts.GasLimit = 100_000
	tx, err := bind.Transact(registry.NewRevocationRegistry().Instance(e.backend, e.client.Address()), &opts, []byte{1, 2, 3, 4})
	if err != nil {
		t.Fatal(err)
	}
	e.sim.Commit()
	_, err = e.client.WaitMined(ctx, tx)
	var failed *registry.TxFailedError
	if !errors.As(err, &failed) || !errors.Is(err, registry.ErrTxFailed) || failed.TxHash != tx.Hash() {
		t.Fatalf("WaitMined(reverting tx) = %v, want *TxFailedError", err)
	}

	// Waiting for a transaction that is never mined ends with the context.
	pending, err := e.client.Revoke(ctx, e.opts, randSecrets(1)[0])
	if err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := e.client.WaitMined(short, pending); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WaitMined(unmined) = %v, want DeadlineExceeded", err)
	}
}

func TestDecodeRevokedRejectsMalformedLogs(t *testing.T) {
	id := common.Hash{1}
	good := types.Log{Topics: []common.Hash{registry.RevokedTopic, id}, Data: common.LeftPadBytes([]byte{0x65}, 32), BlockNumber: 7, Index: 3}
	ev, err := registry.DecodeRevoked(&good)
	if err != nil || ev.ID != id || ev.At != 0x65 || ev.Block != 7 || ev.LogIndex != 3 {
		t.Fatalf("DecodeRevoked(good) = %+v, %v", ev, err)
	}
	for name, l := range map[string]types.Log{
		"one topic":   {Topics: []common.Hash{registry.RevokedTopic}, Data: good.Data},
		"other topic": {Topics: []common.Hash{{2}, id}, Data: good.Data},
		"short data":  {Topics: good.Topics, Data: good.Data[:31]},
		"wide value":  {Topics: good.Topics, Data: common.LeftPadBytes([]byte{1, 0, 0, 0, 0, 0, 0, 0, 0}, 32)},
	} {
		_, err := registry.DecodeRevoked(&l)
		var mal *registry.MalformedLogError
		if !errors.Is(err, registry.ErrMalformedLog) || !errors.As(err, &mal) {
			t.Errorf("%s: err = %v, want *MalformedLogError", name, err)
		}
	}
}
