package app

import (
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/healthwallet/healthwallet/wallet"
	"github.com/healthwallet/healthwallet/wallet/fhir"
)

// patientBanner heads a received share: whom the records are about (name,
// birth date and sex, from the share's Patient) and who shared them (a
// contact's name, else a short address). A share holding more than one
// person's records gets a warning line, so nobody reads one person's
// results as another's.
type patientBanner struct {
	content *fyne.Container
	who     *widget.Label // "Marguerita Reilly · born 28 Feb 1986 · female"
	from    *widget.Label // "Shared by Marguerita"
	warn    *widget.Label // more than one patient
	people  []wallet.Person
}

// newPatientBanner is the banner of a share from sharer (the grant's
// issuer address), whose contact name is name ("" for someone who is not a
// contact); set fills in the patient once the Bundle is read.
func newPatientBanner(sharer, name string) *patientBanner {
	b := &patientBanner{who: heading(""), from: wrapped(sharedByText(sharer, name)), warn: wrapped("")}
	b.who.SizeName = theme.SizeNameSubHeadingText
	b.warn.Importance = widget.WarningImportance
	b.who.Hide()
	b.warn.Hide()
	b.content = container.NewVBox(b.who, b.from, b.warn)
	return b
}

// sharedByText names who shared: "Shared by Marguerita" for a contact,
// "Shared by 0x03D8…A1B2 (not one of your contacts)" otherwise.
func sharedByText(sharer, name string) string {
	if name != "" {
		return "Shared by " + name
	}
	return "Shared by " + shortAddress(sharer) + " (not one of your contacts)"
}

// set reads the patients of a share's FHIR Bundle.
func (b *patientBanner) set(bundle []byte) {
	people, err := wallet.PatientsOf(bundle)
	if err != nil || len(people) == 0 {
		b.who.SetText("No patient named in this share")
		b.who.Show()
		return
	}
	b.people = people
	b.who.SetText(personLine(people[0]))
	b.who.Show()
	if len(people) > 1 {
		names := make([]string, len(people))
		for i, p := range people {
			names[i] = p.Label()
		}
		b.warn.SetText(fmt.Sprintf("This share holds the records of %d people: %s. Check whose record you are reading.",
			len(people), strings.Join(names, "; ")))
		b.warn.Show()
	} else {
		b.warn.Hide()
	}
	b.content.Refresh()
}

// personLine is a person as the banner shows them: "Marguerita Reilly ·
// born 28 Feb 1986 · female".
func personLine(p wallet.Person) string {
	parts := []string{p.DisplayName()}
	if p.BirthDate != "" {
		parts = append(parts, "born "+fhir.HumanDate(p.BirthDate))
	}
	if p.Sex != "" && p.Sex != "unknown" {
		parts = append(parts, p.Sex)
	}
	return strings.Join(parts, " · ")
}
