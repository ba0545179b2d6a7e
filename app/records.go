package app

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/healthwallet/healthwallet/wallet"
	"github.com/healthwallet/healthwallet/wallet/fhir"
)

// Choices of the record filters that mean "no filter".
const (
	allTypes      = "All types"
	allCategories = "All categories"
)

// recordsView is the records tab: every record in a widget.List, narrowed
// by a search and filters, and the import of files.
type recordsView struct {
	u       *UI
	content fyne.CanvasObject
	md      *masterDetail

	all   []wallet.Record // every record, newest first
	shown []wallet.Record // those passing the filter
	list  *widget.List

	search       *widget.Entry
	typeFilter   *widget.Select
	catFilter    *widget.Select
	from, to     *widget.Entry
	count        *widget.Label
	importButton *widget.Button
	importing    *widget.ProgressBar
	importResult *widget.Label
	detail       *detailView   // the record on show
	dialogs      importDialogs // an import's questions (import.go)
}

func (u *UI) newRecordsView() *recordsView {
	v := &recordsView{u: u}
	v.list = newRecordList(func() []wallet.Record { return v.shown })
	v.list.OnSelected = func(id widget.ListItemID) {
		u.touch()
		if id < len(v.shown) {
			v.open(v.shown[id])
		}
	}

	v.search = widget.NewEntry()
	v.search.SetPlaceHolder("Search records")
	v.search.ActionItem = widget.NewIcon(theme.SearchIcon())
	v.search.OnChanged = func(string) { u.touch(); v.apply() }
	v.typeFilter = widget.NewSelect([]string{allTypes}, nil)
	v.typeFilter.SetSelected(allTypes)
	v.typeFilter.OnChanged = func(string) { u.touch(); v.apply() }
	v.catFilter = widget.NewSelect([]string{allCategories}, nil)
	v.catFilter.SetSelected(allCategories)
	v.catFilter.OnChanged = func(string) { u.touch(); v.apply() }
	v.from, v.to = dateEntry("From (YYYY-MM-DD)"), dateEntry("To (YYYY-MM-DD)")
	v.from.OnChanged = func(string) { v.apply() }
	v.to.OnChanged = func(string) { v.apply() }
	clear := widget.NewButtonWithIcon("", theme.ContentClearIcon(), u.act(v.clearFilters))
	v.count = wrapped("")
	v.count.Importance = widget.LowImportance

	v.importButton = widget.NewButtonWithIcon("Import…", theme.FolderOpenIcon(), u.act(v.chooseFile))
	v.importButton.Importance = widget.HighImportance
	v.importing = widget.NewProgressBar()
	v.importing.Hide()
	v.importResult = wrapped("")
	v.importResult.Hide()

	var filters fyne.CanvasObject
	if isMobile() {
		filters = widget.NewAccordion(widget.NewAccordionItem("Filters",
			container.NewVBox(v.typeFilter, v.catFilter, v.from, v.to, clear)))
	} else {
		filters = container.NewBorder(nil, nil, nil, clear, container.NewGridWithColumns(2, v.typeFilter, v.catFilter, v.from, v.to))
	}
	top := container.NewVBox(
		container.NewBorder(nil, nil, nil, v.importButton, v.search),
		filters,
		v.importing, v.importResult, v.count,
	)
	v.md = newMasterDetail("Records", container.NewBorder(top, nil, nil, nil, v.list), "Choose a record to read it.")
	v.content = v.md.content
	return v
}

// dateFormat is what the date filters accept: a year, a month or a day.
var dateFormat = regexp.MustCompile(`^\d{4}(-\d{2}(-\d{2})?)?$`)

func dateEntry(placeholder string) *widget.Entry {
	e := widget.NewEntry()
	e.SetPlaceHolder(placeholder)
	e.Validator = func(s string) error {
		if s == "" || dateFormat.MatchString(strings.TrimSpace(s)) {
			return nil
		}
		return fmt.Errorf("write a date as YYYY-MM-DD, YYYY-MM or YYYY")
	}
	return e
}

// dateValue is an entry's date, or "" when it is empty or not a date.
func dateValue(e *widget.Entry) string {
	s := strings.TrimSpace(e.Text)
	if !dateFormat.MatchString(s) {
		return ""
	}
	return s
}

// filter is the filter the widgets describe.
func (v *recordsView) filter() wallet.Filter {
	f := wallet.Filter{Text: strings.TrimSpace(v.search.Text), From: dateValue(v.from), To: dateValue(v.to)}
	if t := v.typeFilter.Selected; t != allTypes {
		f.Type = t
	}
	if c := v.catFilter.Selected; c != allCategories {
		for cat, name := range categoryNames {
			if name == c {
				f.Category = cat
			}
		}
	}
	return f
}

// apply filters the loaded records (in memory: fast enough for 10,000 as
// the user types) and refreshes the list.
func (v *recordsView) apply() {
	f := v.filter()
	v.shown = v.shown[:0]
	for _, r := range v.all {
		if f.Match(r) {
			v.shown = append(v.shown, r)
		}
	}
	v.list.UnselectAll()
	v.list.Refresh()
	switch {
	case len(v.all) == 0:
		v.count.SetText("No records yet. Import a FHIR file, a SMART Health Card, a PDF or an image.")
	case len(v.shown) == len(v.all):
		v.count.SetText(fmt.Sprintf("%d record%s", len(v.all), plural(len(v.all))))
	default:
		v.count.SetText(fmt.Sprintf("%d of %d records", len(v.shown), len(v.all)))
	}
}

func (v *recordsView) clearFilters() {
	v.search.SetText("")
	v.typeFilter.SetSelected(allTypes)
	v.catFilter.SetSelected(allCategories)
	v.from.SetText("")
	v.to.SetText("")
	v.apply()
}

// reload reads the records from the wallet in the background.
func (v *recordsView) reload() {
	w := v.u.openWallet()
	if w == nil {
		return
	}
	var recs []wallet.Record
	v.u.run(func() (err error) {
		recs, err = w.Records(wallet.Filter{})
		return err
	}, func(err error) {
		if err != nil {
			v.count.SetText(userMessage(err))
			return
		}
		v.setRecords(recs)
	})
}

// setRecords replaces the loaded records and the filter choices.
func (v *recordsView) setRecords(recs []wallet.Record) {
	slices.SortStableFunc(recs, byDateThenSummary)
	v.all = recs
	v.shown = make([]wallet.Record, 0, len(recs))
	types, cats := map[string]bool{}, map[fhir.Category]bool{}
	for _, r := range recs {
		types[r.Type] = true
		cats[r.Category] = true
	}
	typeChoices := []string{allTypes}
	for t := range types {
		typeChoices = append(typeChoices, t)
	}
	slices.Sort(typeChoices[1:])
	catChoices := []string{allCategories}
	for _, c := range fhir.AllCategories {
		if cats[c] {
			catChoices = append(catChoices, categoryName(c))
		}
	}
	v.typeFilter.SetOptions(typeChoices)
	v.catFilter.SetOptions(catChoices)
	v.apply()
}

// byDateThenSummary orders records newest first (as the wallet lists
// them), then by summary: a stable order for records of the same day.
func byDateThenSummary(a, b wallet.Record) int {
	if c := strings.Compare(b.Date, a.Date); c != 0 {
		return c
	}
	return strings.Compare(a.Summary, b.Summary)
}

// open shows one record.
func (v *recordsView) open(r wallet.Record) {
	w := v.u.openWallet()
	if w == nil {
		return
	}
	v.detail = v.u.newDetailView(func(ctx context.Context) (fhir.Resource, error) { return w.Resource(ctx, r) }, recordFacts(r))
	v.md.show(r.Summary, v.detail.content)
}

// recordFacts are what the wallet knows about a record beyond its FHIR
// content.
func recordFacts(r wallet.Record) []fhir.Field {
	facts := []fhir.Field{{Label: "Filed under", Value: categoryName(r.Category)}}
	if r.IsSensitive() {
		facts = append(facts, fhir.Field{Label: "Sensitive", Value: sensitiveList(r.Sensitive) + " (left out of shares unless you include it)"})
	}
	if r.Card != nil {
		facts = append(facts, fhir.Field{Label: "Verified", Value: cardText(r.Card)})
	}
	src := r.Source.File
	if src == "" {
		src = r.Source.Kind
	}
	facts = append(facts, fhir.Field{Label: "Imported", Value: r.Imported.Local().Format("2 Jan 2006") + " from " + src})
	return facts
}

// newRecordList is the list of records: one reusable row per visible item,
// so 10,000 records scroll as smoothly as ten.
func newRecordList(records func() []wallet.Record) *widget.List {
	return widget.NewList(
		func() int { return len(records()) },
		func() fyne.CanvasObject { return newRecordRow() },
		func(id widget.ListItemID, o fyne.CanvasObject) {
			if rs := records(); id < len(rs) {
				o.(*recordRow).set(rs[id])
			}
		})
}

// recordRow is one row of the record list: the summary, and under it the
// type, date and category.
type recordRow struct {
	widget.BaseWidget
	icon    *widget.Icon
	summary *widget.Label
	meta    *widget.Label
}

func newRecordRow() *recordRow {
	r := &recordRow{icon: widget.NewIcon(theme.DocumentIcon()), summary: widget.NewLabel(""), meta: widget.NewLabel("")}
	r.summary.TextStyle.Bold = true
	r.summary.Truncation = fyne.TextTruncateEllipsis
	r.meta.Truncation = fyne.TextTruncateEllipsis
	r.meta.SizeName = theme.SizeNameCaptionText
	r.meta.Importance = widget.LowImportance
	r.ExtendBaseWidget(r)
	return r
}

// set shows rec in the row; it is the list's update function, called for
// every row scrolled into view.
func (r *recordRow) set(rec wallet.Record) {
	summary := rec.Summary
	if summary == "" {
		summary = rec.Type
	}
	if r.summary.Text != summary {
		r.summary.SetText(summary)
	}
	if m := recordMeta(rec); r.meta.Text != m {
		r.meta.SetText(m)
	}
	if ic := categoryIcon(rec.Category); r.icon.Resource != ic {
		r.icon.SetResource(ic)
	}
}

func (r *recordRow) CreateRenderer() fyne.WidgetRenderer {
	text := container.New(&tightVBox{}, r.summary, r.meta)
	return widget.NewSimpleRenderer(container.NewBorder(nil, nil, r.icon, nil, text))
}

// tightVBox stacks objects without padding, for two-line rows.
type tightVBox struct{}

func (*tightVBox) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	y := float32(0)
	for _, o := range objs {
		h := o.MinSize().Height
		o.Move(fyne.NewPos(0, y))
		o.Resize(fyne.NewSize(size.Width, h))
		y += h - theme.Padding()*2
	}
}

func (*tightVBox) MinSize(objs []fyne.CanvasObject) fyne.Size {
	var s fyne.Size
	for _, o := range objs {
		m := o.MinSize()
		s.Width = max(s.Width, m.Width)
		s.Height += m.Height - theme.Padding()*2
	}
	s.Height += theme.Padding() * 2
	return s
}

// patientFirst orders a received share's records: the patient first, then
// as byDateThenSummary (newest first), as on the records tab.
func patientFirst(a, b wallet.Record) int {
	if pa, pb := a.Type == "Patient", b.Type == "Patient"; pa != pb {
		if pa {
			return -1
		}
		return 1
	}
	return byDateThenSummary(a, b)
}
