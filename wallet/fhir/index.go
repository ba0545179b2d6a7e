package fhir

import (
	"strconv"
	"strings"
)

// Category is healthwallet's grouping of resources for browsing and
// sharing. It is coarser than FHIR's own category elements, which are kept
// in [Index.FHIRCategories].
type Category string

// Categories, in the order the app lists them.
const (
	Labs          Category = "labs"
	Vitals        Category = "vitals"
	Medications   Category = "medications"
	Problems      Category = "problems"
	Allergies     Category = "allergies"
	Immunizations Category = "immunizations"
	Procedures    Category = "procedures"
	Encounters    Category = "encounters"
	Documents     Category = "documents"
	CarePlans     Category = "care-plans"
	Imaging       Category = "imaging"
	SocialHistory Category = "social-history"
	Billing       Category = "billing"
	People        Category = "people"
	Other         Category = "other"
)

// AllCategories lists every Category.
var AllCategories = []Category{Labs, Vitals, Medications, Problems, Allergies, Immunizations, Procedures,
	Encounters, Documents, CarePlans, Imaging, SocialHistory, Billing, People, Other}

// Index is what the wallet's catalog keeps about one resource so it can
// list, search, filter and share without decrypting the resource.
type Index struct {
	Type           string      `json:"type"`
	ID             string      `json:"id,omitempty"`
	FullURL        string      `json:"fullUrl,omitempty"`
	Date           string      `json:"date,omitempty"` // as written in the resource: YYYY, YYYY-MM, YYYY-MM-DD or a dateTime
	System         string      `json:"system,omitempty"`
	Code           string      `json:"code,omitempty"`
	Display        string      `json:"display,omitempty"`
	Category       Category    `json:"category"`
	FHIRCategories []string    `json:"fhirCategories,omitempty"`
	Status         string      `json:"status,omitempty"`
	Subject        string      `json:"subject,omitempty"` // reference to the Patient, as written
	Sensitive      []Sensitive `json:"sensitive,omitempty"`
	Summary        string      `json:"summary"`
	// Name, Value and Flag are the readable parts of Summary, for lists that
	// put the value in a column of its own: "Hemoglobin A1c", "7.2 %",
	// "high"; "Simvastatin 10 MG", "1 tablet once a day". Records indexed
	// before they existed have only Summary.
	Name  string `json:"name,omitempty"`
	Value string `json:"value,omitempty"`
	Flag  string `json:"flag,omitempty"` // "high", "low", "abnormal", …: a result out of range
	// Number is a numeric result in Unit, for trends of one test over time.
	Number *float64 `json:"number,omitempty"`
	Unit   string   `json:"unit,omitempty"`
}

// Day returns the YYYY-MM-DD prefix of Date (or less, if Date is coarser).
func (x Index) Day() string { return day(x.Date) }

func day(d string) string {
	if len(d) > 10 {
		return d[:10]
	}
	return d
}

// IndexOf indexes a resource. resolve, if not nil, finds other resources
// of the same document by reference (see [Document.Resolver]); it names a
// medication given only by reference.
func IndexOf(r Resource, resolve func(ref string) *Resource) Index {
	b := r.Body
	x := Index{Type: r.Type, ID: r.ID, FullURL: r.FullURL, Date: dateOf(r.Type, b), Status: statusOf(b)}
	if c := primaryCode(r.Type, b); c != nil {
		x.System, x.Code, x.Display = codingOf(c)
	}
	var medName string
	if mr := obj(b.Get("medicationReference")); mr != nil && resolve != nil && !b.Has("medicationCodeableConcept") {
		if med := resolve(str(mr, "reference")); med != nil {
			if c := primaryCode(med.Type, med.Body); c != nil {
				medName = conceptText(c)
				if x.Display == "" {
					x.System, x.Code, x.Display = codingOf(c)
				}
			}
		}
	}
	x.FHIRCategories = fhirCategories(b)
	x.Category = categorize(r.Type, x.FHIRCategories)
	if s := obj(b.Get("subject")); s != nil {
		x.Subject = str(s, "reference")
	} else if p := obj(b.Get("patient")); p != nil {
		x.Subject = str(p, "reference")
	}
	x.Sensitive = Sensitivity(r, medName)
	x.Summary = Summary(r)
	if medName != "" && !strings.HasPrefix(x.Summary, medName) {
		x.Summary = join(medName, x.Summary)
	}
	x.Name, x.Value = readable(r, medName)
	if r.Type == "Observation" {
		x.Flag = ResultFlag(r)
		if q := obj(b.Get("valueQuantity")); q != nil {
			if v, err := strconv.ParseFloat(num(q, "value"), 64); err == nil {
				x.Number, x.Unit = &v, unitOf(q)
			}
		}
	}
	return x
}

// readable returns a resource's name and value as lists show them: the
// value is what sits in the right column (a result, a dose, a status).
func readable(r Resource, medName string) (name, value string) {
	b := r.Body
	name = conceptText(primaryCode(r.Type, b))
	if name == "" {
		name = medName
	}
	switch r.Type {
	case "Observation":
		value = observationValue(b)
	case "Condition":
		value = statusOf(b)
	case "MedicationRequest", "MedicationStatement", "MedicationAdministration", "MedicationDispense":
		value = DoseText(b, name)
	case "AllergyIntolerance":
		if c := str(b, "criticality"); c == "high" {
			value = "high risk"
		} else {
			value = statusOf(b)
		}
	case "Encounter":
		name = strings.TrimPrefix(Summary(r), "Encounter: ")
		if i := strings.Index(name, " · "); i >= 0 {
			name = name[:i]
		}
	case "DiagnosticReport":
		value = plural(len(arr(b, "result")), "result")
	case "Claim", "ExplanationOfBenefit":
		name = "Claim"
		if r.Type == "ExplanationOfBenefit" {
			name = "Insurance statement"
		}
		value = money(obj(b.Get("total")))
	case "Patient", "Practitioner", "RelatedPerson":
		name = humanName(b)
		value = prefixed("born ", HumanDate(str(b, "birthDate")))
	case "Organization", "Location":
		name = str(b, "name")
	case "CarePlan", "CareTeam", "Goal":
		value = statusOf(b)
	case "DocumentReference":
		if d := str(b, "description"); d != "" {
			name = d
		}
	case "Composition":
		name = str(b, "title")
	}
	if name == "" {
		name = PlainType(r.Type)
	}
	return name, value
}

// dateElements lists, per type, the elements that carry its clinically
// relevant date, best first. Period and Range-like values use their start.
var dateElements = map[string][]string{
	"Observation":              {"effectiveDateTime", "effectivePeriod", "effectiveInstant", "issued"},
	"Condition":                {"onsetDateTime", "onsetPeriod", "recordedDate", "abatementDateTime"},
	"MedicationRequest":        {"authoredOn"},
	"MedicationStatement":      {"effectiveDateTime", "effectivePeriod", "dateAsserted"},
	"MedicationAdministration": {"effectiveDateTime", "effectivePeriod"},
	"MedicationDispense":       {"whenHandedOver", "whenPrepared"},
	"AllergyIntolerance":       {"onsetDateTime", "recordedDate", "lastOccurrence"},
	"Immunization":             {"occurrenceDateTime", "recorded"},
	"Procedure":                {"performedDateTime", "performedPeriod"},
	"DiagnosticReport":         {"effectiveDateTime", "effectivePeriod", "issued"},
	"Encounter":                {"period"},
	"DocumentReference":        {"date", "context"},
	"Composition":              {"date"},
	"CarePlan":                 {"period", "created"},
	"CareTeam":                 {"period"},
	"Goal":                     {"startDate", "statusDate"},
	"ImagingStudy":             {"started"},
	"Claim":                    {"created", "billablePeriod"},
	"ExplanationOfBenefit":     {"created", "billablePeriod"},
	"Patient":                  {"birthDate"},
	"Coverage":                 {"period"},
	"Device":                   {"manufactureDate"},
	"Bundle":                   {"timestamp"},
}

func dateOf(rt string, b *Object) string {
	for _, el := range dateElements[rt] {
		switch v := b.Get(el).(type) {
		case string:
			return v
		case *Object:
			if s := str(v, "start"); s != "" {
				return s
			}
			if el == "context" {
				if p := obj(v.Get("period")); p != nil {
					return str(p, "start")
				}
			}
		}
	}
	for _, el := range []string{"date", "effectiveDateTime", "issued", "created", "recorded"} {
		if s := str(b, el); s != "" {
			return s
		}
	}
	if m := obj(b.Get("meta")); m != nil {
		return str(m, "lastUpdated")
	}
	return ""
}

func statusOf(b *Object) string {
	for _, el := range []string{"clinicalStatus", "verificationStatus"} {
		if cc := obj(b.Get(el)); cc != nil {
			if _, code, display := codingOf(cc); code != "" {
				return code
			} else if display != "" {
				return display
			}
		}
	}
	if s := str(b, "status"); s != "" {
		return s
	}
	return str(b, "lifecycleStatus")
}

// primaryCode returns the CodeableConcept that names what the resource is.
func primaryCode(rt string, b *Object) *Object {
	for _, el := range []string{"code", "medicationCodeableConcept", "vaccineCode", "type"} {
		if rt == "Encounter" && el == "code" {
			continue
		}
		if cc := first(b, el); cc != nil && (cc.Has("coding") || cc.Has("text")) {
			return cc
		}
	}
	if mr := obj(b.Get("medicationReference")); mr != nil && str(mr, "display") != "" {
		o := NewObject()
		o.Set("text", str(mr, "display"))
		return o
	}
	if rt == "Goal" {
		return obj(b.Get("description"))
	}
	if rt == "CarePlan" || rt == "CareTeam" {
		return first(b, "category")
	}
	if rt == "ImagingStudy" {
		return first(b, "procedureCode")
	}
	return nil
}

// codingOf returns system, code and display of a CodeableConcept: the first
// coding with a code, and its display (or the concept's text).
func codingOf(cc *Object) (system, code, display string) {
	for _, c := range arr(cc, "coding") {
		co := obj(c)
		if co == nil || str(co, "code") == "" && str(co, "display") == "" {
			continue
		}
		system, code, display = str(co, "system"), str(co, "code"), str(co, "display")
		break
	}
	if display == "" {
		display = str(cc, "text")
	}
	return
}

// codings returns every coding of every CodeableConcept in v (an object or
// array of them).
func codings(v any) []*Object {
	var out []*Object
	switch t := v.(type) {
	case []any:
		for _, e := range t {
			out = append(out, codings(e)...)
		}
	case *Object:
		for _, c := range arr(t, "coding") {
			if co := obj(c); co != nil {
				out = append(out, co)
			}
		}
	}
	return out
}

func fhirCategories(b *Object) []string {
	var out []string
	for _, c := range codings(b.Get("category")) {
		if code := str(c, "code"); code != "" {
			out = append(out, code)
		}
	}
	return out
}

func categorize(rt string, fhirCats []string) Category {
	has := func(codes ...string) bool {
		for _, c := range fhirCats {
			for _, want := range codes {
				if strings.EqualFold(c, want) {
					return true
				}
			}
		}
		return false
	}
	switch rt {
	case "Observation":
		switch {
		case has("vital-signs"):
			return Vitals
		case has("social-history"):
			return SocialHistory
		case has("imaging"):
			return Imaging
		}
		return Labs
	case "DiagnosticReport":
		if has("RAD", "imaging", "LP29684-5") {
			return Imaging
		}
		return Labs
	case "Specimen", "MolecularSequence":
		return Labs
	case "MedicationRequest", "MedicationStatement", "MedicationAdministration", "MedicationDispense", "Medication":
		return Medications
	case "Condition":
		return Problems
	case "AllergyIntolerance":
		return Allergies
	case "Immunization", "ImmunizationRecommendation":
		return Immunizations
	case "Procedure":
		return Procedures
	case "Encounter", "EpisodeOfCare", "Appointment":
		return Encounters
	case "DocumentReference", "Composition", "Binary", "Bundle":
		return Documents
	case "CarePlan", "CareTeam", "Goal", "ServiceRequest":
		return CarePlans
	case "ImagingStudy", "Media":
		return Imaging
	case "Claim", "ExplanationOfBenefit", "Coverage", "Account", "Invoice":
		return Billing
	case "Patient", "Practitioner", "PractitionerRole", "Organization", "Location", "RelatedPerson", "Device":
		return People
	}
	return Other
}
