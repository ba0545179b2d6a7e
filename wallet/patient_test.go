package wallet

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/healthwallet/healthwallet/internal/fixtures"
	"github.com/healthwallet/healthwallet/wallet/fhir"
)

func TestSamePerson(t *testing.T) {
	martha := Person{Name: "Martha DeLarosa", BirthDate: "1972-05-01", Names: []string{"martha delarosa"}, Identifiers: []string{"urn:mrn|123"}}
	for _, c := range []struct {
		name string
		b    Person
		want bool
	}{
		{"shared identifier, other name", Person{Names: []string{"martha smith"}, BirthDate: "1972-05-01", Identifiers: []string{"x|9", "urn:mrn|123"}}, true},
		{"shared identifier, other birth date", Person{Names: []string{"m d"}, BirthDate: "1973-01-01", Identifiers: []string{"urn:mrn|123"}}, true},
		{"other identifiers, same name and birth date", Person{Names: []string{"martha delarosa"}, BirthDate: "1972-05-01", Identifiers: []string{"urn:mrn|999"}}, true},
		{"same name, other birth date", Person{Names: []string{"martha delarosa"}, BirthDate: "1972-05-02"}, false},
		{"same name, birth date unknown", Person{Names: []string{"martha delarosa"}}, false},
		{"same birth date, other name", Person{Names: []string{"darron feeney"}, BirthDate: "1972-05-01"}, false},
		{"same value, other system", Person{Names: []string{"x"}, Identifiers: []string{"urn:other|123"}}, false},
	} {
		if got := SamePerson(martha, c.b); got != c.want {
			t.Errorf("%s: SamePerson = %v, want %v", c.name, got, c.want)
		}
		if got := SamePerson(c.b, martha); got != c.want {
			t.Errorf("%s: SamePerson reversed = %v, want %v", c.name, got, c.want)
		}
	}
}

func TestPersonOf(t *testing.T) {
	r, err := fhir.ParseResource([]byte(`{"resourceType":"Patient","gender":"female","birthDate":"1972-05-01",
		"name":[{"use":"maiden","given":["Martha"],"family":"Smith"},{"use":"official","given":["Martha686"," "],"family":"DeLarosa"}],
		"identifier":[{"system":"urn:mrn","value":" 123 "},{"value":"free"},{"system":"urn:none"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	p := PersonOf(r)
	want := Person{Name: "Martha686 DeLarosa", BirthDate: "1972-05-01", Sex: "female",
		Names: []string{"martha smith", "martha delarosa"}, Identifiers: []string{"urn:mrn|123", "|free"}}
	if p.Name != want.Name || p.BirthDate != want.BirthDate || p.Sex != want.Sex || !slices.Equal(p.Names, want.Names) || !slices.Equal(p.Identifiers, want.Identifiers) {
		t.Fatalf("PersonOf = %+v, want %+v", p, want)
	}
	if got := p.Label(); got != "Martha686 DeLarosa, born 1 May 1972" {
		t.Fatalf("Label = %q", got)
	}
}

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	data, err := fixtures.Named(name).Read()
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestOnePatientPerWallet: the first Patient imported becomes the wallet's
// own; another person's file is refused whole, naming them; with
// OtherPatient it comes in with every record tagged as theirs.
func TestOnePatientPerWallet(t *testing.T) {
	ctx := context.Background()
	w := newWallet(t)
	if _, ok, err := w.OwnPatient(); ok || err != nil {
		t.Fatalf("new wallet: own patient %v, %v", ok, err)
	}
	first, err := w.ImportFHIR(ctx, "m.json", fixture(t, "Marguerita_Reilly"))
	if err != nil {
		t.Fatal(err)
	}
	if first.Claimed == nil || first.Claimed.Label() != "Marguerita Reilly, born 28 Feb 1986" {
		t.Fatalf("first import claimed %+v", first.Claimed)
	}
	own, ok, err := w.OwnPatient()
	if !ok || err != nil || own.Name != "Marguerita Reilly" || own.Sex != "female" || !slices.Contains(own.Names, "marguerita waelchi") {
		t.Fatalf("own patient %+v %v %v", own, ok, err)
	}
	mine := len(first.Records)

	darron := fixture(t, "Darron_Feeney")
	_, err = w.ImportFHIR(ctx, "d.json", darron)
	var other *OtherPatientError
	if !errors.Is(err, ErrOtherPatient) || !errors.As(err, &other) {
		t.Fatalf("another person's file: %v", err)
	}
	if other.Name != "Darron Feeney" || other.BirthDate != "1939-10-10" || other.Sex != "male" || other.File != "d.json" || other.Own.Name != "Marguerita Reilly" {
		t.Fatalf("refusal %+v", other)
	}
	if got := err.Error(); got != "this file is for Darron Feeney, born 10 Oct 1939, not for Marguerita Reilly" {
		t.Fatalf("refusal reads %q", got)
	}
	if recs, _ := w.Records(Filter{}); len(recs) != mine {
		t.Fatalf("a refused file left %d records, want %d", len(recs), mine)
	}

	fam, err := w.ImportFHIR(ctx, "d.json", darron, ImportOptions{OtherPatient: true})
	if err != nil {
		t.Fatal(err)
	}
	if fam.Claimed != nil || len(fam.Others) != 1 || fam.Others[0].Name != "Darron Feeney" {
		t.Fatalf("family import: claimed %+v, others %+v", fam.Claimed, fam.Others)
	}
	recs, _ := w.Records(Filter{})
	var theirs, untagged int
	for _, r := range recs {
		switch {
		case r.Whose == nil:
			untagged++
		case r.Whose.Name == "Darron Feeney" && r.Whose.BirthDate == "1939-10-10" && r.Whose.Identifiers == nil:
			theirs++
		default:
			t.Fatalf("record tagged %+v", r.Whose)
		}
	}
	if untagged != mine || theirs != len(fam.Records) {
		t.Fatalf("%d untagged (want %d), %d Darron's (want %d)", untagged, mine, theirs, len(fam.Records))
	}
	if own2, _, _ := w.OwnPatient(); own2.Name != "Marguerita Reilly" {
		t.Fatalf("a family import changed the own patient to %+v", own2)
	}
	again, err := w.ImportFHIR(ctx, "m.json", fixture(t, "Marguerita_Reilly"))
	if err != nil || again.Claimed != nil || again.Unchanged != mine {
		t.Fatalf("own file again: %+v %v", again, err)
	}
	// A file without a Patient is nobody's in particular: imported.
	if _, err := w.ImportFHIR(ctx, "c.json", []byte(`{"resourceType":"Condition","id":"c-no-patient","code":{"text":"Asthma"}}`)); err != nil {
		t.Fatalf("a file without a Patient: %v", err)
	}
}

// TestSamePatientOtherHospital: a record number the wallet has not seen,
// with the same name and birth date, is the same person; a renamed patient
// with a known identifier too.
func TestSamePatientOtherHospital(t *testing.T) {
	ctx := context.Background()
	w := newWallet(t)
	if _, err := w.ImportFHIR(ctx, "a.json", []byte(`{"resourceType":"Patient","id":"p1","name":[{"given":["Jane"],"family":"Doe"}],"birthDate":"1980-02-03","identifier":[{"system":"urn:a","value":"1"}]}`)); err != nil {
		t.Fatal(err)
	}
	if _, err := w.ImportFHIR(ctx, "b.json", []byte(`{"resourceType":"Patient","id":"p2","name":[{"text":"JANE  DOE"}],"birthDate":"1980-02-03","identifier":[{"system":"urn:b","value":"7"}]}`)); err != nil {
		t.Fatalf("same name and birth date at another hospital: %v", err)
	}
	if _, err := w.ImportFHIR(ctx, "c.json", []byte(`{"resourceType":"Patient","id":"p3","name":[{"given":["Jane"],"family":"Roe"}],"birthDate":"1980-02-03","identifier":[{"system":"urn:a","value":"1"}]}`)); err != nil {
		t.Fatalf("renamed, same identifier: %v", err)
	}
	_, err := w.ImportFHIR(ctx, "d.json", []byte(`{"resourceType":"Patient","id":"p4","name":[{"given":["Jane"],"family":"Doe"}],"birthDate":"1981-02-03"}`))
	if !errors.Is(err, ErrOtherPatient) {
		t.Fatalf("same name, other birth date: %v", err)
	}
}

// TestFamilyFirst: a family member's file imported first claims nobody;
// the next ordinary import does.
func TestFamilyFirst(t *testing.T) {
	ctx := context.Background()
	w := newWallet(t)
	res, err := w.ImportFHIR(ctx, "d.json", fixture(t, "Darron_Feeney"), ImportOptions{OtherPatient: true})
	if err != nil || res.Claimed != nil || len(res.Others) != 1 {
		t.Fatalf("family file first: %+v %v", res.Claimed, err)
	}
	if _, ok, _ := w.OwnPatient(); ok {
		t.Fatal("a family member's file became the wallet's own")
	}
	res, err = w.ImportFHIR(ctx, "m.json", fixture(t, "Marguerita_Reilly"))
	if err != nil || res.Claimed == nil || res.Claimed.Name != "Marguerita Reilly" {
		t.Fatalf("then the own file: %+v %v", res.Claimed, err)
	}
}

// TestPatientsOf: a received bundle's people, the same person once.
func TestPatientsOf(t *testing.T) {
	m := fixture(t, "Marguerita_Reilly")
	one, err := PatientsOf(m)
	if err != nil || len(one) != 1 || one[0].Label() != "Marguerita Reilly, born 28 Feb 1986" || one[0].Sex != "female" {
		t.Fatalf("one patient: %+v %v", one, err)
	}
	b := []byte(`{"resourceType":"Bundle","type":"collection","entry":[
		{"resource":{"resourceType":"Patient","id":"a","name":[{"given":["Martha"],"family":"DeLarosa"}],"birthDate":"1972-05-01","identifier":[{"system":"urn:x","value":"1"}]}},
		{"resource":{"resourceType":"Observation","id":"o"}},
		{"resource":{"resourceType":"Patient","id":"b","name":[{"given":["Darron"],"family":"Feeney"}],"birthDate":"1939-10-10"}},
		{"resource":{"resourceType":"Patient","id":"c","name":[{"text":"M DeLarosa"}],"identifier":[{"system":"urn:x","value":"1"}]}}]}`)
	two, err := PatientsOf(b)
	if err != nil || len(two) != 2 || two[1].Name != "Darron Feeney" {
		t.Fatalf("two patients: %+v %v", two, err)
	}
	if _, err := PatientsOf([]byte("not json")); !errors.Is(err, fhir.ErrNotFHIR) {
		t.Fatalf("bad input: %v", err)
	}
}

func FuzzPatientsOf(f *testing.F) {
	f.Add([]byte(`{"resourceType":"Patient","name":[{"given":["A"],"family":"B"}],"birthDate":"2000-01-02","identifier":[{"system":"s","value":"v"}]}`))
	f.Add([]byte(`{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"Patient","name":"x","identifier":[1,{"value":2}]}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		people, err := PatientsOf(data)
		if err != nil {
			return
		}
		for _, p := range people {
			if p.Label() == "" || bytes.ContainsRune([]byte(fhir.HumanDate(p.BirthDate)), 0xFFFD) && !bytes.ContainsRune([]byte(p.BirthDate), 0xFFFD) {
				t.Fatalf("person %+v", p)
			}
		}
	})
}
