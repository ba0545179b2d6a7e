package wallet

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/healthwallet/healthwallet/wallet/catalog"
	"github.com/healthwallet/healthwallet/wallet/fhir"
)

// Presets of a Selection.
const (
	// PresetIPS selects what an International Patient Summary holds:
	// allergies, medications, problems, immunizations, procedures and
	// results, and builds an IPS-shaped document.
	PresetIPS = "ips"
)

// Selection says what a share package holds.
type Selection struct {
	// Records are chosen one by one. Naming a sensitive record includes it.
	Records []catalog.ID
	// Categories add every record of these categories (within From/To).
	Categories []fhir.Category
	// From and To bound the date (YYYY-MM-DD, inclusive) of records added by
	// category or preset.
	From, To string
	// Sensitive names the sensitive categories the patient agrees to share.
	// Records so labelled are otherwise left out, whatever else selects them.
	Sensitive []fhir.Sensitive
	// Preset is "" or PresetIPS.
	Preset string
}

// ErrEmptySelection: nothing matched the selection.
var ErrEmptySelection = errors.New("the selection matches no records")

// allowedSensitive reports whether every sensitive label of r is named.
func (s Selection) allowedSensitive(r Record) bool {
	for _, l := range r.Sensitive {
		if !slices.Contains(s.Sensitive, l) {
			return false
		}
	}
	return true
}

// Select returns the records a selection holds (not the Patient).
func (w *Wallet) Select(s Selection) ([]Record, error) {
	all, err := w.Records(Filter{})
	if err != nil {
		return nil, err
	}
	var out []Record
	for _, r := range all {
		named := slices.Contains(s.Records, r.ID)
		byGroup := (slices.Contains(s.Categories, r.Category) || s.Preset == PresetIPS && fhir.IPSTypes(r.Index)) && inRange(r.Day(), s.From, s.To)
		if r.Type == "Patient" && !named {
			continue
		}
		if named || byGroup && s.allowedSensitive(r) {
			out = append(out, r)
		}
	}
	for _, id := range s.Records {
		if !slices.ContainsFunc(out, func(r Record) bool { return r.ID == id }) {
			return nil, fmt.Errorf("%w: record %s", catalog.ErrNotFound, id)
		}
	}
	if len(out) == 0 {
		return nil, ErrEmptySelection
	}
	return out, nil
}

// patientsFor returns the Patient records the selected records refer to,
// or, if they refer to none, the wallet's first imported Patient.
func (w *Wallet) patientsFor(sel []Record) ([]Record, error) {
	patients, err := w.Records(Filter{Type: "Patient"})
	if err != nil {
		return nil, err
	}
	var out []Record
	for _, p := range patients {
		refs := []string{"Patient/" + p.Index.ID, "urn:uuid:" + p.Index.ID}
		if p.FullURL != "" {
			refs = append(refs, p.FullURL)
		}
		for _, r := range sel {
			if r.Subject != "" && (slices.Contains(refs, r.Subject) || strings.HasSuffix(r.Subject, "Patient/"+p.Index.ID)) {
				out = append(out, p)
				break
			}
		}
	}
	if len(out) == 0 && len(patients) > 0 {
		first := patients[0]
		for _, p := range patients[1:] {
			if p.Imported.Before(first.Imported) {
				first = p
			}
		}
		out = append(out, first)
	}
	return out, nil
}

// SharePackage builds the FHIR Bundle a grant shares: exactly the selected
// records plus the Patient, references resolved inside the Bundle and
// dangling ones pruned. It returns the Bundle's JSON and the records in it.
func (w *Wallet) SharePackage(ctx context.Context, s Selection, now time.Time) ([]byte, []Record, error) {
	sel, err := w.Select(s)
	if err != nil {
		return nil, nil, err
	}
	pats, err := w.patientsFor(sel)
	if err != nil {
		return nil, nil, err
	}
	load := func(rs []Record) ([]fhir.Resource, error) {
		out := make([]fhir.Resource, 0, len(rs))
		for _, r := range rs {
			res, err := w.Resource(ctx, r)
			if err != nil {
				return nil, err
			}
			out = append(out, res)
		}
		return out, nil
	}
	selected, err := load(sel)
	if err != nil {
		return nil, nil, err
	}
	patients, err := load(pats)
	if err != nil {
		return nil, nil, err
	}
	var pkg *fhir.Package
	if s.Preset == PresetIPS {
		if len(patients) == 0 {
			return nil, nil, errors.New("an International Patient Summary needs a Patient record; import one first")
		}
		pkg, err = fhir.BuildIPS(patients[0], selected, now)
	} else {
		pkg, err = fhir.BuildCollection(patients, selected, now)
	}
	if err != nil {
		return nil, nil, err
	}
	b, err := pkg.JSON()
	if err != nil {
		return nil, nil, err
	}
	return b, append(pats, sel...), nil
}
