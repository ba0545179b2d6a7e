package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/healthwallet/healthwallet/internal/fixtures"
	"github.com/healthwallet/healthwallet/wallet"
)

// TestKeeperCLI: `keeper` runs a keeper, `keepers add` enrols it, `grant`
// pushes to it and says so, the grantee redeems with the patient's node
// stopped, `keepers sync` merges the keeper's access record, `keepers
// remove` takes it away; without a chain the keeper does not start.
func TestKeeperCLI(t *testing.T) {
	dir, env, _ := devnetEnv(t)
	runE := func(args ...string) result { return run(t, "", env, args...) }
	patient, specialist, keeper := newHome(t), newHome(t), newHome(t)

	noChain := map[string]string{"HW_PASSPHRASE": passEnv["HW_PASSPHRASE"], "HW_DEVNET_FILE": filepath.Join(dir, "none.json")}
	if r := run(t, "", noChain, "--home", keeper, "keeper", "--listen", "/ip4/127.0.0.1/tcp/0"); r.code != ExitError || !strings.Contains(r.stderr, "no chain configured") {
		t.Fatalf("keeper without a chain: %+v", r)
	}

	line, stopKeeper := background(t, env, "--home", keeper, "keeper", "--json", "--listen", "/ip4/127.0.0.1/tcp/0")
	var kj nodeJSON
	if err := json.Unmarshal([]byte(line), &kj); err != nil || kj.PeerID == "" || len(kj.Addrs) == 0 {
		t.Fatalf("keeper line %q: %v", line, err)
	}
	data, _ := fixtures.Named("Clemente_Kreiger").Read()
	bundle := filepath.Join(dir, "clemente.json")
	os.WriteFile(bundle, data, 0o600)
	if r := runE("--home", patient, "import", bundle); r.code != 0 {
		t.Fatalf("import: %+v", r)
	}
	if r := runE("--home", patient, "keepers", "add", kj.Addrs[0], "--name", "Mum's PC"); r.code != 0 || !strings.Contains(r.stdout, "added keeper") {
		t.Fatalf("keepers add: %+v", r)
	}
	// The node ran once (node.json), and is stopped when the grant is made.
	_, stopNode := background(t, env, "--home", patient, "node", "--json", "--listen", "/ip4/127.0.0.1/tcp/0")
	stopNode()

	var id identityJSON
	json.Unmarshal([]byte(runE("--home", specialist, "whoami", "--json").stdout), &id)
	r := runE("--home", patient, "grant", "--to", id.DID, "--category", "labs", "--for", "1h")
	if r.code != 0 || !strings.Contains(r.stderr, "available at: this wallet's node, Mum's PC\n") {
		t.Fatalf("grant: %+v", r)
	}
	link := strings.TrimSpace(r.stdout)
	r = runE("--home", patient, "grant", "--to", id.DID, "--category", "labs", "--for", "2h", "--json")
	var g grantJSON
	if err := json.Unmarshal([]byte(r.stdout), &g); err != nil || len(g.AvailableAt) != 2 || g.AvailableAt[1] != (wallet.Availability{Name: "Mum's PC", Kind: "keeper", OK: true}) {
		t.Fatalf("grant --json: %v %+v", err, r)
	}

	if r := runE("--home", specialist, "redeem", link); r.code != 0 || !strings.Contains(r.stdout, "verified") {
		t.Fatalf("redeem from the keeper: %+v", r)
	}
	if r := runE("--home", patient, "keepers", "sync"); r.code != 0 || !strings.Contains(r.stdout, "Mum's PC (keeper): pushed 0, dropped 0, 1 access records") {
		t.Fatalf("keepers sync: %+v", r)
	}
	var log []wallet.AccessEntry
	json.Unmarshal([]byte(runE("--home", patient, "access", "--json").stdout), &log)
	if len(log) != 1 || log[0].Keeper != "Mum's PC" || !log[0].Granted {
		t.Fatalf("access log %+v", log)
	}
	var ks []wallet.Keeper
	json.Unmarshal([]byte(runE("--home", patient, "keepers", "list", "--json").stdout), &ks)
	if len(ks) != 1 || ks[0].Held < 2 || ks[0].Pending != 0 || !ks[0].Reachable || ks[0].PeerID != kj.PeerID {
		t.Fatalf("keepers list %+v", ks)
	}
	if r := runE("--home", patient, "keepers", "remove", ks[0].ID); r.code != 0 {
		t.Fatalf("keepers remove: %+v", r)
	}
	if r := runE("--home", patient, "keepers", "list"); r.code != 0 || strings.Contains(r.stdout, "Mum's PC") {
		t.Fatalf("keepers list after remove: %+v", r)
	}
	if r := runE("--home", patient, "keepers", "frob"); r.code != ExitUsage {
		t.Fatalf("keepers frob: %+v", r)
	}
	stopKeeper()
}
