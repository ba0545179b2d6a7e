package app

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/healthwallet/healthwallet/internal/plaintext"
	"github.com/healthwallet/healthwallet/internal/testclock"
	"github.com/healthwallet/healthwallet/wallet"
	"github.com/healthwallet/healthwallet/wallet/catalog"
)

func TestSettingsWithoutChainOrVault(t *testing.T) {
	u := openTestWallet(t, Options{})
	tapTab(t, u, tabSettings)
	v := u.settings
	mustContain(t, "node", v.nodeState.Text, "Not running: not started: no chain configured")
	if v.peerID.Text != u.openWallet().Info().PeerID {
		t.Fatalf("peer ID %q", v.peerID.Text)
	}
	mustContain(t, "chain", v.chainConfig.Text, "Not configured")
	mustContain(t, "chain", v.chainHead.Text, "No chain is configured", "HW_CHAIN_RPC")
	if !v.checkChain.Disabled() {
		t.Fatal("Check now enabled without a chain")
	}
	// Vault: not configured, and it says which variables it would use.
	mustContain(t, "vault", v.vault.state.Text, "Not configured", "VAULT_ADDR")
	for i, k := range vaultEnv {
		if v.vault.env.Items[i].Text != k || v.vault.env.Items[i].Widget.(*widget.Label).Text != "not set" {
			t.Fatalf("vault env %d: %s", i, v.vault.env.Items[i].Text)
		}
	}
	if !v.vault.check.Disabled() {
		t.Fatal("Check connection enabled without VAULT_ADDR")
	}
	assertScreenNormalized(t, u, "settings")

	// The lock timeout and the theme are kept in preferences.
	u.wv.lockAfter.SetSelected("15 minutes")
	if u.app.Preferences().Int(prefLockMinutes) != 15 {
		t.Fatal("lock timeout not saved")
	}
	v.theme.SetSelected("Dark")
	if u.app.Preferences().String(prefTheme) != themeDark {
		t.Fatal("theme not saved")
	}
	if th, ok := u.app.Settings().Theme().(legibleTheme); !ok || !th.fixed || th.variant != theme.VariantDark {
		t.Fatalf("theme %T %+v", u.app.Settings().Theme(), u.app.Settings().Theme())
	}
	v.theme.SetSelected("System")
	if th, ok := u.app.Settings().Theme().(legibleTheme); !ok || th.fixed || u.app.Preferences().String(prefTheme) != themeSystem {
		t.Fatal("theme did not follow the system again, in legible colours")
	}
}

// TestSettingsAdvanced: identity, the lock, the theme and backup are on
// top; the node, keepers, chain and Vault are under "Advanced", collapsed
// until opened.
func TestSettingsAdvanced(t *testing.T) {
	u := openTestWallet(t, Options{})
	tapTab(t, u, tabSettings)
	v := u.settings
	if len(v.advanced.Items) != 1 || v.advanced.Items[0].Open {
		t.Fatalf("advanced: %d items, open %v", len(v.advanced.Items), len(v.advanced.Items) > 0 && v.advanced.Items[0].Open)
	}
	top := markup(u)
	for _, want := range []string{"Your identity", "Security", "Appearance", "Backup", "Advanced"} {
		mustContain(t, "settings", top, want)
	}
	for _, hidden := range []string{"Your node", "Peer ID", ">Chain<", ">Keepers<", "HashiCorp Vault", "VAULT_ADDR"} {
		if strings.Contains(top, hidden) {
			t.Errorf("%q is on show with Advanced collapsed", hidden)
		}
	}
	test.Tap(tappable(t, u, v.advanced.Items[0].Title))
	if !v.advanced.Items[0].Open {
		t.Fatal("Advanced did not open")
	}
	mustContain(t, "advanced", markup(u), "Your node", "Peer ID", ">Chain<", ">Keepers<", "HashiCorp Vault", "VAULT_ADDR")
}

func TestSettingsVaultConfigured(t *testing.T) {
	env := map[string]string{"VAULT_ADDR": "http://127.0.0.1:1", "VAULT_TOKEN": "s.secret-token"}
	u := openTestWallet(t, Options{Getenv: func(k string) string { return env[k] }})
	tapTab(t, u, tabSettings)
	s := u.settings.vault
	mustContain(t, "vault", s.state.Text, "Configured: Vault at http://127.0.0.1:1")
	if strings.Contains(markup(u), "s.secret-token") {
		t.Fatal("the Vault token is on screen")
	}
	test.Tap(s.check)
	u.bg.Wait()
	if s.result.Importance != widget.DangerImportance || !strings.Contains(s.result.Text, "127.0.0.1:1") || strings.Contains(s.result.Text, "\n") {
		t.Fatalf("unreachable Vault: %q", s.result.Text)
	}
}

func TestSettingsNodeAndChain(t *testing.T) {
	chain, _ := startChain(t)
	u := openTestWallet(t, Options{Chain: &chain})
	tapTab(t, u, tabSettings)
	v := u.settings
	mustContain(t, "node", v.nodeState.Text, "Running")
	srv, _ := u.nodeState()
	if v.peerID.Text != srv.PeerID() || !strings.Contains(v.addrs.Text, "/ip4/127.0.0.1/tcp/") {
		t.Fatalf("node: %q %q", v.peerID.Text, v.addrs.Text)
	}
	mustContain(t, "chain", v.chainConfig.Text, chain.RPC, chain.Registry.Hex())
	mustContain(t, "chain", v.chainHead.Text, "Reachable: latest block")
	test.Tap(v.checkChain)
	u.bg.Wait()
	mustContain(t, "mirror", v.mirror.Text, "Revocation mirror: fresh")
	mustContain(t, "storage", v.storage.Text, "of encrypted blocks")

	// Locking stops the node: nothing is served from a locked wallet.
	addr := srv.Addrs()[0]
	test.Tap(u.wv.lock)
	wantScreen(t, u, "unlock")
	if _, err := u.nodeState(); err == nil || !strings.Contains(err.Error(), "locked") {
		t.Fatalf("node after lock: %v", err)
	}
	if got := srv.Listening(); got != 0 {
		t.Fatalf("the node still listens on %d addresses (%s)", got, addr)
	}
}

func TestBackup(t *testing.T) {
	u := openTestWallet(t, Options{Now: testclock.Frozen})
	importFixture(t, u, "Liz_Conn")
	tapTab(t, u, tabSettings)
	v := u.settings
	parent := t.TempDir()
	v.backupTo(parent)
	u.bg.Wait()
	dir := filepath.Join(parent, "healthwallet-backup-"+testclock.Frozen().In(testclock.Zone).Format("20060102-150405"))
	if isMobile() {
		mustContain(t, "backup", v.backupResult.Text, "Saved", dir, "opens it as its wallet folder, with your passphrase")
	} else {
		mustContain(t, "backup", v.backupResult.Text, "Saved", dir, "as Health Wallet's wallet folder", u.home, "unlock it with your passphrase")
	}
	if strings.Contains(v.backupResult.Text, "'healthwallet") {
		t.Fatalf("the backup message names a command: %q", v.backupResult.Text)
	}
	for _, f := range []string{wallet.KeystoreFile, wallet.InfoFile, wallet.CatalogFile, wallet.BackupCAR} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil || len(b) == 0 {
			t.Fatalf("%s: %v", f, err)
		}
		hits, err := plaintext.Find(f, b, "Body Height", "Hydrochlorothiazide", "Liz Conn", "27c911c6-f045-4ffa-af5d-6eba57ac94b2")
		if err != nil || len(hits) > 0 {
			t.Fatalf("%s holds plaintext: %v %v", f, hits, err)
		}
	}
	// The copies open with the wallet's keys.
	keys, err := u.openWallet().Keys()
	must(t, err)
	cat, err := catalog.Open(filepath.Join(dir, wallet.CatalogFile), keys.CatalogKey())
	must(t, err)
	defer cat.Close()
	n, err := cat.Count(catalog.Records)
	must(t, err)
	if n != len(u.records.all) {
		t.Fatalf("backup catalog holds %d records, want %d", n, len(u.records.all))
	}
}
