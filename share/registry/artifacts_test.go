package registry_test

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"

	"github.com/healthwallet/healthwallet/share/registry"
	"github.com/healthwallet/healthwallet/share/registry/internal/contractgen"
)

// TestArtifactsUpToDate recompiles RevocationRegistry.sol with the pinned
// solcjs, regenerates the bindings in memory and compares them byte for byte
// with the committed files. Without solcjs (npm ci --prefix
// share/registry/solc) it skips, except under CI where it fails.
func TestArtifactsUpToDate(t *testing.T) {
	if _, err := contractgen.SolcJS("solc"); err != nil {
		missing(t, err)
	}
	if _, err := exec.LookPath("node"); err != nil {
		missing(t, err)
	}
	art, err := contractgen.Generate(t.Context(), "solc", contractgen.SourceName)
	if errors.Is(err, contractgen.ErrSolcMissing) {
		missing(t, err)
	}
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range art.Files() {
		got, err := os.ReadFile(name)
		if err != nil {
			t.Errorf("%s: %v; run make contracts", name, err)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is stale: it differs from what %s compiles to; run make contracts (scripts/contracts.sh) and commit the result", name, contractgen.SourceName)
		}
	}
	// The bindings compiled into this test binary carry the same bytecode.
	bin, err := os.ReadFile(contractgen.ContractName + ".bin")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(registry.Bytecode(), common.FromHex(strings.TrimSpace(string(bin)))) {
		t.Error("registry.Bytecode() differs from RevocationRegistry.bin; run make contracts")
	}
}

func missing(t *testing.T, err error) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("cannot check the registry artifacts: %v (CI must run npm ci --prefix share/registry/solc)", err)
	}
	t.Skipf("cannot check the registry artifacts: %v", err)
}
