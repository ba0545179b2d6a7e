package app

import (
	"bytes"
	"context"
	"encoding/json"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/healthwallet/healthwallet/wallet"
	"github.com/healthwallet/healthwallet/wallet/fhir"
)

// detailView shows one FHIR resource: a readable rendering (fhir.Detail)
// and, one tap away, the raw FHIR JSON.
type detailView struct {
	content  fyne.CanvasObject
	tabs     *container.AppTabs
	title    *widget.Label
	fields   *widget.Form
	json     *widget.Label
	copyJSON *widget.Button
	errLabel *widget.Label
	loading  *widget.ProgressBarInfinite
	trend    *trendPlot // the results of the same test over time, if any
	card     *widget.Label
	// cardDetails holds the card's issuer and check, closed at first.
	cardDetails *widget.Accordion
}

// detailExtras are what a detail shows beyond the resource itself.
type detailExtras struct {
	// resolve finds what the resource references (run in the background).
	resolve func(ref string) *fhir.Resource
	// trend, given the loaded resource, returns the same test's results
	// over time; nil or fewer than two points draw no plot.
	trend func(fhir.Resource) *fhir.TrendLine
	// card is the SMART Health Card the resource came in.
	card *wallet.CardInfo
}

// newDetailView decrypts (or otherwise loads) a resource in the background
// and shows it, followed by facts the wallet keeps about it.
func (u *UI) newDetailView(load func(context.Context) (fhir.Resource, error), facts []fhir.Field, ex detailExtras) *detailView {
	v := &detailView{}
	v.title = heading("")
	v.title.SizeName = theme.SizeNameSubHeadingText
	v.fields = widget.NewForm()
	v.errLabel = wrapped("")
	v.errLabel.Importance = widget.DangerImportance
	v.errLabel.Hide()
	v.loading = widget.NewProgressBarInfinite()
	v.json = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Monospace: true})
	v.json.Wrapping = fyne.TextWrapBreak
	v.json.Selectable = true
	v.copyJSON = widget.NewButtonWithIcon("Copy JSON", theme.ContentCopyIcon(), u.act(func() {
		u.app.Clipboard().SetContent(v.json.Text)
	}))
	v.copyJSON.Disable()

	body := container.NewVBox(v.title)
	if ex.card != nil {
		// One line; the issuer's address and the check's details behind a toggle.
		v.card = wrapped(cardLine(ex.card))
		v.card.Importance = widget.SuccessImportance
		if ex.card.Status != "verified" {
			v.card.Importance = widget.DangerImportance
		}
		details := wrapped(cardText(ex.card))
		details.Importance = widget.LowImportance
		body.Add(v.card)
		v.cardDetails = widget.NewAccordion(widget.NewAccordionItem("Card details", details))
		body.Add(v.cardDetails)
	}
	trendBox := container.NewVBox()
	body.Add(v.loading)
	body.Add(v.errLabel)
	body.Add(v.fields)
	body.Add(trendBox)
	readable := container.NewScroll(body)
	raw := container.NewBorder(nil, container.NewHBox(v.copyJSON), nil, nil, container.NewScroll(v.json))
	v.tabs = container.NewAppTabs(
		container.NewTabItemWithIcon("Readable", theme.DocumentIcon(), readable),
		container.NewTabItemWithIcon("FHIR JSON", theme.FileTextIcon(), raw),
	)
	v.tabs.OnSelected = func(*container.TabItem) { u.touch() }
	v.content = v.tabs

	var res fhir.Resource
	var title string
	var fields []fhir.Field
	ctx := u.walletCtx()
	u.run(func() (err error) {
		if res, err = load(ctx); err == nil {
			title, fields = fhir.DetailWith(res, ex.resolve)
		}
		return err
	}, func(err error) {
		v.loading.Stop()
		v.loading.Hide()
		if err != nil {
			v.errLabel.SetText(userMessage(err))
			v.errLabel.Show()
			return
		}
		if title == "" {
			title = res.Type
		}
		v.title.SetText(title)
		for _, f := range append(fields, facts...) {
			v.fields.Append(f.Label, wrapped(f.Value))
		}
		if ex.trend != nil {
			if t := ex.trend(res); t != nil && len(t.Points) > 1 {
				v.trend = newTrendPlot(*t)
				what := "Trend"
				if t.HasRange {
					what += " (shaded: " + t.Range.String() + ")"
				}
				trendBox.Add(heading(what))
				trendBox.Add(v.trend)
			}
		}
		v.json.SetText(indentJSON(res.JSON()))
		v.copyJSON.Enable()
	})
	return v
}

// showJSON switches to the raw JSON, as a tap on its tab does.
func (v *detailView) showJSON() { v.tabs.SelectIndex(1) }

// indentJSON pretty-prints JSON for reading.
func indentJSON(b []byte) string {
	var out bytes.Buffer
	if json.Indent(&out, b, "", "  ") != nil {
		return string(b)
	}
	return out.String()
}
