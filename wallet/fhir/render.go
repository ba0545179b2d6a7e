package fhir

import (
	"fmt"
	"strings"
)

// Field is one labelled line of a detail view.
type Field struct {
	Label, Value string
}

// Detail returns a readable detail view of a resource: a title and labelled
// fields. Common clinical types get curated fields; any other type gets its
// top-level simple elements, so nothing is hidden.
func Detail(r Resource) (title string, fields []Field) {
	b := r.Body
	add := func(label, value string) {
		if value = strings.TrimSpace(value); value != "" {
			fields = append(fields, Field{label, value})
		}
	}
	name := conceptText(primaryCode(r.Type, b))
	title = name
	date := dateOf(r.Type, b)
	switch r.Type {
	case "Patient":
		title = humanName(b)
		add("Born", str(b, "birthDate"))
		add("Gender", str(b, "gender"))
		add("Deceased", str(b, "deceasedDateTime"))
		for _, t := range arr(b, "telecom") {
			add("Contact", str(obj(t), "value"))
		}
		if a := first(b, "address"); a != nil {
			add("Address", addressText(a))
		}
		for _, c := range arr(b, "communication") {
			add("Language", conceptText(obj(obj(c).Get("language"))))
		}
	case "Observation":
		add("Value", observationValue(b))
		for _, c := range arr(b, "component") {
			co := obj(c)
			add(conceptText(obj(co.Get("code"))), valueText(co))
		}
		if rr := first(b, "referenceRange"); rr != nil {
			add("Reference range", rangeText(rr))
		}
		add("Interpretation", conceptText(first(b, "interpretation")))
		add("Category", strings.Join(fhirCategories(b), ", "))
		add("Status", str(b, "status"))
		add("Date", date)
	case "Condition":
		add("Clinical status", conceptText(obj(b.Get("clinicalStatus"))))
		add("Verification", conceptText(obj(b.Get("verificationStatus"))))
		add("Severity", conceptText(obj(b.Get("severity"))))
		add("Onset", str(b, "onsetDateTime"))
		add("Resolved", str(b, "abatementDateTime"))
		add("Recorded", str(b, "recordedDate"))
	case "MedicationRequest", "MedicationStatement", "MedicationAdministration", "MedicationDispense":
		add("Status", str(b, "status"))
		add("Intent", str(b, "intent"))
		add("Dosage", dosage(b))
		add("Reason", conceptText(first(b, "reasonCode")))
		add("Prescribed by", str(obj(b.Get("requester")), "display"))
		add("Date", date)
	case "AllergyIntolerance":
		add("Clinical status", conceptText(obj(b.Get("clinicalStatus"))))
		add("Type", str(b, "type"))
		add("Category", strings.Join(stringList(b.Get("category")), ", "))
		add("Criticality", str(b, "criticality"))
		for _, rx := range arr(b, "reaction") {
			ro := obj(rx)
			for _, m := range arr(ro, "manifestation") {
				add("Reaction", join(conceptText(obj(m)), str(ro, "severity")))
			}
		}
		add("Recorded", date)
	case "Immunization":
		add("Status", str(b, "status"))
		add("Date", date)
		add("Lot", str(b, "lotNumber"))
		add("Site", conceptText(obj(b.Get("site"))))
		add("Given by", str(obj(first(b, "performer").Get("actor")), "display"))
	case "Procedure":
		add("Status", str(b, "status"))
		add("Date", date)
		add("Reason", conceptText(first(b, "reasonCode")))
		add("Outcome", conceptText(obj(b.Get("outcome"))))
	case "DiagnosticReport":
		add("Status", str(b, "status"))
		add("Date", date)
		add("Category", strings.Join(fhirCategories(b), ", "))
		for _, res := range arr(b, "result") {
			add("Result", str(obj(res), "display"))
		}
		add("Conclusion", str(b, "conclusion"))
	case "Encounter":
		title = strings.TrimPrefix(Summary(r), "Encounter: ")
		add("Type", name)
		if c := obj(b.Get("class")); c != nil {
			add("Class", join(str(c, "display"), str(c, "code")))
		}
		add("Status", str(b, "status"))
		if p := obj(b.Get("period")); p != nil {
			add("Start", str(p, "start"))
			add("End", str(p, "end"))
		}
		add("Reason", conceptText(first(b, "reasonCode")))
		add("Provider", str(obj(b.Get("serviceProvider")), "display"))
	case "DocumentReference":
		title = join(str(b, "description"), name)
		add("Type", name)
		add("Status", str(b, "status"))
		add("Date", date)
		for _, c := range arr(b, "content") {
			if a := obj(obj(c).Get("attachment")); a != nil {
				add("Attachment", join(str(a, "title"), str(a, "contentType"), sizeText(num(a, "size"))))
			}
		}
	default:
		if title == "" {
			title = r.Type
		}
		for _, k := range b.Keys() {
			switch v := b.Get(k).(type) {
			case string:
				if k != "resourceType" && k != "id" {
					add(k, v)
				}
			case *Object:
				if t := conceptText(v); t != "" {
					add(k, t)
				} else if s := str(v, "display"); s != "" {
					add(k, s)
				}
			}
		}
	}
	if title == "" {
		title = Summary(r)
	}
	if title == "" {
		title = r.Type
	}
	add("Resource", r.Type+"/"+r.ID)
	return title, fields
}

func addressText(a *Object) string {
	var parts []string
	parts = append(parts, stringList(a.Get("line"))...)
	for _, k := range []string{"city", "state", "postalCode", "country"} {
		parts = append(parts, str(a, k))
	}
	return join(parts...)
}

func rangeText(rr *Object) string {
	lo, hi := obj(rr.Get("low")), obj(rr.Get("high"))
	switch {
	case lo != nil && hi != nil:
		return fmt.Sprintf("%s–%s %s", num(lo, "value"), num(hi, "value"), unitOf(hi))
	case lo != nil:
		return "≥ " + num(lo, "value") + " " + unitOf(lo)
	case hi != nil:
		return "≤ " + num(hi, "value") + " " + unitOf(hi)
	}
	return str(rr, "text")
}

func sizeText(n string) string {
	if n == "" {
		return ""
	}
	return n + " bytes"
}

func stringList(v any) []string {
	var out []string
	switch t := v.(type) {
	case string:
		out = append(out, t)
	case []any:
		for _, e := range t {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
	}
	return out
}
