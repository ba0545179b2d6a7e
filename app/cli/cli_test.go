package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/healthwallet/healthwallet/internal/testclock"
	"github.com/healthwallet/healthwallet/wallet"
)

const knownPhrase = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about"

type result struct {
	code           int
	stdout, stderr string
}

// run executes the CLI in-process with the given stdin and environment.
func run(t *testing.T, stdin string, env map[string]string, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	code := Main(args, Env{
		Stdin:   strings.NewReader(stdin),
		Stdout:  &out,
		Stderr:  &errOut,
		Getenv:  func(k string) string { return env[k] },
		Options: wallet.Options{WorkFactor: 10, Now: testclock.Now},
	})
	return result{code, out.String(), errOut.String()}
}

var passEnv = map[string]string{"HW_PASSPHRASE": "correct horse battery staple"}

func TestInitWhoami(t *testing.T) {
	home := filepath.Join(t.TempDir(), "w")
	r := run(t, "", passEnv, "--home", home, "init", "--json")
	if r.code != 0 {
		t.Fatalf("init: %d %s", r.code, r.stderr)
	}
	var created identityJSON
	if err := json.Unmarshal([]byte(r.stdout), &created); err != nil {
		t.Fatalf("init --json: %v: %s", err, r.stdout)
	}
	if !strings.HasPrefix(created.DID, "did:key:zQ3s") || !strings.HasPrefix(created.Address, "0x") || len(strings.Fields(created.RecoveryPhrase)) != 24 {
		t.Fatalf("init output %+v", created)
	}

	// whoami needs no passphrase and agrees with init.
	r = run(t, "", nil, "whoami", "--json", "--home", home)
	var who identityJSON
	if err := json.Unmarshal([]byte(r.stdout), &who); err != nil || r.code != 0 {
		t.Fatalf("whoami: %d %v %s", r.code, err, r.stderr)
	}
	if who.DID != created.DID || who.Address != created.Address {
		t.Fatalf("whoami %+v, init %+v", who, created)
	}
	r = run(t, "", map[string]string{"HW_HOME": home}, "whoami")
	if r.code != 0 || !strings.Contains(r.stdout, created.Address) {
		t.Fatalf("whoami via HW_HOME: %+v", r)
	}

	// init never overwrites.
	before, _ := os.ReadFile(filepath.Join(home, wallet.KeystoreFile))
	r = run(t, "", passEnv, "--home", home, "init")
	if r.code != ExitError || !strings.Contains(r.stderr, "already exists") || strings.Count(r.stderr, "\n") != 1 {
		t.Fatalf("second init: %+v", r)
	}
	after, _ := os.ReadFile(filepath.Join(home, wallet.KeystoreFile))
	if !bytes.Equal(before, after) {
		t.Fatal("second init changed the keystore")
	}

	// The words printed by init restore the same identity elsewhere.
	other := filepath.Join(t.TempDir(), "w2")
	r = run(t, created.RecoveryPhrase+"\n", passEnv, "--home", other, "restore", "--json")
	var restored identityJSON
	json.Unmarshal([]byte(r.stdout), &restored)
	if r.code != 0 || restored.Address != created.Address || restored.DID != created.DID {
		t.Fatalf("restore: %+v %+v", r, restored)
	}
}

func TestRestoreKnownPhrase(t *testing.T) {
	home := filepath.Join(t.TempDir(), "w")
	// Words split over lines, odd case: forgiven.
	r := run(t, strings.ToUpper(knownPhrase[:40])+"\n"+knownPhrase[40:]+"\n", passEnv, "--home", home, "restore")
	if r.code != 0 {
		t.Fatalf("restore: %+v", r)
	}
	if !strings.Contains(r.stdout, "0x9858EfFD232B4033E47d90003D41EC34EcaEda94") {
		t.Fatalf("restore printed %q", r.stdout)
	}
}

func TestErrorsAreOneLine(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name  string
		stdin string
		env   map[string]string
		args  []string
		code  int
		want  string
	}{
		{"unknown word", strings.Replace(knownPhrase, "about", "abouts", 1), passEnv, []string{"--home", filepath.Join(dir, "a"), "restore"}, ExitError, `word 12 "abouts" is not in the BIP-39 English word list`},
		{"bad checksum", strings.Replace(knownPhrase, "about", "abandon", 1), passEnv, []string{"--home", filepath.Join(dir, "b"), "restore"}, ExitError, "checksum does not match"},
		{"no passphrase", knownPhrase, nil, []string{"--home", filepath.Join(dir, "c"), "restore"}, ExitError, "set HW_PASSPHRASE"},
		{"weak passphrase", "", map[string]string{"HW_PASSPHRASE": "abc"}, []string{"--home", filepath.Join(dir, "d"), "init"}, ExitError, "too weak"},
		{"no wallet", "", nil, []string{"--home", filepath.Join(dir, "e"), "whoami"}, ExitError, "no wallet here yet"},
		{"unknown command", "", nil, []string{"frobnicate"}, ExitUsage, `unknown command "frobnicate"`},
		{"bad flag", "", nil, []string{"whoami", "--nope"}, ExitUsage, "flag provided but not defined"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := run(t, tc.stdin, tc.env, tc.args...)
			if r.code != tc.code {
				t.Fatalf("exit %d, want %d (%s)", r.code, tc.code, r.stderr)
			}
			last := strings.TrimSpace(r.stderr)
			if i := strings.LastIndex(last, "\n"); i >= 0 {
				last = last[i+1:]
			}
			if !strings.HasPrefix(last, "healthwallet: ") || !strings.Contains(last, tc.want) {
				t.Fatalf("stderr %q lacks %q", r.stderr, tc.want)
			}
			if r.stdout != "" {
				t.Fatalf("stdout on error: %q", r.stdout)
			}
		})
	}
	for _, d := range []string{"a", "b", "c", "d"} {
		if wallet.Exists(filepath.Join(dir, d)) {
			t.Fatalf("a failed command left a wallet in %s", d)
		}
	}
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"help"}, {"--help"}} {
		r := run(t, "", nil, args...)
		if r.code != 0 || !strings.Contains(r.stdout, "whoami") || !strings.Contains(r.stdout, "restore") {
			t.Fatalf("%v: %+v", args, r)
		}
	}
	if r := run(t, "", nil); r.code != ExitUsage {
		t.Fatalf("no args and no GUI: exit %d", r.code)
	}
}

func TestOpenAppGetsHome(t *testing.T) {
	var got string
	code := Main([]string{"--home", "/tmp/x"}, Env{Stdout: &bytes.Buffer{}, Stderr: &bytes.Buffer{}, Getenv: func(string) string { return "" },
		OpenApp: func(h string) error { got = h; return nil }})
	if code != 0 || got != "/tmp/x" {
		t.Fatalf("OpenApp(%q), exit %d", got, code)
	}
}

// TestUsageErrors: a usage error says what is wrong and how the command is
// called, on one line, with exit code 2; a missing chain says how to give
// one on the command line.
func TestUsageErrors(t *testing.T) {
	home := newHome(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"export"}, "healthwallet: choose --records, --category or --ips; usage: healthwallet [--home DIR] export (--records IDS | --category C... | --ips)"},
		{[]string{"whoami", "extra"}, `healthwallet: unexpected argument "extra"; usage: healthwallet [--home DIR] whoami [--json]`},
		{[]string{"show"}, "healthwallet: usage: healthwallet show RECORD"},
	} {
		r := run(t, "", passEnv, append([]string{"--home", home}, tc.args...)...)
		if r.code != ExitUsage || !strings.HasPrefix(r.stderr, tc.want) || strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("%v: exit %d, stderr %q; want %q", tc.args, r.code, r.stderr, tc.want)
		}
	}
	devnet := filepath.Join(t.TempDir(), "devnet.json")
	r := run(t, "", map[string]string{"HW_PASSPHRASE": passEnv["HW_PASSPHRASE"], "HW_DEVNET_FILE": devnet},
		"--home", home, "grant", "--to", "did:key:zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme", "--ips", "--for", "1h")
	if r.code != ExitError || !strings.Contains(r.stderr, "no chain configured") || !strings.HasSuffix(r.stderr, "; run 'healthwallet devnet', or give --chain-rpc and --registry\n") {
		t.Errorf("grant without a chain: %+v", r)
	}
}

// TestEnvironmentOnlyThroughEnv: the CLI reads the environment only
// through Env.Getenv; a wallet named by the process's HW_HOME is not found.
func TestEnvironmentOnlyThroughEnv(t *testing.T) {
	home := newHome(t)
	t.Setenv("HW_HOME", home)
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	if r := run(t, "", nil, "whoami"); r.code != ExitError || !strings.Contains(r.stderr, "failed to find a home") {
		t.Fatalf("whoami found the process's HW_HOME: %+v", r)
	}
	if r := run(t, "", map[string]string{"HW_HOME": home}, "whoami"); r.code != 0 {
		t.Fatalf("whoami with HW_HOME given: %+v", r)
	}
}

// must stops the test when a setup step fails.
func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
