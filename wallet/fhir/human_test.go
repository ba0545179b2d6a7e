package fhir

import (
	"slices"
	"strings"
	"testing"
)

func TestHumanDate(t *testing.T) {
	tests := map[string]string{
		"2003-06-23":                "23 Jun 2003",
		"2003-06-23T11:24:23-04:00": "23 Jun 2003", // the day written, in any time zone
		"1983-06-07T23:59:59Z":      "7 Jun 1983",
		"2003-12":                   "Dec 2003",
		"2003":                      "2003",
		"2003-13-01":                "2003-13-01",
		"yesterday":                 "yesterday",
		"":                          "",
	}
	for in, want := range tests {
		if got := HumanDate(in); got != want {
			t.Errorf("HumanDate(%q) = %q, want %q", in, got, want)
		}
	}
	if got := HumanText("Hemoglobin A1c 6.28 % · 2012-01-13"); got != "Hemoglobin A1c 6.28 % · 13 Jan 2012" {
		t.Errorf("HumanText: %q", got)
	}
}

func TestPlainType(t *testing.T) {
	for in, want := range map[string]string{"Encounter": "Visit", "MedicationRequest": "Prescription",
		"ExplanationOfBenefit": "Insurance statement", "SupplyDelivery": "Supply delivery"} {
		if got := PlainType(in); got != want {
			t.Errorf("PlainType(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDoseText(t *testing.T) {
	tests := []struct{ med, dosage, want string }{
		{"Amlodipine 5 MG Oral Tablet", `{"timing":{"repeat":{"frequency":1,"period":1.0,"periodUnit":"d"}},"doseAndRate":[{"doseQuantity":{"value":1.0}}]}`, "1 tablet once a day"},
		{"120 ACTUAT Fluticasone propionate 0.044 MG/ACTUAT Metered Dose Inhaler", `{"timing":{"repeat":{"frequency":1,"period":4,"periodUnit":"h"}},"asNeededBoolean":true,"doseAndRate":[{"doseQuantity":{"value":2}}]}`, "2 puffs every 4 hours as needed"},
		{"Metformin 500 MG Oral Tablet", `{"timing":{"repeat":{"frequency":2,"period":1,"periodUnit":"d"}},"doseAndRate":[{"doseQuantity":{"value":500,"unit":"mg"}}]}`, "500 mg twice a day"},
		{"Amoxicillin 250 MG Oral Capsule", `{"timing":{"repeat":{"frequency":3,"period":1,"periodUnit":"d"}},"doseAndRate":[{"doseQuantity":{"value":2}}]}`, "2 capsules 3 times a day"},
		{"Simvistatin 10 MG", `{"timing":{"repeat":{"frequency":1,"period":1,"periodUnit":"wk"}},"doseAndRate":[{"doseQuantity":{"value":1}}]}`, "1 dose once a week"},
		{"Ibuprofen 200 MG Oral Tablet", `{"asNeededBoolean":true}`, "as needed"},
		{"Anastrozole 1 MG", `{"text":"1 tablet by mouth each morning"}`, "1 tablet by mouth each morning"},
	}
	for _, tc := range tests {
		r := resourceJSON(t, `{"resourceType":"MedicationRequest","dosageInstruction":[`+tc.dosage+`]}`)
		if got := DoseText(r.Body, tc.med); got != tc.want {
			t.Errorf("%s %s: %q, want %q", tc.med, tc.dosage, got, tc.want)
		}
	}
}

func TestReferenceRangeAndFlag(t *testing.T) {
	obs := func(extra string) Resource {
		return resourceJSON(t, `{"resourceType":"Observation","code":{"coding":[{"system":"http://loinc.org","code":"4548-4"}]},"valueQuantity":{"value":7.2,"unit":"%","code":"%"}`+extra+`}`)
	}
	// No range in the result: the typical adult range, marked as such.
	rg, ok := ReferenceRange(obs(""))
	if !ok || !rg.Typical || rg.String() != "4–5.6 %" || ResultFlag(obs("")) != "high" {
		t.Fatalf("typical range %+v %v, flag %q", rg, ok, ResultFlag(obs("")))
	}
	// The lab's own range wins, and the flag is computed from it.
	own := obs(`,"referenceRange":[{"low":{"value":4,"unit":"%"},"high":{"value":8,"unit":"%"}}]`)
	if rg, ok := ReferenceRange(own); !ok || rg.Typical || rg.String() != "4–8 %" || ResultFlag(own) != "" {
		t.Fatalf("own range %+v, flag %q", rg, ResultFlag(own))
	}
	// The lab's interpretation wins over any range.
	low := obs(`,"interpretation":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation","code":"L"}]}]`)
	if f := ResultFlag(low); f != "low" {
		t.Fatalf("interpretation L: %q", f)
	}
	// Another unit gets no typical range: 7.2 mmol/mol is not 7.2 %.
	other := resourceJSON(t, `{"resourceType":"Observation","code":{"coding":[{"system":"http://loinc.org","code":"4548-4"}]},"valueQuantity":{"value":7.2,"unit":"mmol/mol"}}`)
	if _, ok := ReferenceRange(other); ok || ResultFlag(other) != "" {
		t.Fatal("a range for the wrong unit")
	}
	for _, tc := range []struct {
		r    Range
		want string
	}{{Range{High: fp(200), Unit: "mg/dL"}, "below 200 mg/dL"}, {Range{Low: fp(60), Unit: "mL/min"}, "60 mL/min or more"}} {
		if tc.r.String() != tc.want {
			t.Errorf("%q, want %q", tc.r.String(), tc.want)
		}
	}
}

// indexAll indexes every resource of a fixture, as an import does.
func indexAll(t *testing.T, name string) (*Document, []Index) {
	d := mustParse(t, name)
	res := d.Resolver()
	xs := make([]Index, len(d.Resources))
	for i, r := range d.Resources {
		xs[i] = IndexOf(r, res)
	}
	return d, xs
}

// TestOverviewDarronFeeney reads a real Synthea patient's summary: IPS
// order, simvastatin's 21 yearly prescriptions as one medication, the
// latest result of each test, vaccines grouped.
func TestOverviewDarronFeeney(t *testing.T) {
	d, xs := indexAll(t, "Darron_Feeney")
	secs := Overview(xs)
	var titles []string
	bySec := map[string][]Item{}
	for _, s := range secs {
		titles = append(titles, s.Title)
		bySec[s.Title] = s.Items
	}
	// Darron has no allergies: the section is left out.
	if want := []string{SectionProblems, SectionMedications, SectionResults, SectionImmunizations}; !slices.Equal(titles, want) {
		t.Fatalf("sections %v, want %v", titles, want)
	}
	meds := bySec[SectionMedications]
	simva := meds[0]
	if simva.Name != "Simvistatin 10 MG" || simva.Value != "1 dose once a day" || len(simva.Members) != 21 ||
		simva.Note != "21 prescriptions since 28 Jun 1983" || HumanDate(simva.Date) != "23 Jun 2003" {
		t.Fatalf("simvastatin %+v", simva)
	}
	// Its members are every simvastatin prescription, newest first; the
	// first is the active one.
	for i, m := range simva.Members {
		if xs[m].Code != "316672" || i > 0 && xs[m].Date > xs[simva.Members[i-1]].Date {
			t.Fatalf("member %d: %+v", i, xs[m])
		}
	}
	if xs[simva.Members[0]].Status != "active" {
		t.Fatalf("first member %q", xs[simva.Members[0]].Status)
	}
	// Stopped drugs are not current: each current one has an active prescription.
	for _, it := range meds {
		if !slices.ContainsFunc(it.Members, func(i int) bool { return xs[i].Status == "active" }) {
			t.Fatalf("%q listed as current", it.Name)
		}
	}
	if len(meds) != 6 {
		t.Fatalf("%d current medications", len(meds))
	}
	// Problems are the active ones only.
	for _, it := range bySec[SectionProblems] {
		if it.Value != "active" {
			t.Fatalf("problem %+v", it)
		}
	}
	if !slices.ContainsFunc(bySec[SectionProblems], func(it Item) bool { return it.Name == "Hyperlipidemia" }) {
		t.Fatal("Hyperlipidemia not among active problems")
	}
	// Results: one per test, the latest; creatinine 3.12 mg/dL is high.
	res := bySec[SectionResults]
	if len(res) != RecentResults {
		t.Fatalf("%d recent results", len(res))
	}
	seen := map[string]bool{}
	for _, it := range res {
		x := xs[it.Members[0]]
		if seen[x.Code] {
			t.Fatalf("test %s listed twice", x.Code)
		}
		seen[x.Code] = true
		for _, m := range it.Members[1:] {
			if xs[m].Date > x.Date {
				t.Fatalf("%s: not the latest", it.Name)
			}
		}
	}
	i := slices.IndexFunc(res, func(it Item) bool { return it.Name == "Creatinine" })
	if i < 0 || res[i].Value != "3.12 mg/dL" || res[i].Flag != "high" || len(res[i].Members) != 21 {
		t.Fatalf("creatinine %+v", res)
	}
	flu := bySec[SectionImmunizations][0]
	if !strings.HasPrefix(flu.Name, "Influenza") || flu.Note != "10 doses since 8 Mar 1994" {
		t.Fatalf("flu %+v", flu)
	}
	_ = d
}

// TestMedicationDetail: a Synthea prescription reads with its dose,
// prescriber and reason resolved from the bundle, and human dates; no ids.
func TestMedicationDetail(t *testing.T) {
	d := mustParse(t, "Tristan_Gleason")
	title, fields := DetailWith(find(t, d, "0b38c6f7-f7a9-46db-93b5-8d37fc222980"), d.Resolver())
	want := []Field{{"Dose", "1 tablet once a day"}, {"Status", "active"}, {"Prescribed by", "Elroy Brakus"},
		{"Reason", "Chronic congestive heart failure (disorder)"}, {"Date", "23 Oct 2004"}}
	if title != "24 HR metoprolol succinate 100 MG Extended Release Oral Tablet [Toprol]" || !slices.Equal(fields, want) {
		t.Fatalf("%q %v", title, fields)
	}
	// Every resource of every patient reads without ids or ISO dates.
	for _, name := range []string{"Darron_Feeney", "Tristan_Gleason", "Liz_Conn"} {
		d := mustParse(t, name)
		res := d.Resolver()
		for _, r := range d.Resources {
			title, fields := DetailWith(r, res)
			for _, f := range append(fields, Field{"title", title}) {
				if uuidLike.MatchString(f.Value) || strings.Contains(f.Value, r.ID) || isoDates.MatchString(f.Value) ||
					strings.Contains(f.Value, r.Type+"/") {
					t.Fatalf("%s %s: %s = %q", name, r.Type, f.Label, f.Value)
				}
			}
		}
	}
}

// TestTrendHbA1c: the HbA1c results of a Synthea patient, oldest first,
// against the typical range.
func TestTrendHbA1c(t *testing.T) {
	d, xs := indexAll(t, "Darron_Feeney")
	latest := -1
	for i, x := range xs {
		if x.Code == "4548-4" && (latest < 0 || x.Date > xs[latest].Date) {
			latest = i
		}
	}
	rg, ok := ReferenceRange(d.Resources[latest])
	tr := Trend(xs[latest], xs, rg, ok)
	if len(tr.Points) != 10 || tr.Unit != "%" || !tr.HasRange || tr.Range.String() != "4–5.6 %" {
		t.Fatalf("trend %+v", tr)
	}
	for i, p := range tr.Points {
		if xs[p.Index].Code != "4548-4" || *xs[p.Index].Number != p.Value || i > 0 && p.Date < tr.Points[i-1].Date {
			t.Fatalf("point %d %+v", i, p)
		}
	}
	if last := tr.Points[len(tr.Points)-1]; last.Index != latest {
		t.Fatalf("last point %+v, want record %d", last, latest)
	}
	// A record with no code has no trend.
	if tr := Trend(Index{Name: "note"}, xs, Range{}, false); len(tr.Points) != 0 {
		t.Fatal("trend without a code")
	}
}

// FuzzHumanDate: any text reads without a panic; a FHIR date reads with
// no ISO date left in it, and anything else is returned unchanged.
func FuzzHumanDate(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string) {
		got := HumanDate(s)
		if !fhirDate.MatchString(s) {
			if got != s {
				t.Fatalf("%q changed to %q", s, got)
			}
			return
		}
		if isoDates.MatchString(got) {
			t.Fatalf("%q reads %q", s, got)
		}
	})
}
