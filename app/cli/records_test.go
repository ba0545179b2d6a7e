package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/healthwallet/healthwallet/internal/fixtures"
	"github.com/healthwallet/healthwallet/internal/plaintext"
	"github.com/healthwallet/healthwallet/wallet"
)

func newHome(t *testing.T) string {
	t.Helper()
	home := filepath.Join(t.TempDir(), "w")
	if r := run(t, "", passEnv, "--home", home, "init"); r.code != 0 {
		t.Fatalf("init: %+v", r)
	}
	return home
}

func TestImportRecordsShowExport(t *testing.T) {
	home := newHome(t)
	dir := t.TempDir()
	data, _ := fixtures.Named("Marguerita_Reilly").Read()
	bundle := filepath.Join(dir, "marguerita.json")
	os.WriteFile(bundle, data, 0o600)
	bad := filepath.Join(dir, "notes.txt")
	os.WriteFile(bad, []byte("hello"), 0o600)

	// A bad file is reported on one line; the good one is imported anyway.
	r := run(t, "", passEnv, "--home", home, "import", bundle, bad)
	if r.code != ExitError || !strings.Contains(r.stdout, "marguerita.json: 548 added") || !strings.Contains(r.stderr, "notes.txt: unsupported file") {
		t.Fatalf("import: %+v", r)
	}
	r = run(t, "", passEnv, "--home", home, "import", bundle, "--json")
	if r.code != 0 || !strings.Contains(r.stdout, `"unchanged": 548`) {
		t.Fatalf("re-import: %+v", r)
	}

	r = run(t, "", passEnv, "--home", home, "records", "--json", "--search", "Hemoglobin A1c")
	var recs []recordJSON
	if err := json.Unmarshal([]byte(r.stdout), &recs); err != nil || len(recs) == 0 {
		t.Fatalf("records --json: %v %s", err, r.stdout)
	}
	if recs[0].Type != "Observation" || recs[0].Category != "labs" || !strings.HasPrefix(recs[0].Summary, "Hemoglobin A1c") {
		t.Fatalf("record %+v", recs[0])
	}
	r = run(t, "", passEnv, "--home", home, "records", "--category", "labs", "--from", "2012-01-01", "--to", "2012-01-31")
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if r.code != 0 || len(lines) < 3 || !strings.HasPrefix(lines[0], "ID") {
		t.Fatalf("records table: %+v", r)
	}
	for _, l := range lines[1:] {
		if !strings.Contains(l, "2012-01-") || !strings.Contains(l, "labs") {
			t.Fatalf("filter let through %q", l)
		}
	}

	r = run(t, "", passEnv, "--home", home, "show", recs[0].ID[:10])
	if r.code != 0 || !strings.HasPrefix(r.stdout, "Hemoglobin A1c") || !strings.Contains(r.stdout, "Value") {
		t.Fatalf("show: %+v", r)
	}
	r = run(t, "", passEnv, "--home", home, "show", recs[0].ID, "--json")
	var res map[string]any
	if json.Unmarshal([]byte(r.stdout), &res); res["resourceType"] != "Observation" {
		t.Fatalf("show --json: %+v", r)
	}

	out := filepath.Join(dir, "ips.json")
	r = run(t, "", passEnv, "--home", home, "export", "--ips", "--out", out)
	b, _ := os.ReadFile(out)
	if r.code != 0 || !strings.Contains(string(b), "60591-5") {
		t.Fatalf("export --ips: %+v", r)
	}
	r = run(t, "", passEnv, "--home", home, "export", "--category", "medications")
	if r.code != 0 || strings.Contains(r.stdout, "28 Day Pack") || !strings.Contains(r.stdout, "Hydrochlorothiazide") {
		t.Fatalf("export medications without sensitive: code %d", r.code)
	}
	r = run(t, "", passEnv, "--home", home, "export", "--category", "medications", "--include-sensitive", "sexual-reproductive-health")
	if r.code != 0 || !strings.Contains(r.stdout, "28 Day Pack") {
		t.Fatal("export with the sensitive category named left it out")
	}
	r = run(t, "", passEnv, "--home", home, "export")
	if r.code != ExitUsage {
		t.Fatalf("export without a selection: %+v", r)
	}
	r = run(t, "", passEnv, "--home", home, "show", "nosuchrecord")
	if r.code != ExitError || strings.Count(r.stderr, "\n") != 1 {
		t.Fatalf("show unknown: %+v", r)
	}
}

// TestBackup: `backup` writes the app's backup; the folder, used as a
// home, unlocks with every record; a second backup into it is refused.
func TestBackup(t *testing.T) {
	home := newHome(t)
	data, err := fixtures.Named("Marguerita_Reilly").Read()
	must(t, err)
	bundle := filepath.Join(t.TempDir(), "m.json")
	must(t, os.WriteFile(bundle, data, 0o600))
	if r := run(t, "", passEnv, "--home", home, "import", bundle); r.code != 0 {
		t.Fatalf("import: %+v", r)
	}
	dir := filepath.Join(t.TempDir(), "bk")
	r := run(t, "", passEnv, "--home", home, "backup", "--out", dir, "--json")
	var res wallet.BackupResult
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil || r.code != 0 {
		t.Fatalf("backup: %v %+v", err, r)
	}
	if res.Dir != dir || res.Objects == 0 || len(res.Files) != 4 {
		t.Fatalf("backup result %+v", res)
	}
	needles := []string{"Hydrochlorothiazide", "Marguerita", "Body Height"}
	if hits, err := plaintext.Find("the fixture", data, needles...); err != nil || len(hits) != len(needles) {
		t.Fatalf("the needles are not all in the fixture: %v %v", hits, err)
	}
	hits, _, err := plaintext.ScanDir(dir, needles...)
	if err != nil || len(hits) > 0 {
		t.Fatalf("backup holds plaintext: %v %v", hits, err)
	}
	r = run(t, "", passEnv, "--home", dir, "records", "--json")
	var recs []recordJSON
	if err := json.Unmarshal([]byte(r.stdout), &recs); err != nil || len(recs) != 548 {
		t.Fatalf("records of the restored backup: %d %v %+v", len(recs), err, r)
	}
	r = run(t, "", passEnv, "--home", dir, "show", recs[0].ID)
	if r.code != 0 {
		t.Fatalf("show from the restored backup: %+v", r)
	}
	r = run(t, "", passEnv, "--home", home, "backup", "--out", dir)
	if r.code != ExitError || !strings.Contains(r.stderr, "already holds a wallet or a backup") {
		t.Fatalf("backup over a wallet: %+v", r)
	}
}

// TestImportOtherPatient: the first file makes its patient the wallet's
// own; another person's file is refused on one line naming them, and
// comes in as a family member's records with --other-patient.
func TestImportOtherPatient(t *testing.T) {
	home := newHome(t)
	dir := t.TempDir()
	for _, f := range []struct{ fixture, name string }{{"Marguerita_Reilly", "m.json"}, {"Darron_Feeney", "d.json"}} {
		data, err := fixtures.Named(f.fixture).Read()
		must(t, err)
		must(t, os.WriteFile(filepath.Join(dir, f.name), data, 0o600))
	}
	r := run(t, "", passEnv, "--home", home, "import", filepath.Join(dir, "m.json"))
	if r.code != 0 || !strings.Contains(r.stdout, "  these records are now yours: Marguerita Reilly, born 28 Feb 1986\n") {
		t.Fatalf("first import: %+v", r)
	}
	r = run(t, "", passEnv, "--home", home, "import", filepath.Join(dir, "d.json"))
	want := "healthwallet: d.json: this file is for Darron Feeney, born 10 Oct 1939, not for Marguerita Reilly; add --other-patient to import it as a family member's records\n"
	if r.code != ExitError || !strings.HasPrefix(r.stderr, want) || strings.Contains(r.stdout, "added") {
		t.Fatalf("another person's file: %+v", r)
	}
	r = run(t, "", passEnv, "--home", home, "import", "--other-patient", filepath.Join(dir, "d.json"), "--json")
	var res []wallet.ImportResult
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil || r.code != 0 {
		t.Fatalf("--other-patient: %v %+v", err, r)
	}
	if len(res) != 1 || res[0].Added == 0 || len(res[0].Others) != 1 || res[0].Others[0].Name != "Darron Feeney" || res[0].Claimed != nil {
		t.Fatalf("--other-patient result %+v", res)
	}
}
