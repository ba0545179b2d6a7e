package fhir

// cvxNames gives display names for CDC CVX vaccine codes
// (http://hl7.org/fhir/sid/cvx) that SMART Health Cards carry without a
// display: the COVID-19 and common routine vaccines.
var cvxNames = map[string]string{
	"207": "COVID-19 vaccine, Moderna (mRNA)",
	"208": "COVID-19 vaccine, Pfizer-BioNTech (mRNA)",
	"210": "COVID-19 vaccine, AstraZeneca (vector)",
	"211": "COVID-19 vaccine, Novavax (protein subunit)",
	"212": "COVID-19 vaccine, Janssen (vector)",
	"213": "COVID-19 vaccine, unspecified",
	"217": "COVID-19 vaccine, Pfizer-BioNTech (mRNA, 12+ tris-sucrose)",
	"218": "COVID-19 vaccine, Pfizer-BioNTech (mRNA, 5-11)",
	"219": "COVID-19 vaccine, Pfizer-BioNTech (mRNA, 6m-4y)",
	"221": "COVID-19 vaccine, Moderna (mRNA, 50 mcg)",
	"228": "COVID-19 vaccine, Moderna (mRNA, 6m-5y)",
	"229": "COVID-19 vaccine, Moderna bivalent (mRNA)",
	"300": "COVID-19 vaccine, Pfizer-BioNTech bivalent (mRNA)",
	"140": "Influenza, seasonal, injectable, preservative free",
	"141": "Influenza, seasonal, injectable",
	"115": "Tdap",
	"133": "Pneumococcal conjugate PCV 13",
	"33":  "Pneumococcal polysaccharide PPV23",
	"43":  "Hepatitis B, adult",
	"62":  "HPV, quadrivalent",
	"165": "HPV9",
	"187": "Zoster, recombinant",
	"03":  "MMR",
	"21":  "Varicella",
}

// cvxName returns the display of a CVX code, or "".
func cvxName(cc *Object) string {
	for _, c := range codings(cc) {
		if str(c, "system") == "http://hl7.org/fhir/sid/cvx" {
			return cvxNames[str(c, "code")]
		}
	}
	return ""
}
