package fhir

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"html"
	"strings"
	"time"
)

// Package is a share package: a FHIR Bundle of chosen resources.
type Package struct {
	ID        string
	Type      string // "collection" or "document"
	Timestamp time.Time
	Entries   []Entry
}

// Entry is one resource of a package with the fullUrl it has there.
type Entry struct {
	FullURL  string
	Resource Resource
}

// NewUUID returns a random RFC 4122 version 4 UUID.
func NewUUID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("fhir: failed to read randomness: " + err.Error())
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// BuildCollection returns a "collection" Bundle holding the patients and
// then the selected resources (each once), with references resolved inside
// the Bundle and dangling ones pruned (see [Resolve]).
func BuildCollection(patients, selected []Resource, now time.Time) (*Package, error) {
	p := &Package{ID: NewUUID(), Type: "collection", Timestamp: now.UTC()}
	p.add(patients...)
	p.add(selected...)
	if err := p.resolve(); err != nil {
		return nil, err
	}
	return p, nil
}

// Merge joins collection Bundles split from one package (each a part of its
// entries) back into one: the first Bundle's id and timestamp, each entry
// once (the first with its fullUrl), in the order the Bundles give them,
// references resolved inside the result and those to entries it does not
// hold pruned (see [BuildCollection]).
func Merge(bundles [][]byte) (*Package, error) {
	p := &Package{Type: "collection"}
	seen := map[string]bool{}
	for i, b := range bundles {
		root, err := decodeObject(b)
		if err != nil {
			return nil, fmt.Errorf("%w: part %d: %v", ErrNotFHIR, i+1, err)
		}
		if str(root, "resourceType") != "Bundle" || str(root, "type") != "collection" {
			return nil, fmt.Errorf("%w: part %d is not a collection Bundle", ErrNotFHIR, i+1)
		}
		if i == 0 {
			p.ID = str(root, "id")
			if p.Timestamp, err = time.Parse(time.RFC3339, str(root, "timestamp")); err != nil {
				return nil, fmt.Errorf("%w: part %d: timestamp: %v", ErrNotFHIR, i+1, err)
			}
		}
		doc, err := Parse(b)
		if err != nil {
			return nil, err
		}
		for j, r := range doc.Resources {
			key := r.FullURL
			if key == "" {
				key = fmt.Sprintf("#%d/%d", i, j)
			}
			if seen[key] {
				continue
			}
			seen[key] = true
			p.Entries = append(p.Entries, Entry{FullURL: r.FullURL, Resource: r})
		}
	}
	if err := p.resolve(); err != nil {
		return nil, err
	}
	return p, nil
}

// add appends resources not yet in the package, keeping a fullUrl that is a
// urn:uuid or absolute URL, and giving the others a fresh urn:uuid.
func (p *Package) add(rs ...Resource) {
	seen := map[string]bool{}
	for _, e := range p.Entries {
		seen[e.Resource.Type+"/"+e.Resource.ID] = true
	}
	for _, r := range rs {
		key := r.Type + "/" + r.ID
		if r.ID != "" && seen[key] {
			continue
		}
		seen[key] = true
		full := r.FullURL
		if !strings.HasPrefix(full, "urn:uuid:") && !strings.HasPrefix(full, "http://") && !strings.HasPrefix(full, "https://") {
			full = "urn:uuid:" + NewUUID()
		}
		// Copy: resolving rewrites references.
		c, err := ParseResource(r.JSON())
		if err != nil {
			continue
		}
		c.FullURL = full
		p.Entries = append(p.Entries, Entry{FullURL: full, Resource: c})
	}
}

// resolve rewrites every reference to the fullUrl of the entry it names,
// and prunes references to resources outside the package: the reference is
// removed, a Reference left empty is removed, and a display text stays.
func (p *Package) resolve() error {
	doc := &Document{}
	for _, e := range p.Entries {
		doc.Resources = append(doc.Resources, e.Resource)
	}
	find := doc.Resolver()
	for _, e := range p.Entries {
		pruneRefs(e.Resource.Body, find)
	}
	return nil
}

// pruneRefs walks o, resolving and pruning references; it reports whether
// o became empty.
func pruneRefs(o *Object, find func(string) *Resource) bool {
	if ref, ok := o.Get("reference").(string); ok && !strings.HasPrefix(ref, "#") {
		if t := find(ref); t != nil {
			o.Set("reference", t.FullURL)
		} else {
			o.Delete("reference")
			o.Delete("type")
			if o.Len() == 0 {
				return true
			}
		}
	}
	for _, k := range append([]string(nil), o.Keys()...) {
		switch v := o.Get(k).(type) {
		case *Object:
			if pruneRefs(v, find) {
				o.Delete(k)
			}
		case []any:
			kept := v[:0]
			for _, e := range v {
				if eo := obj(e); eo != nil && pruneRefs(eo, find) {
					continue
				}
				kept = append(kept, e)
			}
			if len(kept) == 0 {
				o.Delete(k)
			} else {
				o.Set(k, kept)
			}
		}
	}
	return o.Len() == 0
}

// JSON returns the package as a FHIR Bundle.
func (p *Package) JSON() ([]byte, error) {
	b := NewObject()
	b.Set("resourceType", "Bundle")
	b.Set("id", p.ID)
	meta := NewObject()
	meta.Set("lastUpdated", p.Timestamp.Format(time.RFC3339))
	b.Set("meta", meta)
	if p.Type == "document" {
		id := NewObject()
		id.Set("system", "urn:ietf:rfc:3986")
		id.Set("value", "urn:uuid:"+p.ID)
		b.Set("identifier", id)
	}
	b.Set("type", p.Type)
	b.Set("timestamp", p.Timestamp.Format(time.RFC3339))
	var entries []any
	for _, e := range p.Entries {
		eo := NewObject()
		eo.Set("fullUrl", e.FullURL)
		eo.Set("resource", e.Resource.Body)
		entries = append(entries, eo)
	}
	b.Set("entry", entries)
	return json.MarshalIndent(b, "", "  ")
}

// IPS section codes (LOINC) and what goes in each, in document order.
var ipsSections = []struct {
	code, title string
	required    bool
	types       []string
	category    Category
}{
	{"48765-2", "Allergies and Intolerances", true, []string{"AllergyIntolerance"}, ""},
	{"10160-0", "Medication Summary", true, []string{"MedicationStatement", "MedicationRequest"}, ""},
	{"11450-4", "Problem List", true, []string{"Condition"}, ""},
	{"11369-6", "History of Immunizations", false, []string{"Immunization"}, ""},
	{"47519-4", "History of Procedures", false, []string{"Procedure"}, ""},
	{"30954-2", "Results", false, []string{"Observation", "DiagnosticReport"}, Labs},
}

// IPSTypes reports whether a resource belongs in an International Patient
// Summary built by BuildIPS (Medications referenced by statements come
// along too).
func IPSTypes(x Index) bool {
	for _, s := range ipsSections {
		for _, t := range s.types {
			if t == x.Type && (s.category == "" || s.category == x.Category) {
				return true
			}
		}
	}
	return x.Type == "Medication"
}

// BuildIPS returns an International Patient Summary shaped "document"
// Bundle (HL7 IPS): a Composition (LOINC 60591-5) authored by the patient,
// with sections for allergies, medications and problems (each present,
// with an empty reason when there is nothing), immunizations, procedures
// and results when present, then the Patient and the selected resources.
func BuildIPS(patient Resource, selected []Resource, now time.Time) (*Package, error) {
	p := &Package{ID: NewUUID(), Type: "document", Timestamp: now.UTC()}
	comp := Resource{Type: "Composition", ID: NewUUID(), Body: NewObject()}
	comp.FullURL = "urn:uuid:" + comp.ID
	p.Entries = append(p.Entries, Entry{FullURL: comp.FullURL, Resource: comp})
	p.add(patient)
	p.add(selected...)
	if err := p.resolve(); err != nil {
		return nil, err
	}
	pat := p.Entries[1]
	c := comp.Body
	c.Set("resourceType", "Composition")
	c.Set("id", comp.ID)
	c.Set("status", "final")
	c.Set("type", concept("http://loinc.org", "60591-5", "Patient summary Document"))
	c.Set("subject", reference(pat.FullURL, Summary(pat.Resource)))
	c.Set("date", p.Timestamp.Format(time.RFC3339))
	c.Set("author", []any{reference(pat.FullURL, Summary(pat.Resource))})
	c.Set("title", "Patient Summary as of "+p.Timestamp.Format("2 January 2006"))
	var sections []any
	for _, s := range ipsSections {
		sec := NewObject()
		sec.Set("title", s.title)
		sec.Set("code", concept("http://loinc.org", s.code, s.title))
		var refs []any
		var items []string
		for _, e := range p.Entries[2:] {
			x := IndexOf(e.Resource, nil)
			for _, t := range s.types {
				if t == x.Type && (s.category == "" || s.category == x.Category) {
					refs = append(refs, reference(e.FullURL, ""))
					items = append(items, "<li>"+html.EscapeString(x.Summary)+"</li>")
				}
			}
		}
		if len(refs) == 0 && !s.required {
			continue
		}
		text := NewObject()
		text.Set("status", "generated")
		if len(refs) == 0 {
			text.Set("div", `<div xmlns="http://www.w3.org/1999/xhtml">No information.</div>`)
			sec.Set("text", text)
			sec.Set("emptyReason", concept("http://terminology.hl7.org/CodeSystem/list-empty-reason", "unavailable", "Unavailable"))
		} else {
			text.Set("div", `<div xmlns="http://www.w3.org/1999/xhtml"><ul>`+strings.Join(items, "")+`</ul></div>`)
			sec.Set("text", text)
			sec.Set("entry", refs)
		}
		sections = append(sections, sec)
	}
	c.Set("section", sections)
	return p, nil
}

func concept(system, code, display string) *Object {
	coding := NewObject()
	coding.Set("system", system)
	coding.Set("code", code)
	coding.Set("display", display)
	cc := NewObject()
	cc.Set("coding", []any{coding})
	return cc
}

func reference(ref, display string) *Object {
	o := NewObject()
	o.Set("reference", ref)
	if display != "" {
		o.Set("display", display)
	}
	return o
}
