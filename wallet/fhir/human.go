package fhir

import (
	"cmp"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

var monthNames = [...]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

// HumanDate reads a FHIR date or dateTime as people write it: "2003-06-23"
// and "2003-06-23T10:15:00-04:00" read "23 Jun 2003", "2003-06" reads
// "Jun 2003" and "2003" stays "2003". The day is the one written in the
// resource, whatever the reader's time zone. Anything else is returned
// unchanged.
func HumanDate(d string) string {
	m := fhirDate.FindStringSubmatch(d)
	if m == nil {
		return d
	}
	if m[2] == "" {
		return m[1]
	}
	mon, _ := strconv.Atoi(m[2])
	if m[3] == "" {
		return monthNames[mon-1] + " " + m[1]
	}
	dd, _ := strconv.Atoi(m[3])
	return strconv.Itoa(dd) + " " + monthNames[mon-1] + " " + m[1]
}

var fhirDate = regexp.MustCompile(`^(\d{4})(?:-(0[1-9]|1[0-2])(?:-(0[1-9]|[12]\d|3[01])(?:T[0-9:.]+(?:Z|[+-]\d{2}:\d{2})?)?)?)?$`)

// isoDates finds the dates written inside a line of text.
var isoDates = regexp.MustCompile(`\b\d{4}-\d{2}-\d{2}(?:T[0-9:.]+(?:Z|[+-]\d{2}:\d{2})?)?\b`)

// HumanText rewrites every ISO date inside s as [HumanDate] does, for
// one-line summaries made before the readable fields existed.
func HumanText(s string) string {
	return isoDates.ReplaceAllStringFunc(s, HumanDate)
}

// plainTypes are the FHIR resource types as a patient names them.
var plainTypes = map[string]string{
	"Observation": "Result or measurement", "DiagnosticReport": "Report",
	"MedicationRequest": "Prescription", "MedicationStatement": "Medication taken",
	"MedicationAdministration": "Medication given", "MedicationDispense": "Medication dispensed",
	"Medication": "Medicine", "Condition": "Problem", "AllergyIntolerance": "Allergy",
	"Immunization": "Immunization", "Procedure": "Procedure", "Encounter": "Visit",
	"DocumentReference": "Document", "Composition": "Summary document", "CarePlan": "Care plan",
	"CareTeam": "Care team", "Goal": "Goal", "ImagingStudy": "Imaging study", "Claim": "Claim",
	"ExplanationOfBenefit": "Insurance statement", "Coverage": "Insurance", "Patient": "Patient",
	"Practitioner": "Clinician", "PractitionerRole": "Clinician's role", "Organization": "Organization",
	"Location": "Place", "Device": "Device", "RelatedPerson": "Relative or carer", "ServiceRequest": "Referral or order",
	"Specimen": "Specimen", "Appointment": "Appointment", "Binary": "File", "Bundle": "Collection",
}

// PlainType names a FHIR resource type in plain words ("Visit" for
// Encounter, "Prescription" for MedicationRequest); an unknown type has its
// words split ("SupplyDelivery" reads "Supply delivery").
func PlainType(rt string) string {
	if p, ok := plainTypes[rt]; ok {
		return p
	}
	var b strings.Builder
	for i, r := range rt {
		if i > 0 && r >= 'A' && r <= 'Z' {
			b.WriteByte(' ')
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// DoseText reads a medication's first dosage instruction as a person says
// it: "1 tablet once a day", "2 puffs every 4 hours as needed". medName
// (the medication's name) gives the dose form when the dose has no unit.
// A written dosage text is used when the instruction is not structured.
func DoseText(b *Object, medName string) string {
	var d *Object
	for _, el := range []string{"dosageInstruction", "dosage"} {
		if d = first(b, el); d != nil {
			break
		}
	}
	if d == nil {
		return ""
	}
	var parts []string
	if dr := first(d, "doseAndRate"); dr != nil {
		if q := obj(dr.Get("doseQuantity")); q != nil {
			n := shortNumber(num(q, "value"))
			if f, err := strconv.ParseFloat(n, 64); err == nil {
				n = strconv.FormatFloat(f, 'f', -1, 64) // "1.0" reads "1"
			}
			unit := unitOf(q)
			if unit == "" { // a count of the medication's dose form
				unit = cmp.Or(doseForm(medName), "dose")
				if n != "1" {
					unit = pluralUnit(unit)
				}
			}
			parts = append(parts, strings.TrimSpace(n+" "+unit))
		}
	}
	if t := obj(d.Get("timing")); t != nil {
		if rep := obj(t.Get("repeat")); rep != nil {
			parts = append(parts, frequencyText(rep))
		} else if c := obj(t.Get("code")); c != nil {
			parts = append(parts, conceptText(c))
		}
	}
	if v, ok := d.Get("asNeededBoolean").(bool); ok && v {
		parts = append(parts, "as needed")
	} else if c := obj(d.Get("asNeededCodeableConcept")); c != nil {
		parts = append(parts, "as needed for "+conceptText(c))
	}
	s := strings.Join(nonEmpty(parts), " ")
	if len(parts) == 0 || s == "as needed" && str(d, "text") != "" {
		if t := str(d, "text"); t != "" {
			return t
		}
	}
	return s
}

func nonEmpty(ss []string) []string {
	out := ss[:0]
	for _, s := range ss {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// doseForms maps words of a medication's name to the unit of one dose.
var doseForms = []struct{ word, unit string }{
	{"inhaler", "puff"}, {"inhalant", "puff"}, {"inhalation", "puff"}, {"tablet", "tablet"}, {"capsule", "capsule"},
	{"injection", "injection"}, {"injectable", "injection"}, {"prefilled syringe", "injection"}, {"patch", "patch"},
	{"cream", "application"}, {"ointment", "application"}, {"topical", "application"}, {"spray", "spray"},
	{"drops", "drop"}, {"suppository", "suppository"}, {"lozenge", "lozenge"}, {"chewable", "tablet"},
}

func doseForm(medName string) string {
	n := strings.ToLower(medName)
	for _, f := range doseForms {
		if strings.Contains(n, f.word) {
			return f.unit
		}
	}
	return ""
}

func pluralUnit(u string) string {
	switch {
	case strings.HasSuffix(u, "s"):
		return u
	case strings.HasSuffix(u, "ch"):
		return u + "es"
	}
	return u + "s"
}

var periodUnits = map[string][2]string{
	"s": {"second", "seconds"}, "min": {"minute", "minutes"}, "h": {"hour", "hours"}, "d": {"day", "days"},
	"wk": {"week", "weeks"}, "mo": {"month", "months"}, "a": {"year", "years"},
}

// frequencyText reads a Timing.repeat: "once a day", "twice a day",
// "3 times a day", "every 4 hours", "every 2 days".
func frequencyText(rep *Object) string {
	f, _ := strconv.ParseFloat(num(rep, "frequency"), 64)
	p, _ := strconv.ParseFloat(num(rep, "period"), 64)
	u, ok := periodUnits[str(rep, "periodUnit")]
	if !ok || p <= 0 {
		return ""
	}
	if f == 0 {
		f = 1
	}
	if p != 1 {
		ps := strconv.FormatFloat(p, 'f', -1, 64)
		if f == 1 {
			return "every " + ps + " " + u[1]
		}
		return fmt.Sprintf("%s times every %s %s", strconv.FormatFloat(f, 'f', -1, 64), ps, u[1])
	}
	switch f {
	case 1:
		return "once a " + u[0]
	case 2:
		return "twice a " + u[0]
	}
	return strconv.FormatFloat(f, 'f', -1, 64) + " times a " + u[0]
}

// Range is a reference range of a numeric result. A nil bound is open.
type Range struct {
	Low, High *float64
	Unit      string
	// Typical is set when the range is healthwallet's typical adult range
	// for the test, because the lab's result gave none.
	Typical bool
}

// String reads the range: "4–5.6 %", "below 200 mg/dL", "60 mL/min or more".
func (r Range) String() string {
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	u := ""
	if r.Unit != "" {
		u = " " + r.Unit
	}
	switch {
	case r.Low != nil && r.High != nil:
		return f(*r.Low) + "–" + f(*r.High) + u
	case r.High != nil:
		return "below " + f(*r.High) + u
	case r.Low != nil:
		return f(*r.Low) + u + " or more"
	}
	return ""
}

// Flag compares v with the range: "high", "low" or "" (within it).
func (r Range) Flag(v float64) string {
	switch {
	case r.Low != nil && v < *r.Low:
		return "low"
	case r.High != nil && v > *r.High:
		return "high"
	}
	return ""
}

func fp(v float64) *float64 { return &v }

// typicalRanges are common adult reference ranges of frequent LOINC
// tests, for results that carry none (Synthea's carry none). units lists
// the units the range is written in; a result in another unit gets no
// range.
var typicalRanges = map[string]struct {
	low, high *float64
	units     []string
}{
	"4548-4":  {fp(4), fp(5.6), []string{"%"}},                              // Hemoglobin A1c
	"2339-0":  {fp(70), fp(99), []string{"mg/dL"}},                          // Glucose
	"2093-3":  {nil, fp(200), []string{"mg/dL"}},                            // Total cholesterol
	"18262-6": {nil, fp(100), []string{"mg/dL"}},                            // LDL cholesterol
	"2085-9":  {fp(40), nil, []string{"mg/dL"}},                             // HDL cholesterol
	"2571-8":  {nil, fp(150), []string{"mg/dL"}},                            // Triglycerides
	"38483-4": {fp(0.6), fp(1.3), []string{"mg/dL"}},                        // Creatinine
	"6299-2":  {fp(7), fp(20), []string{"mg/dL"}},                           // Urea nitrogen
	"49765-1": {fp(8.5), fp(10.2), []string{"mg/dL"}},                       // Calcium
	"2947-0":  {fp(135), fp(145), []string{"mmol/L"}},                       // Sodium
	"6298-4":  {fp(3.5), fp(5.1), []string{"mmol/L"}},                       // Potassium
	"2069-3":  {fp(98), fp(107), []string{"mmol/L"}},                        // Chloride
	"20565-8": {fp(22), fp(29), []string{"mmol/L"}},                         // Carbon dioxide
	"33914-3": {fp(60), nil, []string{"mL/min/{1.73_m2}", "mL/min"}},        // eGFR
	"718-7":   {fp(12), fp(17.5), []string{"g/dL"}},                         // Hemoglobin
	"4544-3":  {fp(36), fp(50), []string{"%"}},                              // Hematocrit
	"6690-2":  {fp(4.5), fp(11), []string{"10*3/uL"}},                       // Leukocytes
	"777-3":   {fp(150), fp(450), []string{"10*3/uL"}},                      // Platelets
	"1742-6":  {fp(7), fp(56), []string{"U/L"}},                             // ALT
	"1920-8":  {fp(10), fp(40), []string{"U/L"}},                            // AST
	"14959-1": {nil, fp(30), []string{"mg/g"}},                              // Microalbumin/creatinine
	"39156-5": {fp(18.5), fp(25), []string{"kg/m2"}},                        // BMI
	"8480-6":  {fp(90), fp(120), []string{"mm[Hg]"}},                        // Systolic blood pressure
	"8462-4":  {fp(60), fp(80), []string{"mm[Hg]"}},                         // Diastolic blood pressure
	"2857-1":  {nil, fp(4), []string{"ng/mL"}},                              // PSA
	"1975-2":  {fp(0.1), fp(1.2), []string{"mg/dL"}},                        // Bilirubin
	"1751-7":  {fp(3.5), fp(5), []string{"g/dL"}},                           // Albumin
	"2885-2":  {fp(6), fp(8.3), []string{"g/dL"}},                           // Protein
	"6768-6":  {fp(44), fp(147), []string{"U/L"}},                           // Alkaline phosphatase
	"33762-6": {nil, fp(125), []string{"pg/mL"}},                            // NT-proBNP
	"8867-4":  {fp(60), fp(100), []string{"/min"}},                          // Heart rate
	"9279-1":  {fp(12), fp(20), []string{"/min"}},                           // Respiratory rate
	"2708-6":  {fp(95), fp(100), []string{"%"}},                             // Oxygen saturation
	"59408-5": {fp(95), fp(100), []string{"%"}},                             // Oxygen saturation (pulse oximetry)
	"785-6":   {fp(27), fp(33), []string{"pg"}},                             // MCH
	"786-4":   {fp(32), fp(36), []string{"g/dL"}},                           // MCHC
	"787-2":   {fp(80), fp(100), []string{"fL"}},                            // MCV
	"789-8":   {fp(4.2), fp(5.9), []string{"10*6/uL"}},                      // Erythrocytes
	"10834-0": {fp(20), fp(35), []string{"g/L"}},                            // Globulin
	"57905-2": {nil, fp(100), []string{"ng/mL"}},                            // Hemoglobin in stool (FIT)
	"21000-5": {fp(39), fp(46), []string{"fL"}},                             // RDW-SD
	"32623-1": {fp(7.5), fp(11.5), []string{"fL"}},                          // Mean platelet volume
	"32207-3": {fp(9), fp(17), []string{"fL"}},                              // Platelet distribution width
	"72514-3": {fp(0), fp(3), []string{"{score}"}},                          // Pain severity 0-10
	"2160-0":  {fp(0.6), fp(1.3), []string{"mg/dL"}},                        // Creatinine (serum)
	"3094-0":  {fp(7), fp(20), []string{"mg/dL"}},                           // Urea nitrogen (serum)
	"17861-6": {fp(8.5), fp(10.2), []string{"mg/dL"}},                       // Calcium (serum)
	"2823-3":  {fp(3.5), fp(5.1), []string{"mmol/L"}},                       // Potassium (serum)
	"2951-2":  {fp(135), fp(145), []string{"mmol/L"}},                       // Sodium (serum)
	"2075-0":  {fp(98), fp(107), []string{"mmol/L"}},                        // Chloride (serum)
	"2028-9":  {fp(22), fp(29), []string{"mmol/L"}},                         // Carbon dioxide (serum)
	"2345-7":  {fp(70), fp(99), []string{"mg/dL"}},                          // Glucose (serum)
	"13457-7": {nil, fp(100), []string{"mg/dL"}},                            // LDL (calculated)
	"2089-1":  {nil, fp(100), []string{"mg/dL"}},                            // LDL
	"26464-8": {fp(4.5), fp(11), []string{"10*3/uL"}},                       // Leukocytes
	"26515-7": {fp(150), fp(450), []string{"10*3/uL"}},                      // Platelets
	"20570-8": {fp(36), fp(50), []string{"%"}},                              // Hematocrit
	"30313-1": {fp(12), fp(17.5), []string{"g/dL"}},                         // Hemoglobin (arterial)
	"62238-1": {fp(60), nil, []string{"mL/min/{1.73_m2}", "mL/min/1.73m2"}}, // eGFR (CKD-EPI)
}

// ReferenceRange returns the reference range of a numeric Observation: the
// lab's own (referenceRange), or else a typical adult range for a common
// test in the unit it is written in (marked Typical). ok is false when
// there is none.
func ReferenceRange(r Resource) (Range, bool) {
	b := r.Body
	if rr := first(b, "referenceRange"); rr != nil {
		lo, hi := obj(rr.Get("low")), obj(rr.Get("high"))
		var out Range
		if lo != nil {
			if v, err := strconv.ParseFloat(num(lo, "value"), 64); err == nil {
				out.Low, out.Unit = &v, unitOf(lo)
			}
		}
		if hi != nil {
			if v, err := strconv.ParseFloat(num(hi, "value"), 64); err == nil {
				out.High, out.Unit = &v, unitOf(hi)
			}
		}
		if out.Low != nil || out.High != nil {
			return out, true
		}
	}
	q := obj(b.Get("valueQuantity"))
	if q == nil {
		return Range{}, false
	}
	_, code, _ := codingOf(obj(b.Get("code")))
	return typicalRange(code, q)
}

func typicalRange(code string, q *Object) (Range, bool) {
	tr, ok := typicalRanges[code]
	if !ok || tr.low == nil && tr.high == nil {
		return Range{}, false
	}
	u := str(q, "code")
	if u == "" {
		u = str(q, "unit")
	}
	for _, want := range tr.units {
		if u == want || str(q, "unit") == want {
			return Range{Low: tr.low, High: tr.high, Unit: unitOf(q), Typical: true}, true
		}
	}
	return Range{}, false
}

// interpretations are the v3 ObservationInterpretation codes as flags.
var interpretations = map[string]string{
	"H": "high", "HH": "critically high", "HU": "very high", "L": "low", "LL": "critically low", "LU": "very low",
	"A": "abnormal", "AA": "critically abnormal", "N": "normal", "POS": "positive", "NEG": "negative",
	"DET": "detected", "ND": "not detected",
}

// ResultFlag says whether an Observation's value is out of range: the
// lab's interpretation when it gives one ("high", "low", "abnormal", …),
// or else "high" or "low" computed from [ReferenceRange]. "" means within
// range, or unknown. "normal" is returned as "".
func ResultFlag(r Resource) string {
	b := r.Body
	if in := first(b, "interpretation"); in != nil {
		_, code, _ := codingOf(in)
		if f, ok := interpretations[strings.ToUpper(code)]; ok {
			if f == "normal" {
				return ""
			}
			return f
		}
		if t := conceptText(in); t != "" && !strings.EqualFold(t, "normal") {
			return strings.ToLower(t)
		}
	}
	q := obj(b.Get("valueQuantity"))
	if q == nil {
		return ""
	}
	v, err := strconv.ParseFloat(num(q, "value"), 64)
	if err != nil {
		return ""
	}
	if rg, ok := ReferenceRange(r); ok {
		return rg.Flag(v)
	}
	return ""
}
