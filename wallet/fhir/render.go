package fhir

import (
	"fmt"
	"regexp"
	"strings"
)

// Field is one labelled line of a detail view.
type Field struct {
	Label, Value string
}

// Detail returns a readable detail view of a resource: a title and labelled
// fields. Common clinical types get curated fields; any other type gets its
// top-level simple elements, so nothing is hidden. Dates read "23 Jun
// 2003"; ids and references are left to the FHIR JSON.
func Detail(r Resource) (title string, fields []Field) { return DetailWith(r, nil) }

// DetailWith is [Detail] with a resolver (as [Document.Resolver] makes),
// which names what the resource only references: a prescriber, a reason, a
// report's results. resolve may be nil.
func DetailWith(r Resource, resolve func(ref string) *Resource) (title string, fields []Field) {
	b := r.Body
	add := func(label, value string) {
		if value = strings.TrimSpace(value); value != "" {
			fields = append(fields, Field{label, value})
		}
	}
	named := func(ref *Object) string { return refName(ref, resolve) }
	name := conceptText(primaryCode(r.Type, b))
	title = name
	date := HumanDate(dateOf(r.Type, b))
	hd := func(el string) string { return HumanDate(str(b, el)) }
	switch r.Type {
	case "Patient":
		title = humanName(b)
		add("Born", hd("birthDate"))
		add("Gender", str(b, "gender"))
		add("Deceased", hd("deceasedDateTime"))
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
		value := observationValue(b)
		if f := ResultFlag(r); f != "" {
			value += " (" + f + ")"
		}
		add("Value", value)
		for _, c := range arr(b, "component") {
			co := obj(c)
			add(conceptText(obj(co.Get("code"))), valueText(co))
		}
		if rg, ok := ReferenceRange(r); ok {
			if rg.Typical {
				add("Reference range", rg.String()+" (typical adult range; the lab gave none)")
			} else {
				add("Reference range", rg.String())
			}
		} else if rr := first(b, "referenceRange"); rr != nil {
			add("Reference range", rangeText(rr))
		}
		add("Date", date)
		add("Kind", plainCategories(fhirCategories(b)))
		add("Status", str(b, "status"))
		add("Performed by", named(first(b, "performer")))
	case "Condition":
		add("Clinical status", conceptText(obj(b.Get("clinicalStatus"))))
		add("Verification", conceptText(obj(b.Get("verificationStatus"))))
		add("Severity", conceptText(obj(b.Get("severity"))))
		add("Onset", hd("onsetDateTime"))
		add("Resolved", hd("abatementDateTime"))
		add("Recorded", hd("recordedDate"))
	case "MedicationRequest", "MedicationStatement", "MedicationAdministration", "MedicationDispense":
		if name == "" {
			if med := resolveRef(obj(b.Get("medicationReference")), resolve); med != nil {
				title = conceptText(primaryCode(med.Type, med.Body))
			}
		}
		add("Dose", DoseText(b, title))
		add("Status", str(b, "status"))
		add("Prescribed by", named(obj(b.Get("requester"))))
		add("Reason", reasonText(b, resolve))
		add("Date", date)
		if p := obj(b.Get("effectivePeriod")); p != nil {
			add("Until", HumanDate(str(p, "end")))
		}
		if dr := obj(b.Get("dispenseRequest")); dr != nil {
			if n := num(dr, "numberOfRepeatsAllowed"); n != "" {
				add("Refills allowed", n)
			}
		}
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
		add("Given by", named(obj(first(b, "performer").Get("actor"))))
		add("Where", named(obj(b.Get("location"))))
	case "Procedure":
		add("Status", str(b, "status"))
		add("Date", date)
		add("Reason", reasonText(b, resolve))
		add("Outcome", conceptText(obj(b.Get("outcome"))))
	case "DiagnosticReport":
		add("Status", str(b, "status"))
		add("Date", date)
		add("Kind", plainCategories(fhirCategories(b)))
		for _, res := range arr(b, "result") {
			ro := obj(res)
			if o := resolveRef(ro, resolve); o != nil {
				n, v := readable(*o, "")
				add("Result", join(n, v))
			} else {
				add("Result", str(ro, "display"))
			}
		}
		add("Conclusion", str(b, "conclusion"))
	case "Encounter":
		title, _ = readable(r, "")
		add("Type", name)
		if c := obj(b.Get("class")); c != nil {
			add("Class", join(str(c, "display"), str(c, "code")))
		}
		add("Status", str(b, "status"))
		if p := obj(b.Get("period")); p != nil {
			add("Start", HumanDate(str(p, "start")))
			add("End", HumanDate(str(p, "end")))
		}
		add("Reason", reasonText(b, resolve))
		for _, p := range arr(b, "participant") {
			add("Seen by", named(obj(obj(p).Get("individual"))))
		}
		add("Provider", named(obj(b.Get("serviceProvider"))))
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
				if k != "resourceType" && k != "id" && !uuidLike.MatchString(v) {
					add(fieldLabel(k), HumanDate(v))
				}
			case *Object:
				if t := conceptText(v); t != "" {
					add(fieldLabel(k), t)
				} else if s := named(v); s != "" {
					add(fieldLabel(k), s)
				} else if s := str(v, "start"); s != "" {
					add(fieldLabel(k), join(HumanDate(s), HumanDate(str(v, "end"))))
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

// uuidLike matches ids and references that mean nothing to a reader.
var uuidLike = regexp.MustCompile(`(?i)(urn:uuid:|^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$)`)

// fieldLabel turns an element name into a label: "lotNumber" reads "Lot number".
func fieldLabel(k string) string {
	p := PlainType(k)
	return strings.ToUpper(p[:1]) + p[1:]
}

// plainCategories reads FHIR category codes: "vital-signs" reads "Vital signs".
func plainCategories(codes []string) string {
	out := make([]string, len(codes))
	for i, c := range codes {
		c = strings.ReplaceAll(c, "-", " ")
		if c != "" {
			c = strings.ToUpper(c[:1]) + c[1:]
		}
		out[i] = c
	}
	return strings.Join(out, ", ")
}

// resolveRef finds what a Reference points to, or nil.
func resolveRef(ref *Object, resolve func(string) *Resource) *Resource {
	if ref == nil || resolve == nil {
		return nil
	}
	return resolve(str(ref, "reference"))
}

// refName names what a Reference points to: its display, or the name of the
// resolved resource. It is "" rather than an id.
func refName(ref *Object, resolve func(string) *Resource) string {
	if ref == nil {
		return ""
	}
	if d := str(ref, "display"); d != "" {
		return d
	}
	if t := resolveRef(ref, resolve); t != nil {
		n, _ := readable(*t, "")
		if n != PlainType(t.Type) {
			return n
		}
	}
	return ""
}

// reasonText is why something was done: reasonCode, or the names of the
// conditions reasonReference points to.
func reasonText(b *Object, resolve func(string) *Resource) string {
	var out []string
	for _, c := range arr(b, "reasonCode") {
		out = append(out, conceptText(obj(c)))
	}
	for _, ref := range arr(b, "reasonReference") {
		out = append(out, refName(obj(ref), resolve))
	}
	return join(out...)
}
