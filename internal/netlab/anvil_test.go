package netlab

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
)

// TestRegistryDeployAcrossLab: anvil on the public host, as the reach demo
// runs it, is the chain both firewalled hosts use. `registry deploy` from
// the specialist and then from the patient, with the same funded key, lands
// two registries on the one chain at the CREATE addresses of the key's
// nonces 0 and 1: both hosts reach the same node across the lab, and their
// firewalls, which drop what they did not open, let the replies in (nothing
// is dropped).
func TestRegistryDeployAcrossLab(t *testing.T) {
	lab := Up(t)
	rpc := lab.StartAnvil(t)
	bin := buildHealthwallet(t)
	env := []string{"HW_DEVNET_FILE=" + filepath.Join(t.TempDir(), "no-devnet.json"), "LANG=C.UTF-8"}

	key, err := crypto.HexToECDSA(strings.TrimPrefix(AnvilKeys[0], "0x"))
	if err != nil {
		t.Fatal(err)
	}
	deployer := crypto.PubkeyToAddress(key.PublicKey)
	for nonce, host := range []string{Specialist, Patient} {
		out := hwMust(t, lab, host, env, bin, "registry", "deploy", "--chain-rpc", rpc, "--key", AnvilKeys[0], "--json")
		var dep struct {
			Registry string `json:"registry"`
			ChainID  uint64 `json:"chainId"`
			Tx       string `json:"tx"`
		}
		if err := json.Unmarshal([]byte(out), &dep); err != nil {
			t.Fatalf("registry deploy --json from %s printed %q: %v", host, out, err)
		}
		want := crypto.CreateAddress(deployer, uint64(nonce))
		if !common.IsHexAddress(dep.Registry) || common.HexToAddress(dep.Registry) != want {
			t.Errorf("deploy from %s: registry %s, want %s (nonce %d of %s)", host, dep.Registry, want, nonce, deployer)
		}
		if dep.ChainID != 31337 {
			t.Errorf("deploy from %s: chain id %d, want anvil's 31337", host, dep.ChainID)
		}
	}
	for _, h := range []string{Patient, Specialist} {
		if n, err := lab.Dropped(h); err != nil || n != 0 {
			t.Errorf("%s's firewall dropped %d packets (%v) of its own JSON-RPC exchanges", h, n, err)
		}
	}

}
