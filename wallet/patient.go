package wallet

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode"

	"github.com/healthwallet/healthwallet/wallet/catalog"
	"github.com/healthwallet/healthwallet/wallet/fhir"
)

// One patient per wallet.
//
// A wallet holds one person's records: the first FHIR Patient imported
// becomes the wallet's own (kept in the sealed catalog, like every other
// entry). Every later import is compared with it, and a file about someone
// else is refused with an [*OtherPatientError] unless the import says it
// holds a family member's records ([ImportOptions.OtherPatient]). Such
// records are tagged with whose they are ([Record.Whose]).

// ErrOtherPatient: a file's Patient is not the wallet's own. The error is
// an [*OtherPatientError] naming both people.
var ErrOtherPatient = errors.New("the file is about another person")

// OtherPatientError is an import refused because the file is about another
// person. It matches ErrOtherPatient.
type OtherPatientError struct {
	// File is the file's name as given to the import.
	File string
	// Name, BirthDate and Sex are the file's Patient, as written.
	Name      string
	BirthDate string
	Sex       string
	// Own is the wallet's own patient.
	Own Person
}

// Error reads "this file is for Martha DeLarosa, born 1 May 1972, not for
// Jane Doe".
func (e *OtherPatientError) Error() string {
	return fmt.Sprintf("this file is for %s, not for %s", Person{Name: e.Name, BirthDate: e.BirthDate}.Label(), e.Own.DisplayName())
}

// Unwrap makes it match ErrOtherPatient.
func (e *OtherPatientError) Unwrap() error { return ErrOtherPatient }

// Person is who a FHIR Patient resource is about, as the wallet compares
// and shows people.
type Person struct {
	// Name is the official name (else the first), "Given Family" or the
	// name's text.
	Name string `json:"name"`
	// BirthDate is as written (YYYY, YYYY-MM or YYYY-MM-DD).
	BirthDate string `json:"birthDate,omitempty"`
	// Sex is the Patient's administrative gender ("female", "male",
	// "other", "unknown").
	Sex string `json:"sex,omitempty"`
	// Names are every name of the Patient (official, maiden, nickname…),
	// normalised: letters only, lower case, single spaces.
	Names []string `json:"names,omitempty"`
	// Identifiers are the Patient's identifiers as "system|value".
	Identifiers []string `json:"identifiers,omitempty"`
}

// DisplayName is Name, or "an unnamed person".
func (p Person) DisplayName() string {
	if p.Name == "" {
		return "an unnamed person"
	}
	return p.Name
}

// Label is the name and the birth date a person reads: "Martha DeLarosa,
// born 1 May 1972".
func (p Person) Label() string {
	if p.BirthDate == "" {
		return p.DisplayName()
	}
	return p.DisplayName() + ", born " + fhir.HumanDate(p.BirthDate)
}

// brief is the person without what only comparison needs, for tagging
// records.
func (p Person) brief() *Person {
	return &Person{Name: p.Name, BirthDate: p.BirthDate, Sex: p.Sex}
}

// SamePerson reports whether a and b are the same person. They are when
//
//   - they share an identifier (same system and value: a medical record
//     number, a national id…), whatever their names; or else
//   - one of a's names equals one of b's (compared on letters only, case
//     folded, so "Martha686 DeLarosa" is "martha delarosa") and their birth
//     dates are equal (or both unknown).
//
// Different identifiers alone do not make two people: hospitals give the
// same patient different record numbers.
func SamePerson(a, b Person) bool {
	for _, id := range a.Identifiers {
		if slices.Contains(b.Identifiers, id) {
			return true
		}
	}
	if a.BirthDate != b.BirthDate {
		return false
	}
	for _, n := range a.Names {
		if n != "" && slices.Contains(b.Names, n) {
			return true
		}
	}
	return false
}

// PersonOf reads a FHIR Patient resource.
func PersonOf(r fhir.Resource) Person {
	b := r.Body
	p := Person{BirthDate: strField(b, "birthDate"), Sex: strField(b, "gender")}
	names, _ := b.Get("name").([]any)
	official := false
	for _, v := range names {
		n, _ := v.(*fhir.Object)
		if n == nil {
			continue
		}
		s := nameText(n)
		if s == "" {
			continue
		}
		if p.Name == "" || strField(n, "use") == "official" && !official {
			p.Name, official = s, strField(n, "use") == "official"
		}
		if k := normalName(s); k != "" && !slices.Contains(p.Names, k) {
			p.Names = append(p.Names, k)
		}
	}
	ids, _ := b.Get("identifier").([]any)
	for _, v := range ids {
		id, _ := v.(*fhir.Object)
		if id == nil {
			continue
		}
		if val := strings.TrimSpace(strField(id, "value")); val != "" {
			k := strings.TrimSpace(strField(id, "system")) + "|" + val
			if !slices.Contains(p.Identifiers, k) {
				p.Identifiers = append(p.Identifiers, k)
			}
		}
	}
	return p
}

func strField(o *fhir.Object, key string) string {
	if o == nil {
		return ""
	}
	s, _ := o.Get(key).(string)
	return s
}

// nameText is a HumanName as a person writes it: its text, else the given
// names and the family name.
func nameText(n *fhir.Object) string {
	if t := strings.TrimSpace(strField(n, "text")); t != "" {
		return t
	}
	var parts []string
	given, _ := n.Get("given").([]any)
	for _, g := range given {
		if s, ok := g.(string); ok && strings.TrimSpace(s) != "" {
			parts = append(parts, strings.TrimSpace(s))
		}
	}
	if f := strings.TrimSpace(strField(n, "family")); f != "" {
		parts = append(parts, f)
	}
	return strings.Join(parts, " ")
}

// normalName keeps the letters of a name, lower case, words split by single
// spaces.
func normalName(s string) string {
	var words []string
	for _, w := range strings.Fields(s) {
		w = strings.Map(func(r rune) rune {
			if unicode.IsLetter(r) {
				return unicode.ToLower(r)
			}
			return -1
		}, w)
		if w != "" {
			words = append(words, w)
		}
	}
	return strings.Join(words, " ")
}

// PatientsOf lists the distinct people a FHIR Bundle (or resource) is
// about: one per Patient resource, Patients that are the same person
// ([SamePerson]) counted once. A received share normally holds one; more
// than one is worth a warning.
func PatientsOf(data []byte) ([]Person, error) {
	doc, err := fhir.Parse(data)
	if err != nil {
		return nil, err
	}
	return patientsOf(doc), nil
}

func patientsOf(doc *fhir.Document) []Person {
	var out []Person
	for _, r := range doc.Resources {
		if r.Type != "Patient" {
			continue
		}
		p := PersonOf(r)
		if i := slices.IndexFunc(out, func(o Person) bool { return SamePerson(o, p) }); i >= 0 {
			continue
		}
		out = append(out, p)
	}
	return out
}

// ownPatientKey is the Settings entry holding the wallet's own Person.
var ownPatientKey = catalog.IDFromHash([]byte("own-patient"))

// OwnPatient returns the wallet's own patient: the first Patient imported.
// ok is false while no Patient has been imported.
func (w *Wallet) OwnPatient() (p Person, ok bool, err error) {
	cat, err := w.Catalog()
	if err != nil {
		return Person{}, false, err
	}
	b, err := cat.Get(catalog.Settings, ownPatientKey)
	if errors.Is(err, catalog.ErrNotFound) {
		return Person{}, false, nil
	}
	if err != nil {
		return Person{}, false, err
	}
	if err := json.Unmarshal(b, &p); err != nil {
		return Person{}, false, fmt.Errorf("own patient: %w", err)
	}
	return p, true, nil
}

// patientPlan is what an import does about the people in its file.
type patientPlan struct {
	claim  *Person                // becomes the wallet's own
	whose  map[*fhir.Resource]int // a family member's Patient resource → index in others
	others []Person               // family members in the file
	mine   bool                   // the file holds the wallet's own Patient too
}

// planPatients compares the file's Patients with the wallet's own (own is
// nil when there is none yet). It refuses another person unless other is
// set, in which case their records are tagged.
func planPatients(file string, doc *fhir.Document, own *Person, other bool) (*patientPlan, error) {
	plan := &patientPlan{whose: map[*fhir.Resource]int{}}
	for i := range doc.Resources {
		r := &doc.Resources[i]
		if r.Type != "Patient" {
			continue
		}
		p := PersonOf(*r)
		switch {
		case own != nil && SamePerson(*own, p):
			plan.mine = true
			continue
		case own == nil && plan.claim == nil && !other:
			plan.claim, own, plan.mine = &p, &p, true
			continue
		case own == nil && plan.claim == nil && other:
			// A family member's file as the first import: nobody is
			// claimed as the wallet's own.
		case !other:
			return nil, &OtherPatientError{File: file, Name: p.Name, BirthDate: p.BirthDate, Sex: p.Sex, Own: *own}
		}
		j := slices.IndexFunc(plan.others, func(o Person) bool { return SamePerson(o, p) })
		if j < 0 {
			j = len(plan.others)
			plan.others = append(plan.others, p)
		}
		plan.whose[r] = j
	}
	return plan, nil
}

// tag says whose a resource of the file is: nil for the wallet's own (or
// unknown), else the family member it is about — the Patient itself, the
// Patient its subject refers to, or the file's only family member.
func (p *patientPlan) tag(r *fhir.Resource, subject string, resolve func(string) *fhir.Resource) *Person {
	if len(p.others) == 0 {
		return nil
	}
	if j, ok := p.whose[r]; ok {
		return p.others[j].brief()
	}
	if s := resolve(subject); s != nil && s.Type == "Patient" {
		if j, ok := p.whose[s]; ok {
			return p.others[j].brief()
		}
		return nil // the wallet's own
	}
	if len(p.others) == 1 && !p.mine {
		return p.others[0].brief()
	}
	return nil
}

// claimPatient makes p the wallet's own patient unless one is set already,
// in which case p must be the same person.
func claimPatient(tx *catalog.Tx, file string, p Person) error {
	if b, err := tx.Get(catalog.Settings, ownPatientKey); err == nil {
		var own Person
		if json.Unmarshal(b, &own) == nil && !SamePerson(own, p) {
			return &OtherPatientError{File: file, Name: p.Name, BirthDate: p.BirthDate, Sex: p.Sex, Own: own}
		}
		return nil
	} else if !errors.Is(err, catalog.ErrNotFound) {
		return err
	}
	b, _ := json.Marshal(p)
	return tx.Put(catalog.Settings, ownPatientKey, b)
}
