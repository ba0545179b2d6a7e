package fhir

import (
	"slices"
	"strings"
)

// Sensitive names a category of health information that laws and patients
// treat as especially private. Share packages leave these out unless the
// patient names them.
type Sensitive string

// Sensitive categories.
const (
	MentalHealth       Sensitive = "mental-health"
	SubstanceUse       Sensitive = "substance-use"
	SexualReproductive Sensitive = "sexual-reproductive-health"
	HIV                Sensitive = "hiv"
	Genetics           Sensitive = "genetics"
)

// AllSensitive lists every Sensitive category.
var AllSensitive = []Sensitive{MentalHealth, SubstanceUse, SexualReproductive, HIV, Genetics}

// ParseSensitive accepts a category name as written in AllSensitive.
func ParseSensitive(s string) (Sensitive, bool) {
	for _, c := range AllSensitive {
		if string(c) == s {
			return c, true
		}
	}
	return "", false
}

// securityLabels maps HL7 v3 ActCode sensitivity codes
// (http://terminology.hl7.org/CodeSystem/v3-ActCode), as found in
// meta.security, to our categories.
var securityLabels = map[string]Sensitive{
	"PSY": MentalHealth, "PSYTHPN": MentalHealth, "MH": MentalHealth, "BH": MentalHealth, "SUICIDE": MentalHealth,
	"ETH": SubstanceUse, "ETHUD": SubstanceUse, "OPIOIDUD": SubstanceUse, "ALCUD": SubstanceUse, "DRGUD": SubstanceUse,
	"SUD": SubstanceUse, "42CFRPart2": SubstanceUse,
	"SEX": SexualReproductive, "STD": SexualReproductive, "SDV": SexualReproductive, "REPRO": SexualReproductive, "PREGNANCY": SexualReproductive,
	"HIV":  HIV,
	"GDIS": Genetics, "GENETIC": Genetics,
}

// snomedCodes are SNOMED CT concepts known to be sensitive (the ones that
// occur in Synthea output and common equivalents).
var snomedCodes = map[string]Sensitive{
	"35489007": MentalHealth, "370143000": MentalHealth, "36923009": MentalHealth, "197480006": MentalHealth,
	"58214004": MentalHealth, "13746004": MentalHealth, "47505003": MentalHealth, "171207006": MentalHealth,
	"454711000124102": MentalHealth, "385892002": MentalHealth, "710841007": MentalHealth, "736254005": MentalHealth,
	"5602001": SubstanceUse, "55680006": SubstanceUse, "7200002": SubstanceUse, "15167005": SubstanceUse,
	"66214007": SubstanceUse, "26416006": SubstanceUse, "313071005": SubstanceUse, "266707007": SubstanceUse,
	"72892002": SexualReproductive, "77386006": SexualReproductive, "169230002": SexualReproductive,
	"714812005": SexualReproductive, "10383002": SexualReproductive, "261665006": SexualReproductive,
	"301807007": SexualReproductive, "15628003": SexualReproductive, "44255006": SexualReproductive,
	"19169002": SexualReproductive, "156073000": SexualReproductive, "169762003": SexualReproductive,
	"86406008": HIV, "165816005": HIV, "62479008": HIV, "91947003": HIV,
	"405824009": Genetics, "116148004": Genetics, "9782009": Genetics,
}

// loincCodes are LOINC tests whose very presence is sensitive.
var loincCodes = map[string]Sensitive{
	"7918-6": HIV, "75622-1": HIV, "56888-1": HIV, "29893-5": HIV, "25836-8": HIV, "20447-9": HIV,
	"44249-1": MentalHealth, "55757-9": MentalHealth, "69737-5": MentalHealth, "89204-2": MentalHealth,
	"70274-6": MentalHealth, "44261-6": MentalHealth,
	"82810-3": SubstanceUse, "68517-2": SubstanceUse, "72109-2": SubstanceUse, "11341-5": SubstanceUse,
	"2106-3": SexualReproductive, "21440-3": SexualReproductive, "43304-5": SexualReproductive,
	"24111-7": SexualReproductive, "20507-0": SexualReproductive,
	"51968-6": Genetics, "81247-9": Genetics, "55232-3": Genetics,
}

// icd10Prefixes maps ICD-10(-CM) code prefixes to categories.
var icd10Prefixes = []struct {
	prefix string
	cat    Sensitive
}{
	{"F1", SubstanceUse}, {"F0", MentalHealth}, {"F2", MentalHealth}, {"F3", MentalHealth}, {"F4", MentalHealth},
	{"F5", MentalHealth}, {"F6", MentalHealth}, {"F7", MentalHealth}, {"F8", MentalHealth}, {"F9", MentalHealth},
	{"X6", MentalHealth}, {"X7", MentalHealth}, {"X80", MentalHealth}, {"X81", MentalHealth}, {"X82", MentalHealth}, {"X83", MentalHealth}, {"X84", MentalHealth},
	{"B20", HIV}, {"Z21", HIV}, {"O98.7", HIV},
	{"O", SexualReproductive}, {"Z3", SexualReproductive}, {"N96", SexualReproductive}, {"N97", SexualReproductive},
	{"A5", SexualReproductive}, {"A60", SexualReproductive}, {"A63", SexualReproductive}, {"A64", SexualReproductive},
	{"Q9", Genetics}, {"Z15", Genetics}, {"Z14", Genetics},
}

// keywords catch sensitive concepts by their display text when a code is
// not in the tables above. Deliberately broad: a false "sensitive" only
// means the patient must name the record to share it.
var keywords = []struct {
	word string
	cat  Sensitive
}{
	{"depress", MentalHealth}, {"anxiety", MentalHealth}, {"psychiatr", MentalHealth}, {"psycholog", MentalHealth},
	{"mental", MentalHealth}, {"suicid", MentalHealth}, {"schizo", MentalHealth}, {"bipolar", MentalHealth},
	{"post-traumatic stress", MentalHealth}, {"ptsd", MentalHealth}, {"eating disorder", MentalHealth},
	{"alcohol", SubstanceUse}, {"opioid", SubstanceUse}, {"substance abuse", SubstanceUse}, {"substance use", SubstanceUse},
	{"substance misuse", SubstanceUse}, {"substance dependence", SubstanceUse}, {"drug abuse", SubstanceUse},
	{"drug overdose", SubstanceUse}, {"drug rehabilitation", SubstanceUse}, {"drug addiction", SubstanceUse},
	{"drug dependence", SubstanceUse}, {"heroin", SubstanceUse}, {"cocaine", SubstanceUse}, {"methadone", SubstanceUse},
	{"buprenorphine", SubstanceUse}, {"naloxone", SubstanceUse},
	{"hiv", HIV}, {"human immunodeficiency virus", HIV},
	{"pregnan", SexualReproductive}, {"prenatal", SexualReproductive}, {"contracept", SexualReproductive},
	{"abortion", SexualReproductive}, {"miscarriage", SexualReproductive}, {"chlamydia", SexualReproductive},
	{"gonorrh", SexualReproductive}, {"syphilis", SexualReproductive}, {"sexual", SexualReproductive},
	{"sexually transmitted", SexualReproductive}, {"infertil", SexualReproductive}, {"in vitro fertili", SexualReproductive},
	// Contraceptive products, which rarely say "contraceptive" in their name.
	{"28 day pack", SexualReproductive}, {"91 day pack", SexualReproductive}, {"intrauterine", SexualReproductive},
	{"etonogestrel", SexualReproductive}, {"medroxyprogesterone", SexualReproductive}, {"levonorgestrel", SexualReproductive},
	{"norethindrone", SexualReproductive}, {"ethinyl estradiol", SexualReproductive}, {"drospirenone", SexualReproductive},
	{"vaginal ring", SexualReproductive}, {"nuvaring", SexualReproductive}, {"nexplanon", SexualReproductive},
	{"mirena", SexualReproductive}, {"kyleena", SexualReproductive}, {"liletta", SexualReproductive}, {"depo-subq provera", SexualReproductive},
	{"genetic", Genetics}, {"genomic", Genetics}, {"hereditary", Genetics}, {"brca", Genetics}, {"karyotyp", Genetics},
}

// sensitiveElements are the elements whose codes decide sensitivity: what
// the resource is, why it happened, and what it found.
var sensitiveElements = []string{"code", "medicationCodeableConcept", "vaccineCode", "type", "reasonCode",
	"valueCodeableConcept", "category", "conclusionCode", "diagnosis", "procedureCode"}

// Sensitivity labels a resource from meta.security and from its codes.
// extra holds more text to judge, such as the name of a referenced
// Medication.
func Sensitivity(r Resource, extra ...string) []Sensitive {
	found := map[Sensitive]bool{}
	if m := obj(r.Body.Get("meta")); m != nil {
		for _, s := range arr(m, "security") {
			if c := obj(s); c != nil {
				if cat, ok := securityLabels[str(c, "code")]; ok {
					found[cat] = true
				}
			}
		}
	}
	var texts []string
	for _, el := range sensitiveElements {
		for _, c := range codings(r.Body.Get(el)) {
			code, system := str(c, "code"), str(c, "system")
			switch {
			case strings.Contains(system, "snomed"):
				if cat, ok := snomedCodes[code]; ok {
					found[cat] = true
				}
			case strings.Contains(system, "loinc"):
				if cat, ok := loincCodes[code]; ok {
					found[cat] = true
				}
			case strings.Contains(system, "icd-10") || strings.Contains(system, "icd10"):
				for _, p := range icd10Prefixes {
					if strings.HasPrefix(strings.ToUpper(code), p.prefix) {
						found[p.cat] = true
						break
					}
				}
			}
			texts = append(texts, str(c, "display"))
		}
		for _, cc := range conceptList(r.Body.Get(el)) {
			texts = append(texts, str(cc, "text"))
		}
	}
	if mr := obj(r.Body.Get("medicationReference")); mr != nil {
		texts = append(texts, str(mr, "display"))
	}
	texts = append(texts, extra...)
	for _, t := range texts {
		lt := strings.ToLower(t)
		for _, k := range keywords {
			if strings.Contains(lt, k.word) {
				found[k.cat] = true
			}
		}
	}
	var out []Sensitive
	for _, c := range AllSensitive {
		if found[c] {
			out = append(out, c)
		}
	}
	return out
}

func conceptList(v any) []*Object {
	switch t := v.(type) {
	case *Object:
		return []*Object{t}
	case []any:
		var out []*Object
		for _, e := range t {
			if o := obj(e); o != nil {
				out = append(out, o)
			}
		}
		return out
	}
	return nil
}

// IsSensitive reports whether x carries any sensitive label.
func (x Index) IsSensitive() bool { return len(x.Sensitive) > 0 }

// HasSensitive reports whether x carries label s.
func (x Index) HasSensitive(s Sensitive) bool { return slices.Contains(x.Sensitive, s) }
