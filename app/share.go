package app

import (
	"errors"
	"fmt"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/healthwallet/healthwallet/wallet"
	"github.com/healthwallet/healthwallet/wallet/catalog"
	"github.com/healthwallet/healthwallet/wallet/fhir"
)

// shareView is the share tab: what to share (categories, single records,
// an International Patient Summary, sensitive records off unless switched
// on), with whom, for how long and whether family may re-share. Sharing
// shows a QR code and a link (shareresult.go).
type shareView struct {
	u       *UI
	content fyne.CanvasObject
	stack   *fyne.Container // the form, or the result
	form    fyne.CanvasObject

	catGrid    *fyne.Container
	catChecks  map[fhir.Category]*widget.Check
	ips        *widget.Check
	pickButton *widget.Button
	picked     map[catalog.ID]bool
	pickedInfo *widget.Label
	since      *widget.Entry
	until      *widget.Entry
	sensitive  map[fhir.Sensitive]*widget.Check
	sensGrid   *fyne.Container
	how        *widget.RadioGroup // a grant to a person, or a SMART Health Link
	grantee    *granteePicker
	shlBox     *fyne.Container // passcode and label of a link
	passcode   *widget.Entry
	label      *widget.Entry
	terms      *termsPicker
	live       *widget.Check
	preview    *widget.Label
	errLabel   *widget.Label
	progress   *widget.ProgressBarInfinite
	button     *widget.Button
	result     *shareResult
	shlResult  *shlResult
	picker     *recordPicker // while open

	all        []wallet.Record // for the picker and the counts
	previewSeq int
}

func (u *UI) newShareView() *shareView {
	v := &shareView{u: u, catChecks: map[fhir.Category]*widget.Check{}, sensitive: map[fhir.Sensitive]*widget.Check{}, picked: map[catalog.ID]bool{}}
	cols := 3
	if isMobile() {
		cols = 2
	}
	v.catGrid = container.NewGridWithColumns(cols)
	v.ips = widget.NewCheck("Patient summary (IPS)", func(bool) { v.changed() })
	ipsHelp := wrapped("An International Patient Summary: allergies, medications, problems, immunizations, procedures and results, as one document.")
	ipsHelp.Importance = widget.LowImportance
	v.pickButton = widget.NewButtonWithIcon("Pick records…", theme.ListIcon(), u.act(v.openPicker))
	v.pickedInfo = widget.NewLabel("")
	v.since, v.until = dateEntry("Since (YYYY-MM-DD)"), dateEntry("Until (YYYY-MM-DD)")
	v.since.OnChanged = func(string) { v.changed() }
	v.until.OnChanged = func(string) { v.changed() }
	sensHelp := wrapped("Records about these are left out unless you switch them on here, whatever else you chose.")
	sensHelp.Importance = widget.LowImportance
	v.sensGrid = container.NewVBox()
	for _, s := range fhir.AllSensitive {
		v.sensitive[s] = widget.NewCheck(sensitiveName(s), func(bool) { v.changed() })
		v.sensGrid.Add(v.sensitive[s])
	}
	v.grantee = u.newGranteePicker()
	v.grantee.onChange = v.changed
	v.terms = u.newTermsPicker(maxDepthChoice, v.changed)
	v.passcode = widget.NewPasswordEntry()
	v.passcode.SetPlaceHolder("Passcode (optional; tell it to them separately)")
	v.passcode.OnChanged = func(string) { u.touch() }
	v.label = widget.NewEntry()
	v.label.SetPlaceHolder("Label they see, e.g. For Dr. Osei (optional)")
	v.label.OnChanged = func(string) { u.touch() }
	shlHelp := wrapped("A SMART Health Link opens in any SMART Health Links viewer, without a DID. You can see who opened it, and revoke it, under Shared by me.")
	shlHelp.Importance = widget.LowImportance
	v.shlBox = container.NewVBox(shlHelp, v.label, v.passcode)
	v.shlBox.Hide()
	v.how = widget.NewRadioGroup([]string{howGrant, howSHL}, func(s string) {
		u.touch()
		if s == howSHL {
			v.grantee.content.Hide()
			v.terms.reshare.SetChecked(false)
			v.terms.reshare.Disable()
			v.shlBox.Show()
		} else {
			v.grantee.content.Show()
			if !v.live.Checked {
				v.terms.reshare.Enable()
			}
			v.shlBox.Hide()
		}
		v.changed()
	})
	v.how.Required = true
	v.how.Selected = howGrant // (no OnChanged yet: the form is not built)
	v.live = widget.NewCheck("Live: include records I add later", func(on bool) {
		u.touch()
		// A live grant cannot be re-shared (wallet.ErrLiveDelegable).
		if on {
			v.terms.reshare.SetChecked(false)
			v.terms.reshare.Disable()
		} else if v.how.Selected != howSHL {
			v.terms.reshare.Enable()
		}
	})
	v.preview = wrapped("")
	v.errLabel = wrapped("")
	v.errLabel.Importance = widget.DangerImportance
	v.progress = widget.NewProgressBarInfinite()
	v.progress.Hide()
	v.button = widget.NewButtonWithIcon("Share", theme.MailSendIcon(), u.act(v.submit))
	v.button.Importance = widget.HighImportance

	what := section("What",
		v.catGrid, v.ips, ipsHelp,
		container.NewBorder(nil, nil, nil, v.pickButton, v.pickedInfo),
		columns(v.since, v.until))
	sensitive := section("Sensitive records", sensHelp, v.sensGrid)
	who := section("With whom", v.how, v.grantee.content, v.shlBox)
	terms := section("For how long", v.terms.content, v.live)
	send := container.NewVBox(v.preview, v.errLabel, v.progress, buttonRow(v.button))
	v.form = container.NewScroll(container.NewPadded(container.NewVBox(what, sensitive, who, terms, send)))
	v.stack = container.NewStack(v.form)
	v.content = v.stack
	return v
}

// refresh reloads the records (for counts and the picker) and contacts.
func (v *shareView) refresh() {
	w := v.u.openWallet()
	if w == nil {
		return
	}
	v.grantee.reload()
	var recs []wallet.Record
	v.u.run(func() (err error) {
		recs, err = w.Records(wallet.Filter{})
		return err
	}, func(err error) {
		if err != nil {
			v.errLabel.SetText(userMessage(err))
			return
		}
		v.setRecords(recs)
	})
}

// setRecords shows one check per category the wallet holds, with counts,
// keeping what was ticked.
func (v *shareView) setRecords(recs []wallet.Record) {
	v.all = recs
	count := map[fhir.Category]int{}
	sens := map[fhir.Sensitive]int{}
	for _, r := range recs {
		if r.Type == "Patient" {
			continue // always goes along; not a choice
		}
		count[r.Category]++
		for _, s := range r.Sensitive {
			sens[s]++
		}
	}
	v.catGrid.RemoveAll()
	for _, c := range fhir.AllCategories {
		if count[c] == 0 {
			continue
		}
		label := fmt.Sprintf("%s (%d)", categoryName(c), count[c])
		if ch, ok := v.catChecks[c]; ok {
			ch.SetText(label)
		} else {
			v.catChecks[c] = widget.NewCheck(label, func(bool) { v.changed() })
		}
		v.catGrid.Add(v.catChecks[c])
	}
	if len(count) == 0 {
		v.catGrid.Add(widget.NewLabel("No records yet: import some first."))
	}
	for s, ch := range v.sensitive {
		ch.SetText(fmt.Sprintf("%s (%d)", sensitiveName(s), sens[s]))
	}
	v.changed()
}

// selection is what the form describes.
func (v *shareView) selection() wallet.Selection {
	var s wallet.Selection
	for _, c := range fhir.AllCategories {
		if ch, ok := v.catChecks[c]; ok && ch.Checked {
			s.Categories = append(s.Categories, c)
		}
	}
	for _, r := range v.all {
		if v.picked[r.ID] {
			s.Records = append(s.Records, r.ID)
		}
	}
	for _, sv := range fhir.AllSensitive {
		if v.sensitive[sv].Checked {
			s.Sensitive = append(s.Sensitive, sv)
		}
	}
	if v.ips.Checked {
		s.Preset = wallet.PresetIPS
	}
	s.From, s.To = dateValue(v.since), dateValue(v.until)
	return s
}

// changed follows every edit: the preview says how many records the
// selection holds and how many sensitive ones it leaves out.
func (v *shareView) changed() {
	v.u.touch()
	v.errLabel.SetText("")
	n := len(v.picked)
	v.pickedInfo.SetText(fmt.Sprintf("%d record%s picked one by one", n, plural(n)))
	w := v.u.openWallet()
	sel := v.selection()
	if w == nil {
		return
	}
	if len(sel.Categories) == 0 && len(sel.Records) == 0 && sel.Preset == "" {
		v.preview.SetText("Choose categories, records or a patient summary to share.")
		return
	}
	v.previewSeq++
	seq := v.previewSeq
	var n1, n2 int
	v.u.run(func() error {
		recs, err := w.Select(sel)
		if err != nil && !errors.Is(err, wallet.ErrEmptySelection) {
			return err
		}
		n1 = len(recs)
		all := sel
		all.Sensitive = fhir.AllSensitive
		if recs, err := w.Select(all); err == nil {
			n2 = len(recs)
		}
		return nil
	}, func(err error) {
		if seq != v.previewSeq {
			return // a newer edit is on its way
		}
		if err != nil {
			v.preview.SetText(userMessage(err))
			return
		}
		v.preview.SetText(previewText(n1, n2-n1))
	})
}

// previewText says what a selection holds.
func previewText(n, leftOut int) string {
	s := fmt.Sprintf("%d record%s will be shared, with your patient record.", n, plural(n))
	if n == 0 {
		s = "The selection matches no records."
	}
	if leftOut > 0 {
		s += fmt.Sprintf(" %d sensitive record%s left out.", leftOut, plural(leftOut))
	}
	return s
}

// submit checks the form and issues the grant in the background.
func (v *shareView) submit() {
	w := v.u.openWallet()
	if w == nil || v.button.Disabled() {
		return
	}
	sel := v.selection()
	if v.how.Selected == howSHL {
		v.submitSHL(w, sel)
		return
	}
	to, err := v.grantee.did()
	if err == nil && len(sel.Categories) == 0 && len(sel.Records) == 0 && sel.Preset == "" {
		err = errors.New("choose categories, records or a patient summary to share")
	}
	var req wallet.GrantRequest
	if err == nil {
		req.Duration, req.Delegable, err = v.terms.value()
	}
	var chain wallet.ChainConfig
	if err == nil {
		chain, err = v.u.chainState()
	}
	if err == nil {
		req.Providers, err = v.u.shareProviders(w)
	}
	if err != nil {
		v.errLabel.SetText(userMessage(err))
		return
	}
	req.To, req.Selection, req.Live = to, sel, v.live.Checked
	v.button.Disable()
	v.progress.Show()
	var issued *wallet.IssuedGrant
	var png []byte
	var qrText string
	var avail []wallet.Availability
	var where wallet.ShareAvailability
	dev := v.u.device()
	ctx := v.u.walletCtx()
	v.u.run(func() (err error) {
		if issued, err = w.IssueGrant(ctx, req, chain); err != nil {
			return err
		}
		if png, qrText, err = w.ShareQR(ctx, issued.Link, req.Providers); err != nil {
			return err
		}
		// Every keeper gets the packages before the result shows; one that
		// is down gets them on the next sync (the node syncs every 30 s).
		if avail, err = w.PushToKeepers(ctx, issued.Record); err != nil {
			return err
		}
		where, err = w.GrantAvailability(issued.Record, dev)
		return err
	}, func(err error) {
		v.progress.Hide()
		v.button.Enable()
		if err != nil {
			if errors.Is(err, wallet.ErrEmptySelection) && len(sel.Sensitive) < len(fhir.AllSensitive) {
				err = errors.New("the selection matches no records (sensitive records are left out unless you switch them on)")
			}
			v.errLabel.SetText(userMessage(err))
			return
		}
		if _, nodeErr := v.u.nodeState(); nodeErr != nil && len(avail) > 0 && avail[0].Kind == "node" {
			avail = avail[1:] // the node is not running: only the keepers serve
		}
		v.showResult(issued, png, qrText, avail, where)
	})
}

// reset clears the form for the next share.
func (v *shareView) reset() {
	for _, ch := range v.catChecks {
		ch.SetChecked(false)
	}
	for _, ch := range v.sensitive {
		ch.SetChecked(false)
	}
	v.ips.SetChecked(false)
	clear(v.picked)
	v.since.SetText("")
	v.until.SetText("")
	v.grantee.entry.SetText("")
	v.passcode.SetText("")
	v.label.SetText("")
	v.live.SetChecked(false)
	v.how.SetSelected(howGrant)
	v.terms.reshare.SetChecked(false)
	v.stack.Objects = []fyne.CanvasObject{v.form}
	v.stack.Refresh()
	v.changed()
}
