package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	vaultapi "github.com/hashicorp/vault/api"

	"github.com/healthwallet/healthwallet/internal/vaulttest"
)

// startVault runs the real Vault dev server (internal/vaulttest), enables
// Transit with the wallet's key, and stops it when the test ends.
func startVault(t *testing.T) (addr, token string) {
	t.Helper()
	s := vaulttest.Start(t)
	client, err := s.Client()
	if err != nil {
		t.Fatal(err)
	}
	if err := client.Sys().Mount("transit", &vaultapi.MountInput{Type: "transit"}); err != nil {
		t.Fatal(err)
	}
	// The administrator's step: the Transit key identities are sealed under.
	if _, err := client.Logical().Write("transit/keys/healthwallet", map[string]any{"type": "aes256-gcm96"}); err != nil {
		t.Fatal(err)
	}
	return s.Addr, s.Token
}

func TestVaultCLI(t *testing.T) {
	addr, token := startVault(t)
	env := map[string]string{"HW_PASSPHRASE": passEnv["HW_PASSPHRASE"], "VAULT_ADDR": addr, "VAULT_TOKEN": token}
	runE := func(args ...string) result { return run(t, "", env, args...) }
	dir := t.TempDir()

	// A clinic identity held in Vault: no keystore on the desktop's disk.
	clinic := filepath.Join(dir, "clinic")
	r := runE("--home", clinic, "--keystore", "vault", "--vault-name", "dr-jones", "init", "--json")
	if r.code != 0 {
		t.Fatalf("init --keystore vault: %+v", r)
	}
	if _, err := os.Stat(filepath.Join(clinic, "keystore.age")); err == nil {
		t.Fatal("a Vault-held identity wrote a keystore file")
	}
	if r := runE("--home", clinic, "records"); r.code != 0 {
		t.Fatalf("records on a Vault-held wallet: %+v", r)
	}
	bad := map[string]string{"VAULT_ADDR": addr, "VAULT_TOKEN": "s.not-a-token"}
	if r := run(t, "", bad, "--home", clinic, "records"); r.code == 0 || strings.Count(r.stderr, "\n") != 1 {
		t.Fatalf("bad token: %+v", r)
	}

	// Patient escrow: back up, restore on a new device; a wrong passphrase
	// restores nothing.
	patient := newHome(t)
	if r := runE("--home", patient, "vault", "backup", "--name", "jane"); r.code != 0 || !strings.Contains(r.stdout, "version 1") {
		t.Fatalf("backup: %+v", r)
	}
	if r := runE("--home", patient, "vault", "backup", "--name", "jane", "--cas", "0"); r.code == 0 || !strings.Contains(r.stderr, "back up against version 1") {
		t.Fatalf("stale check-and-set: %+v", r)
	}
	wrong := map[string]string{"HW_PASSPHRASE": "not the passphrase at all", "VAULT_ADDR": addr, "VAULT_TOKEN": token}
	device := filepath.Join(dir, "new-device")
	if r := run(t, "", wrong, "--home", device, "vault", "restore", "--name", "jane"); r.code == 0 || !strings.Contains(r.stderr, "wrong passphrase") {
		t.Fatalf("restore with a wrong passphrase: %+v", r)
	}
	if _, err := os.Stat(device); err == nil {
		if entries, _ := os.ReadDir(device); len(entries) > 0 {
			t.Fatal("a refused restore left files")
		}
	}
	r = runE("--home", device, "vault", "restore", "--name", "jane")
	who := runE("--home", patient, "whoami").stdout
	if r.code != 0 || !strings.Contains(r.stdout, strings.Fields(strings.Split(who, "\n")[0])[1]) {
		t.Fatalf("restore: %+v (patient %s)", r, who)
	}

	// One-time handover to a family member's device.
	r = runE("--home", patient, "vault", "handover", "--backup", "--ttl", "5m")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "healthwallet:handover/") {
		t.Fatalf("handover: %+v", r)
	}
	link := strings.TrimSpace(r.stdout)
	family := filepath.Join(dir, "family-device")
	if r := runE("--home", family, "vault", "receive", link); r.code != 0 {
		t.Fatalf("receive: %+v", r)
	}
	r = runE("--home", filepath.Join(dir, "again"), "vault", "receive", link)
	if r.code == 0 || !strings.Contains(r.stderr, "already opened or has expired") {
		t.Fatalf("second receive: %+v", r)
	}
}
