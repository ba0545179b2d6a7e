package fhir

import (
	"cmp"
	"slices"
	"strings"
)

// Section is one part of a patient summary: "Allergies", "Active
// problems", …, and its items.
type Section struct {
	Title string
	Items []Item
}

// Item is one line of a summary section. A medication prescribed again and
// again is one Item whose Members are every prescription, newest first; a
// result is the latest of its test, with every earlier one in Members.
type Item struct {
	Name  string
	Value string // the latest dose, result or status
	Flag  string // a result out of range: "high", "low", …
	Date  string // the latest date, as written (see HumanDate)
	Note  string // "12 prescriptions since Jun 1983", "3 doses"
	// Members index the records the item stands for, newest first; the
	// first is the one to open.
	Members []int
}

// Section titles, in the order of the International Patient Summary.
const (
	SectionAllergies     = "Allergies"
	SectionProblems      = "Active problems"
	SectionMedications   = "Current medications"
	SectionResults       = "Recent results"
	SectionImmunizations = "Immunizations"
)

// RecentResults is how many tests Overview lists under Recent results.
const RecentResults = 10

// Overview orders a patient's records as the International Patient Summary
// does: allergies, active problems, current medications, recent results
// and immunizations. A section with nothing in it is left out. xs are
// the records' indexes; Items refer to them by position.
//
// Medications are grouped by drug (the same RxNorm code, or the same name
// when uncoded): a drug is current when any of its prescriptions is
// active, and its item lists every prescription. Results are grouped by
// test (LOINC code): the latest of each, newest first. Immunizations are
// grouped by vaccine.
func Overview(xs []Index) []Section {
	var allergies, problems []Item
	meds, results, vaccines := grouping{}, grouping{}, grouping{}
	for i, x := range xs {
		switch x.Type {
		case "AllergyIntolerance":
			if !inactive(x.Status) {
				allergies = append(allergies, itemOf(x, i))
			}
		case "Condition":
			if isActive(x.Status) {
				problems = append(problems, itemOf(x, i))
			}
		case "MedicationRequest", "MedicationStatement":
			meds.add(x, i)
		case "Observation":
			if x.Category == Labs {
				results.add(x, i)
			}
		case "Immunization":
			if x.Status != "entered-in-error" && x.Status != "not-done" {
				vaccines.add(x, i)
			}
		}
	}
	var out []Section
	addSection := func(title string, items []Item) {
		if len(items) > 0 {
			out = append(out, Section{title, items})
		}
	}
	addSection(SectionAllergies, newestFirst(xs, allergies))
	addSection(SectionProblems, newestFirst(xs, problems))

	var current []Item
	for _, g := range meds.groups(xs) {
		if !slices.ContainsFunc(g, func(i int) bool { return isActive(xs[i].Status) }) {
			continue
		}
		it := itemOf(xs[g[0]], g[0])
		it.Members = g
		it.Note = countSince(len(g), "prescription", xs[g[len(g)-1]].Day())
		current = append(current, it)
	}
	addSection(SectionMedications, newestFirst(xs, current))

	var recent []Item
	for _, g := range results.groups(xs) {
		it := itemOf(xs[g[0]], g[0])
		it.Members = g
		if len(g) > 1 {
			it.Note = countSince(len(g), "result", xs[g[len(g)-1]].Day())
		}
		recent = append(recent, it)
	}
	recent = newestFirst(xs, recent)
	// On the same day, results out of range come first.
	slices.SortStableFunc(recent, func(a, b Item) int {
		if c := strings.Compare(day(b.Date), day(a.Date)); c != 0 {
			return c
		}
		return cmp.Compare(boolInt(b.Flag != ""), boolInt(a.Flag != ""))
	})
	if len(recent) > RecentResults {
		recent = recent[:RecentResults]
	}
	addSection(SectionResults, recent)

	var shots []Item
	for _, g := range vaccines.groups(xs) {
		it := itemOf(xs[g[0]], g[0])
		it.Members = g
		if len(g) > 1 {
			it.Note = countSince(len(g), "dose", xs[g[len(g)-1]].Day())
		}
		shots = append(shots, it)
	}
	addSection(SectionImmunizations, newestFirst(xs, shots))
	return out
}

func itemOf(x Index, i int) Item {
	name := x.Name
	if name == "" {
		name = x.Display
	}
	if name == "" {
		name = x.Summary
	}
	return Item{Name: name, Value: x.Value, Flag: x.Flag, Date: x.Date, Members: []int{i}}
}

// isActive reports a clinical status (or a request's status) that means
// "still the case".
func isActive(status string) bool {
	switch strings.ToLower(status) {
	case "active", "recurrence", "relapse", "intended", "on-hold":
		return true
	}
	return false
}

func inactive(status string) bool {
	switch strings.ToLower(status) {
	case "inactive", "resolved", "refuted", "entered-in-error":
		return true
	}
	return false
}

// grouping gathers records by what they are about.
type grouping map[string][]int

// key is what records of the same drug, test or vaccine share: the code,
// or the lower-case name.
func (g grouping) add(x Index, i int) {
	k := x.System + "|" + x.Code
	if x.Code == "" {
		k = "name|" + strings.ToLower(cmp.Or(x.Name, x.Display))
	}
	g[k] = append(g[k], i)
}

// groups returns each group with its records newest first.
func (g grouping) groups(xs []Index) [][]int {
	out := make([][]int, 0, len(g))
	for _, m := range g {
		slices.SortStableFunc(m, func(a, b int) int { return strings.Compare(xs[b].Date, xs[a].Date) })
		out = append(out, m)
	}
	return out
}

// newestFirst orders items by date, newest first, then by name.
func newestFirst(_ []Index, items []Item) []Item {
	slices.SortStableFunc(items, func(a, b Item) int {
		if c := strings.Compare(day(b.Date), day(a.Date)); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	return items
}

func countSince(n int, word, first string) string {
	s := plural(n, word)
	if n > 1 && first != "" {
		s += " since " + HumanDate(first)
	}
	return s
}

// Point is one result of a trend.
type Point struct {
	Date  string // as written
	Value float64
	Index int // the record's position in the indexes given to Trend
}

// TrendLine is the results of one test over time, oldest first, with
// the range they are read against.
type TrendLine struct {
	Name     string
	Unit     string
	Points   []Point
	Range    Range
	HasRange bool
}

// Trend gathers the numeric results of the same test (same code system
// and code) as x, in x's unit, oldest first. rng is the range to draw
// (see [ReferenceRange]); ok is false when the range is unknown.
func Trend(x Index, xs []Index, rng Range, ok bool) TrendLine {
	t := TrendLine{Name: cmp.Or(x.Name, x.Display), Unit: x.Unit, Range: rng, HasRange: ok}
	if x.Code == "" {
		return t
	}
	for i, o := range xs {
		if o.Code == x.Code && o.System == x.System && o.Number != nil && o.Unit == x.Unit {
			t.Points = append(t.Points, Point{Date: o.Date, Value: *o.Number, Index: i})
		}
	}
	slices.SortStableFunc(t.Points, func(a, b Point) int { return strings.Compare(a.Date, b.Date) })
	return t
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
