package app

import (
	"bytes"
	"context"
	"encoding/json"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

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
}

// newDetailView decrypts (or otherwise loads) a resource in the background
// and shows it, followed by facts the wallet keeps about it.
func (u *UI) newDetailView(load func(context.Context) (fhir.Resource, error), facts []fhir.Field) *detailView {
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
	v.json.Selectable = selectableText()
	v.copyJSON = widget.NewButtonWithIcon("Copy JSON", theme.ContentCopyIcon(), u.act(func() {
		u.app.Clipboard().SetContent(v.json.Text)
	}))
	v.copyJSON.Disable()

	readable := container.NewScroll(container.NewVBox(v.title, v.loading, v.errLabel, v.fields))
	raw := container.NewBorder(nil, container.NewHBox(v.copyJSON), nil, nil, container.NewScroll(v.json))
	v.tabs = container.NewAppTabs(
		container.NewTabItemWithIcon("Readable", theme.DocumentIcon(), readable),
		container.NewTabItemWithIcon("FHIR JSON", theme.FileTextIcon(), raw),
	)
	v.tabs.OnSelected = func(*container.TabItem) { u.touch() }
	v.content = v.tabs

	var res fhir.Resource
	ctx := u.walletCtx()
	u.run(func() (err error) {
		res, err = load(ctx)
		return err
	}, func(err error) {
		v.loading.Stop()
		v.loading.Hide()
		if err != nil {
			v.errLabel.SetText(userMessage(err))
			v.errLabel.Show()
			return
		}
		title, fields := fhir.Detail(res)
		if title == "" {
			title = res.Type
		}
		v.title.SetText(title)
		for _, f := range append(fields, facts...) {
			v.fields.Append(f.Label, wrapped(f.Value))
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
