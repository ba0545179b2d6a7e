package wallet

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/healthwallet/healthwallet/internal/fixtures"
	"github.com/healthwallet/healthwallet/internal/plaintext"
	"github.com/healthwallet/healthwallet/wallet/catalog"
	"github.com/healthwallet/healthwallet/wallet/fhir"
	"github.com/healthwallet/healthwallet/wallet/identity"
)

func newWallet(t testing.TB) *Wallet {
	t.Helper()
	p, _ := identity.NewPhrase()
	w, err := Create(filepath.Join(t.TempDir(), "w"), p, pass, fast)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Lock() })
	return w
}

func countTypes(t testing.TB, data []byte) map[string]int {
	var raw struct {
		Entry []struct {
			Resource struct{ ResourceType, ID string } `json:"resource"`
		} `json:"entry"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, e := range raw.Entry {
		out[e.Resource.ResourceType]++
	}
	return out
}

func catalogCounts(t testing.TB, w *Wallet) map[string]int {
	recs, err := w.Records(Filter{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, r := range recs {
		out[r.Type]++
	}
	return out
}

// TestImportEveryFixture imports each fixture into a fresh wallet: the
// per-type counts in the catalog equal those of the input, and a second
// import changes nothing.
func TestImportEveryFixture(t *testing.T) {
	ctx := context.Background()
	files := fixtures.FHIR()
	if len(files) != 16 {
		t.Fatalf("%d fixtures, want 16", len(files))
	}
	for _, f := range files {
		data, err := f.Read()
		if err != nil {
			t.Fatal(err)
		}
		want := countTypes(t, data)
		w := newWallet(t)
		res, err := w.ImportFHIR(ctx, f.Name, data)
		if err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		if got := catalogCounts(t, w); !maps.Equal(got, want) {
			t.Fatalf("%s: catalog %v, input %v", f.Name, got, want)
		}
		total := 0
		for _, n := range want {
			total += n
		}
		if res.Added != total || len(res.Records) != total {
			t.Fatalf("%s: added %d, want %d", f.Name, res.Added, total)
		}
		again, err := w.ImportFHIR(ctx, f.Name, data)
		if err != nil {
			t.Fatal(err)
		}
		if again.Added != 0 || again.Updated != 0 || again.Unchanged != total {
			t.Fatalf("%s: second import %+v", f.Name, again)
		}
		if got := catalogCounts(t, w); !maps.Equal(got, want) {
			t.Fatalf("%s: after second import %v", f.Name, got)
		}
		w.Lock()
	}
}

func TestUpdatedResourceReplacesRecord(t *testing.T) {
	ctx := context.Background()
	w := newWallet(t)
	v1 := `{"resourceType":"Condition","id":"c1","code":{"text":"Asthma"},"clinicalStatus":{"coding":[{"code":"active"}]}}`
	v2 := strings.Replace(v1, "active", "resolved", 1)
	r1, err := w.ImportFHIR(ctx, "a.json", []byte(v1))
	if err != nil || r1.Added != 1 {
		t.Fatalf("first: %+v %v", r1, err)
	}
	r2, err := w.ImportFHIR(ctx, "b.json", []byte(v2))
	if err != nil || r2.Updated != 1 || r2.Records[0] != r1.Records[0] {
		t.Fatalf("update: %+v %v", r2, err)
	}
	rec, _ := w.Record(r1.Records[0])
	if rec.Status != "resolved" || rec.Source.File != "b.json" {
		t.Fatalf("record after update: %+v", rec)
	}
	res, _ := w.Resource(ctx, rec)
	if !strings.Contains(string(res.JSON()), "resolved") {
		t.Fatal("content not updated")
	}
	gc, _ := w.GC(ctx)
	if gc.Roots != 1 {
		t.Fatalf("GC after update removed %d objects, want the 1 old version", gc.Roots)
	}
}

func TestFiltersAndFind(t *testing.T) {
	ctx := context.Background()
	w := newWallet(t)
	data, _ := fixtures.Named("Marguerita_Reilly").Read()
	if _, err := w.ImportFHIR(ctx, "m.json", data); err != nil {
		t.Fatal(err)
	}
	labs, _ := w.Records(Filter{Category: fhir.Labs, From: "2012-01-01", To: "2012-12-31"})
	if len(labs) == 0 {
		t.Fatal("no labs in 2012")
	}
	for _, r := range labs {
		if r.Category != fhir.Labs || !strings.HasPrefix(r.Day(), "2012") {
			t.Fatalf("filter let through %+v", r.Index)
		}
	}
	a1c, _ := w.Records(Filter{Text: "hemoglobin a1c"})
	if len(a1c) == 0 || !strings.Contains(a1c[0].Summary, "Hemoglobin A1c") {
		t.Fatalf("text search: %d results", len(a1c))
	}
	all, _ := w.Records(Filter{})
	for i := 1; i < len(all); i++ {
		if all[i-1].Date < all[i].Date {
			t.Fatal("records not newest first")
		}
	}
	got, err := w.FindRecord(a1c[0].ID.String()[:8])
	if err != nil || got.ID != a1c[0].ID {
		t.Fatalf("FindRecord by prefix: %v", err)
	}
	if _, err := w.FindRecord("zzzzzzzz"); !errors.Is(err, catalog.ErrNotFound) {
		t.Fatalf("unknown prefix: %v", err)
	}
}

func TestSharePackages(t *testing.T) {
	ctx := context.Background()
	w := newWallet(t)
	data, _ := fixtures.Named("Marguerita_Reilly").Read()
	if _, err := w.ImportFHIR(ctx, "m.json", data); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)

	// Labs and medications: sensitive records (contraceptives) stay out.
	sel := Selection{Categories: []fhir.Category{fhir.Labs, fhir.Medications}}
	b, recs, err := w.SharePackage(ctx, sel, now)
	if err != nil {
		t.Fatal(err)
	}
	var bundle struct {
		ResourceType, Type string
		Entry              []struct {
			Resource struct{ ResourceType, ID string } `json:"resource"`
		} `json:"entry"`
	}
	if err := json.Unmarshal(b, &bundle); err != nil || bundle.ResourceType != "Bundle" {
		t.Fatalf("not a Bundle: %v", err)
	}
	want := map[string]bool{}
	for _, r := range recs {
		want[r.Type+"/"+r.Index.ID] = true
		if r.IsSensitive() {
			t.Fatalf("sensitive record %q in a package that did not name it", r.Summary)
		}
	}
	if len(bundle.Entry) != len(recs) {
		t.Fatalf("bundle has %d entries, selection %d", len(bundle.Entry), len(recs))
	}
	for _, e := range bundle.Entry {
		if !want[e.Resource.ResourceType+"/"+e.Resource.ID] {
			t.Fatalf("unexpected %s/%s", e.Resource.ResourceType, e.Resource.ID)
		}
	}
	if bundle.Entry[0].Resource.ResourceType != "Patient" {
		t.Fatal("Patient is not first")
	}
	if bytes.Contains(b, []byte("28 Day Pack")) {
		t.Fatal("a contraceptive (sensitive) reached the package")
	}
	all, _ := w.Records(Filter{Category: fhir.Medications})
	expected := 0
	for _, r := range all {
		if !r.IsSensitive() {
			expected++
		}
	}
	meds := 0
	for _, r := range recs {
		if r.Category == fhir.Medications {
			meds++
		}
	}
	if meds != expected {
		t.Fatalf("%d medications in the package, want %d", meds, expected)
	}

	// Naming the category brings them in.
	sel.Sensitive = []fhir.Sensitive{fhir.SexualReproductive}
	b, _, err = w.SharePackage(ctx, sel, now)
	if err != nil || !bytes.Contains(b, []byte("28 Day Pack")) {
		t.Fatalf("named sensitive category not shared: %v", err)
	}

	// Naming a sensitive record by id brings it in alone.
	var sensitive Record
	for _, r := range all {
		if r.IsSensitive() {
			sensitive = r
			break
		}
	}
	b, recs, err = w.SharePackage(ctx, Selection{Records: []catalog.ID{sensitive.ID}}, now)
	if err != nil || len(recs) != 2 || !bytes.Contains(b, []byte(sensitive.Index.ID)) {
		t.Fatalf("named record: %d records, %v", len(recs), err)
	}

	// IPS preset.
	b, recs, err = w.SharePackage(ctx, Selection{Preset: PresetIPS}, now)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(`"document"`)) || !bytes.Contains(b, []byte("60591-5")) {
		t.Fatal("IPS preset did not build an IPS document")
	}
	for _, r := range recs {
		if r.IsSensitive() {
			t.Fatalf("IPS holds sensitive %q", r.Summary)
		}
	}
	if _, _, err := w.SharePackage(ctx, Selection{Categories: []fhir.Category{fhir.Imaging}, From: "2100-01-01"}, now); !errors.Is(err, ErrEmptySelection) {
		t.Fatalf("empty selection: %v", err)
	}
}

func TestImportAttachment(t *testing.T) {
	ctx := context.Background()
	w := newWallet(t)
	dir := t.TempDir()
	pdf := append([]byte("%PDF-1.4\n% Discharge summary for Jane Example: HIV negative\n"), bytes.Repeat([]byte("x"), 300000)...)
	p := filepath.Join(dir, "discharge.pdf")
	os.WriteFile(p, pdf, 0o600)
	res, err := w.ImportFile(ctx, p, nil)
	if err != nil || res.Added != 1 {
		t.Fatalf("import pdf: %+v %v", res, err)
	}
	rec, _ := w.Record(res.Records[0])
	if rec.Type != "DocumentReference" || rec.Attachment == nil || !strings.Contains(rec.Summary, "discharge") {
		t.Fatalf("record %+v", rec)
	}
	var out bytes.Buffer
	if err := w.ReadAttachment(ctx, rec, &out, nil); err != nil || !bytes.Equal(out.Bytes(), pdf) {
		t.Fatalf("attachment round trip: %v", err)
	}
	again, err := w.ImportFile(ctx, p, nil)
	if err != nil || again.Unchanged != 1 || again.Records[0] != rec.ID {
		t.Fatalf("second import: %+v %v", again, err)
	}
	// The duplicate's copy (stored before its hash was known) is reclaimed;
	// the kept attachment still reads.
	if gc, _ := w.GC(ctx); gc.Roots != 1 {
		t.Fatalf("GC removed %d objects, want the 1 duplicate copy", gc.Roots)
	}
	out.Reset()
	if err := w.ReadAttachment(ctx, rec, &out, nil); err != nil || !bytes.Equal(out.Bytes(), pdf) {
		t.Fatalf("attachment after GC: %v", err)
	}
	bad := filepath.Join(dir, "notes.txt")
	os.WriteFile(bad, []byte("just some notes"), 0o600)
	if _, err := w.ImportFile(ctx, bad, nil); !errors.Is(err, ErrUnsupportedFile) {
		t.Fatalf("text file: %v", err)
	}
}

// TestNoPlaintextAfterImportingEverything imports every fixture into one
// wallet and scans every file of the wallet home for 50 strings taken from
// the inputs.
func TestNoPlaintextAfterImportingEverything(t *testing.T) {
	ctx := context.Background()
	w := newWallet(t)
	var needles []string
	for i, f := range fixtures.FHIR() {
		data, _ := f.Read()
		// The first is the wallet's own patient, the rest family members.
		if _, err := w.ImportFHIR(ctx, f.Name, data, ImportOptions{OtherPatient: i > 0}); err != nil {
			t.Fatal(err)
		}
		needles = append(needles, distinctiveStrings(data, 4)...)
	}
	needles = needles[:50]
	home := w.Home()
	w.Lock()
	hits, scanned, err := plaintext.ScanDir(home, needles...)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range hits {
		t.Error(h)
	}
	if scanned < 100 {
		t.Fatalf("scanned only %d files", scanned)
	}
}

// distinctiveStrings picks n display texts, names and identifiers from a
// FHIR file: strings that would give health data away.
func distinctiveStrings(data []byte, n int) []string {
	var out []string
	for _, key := range []string{`"display": "`, `"family": "`, `"text": "`, `"id": "`} {
		rest := string(data)
		for len(out) < n*4 {
			i := strings.Index(rest, key)
			if i < 0 {
				break
			}
			rest = rest[i+len(key):]
			j := strings.IndexByte(rest, '"')
			if j < 0 {
				break
			}
			s := rest[:j]
			if len(s) >= 8 && !slices.Contains(out, s) {
				out = append(out, s)
				break
			}
		}
	}
	if len(out) > n {
		out = out[:n]
	}
	return out
}

// TestFilterMatch: filtering in memory with Match gives what Records gives.
func TestFilterMatch(t *testing.T) {
	w := newWallet(t)
	data, _ := fixtures.Named("Marguerita_Reilly").Read()
	if _, err := w.ImportFHIR(context.Background(), "m.json", data); err != nil {
		t.Fatal(err)
	}
	all, _ := w.Records(Filter{})
	for _, f := range []Filter{
		{},
		{Type: "observation"},
		{Category: fhir.Labs},
		{From: "2015-01-01", To: "2016-12-31"},
		{Text: "hydrochlorothiazide"},
		{Category: fhir.Medications, From: "2010"},
	} {
		want, _ := w.Records(f)
		n := 0
		for _, r := range all {
			if f.Match(r) {
				n++
			}
		}
		if n != len(want) {
			t.Errorf("%+v: Match keeps %d, Records %d", f, n, len(want))
		}
	}
}
