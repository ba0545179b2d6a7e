package app

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/healthwallet/healthwallet/wallet"
	"github.com/healthwallet/healthwallet/wallet/fhir"
)

// categoryNames are the categories as the screens name them.
var categoryNames = map[fhir.Category]string{
	fhir.Labs: "Lab results", fhir.Vitals: "Vital signs", fhir.Medications: "Medications",
	fhir.Problems: "Problems", fhir.Allergies: "Allergies", fhir.Immunizations: "Immunizations",
	fhir.Procedures: "Procedures", fhir.Encounters: "Visits", fhir.Documents: "Documents",
	fhir.CarePlans: "Care plans", fhir.Imaging: "Imaging", fhir.SocialHistory: "Social history",
	fhir.Billing: "Billing", fhir.People: "People", fhir.Other: "Other",
}

func categoryName(c fhir.Category) string {
	if n, ok := categoryNames[c]; ok {
		return n
	}
	return string(c)
}

// sensitiveNames are the sensitive labels as the screens name them.
var sensitiveNames = map[fhir.Sensitive]string{
	fhir.MentalHealth: "Mental health", fhir.SubstanceUse: "Substance use",
	fhir.SexualReproductive: "Sexual and reproductive health", fhir.HIV: "HIV", fhir.Genetics: "Genetics",
}

func sensitiveName(s fhir.Sensitive) string {
	if n, ok := sensitiveNames[s]; ok {
		return n
	}
	return string(s)
}

func sensitiveList(ss []fhir.Sensitive) string {
	names := make([]string, len(ss))
	for i, s := range ss {
		names[i] = sensitiveName(s)
	}
	return strings.Join(names, ", ")
}

// categoryIcon is the icon of a record's row.
func categoryIcon(c fhir.Category) fyne.Resource {
	switch c {
	case fhir.Labs, fhir.Vitals:
		return theme.GridIcon()
	case fhir.Medications, fhir.Immunizations:
		return theme.ContentAddIcon()
	case fhir.Problems, fhir.Allergies:
		return theme.WarningIcon()
	case fhir.Documents, fhir.Imaging:
		return theme.FileIcon()
	case fhir.Encounters, fhir.Procedures, fhir.CarePlans:
		return theme.HistoryIcon()
	case fhir.People:
		return theme.AccountIcon()
	}
	return theme.DocumentIcon()
}

// recordMeta is the second line of a record's row: the kind of record in
// plain words, its category and the sensitive mark.
func recordMeta(r wallet.Record) string {
	var b strings.Builder
	b.WriteString(fhir.PlainType(r.Type))
	b.WriteString(" · ")
	b.WriteString(categoryName(r.Category))
	if r.IsSensitive() {
		b.WriteString(" · sensitive")
	}
	return b.String()
}

// recordLine is a record on one line, as the list of a share's records
// shows it: its name, value and flag, its human date and its kind, e.g.
// "Glucose 92.75 mg/dL · 16 Feb 2018 · Result or measurement".
func recordLine(r wallet.Record) string {
	what := strings.TrimSpace(recordTitle(r) + " " + r.Value)
	if r.Flag != "" {
		what += " " + flagMark(r.Flag)
	}
	date := ""
	if r.Name != "" { // an older index's summary already holds its date
		date = fhir.HumanDate(r.Day())
	}
	return joinNonEmpty(what, date, fhir.PlainType(r.Type))
}

// cardText is a SMART Health Card's issuer and verification result.
func cardText(c *wallet.CardInfo) string {
	issuer := c.Issuer
	if c.IssuerName != "" {
		issuer = c.IssuerName + " (" + c.Issuer + ")"
	}
	s := "SMART Health Card from " + issuer + ": " + c.Status
	if c.Reason != "" {
		s += " (" + oneLine(c.Reason) + ")"
	}
	return s
}

// cardLine is a SMART Health Card's verification in one line: "Verified:
// issued by Example Issuer", or why it is not.
func cardLine(c *wallet.CardInfo) string {
	issuer := c.IssuerName
	if issuer == "" {
		issuer = c.Issuer
		if u, err := url.Parse(c.Issuer); err == nil && u.Host != "" {
			issuer = u.Host
		}
	}
	if c.Status == "verified" {
		return "Verified: issued by " + issuer
	}
	return "Not verified (" + c.Status + "): claims to be issued by " + issuer
}

// statusImportance colours a grant status.
func statusImportance(status string) widget.Importance {
	switch status {
	case "active":
		return widget.SuccessImportance
	case "expiring soon", "not yet valid", wallet.RevocationPending:
		return widget.WarningImportance
	case "revoked":
		return widget.DangerImportance
	}
	return widget.LowImportance
}

// untilText says when a grant ends, relative to now.
func untilText(g wallet.GrantRecord, now time.Time) string {
	switch {
	case !g.RevokedAt.IsZero():
		return "revoked " + dateTime(g.RevokedAt)
	case !now.Before(g.ExpiresAt):
		return "expired " + dateTime(g.ExpiresAt)
	}
	return "until " + dateTime(g.ExpiresAt) + " (" + durationText(g.ExpiresAt.Sub(now)) + " left)"
}

// dateTime is a local date and time as the screens show it.
func dateTime(t time.Time) string { return t.Local().Format("2 Jan 2006 15:04") }

// durationText is a rounded duration: "45 minutes", "23 hours", "7 days".
func durationText(d time.Duration) string {
	switch {
	case d < 2*time.Minute:
		return "1 minute"
	case d < 2*time.Hour:
		return fmt.Sprintf("%d minutes", int(d.Round(time.Minute)/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d hours", int(d.Round(time.Hour)/time.Hour))
	}
	return fmt.Sprintf("%d days", int(d.Round(24*time.Hour)/(24*time.Hour)))
}

// sizeText is a byte count for people.
func sizeText(n int64) string {
	const unit = 1024
	if n < unit {
		return strconv.FormatInt(n, 10) + " bytes"
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %cB", float64(n)/float64(div), "KMGTPE"[exp])
}

// oneLine folds a multi-line message (errors.Join) into one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", "; ")), " ")
}

// plural is "s" unless n is 1.
func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// shortDID abbreviates a did:key for lists.
func shortDID(did string) string {
	if len(did) <= 24 {
		return did
	}
	return did[:16] + "…" + did[len(did)-6:]
}

// capitalize upper-cases the first letter.
func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
