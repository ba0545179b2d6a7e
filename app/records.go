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

// allTypes is the type filter's choice that means "no filter".
const allTypes = "All kinds"

// recordsView is the records tab: a summary of the patient's health, and
// every record in a list narrowed by a search and filters; and the import
// of files.
type recordsView struct {
	*recordBrowser
	u       *UI
	content fyne.CanvasObject
	md      *masterDetail

	importButton *widget.Button
	importing    *widget.ProgressBar
	importResult *widget.Label
	master       *fyne.Container // search, filters and import report over the list
	detail       *detailView     // the record on show
	dialogs      importDialogs   // an import's questions (import.go)
}

func (u *UI) newRecordsView() *recordsView {
	v := &recordsView{u: u}
	v.recordBrowser = u.newRecordBrowser(true, v.open)
	v.importButton = widget.NewButtonWithIcon("Import…", theme.FolderOpenIcon(), u.act(v.chooseFile))
	v.importButton.Importance = widget.HighImportance
	v.importing = widget.NewProgressBar()
	v.importing.Hide()
	v.importResult = wrapped("")
	v.importResult.Hide()

	top := container.NewVBox(
		container.NewBorder(nil, nil, nil, v.importButton, v.search),
		v.filters,
		v.importing, v.importResult, v.count,
	)
	v.master = container.NewBorder(top, nil, nil, nil, v.body)
	v.md = newMasterDetail("Records", v.master, "Choose a record to read it.")
	v.content = v.md.content
	return v
}

// recordBrowser is a list of records with a search, category chips with
// counts, a type filter in plain words and a date range; with withSummary
// it opens on the patient's summary (see fhir.Overview). The records tab
// and a received share's page each have one.
type recordBrowser struct {
	u     *UI
	all   []wallet.Record // every record, newest first
	shown []wallet.Record // those passing the filter
	list  *widget.List

	search      *widget.Entry
	typeFilter  *widget.Select
	typeNames   map[string]string // plain word → FHIR type
	chips       *chipBar
	showBilling *widget.Check
	from, to    *widget.Entry
	count       *widget.Label
	filters     fyne.CanvasObject // the filter widgets, laid out for the platform
	withSummary bool
	summary     *fyne.Container // the summary's sections
	body        *fyne.Container // the summary or the list
	// open shows a record; group are the records it stands for (a
	// medication's prescriptions, a test's results), newest first.
	open func(r wallet.Record, group []wallet.Record)
	// order sorts the records; byDateThenSummary unless set.
	order func(a, b wallet.Record) int
}

// Chip keys beyond the categories.
const (
	chipSummary = "summary"
	chipAll     = "all"
)

func (u *UI) newRecordBrowser(withSummary bool, open func(wallet.Record, []wallet.Record)) *recordBrowser {
	v := &recordBrowser{u: u, withSummary: withSummary, open: open, typeNames: map[string]string{}}
	v.list = newRecordList(func() []wallet.Record { return v.shown })
	v.list.OnSelected = func(id widget.ListItemID) {
		u.touch()
		if id < len(v.shown) {
			v.open(v.shown[id], nil)
		}
	}
	toList := func() {
		if v.chips.selected == chipSummary {
			v.chips.selected = chipAll
		}
	}
	v.search = widget.NewEntry()
	v.search.SetPlaceHolder("Search records")
	v.search.ActionItem = widget.NewIcon(theme.SearchIcon())
	v.search.OnChanged = func(s string) {
		u.touch()
		if s != "" {
			toList()
		}
		v.apply()
	}
	v.typeFilter = widget.NewSelect([]string{allTypes}, nil)
	v.typeFilter.SetSelected(allTypes)
	v.typeFilter.OnChanged = func(s string) {
		u.touch()
		if s != allTypes {
			toList()
		}
		v.apply()
	}
	v.chips = newChipBar(func(string) { u.touch(); v.apply() })
	v.showBilling = widget.NewCheck("Show billing", func(bool) { u.touch(); v.setChips(); v.apply() })
	v.from, v.to = dateEntry("From (YYYY-MM-DD)"), dateEntry("To (YYYY-MM-DD)")
	v.from.OnChanged = func(s string) {
		if s != "" {
			toList()
		}
		v.apply()
	}
	v.to.OnChanged = v.from.OnChanged
	clear := widget.NewButtonWithIcon("", theme.ContentClearIcon(), u.act(v.clearFilters))
	v.count = wrapped("")
	v.count.Importance = widget.LowImportance
	if isMobile() {
		v.filters = container.NewVBox(v.chips, widget.NewAccordion(widget.NewAccordionItem("Filters",
			container.NewVBox(v.typeFilter, v.from, v.to, v.showBilling, clear))))
	} else {
		v.filters = container.NewVBox(v.chips, container.NewBorder(nil, nil, nil, clear,
			container.NewGridWithColumns(2, v.typeFilter, v.showBilling, v.from, v.to)))
	}
	v.summary = container.NewVBox()
	v.body = container.NewStack(v.list)
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
func (v *recordBrowser) filter() wallet.Filter {
	f := wallet.Filter{Text: strings.TrimSpace(v.search.Text), From: dateValue(v.from), To: dateValue(v.to)}
	if t := v.typeFilter.Selected; t != allTypes {
		f.Type = v.typeNames[t]
	}
	if c := v.chips.selected; c != chipSummary && c != chipAll {
		f.Category = fhir.Category(c)
	}
	return f
}

// hidden reports a record left out of lists unless asked for: billing.
func (v *recordBrowser) hidden(r wallet.Record, f wallet.Filter) bool {
	return r.Category == fhir.Billing && !v.showBilling.Checked && f.Category != fhir.Billing
}

// apply filters the loaded records (in memory: fast enough for 10,000 as
// the user types) and refreshes the list, or shows the summary.
func (v *recordBrowser) apply() {
	f := v.filter()
	v.shown = v.shown[:0]
	hidden := 0
	for _, r := range v.all {
		if !f.Match(r) {
			continue
		}
		if v.hidden(r, f) {
			hidden++
			continue
		}
		v.shown = append(v.shown, r)
	}
	v.list.UnselectAll()
	v.chips.Refresh()
	var show fyne.CanvasObject = v.list
	if v.chips.selected == chipSummary {
		show = v.summary
	}
	if v.body.Objects[0] != show { // a swap; the list refreshes below
		v.body.Objects = []fyne.CanvasObject{show}
		v.body.Refresh()
	}
	v.list.Refresh()
	total := len(v.all)
	switch {
	case total == 0:
		v.count.SetText("No records yet. Import a FHIR file, a SMART Health Card, a PDF or an image.")
	case v.chips.selected == chipSummary && hidden > 0:
		n := total - hidden
		v.count.SetText(fmt.Sprintf("Summary of %d record%s; %d billing records hidden", n, plural(n), hidden))
	case v.chips.selected == chipSummary:
		v.count.SetText(fmt.Sprintf("Summary of %d record%s", total, plural(total)))
	case len(v.shown) == total:
		v.count.SetText(fmt.Sprintf("%d record%s", total, plural(total)))
	case hidden > 0 && len(v.shown)+hidden == total:
		v.count.SetText(fmt.Sprintf("%d records; %d billing records hidden", len(v.shown), hidden))
	default:
		v.count.SetText(fmt.Sprintf("%d of %d records", len(v.shown), total))
	}
}

func (v *recordBrowser) clearFilters() {
	v.search.SetText("")
	v.typeFilter.SetSelected(allTypes)
	v.from.SetText("")
	v.to.SetText("")
	v.chips.selected = chipAll
	if v.withSummary {
		v.chips.selected = chipSummary
	}
	v.apply()
}

// setRecords replaces the loaded records, the filter choices and the
// summary.
func (v *recordBrowser) setRecords(recs []wallet.Record) {
	order := v.order
	if order == nil {
		order = byDateThenSummary
	}
	slices.SortStableFunc(recs, order)
	v.all = recs
	v.shown = make([]wallet.Record, 0, len(recs))
	types := map[string]bool{}
	for _, r := range recs {
		types[r.Type] = true
	}
	v.typeNames = map[string]string{}
	typeChoices := []string{}
	for t := range types {
		name := fhir.PlainType(t)
		v.typeNames[name] = t
		typeChoices = append(typeChoices, name)
	}
	slices.Sort(typeChoices)
	v.typeFilter.SetOptions(append([]string{allTypes}, typeChoices...))
	if v.chips.selected == "" {
		v.chips.selected = chipAll
		if v.withSummary {
			v.chips.selected = chipSummary
		}
	}
	if v.withSummary {
		v.buildSummary()
	}
	v.setChips()
	v.apply()
}

// setChips lists a chip per category that has records, with its count;
// billing only when asked for.
func (v *recordBrowser) setChips() {
	counts := map[fhir.Category]int{}
	visible := 0
	for _, r := range v.all {
		counts[r.Category]++
		if r.Category != fhir.Billing || v.showBilling.Checked {
			visible++
		}
	}
	var chips []chip
	if v.withSummary {
		chips = append(chips, chip{key: chipSummary, label: "Summary"})
	}
	chips = append(chips, chip{key: chipAll, label: "All", count: visible})
	for _, c := range fhir.AllCategories {
		if counts[c] > 0 && (c != fhir.Billing || v.showBilling.Checked) {
			chips = append(chips, chip{key: string(c), label: categoryName(c), count: counts[c]})
		}
	}
	if v.chips.selected == string(fhir.Billing) && !v.showBilling.Checked {
		v.chips.selected = chipAll
	}
	v.chips.set(chips)
}

// buildSummary lays out the patient summary: a titled group per section,
// a row per item.
func (v *recordBrowser) buildSummary() {
	xs := make([]fhir.Index, len(v.all))
	for i, r := range v.all {
		xs[i] = r.Index
	}
	v.summary.Objects = nil
	for _, sec := range fhir.Overview(xs) {
		title := heading(sec.Title)
		title.SizeName = theme.SizeNameSubHeadingText
		v.summary.Add(title)
		for _, it := range sec.Items {
			group := make([]wallet.Record, len(it.Members))
			for i, m := range it.Members {
				group[i] = v.all[m]
			}
			row := newSummaryRow(it, v.all[it.Members[0]].Category, v.u.act(func() { v.open(group[0], group) }))
			v.summary.Add(row)
		}
	}
	if len(v.summary.Objects) == 0 && len(v.all) > 0 {
		v.summary.Add(wrapped("No allergies, problems, medications, results or immunizations among these records."))
	}
	v.summary.Refresh()
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
		v.master.Refresh() // the import report may have appeared
	})
}

// byDateThenSummary orders records newest first (as the wallet lists
// them), then by summary: a stable order for records of the same day.
func byDateThenSummary(a, b wallet.Record) int {
	if c := strings.Compare(b.Date, a.Date); c != 0 {
		return c
	}
	return strings.Compare(a.Summary, b.Summary)
}

// open shows one record; group are the records it stands for on the
// summary (a medication's prescriptions, a test's results).
func (v *recordsView) open(r wallet.Record, group []wallet.Record) {
	w := v.u.openWallet()
	if w == nil {
		return
	}
	facts := recordFacts(r)
	if len(group) > 1 && r.Number == nil { // a result's history is its trend
		facts = append([]fhir.Field{historyField(r, group)}, facts...)
	}
	all := v.all
	v.detail = v.u.newDetailView(func(ctx context.Context) (fhir.Resource, error) { return w.Resource(ctx, r) }, facts,
		detailExtras{resolve: recordResolver(v.u.walletCtx(), w, all), trend: trendOf(r, all), card: r.Card})
	v.md.show(recordTitle(r), v.detail.content)
}

// trendOf returns the trend of r's test among recs, once r's resource
// (which may carry the lab's reference range) is loaded.
func trendOf(r wallet.Record, recs []wallet.Record) func(fhir.Resource) *fhir.TrendLine {
	if r.Number == nil {
		return nil
	}
	return func(res fhir.Resource) *fhir.TrendLine {
		xs := make([]fhir.Index, len(recs))
		for i, o := range recs {
			xs[i] = o.Index
		}
		rg, ok := fhir.ReferenceRange(res)
		t := fhir.Trend(r.Index, xs, rg, ok)
		return &t
	}
}

// recordResolver finds the records a resource references (its prescriber,
// a reason, a report's results) among recs, and decrypts them. It runs in
// the background, with the detail it serves.
func recordResolver(ctx context.Context, w *wallet.Wallet, recs []wallet.Record) func(string) *fhir.Resource {
	cache := map[string]*fhir.Resource{}
	return func(ref string) *fhir.Resource {
		if ref == "" {
			return nil
		}
		if r, ok := cache[ref]; ok {
			return r
		}
		cache[ref] = nil
		for _, rec := range recs {
			if x := rec.Index; x.FullURL == ref || x.Type+"/"+x.ID == ref || x.ID != "" && ref == "urn:uuid:"+x.ID {
				if res, err := w.Resource(ctx, rec); err == nil {
					cache[ref] = &res
				}
				break
			}
		}
		return cache[ref]
	}
}

// historyField lists the dates of a group: a medication's prescriptions,
// a test's results.
func historyField(r wallet.Record, group []wallet.Record) fhir.Field {
	dates := make([]string, 0, len(group))
	for _, g := range group {
		dates = append(dates, fhir.HumanDate(g.Day()))
	}
	label := "History"
	switch r.Category {
	case fhir.Medications:
		label = "Prescribed"
	case fhir.Immunizations:
		label = "Doses"
	}
	return fhir.Field{Label: label, Value: fmt.Sprintf("%d times: %s", len(group), strings.Join(dates, ", "))}
}

// recordTitle is what a record is called on screen.
func recordTitle(r wallet.Record) string {
	if r.Name != "" {
		return r.Name
	}
	if r.Summary != "" {
		return fhir.HumanText(r.Summary)
	}
	return fhir.PlainType(r.Type)
}

// recordFacts are what the wallet knows about a record beyond its FHIR
// content.
func recordFacts(r wallet.Record) []fhir.Field {
	facts := []fhir.Field{{Label: "Filed under", Value: categoryName(r.Category)}}
	if r.IsSensitive() {
		facts = append(facts, fhir.Field{Label: "Sensitive", Value: sensitiveList(r.Sensitive) + " (left out of shares unless you include it)"})
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

// recordRow is one row of the record list: the name, and under it the
// kind of record; the value and the date in a right column of their own,
// never cut off (the name gives way).
type recordRow struct {
	widget.BaseWidget
	icon    *widget.Icon
	summary *widget.Label
	meta    *widget.Label
	value   *widget.Label
	date    *widget.Label
	box     *fyne.Container // laid out by rowLayout, once rendered
}

func newRecordRow() *recordRow {
	r := &recordRow{icon: widget.NewIcon(theme.DocumentIcon()), summary: widget.NewLabel(""), meta: widget.NewLabel(""),
		value: widget.NewLabel(""), date: widget.NewLabel("")}
	r.summary.TextStyle.Bold = true
	r.summary.Truncation = fyne.TextTruncateEllipsis
	r.meta.Truncation = fyne.TextTruncateEllipsis
	r.meta.SizeName = theme.SizeNameCaptionText
	r.meta.Importance = widget.LowImportance
	r.value.Alignment = fyne.TextAlignTrailing
	r.value.TextStyle.Bold = true
	r.date.Alignment = fyne.TextAlignTrailing
	r.date.SizeName = theme.SizeNameCaptionText
	r.date.Importance = widget.LowImportance
	r.ExtendBaseWidget(r)
	return r
}

// set shows rec in the row; it is the list's update function, called for
// every row scrolled into view.
func (r *recordRow) set(rec wallet.Record) {
	name, value := rec.Name, rec.Value
	if name == "" { // indexed before names were kept
		name = fhir.HumanText(rec.Summary)
	}
	if name == "" {
		name = fhir.PlainType(rec.Type)
	}
	r.show(name, recordMeta(rec), value, rec.Flag, fhir.HumanDate(rec.Day()), categoryIcon(rec.Category))
}

// show fills the row.
func (r *recordRow) show(name, meta, value, flag, date string, icon fyne.Resource) {
	if flag != "" {
		value = strings.TrimSpace(value + " " + flagMark(flag))
	}
	setText(r.summary, name)
	setText(r.meta, meta)
	// The right column's width follows its text: lay the row out again.
	relayout := setText(r.value, value)
	relayout = setText(r.date, date) || relayout
	imp := widget.MediumImportance
	if flag != "" {
		imp = widget.DangerImportance
	}
	if r.value.Importance != imp {
		r.value.Importance = imp
		r.value.Refresh()
	}
	if r.icon.Resource != icon {
		r.icon.SetResource(icon)
	}
	if relayout && r.box != nil { // only the layout: the labels refreshed themselves
		r.box.Layout.Layout(r.box.Objects, r.box.Size())
	}
}

// flagMark reads a result flag with an arrow: "↑ high", "↓ low".
func flagMark(flag string) string {
	switch {
	case strings.HasSuffix(flag, "high"):
		return "↑ " + flag
	case strings.HasSuffix(flag, "low"):
		return "↓ " + flag
	}
	return "(" + flag + ")"
}

// setText changes a label's text, and reports whether it changed.
func setText(l *widget.Label, s string) bool {
	if l.Text == s {
		return false
	}
	l.SetText(s)
	return true
}

func (r *recordRow) CreateRenderer() fyne.WidgetRenderer {
	text := container.New(&tightVBox{}, r.summary, r.meta)
	right := container.New(&tightVBox{}, r.value, r.date)
	r.box = container.New(&rowLayout{}, r.icon, text, right)
	return widget.NewSimpleRenderer(r.box)
}

// rowLayout lays out a row: an icon, the text taking what is left, and a
// right column as wide as its content, so a value and a date are never cut
// off. The text is cut (with an ellipsis) instead.
type rowLayout struct{}

func (*rowLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	icon, text, right := objs[0], objs[1], objs[2]
	pad := theme.Padding()
	is := theme.IconInlineSize()
	icon.Move(fyne.NewPos(pad, (size.Height-is)/2))
	icon.Resize(fyne.NewSquareSize(is))
	rw := right.MinSize().Width
	right.Move(fyne.NewPos(size.Width-rw, 0))
	right.Resize(fyne.NewSize(rw, size.Height))
	x := is + 2*pad
	text.Move(fyne.NewPos(x, 0))
	text.Resize(fyne.NewSize(max(0, size.Width-rw-x), size.Height))
}

func (*rowLayout) MinSize(objs []fyne.CanvasObject) fyne.Size {
	t, r := objs[1].MinSize(), objs[2].MinSize()
	return fyne.NewSize(theme.IconInlineSize()+2*theme.Padding()+t.Width+r.Width, max(t.Height, r.Height))
}

// summaryRow is one line of the summary: a record row that opens what it
// stands for when tapped.
type summaryRow struct {
	widget.BaseWidget
	row   *recordRow
	onTap func()
}

func newSummaryRow(it fhir.Item, cat fhir.Category, onTap func()) *summaryRow {
	s := &summaryRow{row: newRecordRow(), onTap: onTap}
	s.row.show(it.Name, it.Note, it.Value, it.Flag, fhir.HumanDate(day(it.Date)), categoryIcon(cat))
	s.ExtendBaseWidget(s)
	return s
}

// day is the YYYY-MM-DD part of a FHIR date.
func day(d string) string { return fhir.Index{Date: d}.Day() }

func (s *summaryRow) Tapped(*fyne.PointEvent) { s.onTap() }

func (s *summaryRow) CreateRenderer() fyne.WidgetRenderer { return widget.NewSimpleRenderer(s.row) }

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
