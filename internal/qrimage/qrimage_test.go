package qrimage

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeZbar puts a zbarimg on PATH that records its environment in envOut
// and prints out.
func fakeZbar(t *testing.T, out string) (envOut string) {
	t.Helper()
	dir := t.TempDir()
	envOut = filepath.Join(dir, "env")
	script := "#!/bin/sh\nenv > " + envOut + "\nprintf '%s\\n' '" + out + "'\n"
	if err := os.WriteFile(filepath.Join(dir, "zbarimg"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	return envOut
}

// TestPassphraseStaysHome: zbarimg never sees the wallet's passphrase or
// Vault token.
func TestPassphraseStaysHome(t *testing.T) {
	envOut := fakeZbar(t, "healthwallet:grant/AAAA")
	t.Setenv("HW_PASSPHRASE", "correct horse battery staple")
	t.Setenv("VAULT_TOKEN", "hvs.secret-vault-token")
	got, err := Read("grant.png", "healthwallet:grant/")
	if err != nil || got != "healthwallet:grant/AAAA" {
		t.Fatalf("Read = %q, %v", got, err)
	}
	env, err := os.ReadFile(envOut)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"correct horse battery staple", "hvs.secret-vault-token", "HW_PASSPHRASE", "VAULT_TOKEN"} {
		if strings.Contains(string(env), secret) {
			t.Errorf("zbarimg's environment holds %q", secret)
		}
	}
	if !strings.Contains(string(env), "PATH=") {
		t.Error("zbarimg got no PATH")
	}
}

func TestNotALink(t *testing.T) {
	fakeZbar(t, "https://example.org/menu")
	if _, err := Read("/some/dir/menu.png", "healthwallet:grant/"); !errors.Is(err, ErrNotALink) || !strings.HasPrefix(err.Error(), "menu.png: ") {
		t.Fatalf("err = %v", err)
	}
}

func TestNoReader(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	if _, err := Read("x.png", "healthwallet:"); !errors.Is(err, ErrNoReader) {
		t.Fatalf("err = %v", err)
	}
}
