package cli

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/healthwallet/healthwallet/internal/fixtures"
	"github.com/healthwallet/healthwallet/internal/plaintext"
	"github.com/healthwallet/healthwallet/internal/testclock"
	"github.com/healthwallet/healthwallet/share/shl"
	"github.com/healthwallet/healthwallet/wallet"
)

// TestSHLThroughKeeperCLI: a keeper serving SMART Health Links over HTTPS
// (a test CA made by `dev testca`), a patient making a passcode link
// through it, a viewer opening it (wrong passcode first), the patient
// revoking it, the viewer refused; each error one line.
func TestSHLThroughKeeperCLI(t *testing.T) {
	dir, env, _ := devnetEnv(t)
	runE := func(args ...string) result { return run(t, "", env, args...) }
	patient, viewer, keeper := newHome(t), newHome(t), newHome(t)

	// The test CA, for the keeper's HTTPS certificate.
	caDir := filepath.Join(dir, "ca")
	r := runE("dev", "testca", caDir)
	var files struct{ CA, Cert, Key string }
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &files) != nil || files.CA == "" {
		t.Fatalf("dev testca: %+v", r)
	}

	line, _ := background(t, env, "--home", keeper, "keeper", "--json", "--listen", "/ip4/127.0.0.1/tcp/0",
		"--shl-listen", "127.0.0.1:0", "--shl-cert", files.Cert, "--shl-key", files.Key)
	var kj struct {
		Addrs  []string `json:"addrs"`
		SHLURL string   `json:"shlUrl"`
	}
	if err := json.Unmarshal([]byte(line), &kj); err != nil || len(kj.Addrs) == 0 || !strings.HasPrefix(kj.SHLURL, "https://127.0.0.1:") {
		t.Fatalf("keeper line %q: %v", line, err)
	}
	data, _ := fixtures.Named("Marguerita_Reilly").Read()
	bundle := filepath.Join(dir, "m.json")
	must(t, os.WriteFile(bundle, data, 0o600))
	if r := runE("--home", patient, "import", bundle); r.code != 0 {
		t.Fatalf("import: %+v", r)
	}

	// No keeper yet: one line saying what to do.
	r = runE("--home", patient, "shl", "create", "--category", "labs", "--for", "1h")
	if r.code != ExitError || r.stderr != "healthwallet: no keeper serves SMART Health Links; enrol one started with --shl-url\n" {
		t.Fatalf("shl create without keeper: %+v", r)
	}
	if r := runE("--home", patient, "keepers", "add", kj.Addrs[0], "--name", "Mum's PC"); r.code != 0 {
		t.Fatalf("keepers add: %+v", r)
	}
	qr := filepath.Join(dir, "shl.png")
	r = runE("--home", patient, "shl", "create", "--category", "labs", "--category", "medications", "--for", "1h",
		"--passcode", "blue-otter-42", "--label", "For Dr. Osei", "--qr", qr, "--json")
	var created shlCreateJSON
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &created) != nil || created.Warning != "" {
		t.Fatalf("shl create: %+v", r)
	}
	p, err := shl.ParseLink(created.Link)
	exp, _ := time.Parse(time.RFC3339, created.Expires)
	if err != nil || p.URL != kj.SHLURL+"/shl/"+created.ID || p.Flag != "P" || exp.Unix() != p.Exp || exp.Sub(testclock.Now().Add(time.Hour)).Abs() > time.Minute {
		t.Fatalf("created %+v, payload %+v: %v", created, p, err)
	}

	// The viewer trusts the test CA explicitly (env HW_SHL_CA_FILE).
	venv := map[string]string{"HW_PASSPHRASE": passEnv["HW_PASSPHRASE"], "HW_SHL_CA_FILE": files.CA}
	r = run(t, "", venv, "--home", viewer, "shl", "open", created.Link, "--passcode", "red-otter-42")
	if r.code != ExitError || r.stderr != "healthwallet: The passcode is wrong; 9 tries are left. details: shl: wrong passcode, 9 attempts left\n" {
		t.Fatalf("wrong passcode: %+v", r)
	}
	out := filepath.Join(dir, "opened")
	r = run(t, "", venv, "--home", viewer, "shl", "open", created.Link, "--passcode", "blue-otter-42", "--out", out, "--import", "--json")
	var opened struct {
		Files []struct {
			Resources int
			Path      string
		}
		Imported int
	}
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &opened) != nil || len(opened.Files) != 1 || opened.Files[0].Resources == 0 || opened.Imported == 0 {
		t.Fatalf("shl open: %+v", r)
	}
	if b, err := os.ReadFile(opened.Files[0].Path); err != nil || !strings.Contains(string(b), "Hydrochlorothiazide") {
		t.Fatalf("--out file: %v", err)
	}
	// The QR image opens too (decoded in pure Go, as on a phone).
	r = run(t, "", venv, "--home", viewer, "shl", "open", qr, "--passcode", "blue-otter-42")
	if r.code != 0 || !strings.Contains(r.stdout, "FHIR resources") {
		t.Fatalf("shl open QR: %+v", r)
	}

	// Nothing plaintext at the keeper or in the patient's home.
	for _, home := range []string{keeper, patient} {
		hits, _, err := plaintext.ScanDir(home, "Hydrochlorothiazide", "Marguerita")
		must(t, err)
		if len(hits) > 0 {
			t.Fatalf("plaintext in %s: %v", home, hits)
		}
	}

	// The listings show the link; revoke takes its id.
	r = runE("--home", patient, "grants")
	if r.code != 0 || !strings.Contains(r.stdout, created.ID[:12]) || !strings.Contains(r.stdout, "shl") {
		t.Fatalf("grants: %+v", r)
	}
	relayLine, _ := background(t, env, "relay", "--listen", "127.0.0.1:0")
	var rl struct{ URL string }
	json.Unmarshal([]byte(relayLine), &rl)
	if r := runE("--home", patient, "revoke", created.ID, "--relay", rl.URL); r.code != 0 || !strings.Contains(r.stdout, "revoked link "+created.ID) {
		t.Fatalf("revoke: %+v", r)
	}
	r = run(t, "", venv, "--home", viewer, "shl", "open", created.Link, "--passcode", "blue-otter-42")
	if r.code != ExitError || r.stderr != "healthwallet: The person who shared it withdrew this link; ask for a new one. details: shl: server answered 404: link revoked\n" {
		t.Fatalf("after revoke: %+v", r)
	}
	r = runE("--home", patient, "shl", "list", "--json")
	var rows []shlRowJSON
	if json.Unmarshal([]byte(r.stdout), &rows) != nil || len(rows) != 1 || rows[0].Status != "revoked" {
		t.Fatalf("shl list: %+v", r)
	}
}

// TestSHLOpenErrorLines: what a viewer reads when a link does not open.
func TestSHLOpenErrorLines(t *testing.T) {
	cases := []struct {
		err  error
		want string
	}{
		{&shl.PasscodeError{Remaining: 9}, "The passcode is wrong; 9 tries are left. details: shl: wrong passcode, 9 attempts left"},
		{&shl.PasscodeError{Remaining: 0}, "Too many wrong passcodes: this link is locked; ask the person who shared it for a new one. details: shl: link locked: no passcode attempts left"},
		{&shl.StatusError{Code: 404, Msg: "revoked"}, "The person who shared it withdrew this link; ask for a new one. details: shl: server answered 404: revoked"},
		{&shl.StatusError{Code: 404, Msg: "unknown link"}, "The server holding this link does not know it (any more); ask the person who shared it for a new one. details: shl: server answered 404: unknown link"},
		{shl.ErrExpired, "This link has expired; ask the person who shared it for a new one. details: link expired"},
		{&shl.StatusError{Code: 503, Msg: "revocation status unknown"}, "The server holding this link cannot answer right now; try again later. details: shl: server answered 503: revocation status unknown"},
		{wallet.ErrPasscodeNeeded, "This link needs its passcode; ask the person who shared it for it. details: this link needs a passcode"},
	}
	for _, c := range cases {
		err := refused(nil, c.err)
		if got := err.Error(); got != c.want {
			t.Errorf("%v: %q, want %q", c.err, got, c.want)
		}
		if !errors.Is(err, c.err) {
			t.Errorf("%v: the refusal does not wrap it", c.err)
		}
	}
	// Without a wallet link or QR: one usage line.
	r := run(t, "", passEnv, "--home", newHome(t), "shl", "open", "shlink:/not-base64!")
	if r.code != ExitError || strings.Count(r.stderr, "\n") != 1 || !strings.HasPrefix(r.stderr, "healthwallet: ") {
		t.Fatalf("bad link: %+v", r)
	}
	r = run(t, "", passEnv, "shl", "frobnicate")
	if r.code != ExitUsage || !strings.Contains(r.stderr, "unknown shl command") {
		t.Fatalf("unknown subcommand: %+v", r)
	}
}

// TestSHLFromPatientNodeCLI: with no keeper, the patient's own node
// started with --shl-listen serves the wallet's links while it runs, and
// `shl create` names it (with a warning that says so).
func TestSHLFromPatientNodeCLI(t *testing.T) {
	dir, env, _ := devnetEnv(t)
	runE := func(args ...string) result { return run(t, "", env, args...) }
	patient, viewer := newHome(t), newHome(t)
	caDir := filepath.Join(dir, "ca")
	r := runE("dev", "testca", caDir)
	var files struct{ CA, Cert, Key string }
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &files) != nil || files.CA == "" {
		t.Fatalf("dev testca: %+v", r)
	}
	data, _ := fixtures.Named("Marguerita_Reilly").Read()
	bundle := filepath.Join(dir, "m.json")
	must(t, os.WriteFile(bundle, data, 0o600))
	if r := runE("--home", patient, "import", bundle); r.code != 0 {
		t.Fatalf("import: %+v", r)
	}
	line, stopNode := background(t, env, "--home", patient, "node", "--json", "--listen", "/ip4/127.0.0.1/tcp/0",
		"--shl-listen", "127.0.0.1:0", "--shl-cert", files.Cert, "--shl-key", files.Key)
	var nj struct {
		SHLURL string `json:"shlUrl"`
	}
	if err := json.Unmarshal([]byte(line), &nj); err != nil || !strings.HasPrefix(nj.SHLURL, "https://127.0.0.1:") {
		t.Fatalf("node line %q: %v", line, err)
	}
	r = runE("--home", patient, "shl", "create", "--category", "medications", "--for", "1h", "--passcode", "green-heron-7", "--json")
	var created shlCreateJSON
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &created) != nil || created.URL != nj.SHLURL+"/shl/"+created.ID ||
		!strings.Contains(created.Warning, "only while this wallet's node runs") {
		t.Fatalf("shl create: %+v", r)
	}
	venv := map[string]string{"HW_PASSPHRASE": passEnv["HW_PASSPHRASE"], "HW_SHL_CA_FILE": files.CA}
	r = run(t, "", venv, "--home", viewer, "shl", "open", created.Link, "--passcode", "green-heron-7", "--json")
	var opened struct{ Files []struct{ Resources int } }
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &opened) != nil || len(opened.Files) != 1 || opened.Files[0].Resources == 0 {
		t.Fatalf("shl open from the node: %+v", r)
	}
	stopNode()
	r = run(t, "", venv, "--home", viewer, "shl", "open", created.Link, "--passcode", "green-heron-7")
	if r.code != ExitError || !strings.Contains(r.stderr, "127.0.0.1") {
		t.Fatalf("shl open with the node stopped: %+v", r)
	}
}
