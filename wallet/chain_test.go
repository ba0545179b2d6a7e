package wallet

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/ethereum/go-ethereum/common"
)

// ResolveChain takes the chain id from the RPC in use, refuses a devnet file
// its RPC contradicts, and keeps the file's start block only for the file's
// own RPC and registry.
func TestResolveChain(t *testing.T) {
	_, cfg := startDevnet(t)
	file := filepath.Join(t.TempDir(), "devnet.json")
	write := func(chainID uint64) {
		b, _ := json.Marshal(ChainConfig{RPC: cfg.RPC, ChainID: chainID, Registry: cfg.Registry, StartBlock: 7})
		if err := os.WriteFile(file, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(cfg.ChainID)
	ctx := context.Background()
	other := common.HexToAddress("0x00000000000000000000000000000000000b0b0b")

	for _, tc := range []struct {
		name       string
		rpc        string
		registry   common.Address
		startBlock uint64
	}{
		{"file only", "", common.Address{}, 7},
		{"the file's own RPC and registry", cfg.RPC, cfg.Registry, 7},
		{"another registry", "", other, 0},
		{"the same chain through another URL", "http://localhost:" + cfg.RPC[len("http://127.0.0.1:"):], common.Address{}, 0},
	} {
		got, err := ResolveChain(ctx, file, tc.rpc, tc.registry)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got.ChainID != cfg.ChainID || got.StartBlock != tc.startBlock {
			t.Fatalf("%s: chain %d start %d, want chain %d start %d", tc.name, got.ChainID, got.StartBlock, cfg.ChainID, tc.startBlock)
		}
	}

	// A file whose RPC reports another chain id is refused, with or
	// without overrides.
	write(cfg.ChainID + 1)
	if _, err := ResolveChain(ctx, file, "", common.Address{}); !errors.Is(err, ErrChainIDMismatch) {
		t.Fatalf("file contradicted by its RPC, no overrides: %v, want ErrChainIDMismatch", err)
	}
	for _, reg := range []common.Address{{}, other} {
		if _, err := ResolveChain(ctx, file, cfg.RPC, reg); !errors.Is(err, ErrChainIDMismatch) {
			t.Fatalf("file contradicted by its RPC (registry %s): %v, want ErrChainIDMismatch", reg.Hex(), err)
		}
	}
	// A file whose RPC does not answer is used as it is.
	b, _ := json.Marshal(ChainConfig{RPC: "http://127.0.0.1:1", ChainID: 5, Registry: other})
	os.WriteFile(file, b, 0o600)
	if got, err := ResolveChain(ctx, file, "", common.Address{}); err != nil || got.ChainID != 5 || got.Registry != other {
		t.Fatalf("file with an unreachable RPC: %+v, %v", got, err)
	}
	// An RPC alone, without a file or a registry: incomplete.
	if _, err := ResolveChain(ctx, filepath.Join(t.TempDir(), "none.json"), cfg.RPC, common.Address{}); !errors.Is(err, ErrChainIncomplete) {
		t.Fatalf("RPC without registry: %v", err)
	}
}
