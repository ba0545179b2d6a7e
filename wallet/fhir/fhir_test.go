package fhir

import (
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/healthwallet/healthwallet/internal/fixtures"
)

// fixtures returns every FHIR fixture (13 Synthea bundles, 3 IPS documents).
func allFixtures(t testing.TB) []fixtures.File {
	fs := fixtures.FHIR()
	if len(fs) != 16 {
		t.Fatalf("found %d FHIR fixtures under %s, want 16", len(fs), fixtures.Dir())
	}
	return fs
}

func mustParse(t testing.TB, name string) *Document {
	t.Helper()
	b, err := fixtures.Named(name).Read()
	if err != nil {
		t.Fatal(err)
	}
	d, err := Parse(b)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return d
}

// TestParseCountsEveryResource compares per-type counts with an
// independent count made with encoding/json.
func TestParseCountsEveryResource(t *testing.T) {
	for _, f := range allFixtures(t) {
		b, err := f.Read()
		if err != nil {
			t.Fatal(err)
		}
		var raw struct {
			Entry []struct {
				Resource struct{ ResourceType string } `json:"resource"`
			} `json:"entry"`
		}
		json.Unmarshal(b, &raw)
		want := map[string]int{}
		for _, e := range raw.Entry {
			want[e.Resource.ResourceType]++
		}
		got := map[string]int{}
		for _, r := range mustParse(t, f.Name).Resources {
			got[r.Type]++
			x := IndexOf(r, nil)
			if x.Summary == "" || x.Category == "" {
				t.Errorf("%s %s/%s: empty summary or category", f.Name, r.Type, r.ID)
			}
		}
		if len(want) == 0 || !maps.Equal(got, want) {
			t.Errorf("%s: parsed %v, want %v", f.Name, got, want)
		}
	}
}

const marguerita = "Marguerita_Reilly"

func find(t *testing.T, d *Document, id string) Resource {
	t.Helper()
	for _, r := range d.Resources {
		if r.ID == id {
			return r
		}
	}
	t.Fatalf("no resource %s", id)
	return Resource{}
}

func TestSummaries(t *testing.T) {
	d := mustParse(t, marguerita)
	tests := map[string]string{
		"8b239184-9fd7-4c20-9fbd-af042a1c9f59": "Hemoglobin A1c/Hemoglobin.total in Blood 6.28 % · 2012-01-13",
		"45a60011-c146-4eaf-90d0-048622847219": "Blood Pressure 173.23/98.14 mmHg · 2012-01-13",
		"7f46cd08-fbe9-46a4-a7b5-e5b45a751002": "Hydrochlorothiazide 25 MG · active",
	}
	for id, want := range tests {
		if got := Summary(find(t, d, id)); got != want {
			t.Errorf("%s: %q, want %q", id, got, want)
		}
	}
	x := IndexOf(find(t, d, "8b239184-9fd7-4c20-9fbd-af042a1c9f59"), nil)
	if x.Code != "4548-4" || x.System != "http://loinc.org" || x.Category != Labs || x.Day() != "2012-01-13" || x.Status != "final" {
		t.Errorf("index %+v", x)
	}
	title, fields := Detail(find(t, d, "45a60011-c146-4eaf-90d0-048622847219"))
	if title != "Blood Pressure" || !slices.Contains(fields, Field{"Systolic Blood Pressure", "173.23 mmHg"}) {
		t.Errorf("detail %q %v", title, fields)
	}
}

func TestMedicationByReference(t *testing.T) {
	d := mustParse(t, "bundle-minimal.json")
	resolve := d.Resolver()
	for _, r := range d.Resources {
		if r.Type == "MedicationStatement" {
			x := IndexOf(r, resolve)
			if !strings.Contains(x.Summary, "anastrozole") || !strings.Contains(x.Display, "anastrozole") {
				t.Fatalf("MedicationStatement summary %q display %q", x.Summary, x.Display)
			}
			return
		}
	}
	t.Fatal("no MedicationStatement")
}

func resourceJSON(t *testing.T, s string) Resource {
	r, err := ParseResource([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestSensitivity(t *testing.T) {
	tests := []struct {
		json string
		want []Sensitive
	}{
		{`{"resourceType":"Condition","meta":{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"PSY"}]},"code":{"text":"Consultation"}}`, []Sensitive{MentalHealth}},
		{`{"resourceType":"Condition","code":{"coding":[{"system":"http://snomed.info/sct","code":"86406008"}]}}`, []Sensitive{HIV}},
		{`{"resourceType":"Condition","code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"F10.20"}]}}`, []Sensitive{SubstanceUse}},
		{`{"resourceType":"Observation","code":{"coding":[{"system":"http://loinc.org","code":"7918-6"}]}}`, []Sensitive{HIV}},
		{`{"resourceType":"Condition","code":{"text":"Major depression disorder"}}`, []Sensitive{MentalHealth}},
		{`{"resourceType":"Encounter","reasonCode":[{"coding":[{"system":"http://snomed.info/sct","code":"72892002","display":"Normal pregnancy"}]}]}`, []Sensitive{SexualReproductive}},
		{`{"resourceType":"MedicationRequest","medicationCodeableConcept":{"text":"Errin 28 Day Pack"}}`, []Sensitive{SexualReproductive}},
		{`{"resourceType":"Observation","code":{"text":"BRCA1 gene mutation analysis"}}`, []Sensitive{Genetics}},
		{`{"resourceType":"AllergyIntolerance","code":{"text":"Substance with penicillin structure"}}`, nil},
		{`{"resourceType":"Condition","code":{"text":"Hypertension"}}`, nil},
	}
	for _, tc := range tests {
		got := Sensitivity(resourceJSON(t, tc.json))
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.json, got, tc.want)
		}
	}
	// Real data: Marguerita Reilly's pregnancies and contraceptives are labelled.
	n := 0
	for _, r := range mustParse(t, marguerita).Resources {
		if IndexOf(r, nil).HasSensitive(SexualReproductive) {
			n++
		}
	}
	if n < 10 {
		t.Fatalf("only %d sexual/reproductive resources labelled in %s", n, marguerita)
	}
}

// refsOf lists every reference string in a JSON tree.
func refsOf(v any, out *[]string) {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			if s, ok := e.(string); ok && k == "reference" {
				*out = append(*out, s)
			}
			refsOf(e, out)
		}
	case []any:
		for _, e := range t {
			refsOf(e, out)
		}
	}
}

type bundleJSON struct {
	ResourceType string `json:"resourceType"`
	Type         string `json:"type"`
	Entry        []struct {
		FullURL  string         `json:"fullUrl"`
		Resource map[string]any `json:"resource"`
	} `json:"entry"`
}

// checkBundle parses a package with encoding/json and with Parse, checks
// every reference resolves to an entry, and returns Type/id of each entry.
func checkBundle(t *testing.T, b []byte) (bundleJSON, []string) {
	t.Helper()
	var bj bundleJSON
	if err := json.Unmarshal(b, &bj); err != nil || bj.ResourceType != "Bundle" {
		t.Fatalf("not a Bundle: %v", err)
	}
	if _, err := Parse(b); err != nil {
		t.Fatalf("Parse: %v", err)
	}
	urls := map[string]bool{}
	var ids []string
	for _, e := range bj.Entry {
		urls[e.FullURL] = true
		ids = append(ids, e.Resource["resourceType"].(string)+"/"+e.Resource["id"].(string))
	}
	for _, e := range bj.Entry {
		var refs []string
		refsOf(e.Resource, &refs)
		for _, r := range refs {
			if !urls[r] && !strings.HasPrefix(r, "#") {
				t.Errorf("%s: dangling reference %q", e.FullURL, r)
			}
		}
	}
	return bj, ids
}

func TestBuildCollection(t *testing.T) {
	d := mustParse(t, marguerita)
	var patient Resource
	var selected []Resource
	for _, r := range d.Resources {
		x := IndexOf(r, nil)
		if r.Type == "Patient" {
			patient = r
		}
		if (x.Category == Labs || x.Category == Medications) && !x.IsSensitive() {
			selected = append(selected, r)
		}
	}
	p, err := BuildCollection([]Resource{patient}, selected, time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := p.JSON()
	bj, ids := checkBundle(t, b)
	if bj.Type != "collection" || len(ids) != len(selected)+1 || ids[0] != "Patient/"+patient.ID {
		t.Fatalf("bundle type %s with %d entries (want %d), first %s", bj.Type, len(ids), len(selected)+1, ids[0])
	}
	for i, r := range selected {
		if ids[i+1] != r.Type+"/"+r.ID {
			t.Fatalf("entry %d is %s, want %s/%s", i+1, ids[i+1], r.Type, r.ID)
		}
	}
	// Observations keep their subject (the Patient is in) but lose their
	// encounter (not shared).
	for _, e := range bj.Entry {
		if e.Resource["resourceType"] == "Observation" {
			if e.Resource["encounter"] != nil {
				t.Fatal("a reference to an unshared Encounter survived")
			}
			if sub, _ := e.Resource["subject"].(map[string]any); sub["reference"] != bj.Entry[0].FullURL {
				t.Fatalf("subject %v, want %s", e.Resource["subject"], bj.Entry[0].FullURL)
			}
			break
		}
	}
	// The wallet's stored copies are untouched by the rewrite.
	if !selected[0].Body.Has("encounter") && selected[0].Type == "Observation" {
		t.Fatal("BuildCollection modified its input")
	}
	if strings.Index(string(b), `"resourceType"`) > strings.Index(string(b), `"id"`) {
		t.Fatal("resourceType is not the Bundle's first element")
	}
}

// TestRelativeReferences uses the IPS example whose fullUrls are absolute
// and whose references are relative, and the one whose references are
// Patient/<uuid> against urn:uuid fullUrls.
func TestRelativeReferences(t *testing.T) {
	for _, f := range []string{"bundle-no-info-required-sections.json", "Bundle-IPS-examples-Bundle-minimal.json"} {
		d := mustParse(t, f)
		var patient Resource
		var rest []Resource
		for _, r := range d.Resources {
			switch r.Type {
			case "Patient":
				patient = r
			case "Composition":
			default:
				rest = append(rest, r)
			}
		}
		p, err := BuildCollection([]Resource{patient}, rest, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		b, _ := p.JSON()
		bj, _ := checkBundle(t, b)
		patientURL := bj.Entry[0].FullURL
		resolvedSubjects := 0
		for _, e := range bj.Entry[1:] {
			for _, k := range []string{"subject", "patient"} {
				if ref, _ := e.Resource[k].(map[string]any); ref != nil && ref["reference"] == patientURL {
					resolvedSubjects++
				}
			}
		}
		if resolvedSubjects == 0 {
			t.Errorf("%s: no subject reference resolved to the Patient", f)
		}
	}
}

func TestBuildIPS(t *testing.T) {
	d := mustParse(t, marguerita)
	resolve := d.Resolver()
	var patient Resource
	var selected []Resource
	for _, r := range d.Resources {
		x := IndexOf(r, resolve)
		if r.Type == "Patient" {
			patient = r
		} else if IPSTypes(x) && !x.IsSensitive() {
			selected = append(selected, r)
		}
	}
	p, err := BuildIPS(patient, selected, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	b, _ := p.JSON()
	bj, ids := checkBundle(t, b)
	if bj.Type != "document" || !strings.HasPrefix(ids[0], "Composition/") || !strings.HasPrefix(ids[1], "Patient/") {
		t.Fatalf("document starts %v", ids[:2])
	}
	comp := bj.Entry[0].Resource
	var codes []string
	for _, s := range comp["section"].([]any) {
		sec := s.(map[string]any)
		codes = append(codes, sec["code"].(map[string]any)["coding"].([]any)[0].(map[string]any)["code"].(string))
		if sec["text"] == nil {
			t.Fatalf("section %v has no narrative", sec["title"])
		}
	}
	for _, want := range []string{"48765-2", "10160-0", "11450-4", "11369-6", "30954-2"} {
		if !slices.Contains(codes, want) {
			t.Errorf("IPS lacks section %s (has %v)", want, codes)
		}
	}
	if !strings.Contains(string(b), `"60591-5"`) || len(ids) != len(selected)+2 {
		t.Fatalf("IPS with %d entries, want %d", len(ids), len(selected)+2)
	}
}

func TestParseErrors(t *testing.T) {
	for _, in := range []string{"", "[]", `{"id":"x"}`, `{"resourceType":"Bundle","entry":[{"resource":{"id":"1"}}]}`, `{"resourceType":"Patient"} trailing`, `{"a":1,"a":2,"resourceType":"Patient"}`} {
		_, err := Parse([]byte(in))
		var pe *ParseError
		if !errors.Is(err, ErrNotFHIR) || !errors.As(err, &pe) {
			t.Errorf("Parse(%q) = %v", in, err)
		}
	}
	deep := strings.Repeat(`{"a":`, 1000) + "1" + strings.Repeat("}", 1000)
	if _, err := Parse([]byte(deep)); !errors.Is(err, ErrNotFHIR) {
		t.Errorf("deep nesting: %v", err)
	}
}

func FuzzParse(f *testing.F) {
	for _, p := range []string{"bundle-minimal.json", "Bundle-IPS-examples-Bundle-minimal.json", "Clemente_Kreiger"} {
		b, _ := fixtures.Named(p).Read()
		f.Add(b)
	}
	f.Add([]byte(`{"resourceType":"Observation","valueQuantity":{"value":1e400},"component":[{}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := Parse(b)
		if err != nil {
			if !errors.Is(err, ErrNotFHIR) {
				t.Fatalf("unclassified error %v", err)
			}
			return
		}
		resolve := d.Resolver()
		var patients []Resource
		for _, r := range d.Resources {
			IndexOf(r, resolve)
			Detail(r)
			if r.Type == "Patient" {
				patients = append(patients, r)
			}
		}
		if p, err := BuildCollection(patients, d.Resources, time.Now()); err == nil {
			if _, err := p.JSON(); err != nil {
				t.Fatalf("package JSON: %v", err)
			}
		}
	})
}

// TestCVXNames: SMART Health Cards carry CVX codes without displays.
func TestCVXNames(t *testing.T) {
	r := resourceJSON(t, `{"resourceType":"Immunization","vaccineCode":{"coding":[{"system":"http://hl7.org/fhir/sid/cvx","code":"207"}]},"occurrenceDateTime":"2021-01-01"}`)
	if got := Summary(r); got != "COVID-19 vaccine, Moderna (mRNA) · 2021-01-01" {
		t.Fatalf("summary %q", got)
	}
	unknown := resourceJSON(t, `{"resourceType":"Immunization","vaccineCode":{"coding":[{"system":"http://hl7.org/fhir/sid/cvx","code":"999"}]}}`)
	if got := Summary(unknown); got != "999" {
		t.Fatalf("unknown code summary %q", got)
	}
}

// TestMerge: the parts of a split package merge back into its resources,
// the Patient once; parts alone keep no reference to what they lack.
func TestMerge(t *testing.T) {
	d := mustParse(t, marguerita)
	var patient Resource
	var labs []Resource
	for _, r := range d.Resources {
		if r.Type == "Patient" {
			patient = r
		}
		if x := IndexOf(r, nil); x.Category == Labs && !x.IsSensitive() {
			labs = append(labs, r)
		}
	}
	now := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	whole, err := BuildCollection([]Resource{patient}, labs, now)
	if err != nil {
		t.Fatal(err)
	}
	// Split: the Patient with the reports, the Patient with the rest.
	reports := &Package{ID: whole.ID, Type: whole.Type, Timestamp: now, Entries: slices.Clone(whole.Entries[:1])}
	rest := &Package{ID: whole.ID, Type: whole.Type, Timestamp: now, Entries: slices.Clone(whole.Entries[:1])}
	for _, e := range whole.Entries[1:] {
		if e.Resource.Type == "DiagnosticReport" {
			reports.Entries = append(reports.Entries, e)
		} else {
			rest.Entries = append(rest.Entries, e)
		}
	}
	if len(reports.Entries) < 2 || len(rest.Entries) < 2 {
		t.Fatalf("fixture: %d reports, %d others", len(reports.Entries)-1, len(rest.Entries)-1)
	}
	a, _ := reports.JSON()
	b, _ := rest.JSON()
	wb, _ := whole.JSON()
	sorted := func(p []byte) []string {
		doc, err := Parse(p)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, r := range doc.Resources {
			out = append(out, r.FullURL+" "+string(r.JSON()))
		}
		slices.Sort(out)
		return out
	}
	merged, err := Merge([][]byte{a, b})
	if err != nil {
		t.Fatal(err)
	}
	mb, _ := merged.JSON()
	_, ids := checkBundle(t, mb)
	if merged.ID != whole.ID || !merged.Timestamp.Equal(now) || ids[0] != "Patient/"+patient.ID || len(ids) != len(whole.Entries) {
		t.Fatalf("merged: id %s, %s, first %s, %d entries (want %d)", merged.ID, merged.Timestamp, ids[0], len(ids), len(whole.Entries))
	}
	if !slices.Equal(sorted(mb), sorted(wb)) {
		t.Fatal("merged parts differ from the whole package")
	}
	// The reports alone: their results (Observations not held) are pruned.
	alone, err := Merge([][]byte{a})
	if err != nil {
		t.Fatal(err)
	}
	ab, _ := alone.JSON()
	checkBundle(t, ab) // no dangling reference
	if len(alone.Entries) != len(reports.Entries) {
		t.Fatalf("reports alone: %d entries, want %d", len(alone.Entries), len(reports.Entries))
	}
	// A document is not a part.
	doc, _ := (&Package{ID: "x", Type: "document", Timestamp: now, Entries: whole.Entries[:1]}).JSON()
	if _, err := Merge([][]byte{doc}); !errors.Is(err, ErrNotFHIR) {
		t.Fatalf("document part: %v", err)
	}
}
