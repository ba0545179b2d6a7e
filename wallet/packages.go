package wallet

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/healthwallet/healthwallet/share/grant"
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
	b, err := w.buildPackage(ctx, s, now)
	if err != nil {
		return nil, nil, err
	}
	out, err := b.pkg.JSON()
	if err != nil {
		return nil, nil, err
	}
	return out, append(b.pats, b.sel...), nil
}

// builtPackage is a share package before it is written: pkg.Entries holds
// the resources of pats and then of sel, in order, one entry each.
type builtPackage struct {
	pkg       *fhir.Package
	pats, sel []Record
}

func (w *Wallet) buildPackage(ctx context.Context, s Selection, now time.Time) (*builtPackage, error) {
	sel, err := w.Select(s)
	if err != nil {
		return nil, err
	}
	pats, err := w.patientsFor(sel)
	if err != nil {
		return nil, err
	}
	// One record per resource, as the package holds it (a Patient named in
	// the selection is also the package's Patient).
	seen := map[string]bool{}
	dedup := func(rs []Record) []Record {
		out := rs[:0:0]
		for _, r := range rs {
			key := r.Type + "/" + r.Index.ID
			if r.Index.ID != "" && seen[key] {
				continue
			}
			seen[key] = true
			out = append(out, r)
		}
		return out
	}
	pats, sel = dedup(pats), dedup(sel)
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
		return nil, err
	}
	// Imported PDFs and images travel inside the package (see
	// inlineDocuments).
	if err := w.inlineDocuments(ctx, sel, selected); err != nil {
		return nil, err
	}
	patients, err := load(pats)
	if err != nil {
		return nil, err
	}
	var pkg *fhir.Package
	if s.Preset == PresetIPS {
		if len(patients) == 0 {
			return nil, errors.New("an International Patient Summary needs a Patient record; import one first")
		}
		pkg, err = fhir.BuildIPS(patients[0], selected, now)
	} else {
		pkg, err = fhir.BuildCollection(patients, selected, now)
	}
	if err != nil {
		return nil, err
	}
	return &builtPackage{pkg: pkg, pats: pats, sel: sel}, nil
}

// shareObject is one encrypted object of a share package: a FHIR Bundle of
// one group of records (one category, one set of sensitive labels) with
// the Patient. Group says what it holds; it travels only inside the
// grant's wrapped keys.
type shareObject struct {
	bundle []byte
	group  grant.PackageKey // Category, Sensitive, ResourceTypes only
}

// shareObjects builds the share package of s and splits it into one
// collection Bundle per group of records, so that a grantee who re-shares
// part of a grant can hand on only the keys of that part. The package is
// built whole first, so every entry keeps the fullUrl and the resolved
// references it has in the whole package, and merging the objects again
// (fhir.Merge) gives back exactly its resources. An International Patient
// Summary is one document and stays one object (a mixed one: it cannot be
// narrowed). It also returns the records shared.
func (w *Wallet) shareObjects(ctx context.Context, s Selection, now time.Time) ([]shareObject, []Record, error) {
	b, err := w.buildPackage(ctx, s, now)
	if err != nil {
		return nil, nil, err
	}
	recs := append(slices.Clone(b.pats), b.sel...)
	if s.Preset == PresetIPS {
		js, err := b.pkg.JSON()
		if err != nil {
			return nil, nil, err
		}
		types, _, sensitive := scopeOf(recs)
		return []shareObject{{bundle: js, group: grant.PackageKey{Sensitive: sensitive, ResourceTypes: types}}}, recs, nil
	}
	if len(b.pkg.Entries) != len(recs) {
		return nil, nil, fmt.Errorf("share package: %d entries for %d records", len(b.pkg.Entries), len(recs))
	}
	for i, e := range b.pkg.Entries {
		if e.Resource.Type != recs[i].Type || e.Resource.ID != recs[i].Index.ID {
			return nil, nil, fmt.Errorf("share package: entry %d is %s/%s, its record %s/%s", i, e.Resource.Type, e.Resource.ID, recs[i].Type, recs[i].Index.ID)
		}
	}
	patients := b.pkg.Entries[:len(b.pats)]
	type group struct {
		key     string
		entries []fhir.Entry
		recs    []Record
	}
	var groups []*group
	byKey := map[string]*group{}
	for i, r := range b.sel {
		labels := make([]string, len(r.Sensitive))
		for j, l := range r.Sensitive {
			labels[j] = string(l)
		}
		slices.Sort(labels)
		key := string(r.Category) + "\x00" + strings.Join(slices.Compact(labels), "\x00")
		g := byKey[key]
		if g == nil {
			g = &group{key: key}
			byKey[key] = g
			groups = append(groups, g)
		}
		g.entries = append(g.entries, b.pkg.Entries[len(b.pats)+i])
		g.recs = append(g.recs, r)
	}
	if len(groups) == 0 { // only the Patient was selected
		groups = []*group{{}}
	}
	out := make([]shareObject, 0, len(groups))
	for _, g := range groups {
		part := &fhir.Package{ID: b.pkg.ID, Type: b.pkg.Type, Timestamp: b.pkg.Timestamp,
			Entries: append(slices.Clone(patients), g.entries...)}
		js, err := part.JSON()
		if err != nil {
			return nil, nil, err
		}
		types, _, sensitive := scopeOf(append(slices.Clone(b.pats), g.recs...))
		cat := string(fhir.People) // only the Patient was selected
		if len(g.recs) > 0 {
			cat = string(g.recs[0].Category)
		}
		out = append(out, shareObject{bundle: js, group: grant.PackageKey{Category: cat, Sensitive: sensitive, ResourceTypes: types}})
	}
	return out, recs, nil
}
