package grant

import (
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common/hexutil"
)

// TestPrintedTypedDataVerifiesInViem: the typed data `grant --json` prints
// verifies, as printed, in viem (pinned in testdata/viem; npm ci --prefix
// share/grant/testdata/viem), with the grant's signature, to the issuer
// and the grant's EIP-712 hash. viem refused go-ethereum's own form, whose
// domain carries "salt": "".
func TestPrintedTypedDataVerifiesInViem(t *testing.T) {
	g := fixedGrant(t)
	out, err := json.Marshal(map[string]any{"typedData": g.PrintedTypedData(), "signature": hexutil.Encode(g.Signature)})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), `"salt"`) {
		t.Fatalf("printed domain has a salt: %s", out)
	}
	res := viemVerify(t, "testdata/viem", out, g.Issuer.Hex())
	h, _ := g.Hash()
	if !res.OK || res.Recovered != g.Issuer.Hex() || res.Hash != "0x"+hex.EncodeToString(h[:]) {
		t.Fatalf("viem: %+v; want signer %s, hash %x", res, g.Issuer.Hex(), h)
	}
}

// viemResult is what testdata/viem/verify.mjs prints.
type viemResult struct {
	OK        bool   `json:"ok"`
	Recovered string `json:"recovered"`
	Hash      string `json:"hash"`
}

// viemVerify runs testdata/viem/verify.mjs (dir is its folder) on the
// JSON {typedData, signature} for the expected signer address. Without
// node or the npm packages it skips, and fails under CI=1.
func viemVerify(t *testing.T, dir string, grantJSON []byte, address string) viemResult {
	t.Helper()
	node, err := exec.LookPath("node")
	if err == nil {
		_, err = os.Stat(filepath.Join(dir, "node_modules", "viem", "package.json"))
	}
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("viem check needs node and npm ci --prefix %s (.ci/run does it): %v", dir, err)
		}
		t.Skipf("viem check skipped: %v", err)
	}
	file := filepath.Join(t.TempDir(), "grant.json")
	if err := os.WriteFile(file, grantJSON, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(node, "verify.mjs", file, address)
	cmd.Dir = dir
	b, err := cmd.Output()
	if err != nil {
		msg := ""
		if ee, ok := err.(*exec.ExitError); ok {
			msg = string(ee.Stderr)
		}
		t.Fatalf("viem refused the typed data: %v\n%s", err, msg)
	}
	var r viemResult
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("viem printed %q: %v", b, err)
	}
	return r
}
