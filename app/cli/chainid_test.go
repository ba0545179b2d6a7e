package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/math"

	"github.com/healthwallet/healthwallet/internal/fixtures"
	"github.com/healthwallet/healthwallet/share/devnet"
)

// otherChainID is chain B's id; the devnet (chain A) is 1337.
const otherChainID = 4242

// startOtherChain runs a second devnet, with chain id 4242 and a registry
// on it, ephemeral, on 127.0.0.1. It returns the RPC URL and the registry.
func startOtherChain(t *testing.T) (string, common.Address) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	d, err := devnet.Start(ctx, devnet.Config{ChainID: otherChainID})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	info := d.Info()
	if info.ChainID != otherChainID {
		t.Fatalf("second devnet has chain id %d", info.ChainID)
	}
	return info.RPC, info.Registry
}

// With a devnet file for chain A (1337) present, --chain-rpc and
// --registry of chain B sign grants for chain B, whose id comes from B's
// RPC; an RPC that contradicts the file, or the file's registry on another
// chain, is refused in one line.
func TestChainIDComesFromTheRPC(t *testing.T) {
	rpcB, regB := startOtherChain(t)
	dir := t.TempDir()
	devnetFile := filepath.Join(dir, "devnet.json")
	regA := common.HexToAddress("0x5FbDB2315678afecb367f032d93F642f64180aa3")
	writeDevnetFile := func(rpc string, chainID uint64) {
		b, _ := json.Marshal(map[string]any{"rpc": rpc, "chainId": chainID, "registry": regA.Hex(), "startBlock": 7})
		if err := os.WriteFile(devnetFile, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	writeDevnetFile("http://127.0.0.1:1", devnet.ChainID)
	env := map[string]string{"HW_PASSPHRASE": passEnv["HW_PASSPHRASE"], "HW_DEVNET_FILE": devnetFile}

	patient, specialist := newHome(t), newHome(t)
	var id identityJSON
	json.Unmarshal([]byte(run(t, "", env, "--home", specialist, "whoami", "--json").stdout), &id)
	data, _ := fixtures.Named("Clemente_Kreiger").Read()
	bundle := filepath.Join(dir, "bundle.json")
	os.WriteFile(bundle, data, 0o600)
	if r := run(t, "", env, "--home", patient, "import", bundle); r.code != 0 {
		t.Fatalf("import: %+v", r)
	}
	provider := "/ip4/127.0.0.1/tcp/4001/p2p/12D3KooWGzxzKZYveHXtpG6AsrUJBcWxHBFS2HsEoGTxrMLvKXtf"
	grantOn := func(extra ...string) result {
		args := append([]string{"--home", patient, "grant", "--to", id.DID, "--category", "labs", "--for", "1h", "--provider", provider, "--json"}, extra...)
		return run(t, "", env, args...)
	}

	r := grantOn("--chain-rpc", rpcB, "--registry", regB.Hex())
	if r.code != 0 {
		t.Fatalf("grant on chain B: %+v", r)
	}
	var g struct {
		TypedData struct {
			Domain struct {
				ChainID           string `json:"chainId"` // hex, as eth_signTypedData_v4 takes it
				VerifyingContract string `json:"verifyingContract"`
			} `json:"domain"`
		} `json:"typedData"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &g); err != nil {
		t.Fatalf("grant --json: %v: %s", err, r.stdout)
	}
	if got, ok := math.ParseBig256(g.TypedData.Domain.ChainID); !ok || got.Uint64() != otherChainID {
		t.Fatalf("grant on chain B is signed for chain %s, want %d (B's eth_chainId)", got, otherChainID)
	}
	if !strings.EqualFold(g.TypedData.Domain.VerifyingContract, regB.Hex()) {
		t.Fatalf("grant on chain B names registry %s, want %s", g.TypedData.Domain.VerifyingContract, regB.Hex())
	}

	// The devnet file's registry, reached through chain B: refused.
	r = grantOn("--chain-rpc", rpcB)
	if r.code == 0 || !strings.Contains(r.stderr, "chain id mismatch") || strings.Count(r.stderr, "\n") != 1 {
		t.Fatalf("file's registry on chain B: %+v", r)
	}
	// A devnet file whose RPC reports another chain id than it says: refused.
	writeDevnetFile(rpcB, devnet.ChainID)
	r = grantOn("--registry", regB.Hex())
	if r.code == 0 || !strings.Contains(r.stderr, "chain id mismatch") || !strings.Contains(r.stderr, "4242") || strings.Count(r.stderr, "\n") != 1 {
		t.Fatalf("devnet file contradicted by its RPC: %+v", r)
	}
}
