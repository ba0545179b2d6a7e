package fhir

import (
	"fmt"
	"strconv"
	"strings"
)

// Summary returns a readable one-line description of a resource, such as
// "Hemoglobin A1c 5.9 % · 2019-03-02" or "Amoxicillin 500 mg · active".
// Unknown types get "Type · display · date".
func Summary(r Resource) string {
	b := r.Body
	d := day(dateOf(r.Type, b))
	name := conceptText(primaryCode(r.Type, b))
	switch r.Type {
	case "Observation":
		return join(strings.TrimSpace(name+" "+observationValue(b)), d)
	case "Condition":
		return join(name, statusOf(b), prefixed("onset ", d))
	case "MedicationRequest", "MedicationStatement", "MedicationAdministration", "MedicationDispense":
		return join(name, statusOf(b), dosage(b))
	case "Medication":
		return join(name, str(b, "status"))
	case "AllergyIntolerance":
		return join(name, str(b, "criticality"), statusOf(b))
	case "Immunization":
		return join(name, d)
	case "Procedure":
		return join(name, d)
	case "DiagnosticReport":
		n := len(arr(b, "result"))
		return join(name, d, plural(n, "result"))
	case "Encounter":
		what := name
		if what == "" {
			if c := obj(b.Get("class")); c != nil {
				what = str(c, "display")
				if what == "" {
					what = str(c, "code")
				}
			}
		}
		return join(strings.TrimSpace("Encounter: "+what), d)
	case "DocumentReference":
		desc := str(b, "description")
		if desc == "" {
			desc = name
		}
		var ct string
		if c := first(b, "content"); c != nil {
			if a := obj(c.Get("attachment")); a != nil {
				ct = str(a, "contentType")
				if desc == "" {
					desc = str(a, "title")
				}
			}
		}
		return join(desc, d, ct)
	case "Composition":
		return join(str(b, "title"), d)
	case "Patient", "Practitioner", "RelatedPerson":
		return join(humanName(b), prefixed("born ", str(b, "birthDate")), str(b, "gender"))
	case "Organization", "Location":
		return str(b, "name")
	case "Claim", "ExplanationOfBenefit":
		label := "Claim"
		if r.Type == "ExplanationOfBenefit" {
			label = "Explanation of benefit"
		}
		return join(label, money(obj(b.Get("total"))), d)
	case "CarePlan", "CareTeam":
		return join(name, statusOf(b), d)
	case "Goal":
		return join(name, statusOf(b))
	case "ImagingStudy":
		return join(name, d, plural(len(arr(b, "series")), "series"))
	}
	return join(r.Type, name, d)
}

func observationValue(b *Object) string {
	if v := valueText(b); v != "" {
		return v
	}
	var parts []string
	unit := ""
	sameUnit := true
	comps := arr(b, "component")
	// Blood pressure reads systolic/diastolic whatever the order stored.
	if len(comps) == 2 && componentCode(comps[0]) == "8462-4" && componentCode(comps[1]) == "8480-6" {
		comps = []any{comps[1], comps[0]}
	}
	for _, c := range comps {
		co := obj(c)
		if q := obj(co.Get("valueQuantity")); q != nil {
			parts = append(parts, shortNumber(num(q, "value")))
			u := unitOf(q)
			if unit != "" && u != unit {
				sameUnit = false
			}
			unit = u
		} else if v := valueText(co); v != "" {
			parts = append(parts, v)
			sameUnit = false
		}
	}
	if len(parts) == 0 {
		return ""
	}
	if sameUnit && unit != "" {
		return strings.Join(parts, "/") + " " + unit
	}
	return strings.Join(parts, ", ")
}

// valueText renders value[x] of an Observation or component.
func valueText(b *Object) string {
	if q := obj(b.Get("valueQuantity")); q != nil {
		return strings.TrimSpace(shortNumber(num(q, "value")) + " " + unitOf(q))
	}
	if cc := obj(b.Get("valueCodeableConcept")); cc != nil {
		return conceptText(cc)
	}
	for _, k := range []string{"valueString", "valueDateTime", "valueTime"} {
		if s := str(b, k); s != "" {
			return s
		}
	}
	if v, ok := b.Get("valueBoolean").(bool); ok {
		return fmt.Sprint(v)
	}
	if n := num(b, "valueInteger"); n != "" {
		return n
	}
	return ""
}

func componentCode(c any) string {
	_, code, _ := codingOf(obj(obj(c).Get("code")))
	return code
}

// ucumReadable spells common UCUM units the way people write them.
var ucumReadable = map[string]string{"mm[Hg]": "mmHg", "[degF]": "°F", "Cel": "°C", "kg/m2": "kg/m²", "/min": "/min", "[lb_av]": "lb", "[in_i]": "in"}

// unitOf returns a quantity's human unit; a UCUM annotation such as
// "{score}" reads as "score".
func unitOf(q *Object) string {
	u := str(q, "unit")
	if u == "" {
		u = str(q, "code")
	}
	if r, ok := ucumReadable[u]; ok {
		return r
	}
	if strings.HasPrefix(u, "{") && strings.HasSuffix(u, "}") {
		u = u[1 : len(u)-1]
	}
	return u
}

// shortNumber keeps at most two decimals for reading: 161.10790587776563
// reads 161.11. The stored resource keeps full precision.
func shortNumber(n string) string {
	i := strings.IndexByte(n, '.')
	if i < 0 || len(n)-i-1 <= 2 || strings.ContainsAny(n, "eE") {
		return n
	}
	f, err := strconv.ParseFloat(n, 64)
	if err != nil {
		return n
	}
	return strconv.FormatFloat(f, 'f', 2, 64)
}

func dosage(b *Object) string {
	for _, el := range []string{"dosageInstruction", "dosage"} {
		if d := first(b, el); d != nil {
			return str(d, "text")
		}
	}
	return ""
}

// conceptText returns the display or text of a CodeableConcept (or a
// known CVX vaccine name when a card gives only the code).
func conceptText(cc *Object) string {
	if cc == nil {
		return ""
	}
	if t := str(cc, "text"); t != "" {
		return t
	}
	_, code, display := codingOf(cc)
	if display != "" {
		return display
	}
	if name := cvxName(cc); name != "" {
		return name
	}
	return code
}

func humanName(b *Object) string {
	n := first(b, "name")
	if n == nil {
		return ""
	}
	if t := str(n, "text"); t != "" {
		return t
	}
	var parts []string
	for _, g := range arr(n, "given") {
		if s, ok := g.(string); ok {
			parts = append(parts, s)
		}
	}
	if f := str(n, "family"); f != "" {
		parts = append(parts, f)
	}
	return strings.Join(parts, " ")
}

func money(m *Object) string {
	if m == nil {
		return ""
	}
	return strings.TrimSpace(num(m, "value") + " " + str(m, "currency"))
}

func plural(n int, word string) string {
	switch n {
	case 0:
		return ""
	case 1:
		return "1 " + word
	}
	if strings.HasSuffix(word, "s") {
		return fmt.Sprintf("%d %s", n, word)
	}
	return fmt.Sprintf("%d %ss", n, word)
}

func prefixed(p, s string) string {
	if s == "" {
		return ""
	}
	return p + s
}

// join joins the non-empty parts with " · ".
func join(parts ...string) string {
	var out []string
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, " · ")
}
