package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/ethclient"

	"github.com/healthwallet/healthwallet/internal/fixtures"
)

// anvilKeys are anvil's first two dev accounts (the public test mnemonic):
// 0 deploys the registry, 1 pays for the revocation.
var anvilKeys = []string{
	"0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
	"0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
}

// startAnvil runs the pinned anvil (npm ci --prefix share/registry/anvil) on
// 127.0.0.1 with a port it picks itself, and returns its RPC URL. Without
// anvil the test skips, except under CI where it fails. anvil is killed at
// the end of the test.
func startAnvil(t *testing.T) string {
	t.Helper()
	bin := filepath.Join("..", "..", "share", "registry", "anvil", "node_modules", "@foundry-rs",
		"anvil-"+runtime.GOOS+"-"+runtime.GOARCH, "bin", "anvil")
	if _, err := os.Stat(bin); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("no anvil (%v): CI must run npm ci --prefix share/registry/anvil", err)
		}
		t.Skipf("no anvil (%v): run npm ci --prefix share/registry/anvil", err)
	}
	cmd := exec.Command(bin, "--host", "127.0.0.1", "--port", "0", "--chain-id", "31337")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		cmd.Wait()
	})
	// anvil prints "Listening on 127.0.0.1:PORT" once it serves.
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		sent := false
		for sc.Scan() {
			if a, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "Listening on "); ok && !sent {
				addr <- a
				sent = true
			}
		}
		if !sent {
			close(addr)
		}
	}()
	select {
	case a, ok := <-addr:
		if !ok {
			t.Fatal("anvil exited without listening")
		}
		return "http://" + a
	case <-time.After(60 * time.Second):
		t.Fatal("anvil did not start listening within 60 s")
	}
	return ""
}

// TestRegistryDeployOnAnvil deploys the registry with `registry deploy` on
// anvil, an EVM node that is not go-ethereum, and runs grant → redeem →
// revoke --key → refused redemption against it. It also checks the deploy
// command's errors: a bad key, an unreachable RPC and an unfunded account.
func TestRegistryDeployOnAnvil(t *testing.T) {
	rpc := startAnvil(t)
	dir := t.TempDir()
	env := map[string]string{"HW_PASSPHRASE": passEnv["HW_PASSPHRASE"], "HW_DEVNET_FILE": filepath.Join(dir, "no-devnet.json")}
	runE := func(args ...string) result { return run(t, "", env, args...) }

	// Errors: one line each.
	oneLine := func(what string, r result, code int, want string) {
		t.Helper()
		if r.code != code || !strings.Contains(r.stderr, want) || strings.Count(r.stderr, "\n") != 1 {
			t.Fatalf("%s: %+v; want exit %d and one line with %q", what, r, code, want)
		}
	}
	oneLine("bad key", runE("registry", "deploy", "--chain-rpc", rpc, "--key", "0xnothex"), ExitUsage, "--key is not a hex private key")
	oneLine("unreachable RPC", runE("registry", "deploy", "--chain-rpc", "http://127.0.0.1:1", "--key", anvilKeys[0]), ExitError, "chain http://127.0.0.1:1 unreachable")
	unfunded := "0x" + strings.Repeat("5e", 32)
	oneLine("unfunded key", runE("registry", "deploy", "--chain-rpc", rpc, "--key", unfunded), ExitError, "insufficient funds")
	oneLine("no subcommand", runE("registry"), ExitUsage, "registry deploy --chain-rpc URL --key HEX")

	// Human output: three lines.
	r := runE("registry", "deploy", "--chain-rpc", rpc, "--key", anvilKeys[0])
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if r.code != 0 || len(lines) != 3 || !strings.HasPrefix(lines[0], "registry 0x") || lines[1] != "chainId 31337" || !strings.HasPrefix(lines[2], "tx 0x") {
		t.Fatalf("registry deploy: %+v", r)
	}

	// JSON output, and the registry this test uses.
	r = runE("registry", "deploy", "--chain-rpc", rpc, "--key", anvilKeys[0], "--json")
	var dep struct {
		Registry string `json:"registry"`
		ChainID  uint64 `json:"chainId"`
		Tx       string `json:"tx"`
	}
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &dep) != nil || !common.IsHexAddress(dep.Registry) || dep.ChainID != 31337 || len(dep.Tx) != 66 {
		t.Fatalf("registry deploy --json: %+v", r)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	client, err := ethclient.DialContext(ctx, rpc)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	if code, err := client.CodeAt(ctx, common.HexToAddress(dep.Registry), nil); err != nil || len(code) == 0 {
		t.Fatalf("no code at the deployed registry %s: %v", dep.Registry, err)
	}
	if rcpt, err := client.TransactionReceipt(ctx, common.HexToHash(dep.Tx)); err != nil || rcpt.ContractAddress != common.HexToAddress(dep.Registry) {
		t.Fatalf("deployment tx %s: %+v, %v", dep.Tx, rcpt, err)
	}

	// grant → redeem → revoke --key → refusal, all on anvil.
	env["HW_CHAIN_RPC"], env["HW_REGISTRY"] = rpc, dep.Registry
	patient, specialist := newHome(t), newHome(t)
	var id identityJSON
	json.Unmarshal([]byte(runE("--home", specialist, "whoami", "--json").stdout), &id)
	data, _ := fixtures.Named("Clemente_Kreiger").Read()
	bundle := filepath.Join(dir, "bundle.json")
	os.WriteFile(bundle, data, 0o600)
	if r := runE("--home", patient, "import", bundle); r.code != 0 {
		t.Fatalf("import: %+v", r)
	}
	nodeLine, _ := background(t, env, "--home", patient, "node", "--json", "--listen", "/ip4/127.0.0.1/tcp/0")
	if !strings.Contains(nodeLine, "/p2p/") {
		t.Fatalf("node line %q", nodeLine)
	}
	r = runE("--home", patient, "grant", "--to", id.DID, "--category", "labs", "--for", "1h", "--json")
	var g grantJSON
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &g) != nil {
		t.Fatalf("grant: %+v", r)
	}
	if r := runE("--home", specialist, "redeem", g.Link, "--out", filepath.Join(dir, "received"), "--json"); r.code != 0 {
		t.Fatalf("redeem on anvil: %+v", r)
	}
	if r := runE("--home", patient, "revoke", g.ID, "--key", anvilKeys[1]); r.code != 0 || !strings.Contains(r.stdout, "revoked") {
		t.Fatalf("revoke --key on anvil: %+v", r)
	}
	r = runE("--home", specialist, "redeem", g.Link)
	if r.code != ExitError || !strings.Contains(r.stderr, "grant revoked") || strings.Count(r.stderr, "\n") != 1 {
		t.Fatalf("redeem after revoke on anvil: %+v", r)
	}
}
