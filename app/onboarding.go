package app

import (
	"fmt"
	"image/color"
	"math/rand/v2"
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/healthwallet/healthwallet/wallet"
	"github.com/healthwallet/healthwallet/wallet/identity"
)

// confirmCount is how many words of a new phrase the user types back.
const confirmCount = 3

// onboarding holds the state of one create or restore flow, and the widgets
// tests drive.
type onboarding struct {
	phrase   identity.Phrase
	restored bool

	create, restore *widget.Button // welcome
	written         *widget.Button // words shown
	positions       []int          // 0-based word positions to confirm
	confirm         []*widget.Entry
	confirmErr      *widget.Label
	confirmNext     *widget.Button
	phraseEntry     *widget.Entry // restore
	phraseStatus    *widget.Label
	restoreNext     *widget.Button
	pass, pass2     *widget.Entry
	strength        *strengthMeter
	hint            *widget.Label
	passErr         *widget.Label
	finish          *widget.Button
	progress        *widget.ProgressBarInfinite
}

func (u *UI) showWelcome() {
	o := &onboarding{}
	u.ob = o
	logo := canvas.NewImageFromResource(Icon)
	logo.FillMode = canvas.ImageFillContain
	logo.SetMinSize(fyne.NewSize(112, 112))
	intro := widget.NewLabel("Your health records, on your device, encrypted with keys only you hold. " +
		"Share them for a limited time with the people who care for you, and take access back when you choose.")
	intro.Wrapping = fyne.TextWrapWord
	o.create = widget.NewButton("Create a new wallet", u.act(u.startCreate))
	o.create.Importance = widget.HighImportance
	o.restore = widget.NewButton("Restore from recovery phrase", u.act(u.showRestore))
	body := container.NewVBox(logo, intro, widget.NewSeparator(), o.create, o.restore)
	u.setScreen("welcome", page("Health Wallet", body))
}

func (u *UI) startCreate() {
	p, err := identity.NewPhrase()
	if err != nil {
		u.showError(err)
		return
	}
	u.ob.phrase = p
	u.showWords()
}

// showWords shows the new phrase, numbered, for the user to write down.
func (u *UI) showWords() {
	o := u.ob
	cols := 4
	if isMobile() {
		cols = 2
	}
	grid := container.NewGridWithColumns(cols)
	for i, w := range o.phrase.Words() {
		l := widget.NewLabelWithStyle(fmt.Sprintf("%2d. %s", i+1, w), fyne.TextAlignLeading, fyne.TextStyle{Monospace: true})
		grid.Add(l)
	}
	warn := widget.NewLabel("Write these 24 words on paper, in this order, and keep them somewhere safe. " +
		"They are the only way to recover your wallet if you lose this device. " +
		"Never type them into a website or share them with anyone, including us.")
	warn.Wrapping = fyne.TextWrapWord
	warn.Importance = widget.WarningImportance
	o.written = widget.NewButton("I have written them down", u.act(u.showConfirm))
	o.written.Importance = widget.HighImportance
	back := widget.NewButton("Back", u.act(u.showWelcome))
	u.setScreen("words", page("Your recovery phrase", container.NewVBox(warn, grid), back, o.written))
}

// showConfirm asks for confirmCount randomly chosen words back.
func (u *UI) showConfirm() {
	o := u.ob
	o.positions = rand.Perm(24)[:confirmCount]
	slices.Sort(o.positions)
	form := widget.NewForm()
	o.confirm = nil
	for _, pos := range o.positions {
		e := widget.NewEntry()
		e.SetPlaceHolder("word")
		e.OnChanged = func(string) { u.touch() }
		o.confirm = append(o.confirm, e)
		form.Append(fmt.Sprintf("Word #%d", pos+1), e)
	}
	o.confirm[len(o.confirm)-1].OnSubmitted = func(string) { u.checkConfirm() }
	o.confirmErr = widget.NewLabel("")
	o.confirmErr.Importance = widget.DangerImportance
	o.confirmErr.Wrapping = fyne.TextWrapWord
	intro := widget.NewLabel("To be sure your copy is right, type these words from it.")
	intro.Wrapping = fyne.TextWrapWord
	o.confirmNext = widget.NewButton("Continue", u.act(u.checkConfirm))
	o.confirmNext.Importance = widget.HighImportance
	again := widget.NewButton("Show the words again", u.act(u.showWords))
	u.setScreen("confirm", page("Check your recovery phrase", container.NewVBox(intro, form, o.confirmErr), again, o.confirmNext))
}

// confirmProblem returns what is wrong with the typed words, or "".
func confirmProblem(words []string, positions []int, typed []string) string {
	for i, pos := range positions {
		got := strings.ToLower(strings.TrimSpace(typed[i]))
		switch {
		case got == "":
			return fmt.Sprintf("Type word #%d from your copy.", pos+1)
		case !identity.IsWord(got):
			return fmt.Sprintf("Word #%d: %q is not a recovery word. Check the spelling on your copy.", pos+1, got)
		case got != words[pos]:
			return fmt.Sprintf("Word #%d does not match the phrase shown. Check your copy, or show the words again.", pos+1)
		}
	}
	return ""
}

func (u *UI) checkConfirm() {
	o := u.ob
	typed := make([]string, len(o.confirm))
	for i, e := range o.confirm {
		typed[i] = e.Text
	}
	if msg := confirmProblem(o.phrase.Words(), o.positions, typed); msg != "" {
		o.confirmErr.SetText(msg)
		return
	}
	u.showPassphrase()
}

func (u *UI) showRestore() {
	o := u.ob
	o.restored = true
	o.phraseEntry = widget.NewMultiLineEntry()
	o.phraseEntry.Wrapping = fyne.TextWrapWord
	o.phraseEntry.SetPlaceHolder("word1 word2 word3 …")
	o.phraseEntry.SetMinRowsVisible(4)
	o.phraseStatus = widget.NewLabel("")
	o.phraseStatus.Wrapping = fyne.TextWrapWord
	o.phraseEntry.OnChanged = func(s string) { u.touch(); o.phraseStatus.SetText(phraseStatus(s, false)) }
	intro := widget.NewLabel("Type your 12, 15, 18, 21 or 24 recovery words in order, separated by spaces.")
	intro.Wrapping = fyne.TextWrapWord
	o.restoreNext = widget.NewButton("Continue", u.act(func() {
		p, err := identity.ParsePhrase(o.phraseEntry.Text)
		if err != nil {
			o.phraseStatus.SetText(phraseStatus(o.phraseEntry.Text, true))
			o.phraseStatus.Importance = widget.DangerImportance
			o.phraseStatus.Refresh()
			return
		}
		o.phrase = p
		u.showPassphrase()
	}))
	o.restoreNext.Importance = widget.HighImportance
	back := widget.NewButton("Back", u.act(u.showWelcome))
	u.setScreen("restore", page("Restore your wallet", container.NewVBox(intro, o.phraseEntry, o.phraseStatus), back, o.restoreNext))
}

// phraseStatus describes a phrase being typed. While typing (final false) a
// last word that may be unfinished is not yet judged.
func phraseStatus(s string, final bool) string {
	words := strings.Fields(s)
	if len(words) == 0 {
		return ""
	}
	judged := words
	if !final && !strings.HasSuffix(s, " ") && !strings.HasSuffix(s, "\n") {
		judged = words[:len(words)-1]
	}
	for i, w := range judged {
		if !identity.IsWord(w) {
			return fmt.Sprintf("Word %d %q is not a recovery word.", i+1, w)
		}
	}
	if !final {
		return fmt.Sprintf("%d words", len(words))
	}
	if _, err := identity.ParsePhrase(s); err != nil {
		msg := err.Error()
		return strings.ToUpper(msg[:1]) + msg[1:] + "."
	}
	return fmt.Sprintf("%d words", len(words))
}

// showPassphrase asks for the passphrase that seals the keystore on this
// device, with a live strength hint, then creates the wallet.
func (u *UI) showPassphrase() {
	o := u.ob
	o.pass = widget.NewPasswordEntry()
	o.pass.SetPlaceHolder("Passphrase")
	o.pass2 = widget.NewPasswordEntry()
	o.pass2.SetPlaceHolder("Repeat the passphrase")
	o.strength = newStrengthMeter()
	o.hint = widget.NewLabel("")
	o.hint.Wrapping = fyne.TextWrapWord
	o.pass.OnChanged = func(s string) {
		u.touch()
		grade, hint := wallet.EstimatePassphrase(s)
		o.strength.set(grade, s != "")
		o.hint.Importance = widget.MediumImportance
		if s != "" {
			o.hint.Importance = gradeImportance(grade)
		}
		o.hint.SetText(hint)
	}
	o.pass.OnChanged("")
	o.pass2.OnSubmitted = func(string) { u.finishOnboarding() }
	o.passErr = widget.NewLabel("")
	o.passErr.Importance = widget.DangerImportance
	o.passErr.Wrapping = fyne.TextWrapWord
	o.progress = widget.NewProgressBarInfinite()
	o.progress.Hide()
	intro := widget.NewLabel("The passphrase unlocks your wallet on this device. It is not your recovery phrase: " +
		"if you forget it, restore the wallet from your words.")
	intro.Wrapping = fyne.TextWrapWord
	label := "Create wallet"
	if o.restored {
		label = "Restore wallet"
	}
	o.finish = widget.NewButton(label, u.act(u.finishOnboarding))
	o.finish.Importance = widget.HighImportance
	body := container.NewVBox(intro, o.pass, o.strength, o.hint, o.pass2, o.passErr, o.progress)
	u.setScreen("passphrase", page("Choose a passphrase", body, o.finish))
}

func (u *UI) finishOnboarding() {
	o := u.ob
	if o.finish.Disabled() {
		return
	}
	if err := wallet.CheckPassphrase(o.pass.Text); err != nil {
		_, hint := wallet.EstimatePassphrase(o.pass.Text)
		o.passErr.SetText(hint)
		return
	}
	if o.pass.Text != o.pass2.Text {
		o.passErr.SetText("The two passphrases differ.")
		return
	}
	o.passErr.SetText("")
	o.finish.Disable()
	o.progress.Show()
	pass, phrase := o.pass.Text, o.phrase
	var w *wallet.Wallet
	u.run(func() (err error) {
		w, err = wallet.Create(u.home, phrase, pass, u.opts.Wallet)
		return err
	}, func(err error) {
		o.progress.Hide()
		o.finish.Enable()
		if err != nil {
			o.passErr.SetText(userMessage(err))
			return
		}
		u.ob = nil
		u.opened(w)
	})
}

// meterSegments is how many segments the strength meter has: one for
// each grade of wallet.Strength.
const meterSegments = int(wallet.VeryStrong) + 1

// strengthMeter shows a passphrase's grade as a row of segments, filled up
// to the grade in a colour that means something: red for very weak and
// weak, amber for fair, green for strong and very strong. The colours are
// the theme's error, warning and success colours, which keep 4.5:1 against
// the background (theme.go); the hint beside it says the grade in words,
// in the same colour, so the colour is never the only sign.
type strengthMeter struct {
	widget.BaseWidget
	grade wallet.Strength
	typed bool // whether anything is typed: nothing is filled before
}

func newStrengthMeter() *strengthMeter {
	m := &strengthMeter{}
	m.ExtendBaseWidget(m)
	return m
}

// set shows grade, or an empty meter when nothing is typed.
func (m *strengthMeter) set(grade wallet.Strength, typed bool) {
	m.grade, m.typed = grade, typed
	m.Refresh()
}

// filled is how many segments are filled.
func (m *strengthMeter) filled() int {
	if !m.typed {
		return 0
	}
	return int(m.grade) + 1
}

// gradeColour is the theme colour of a grade.
func gradeColour(s wallet.Strength) fyne.ThemeColorName {
	switch {
	case s <= wallet.Weak:
		return theme.ColorNameError
	case s == wallet.Fair:
		return theme.ColorNameWarning
	}
	return theme.ColorNameSuccess
}

// gradeImportance is the label importance drawn in gradeColour.
func gradeImportance(s wallet.Strength) widget.Importance {
	switch gradeColour(s) {
	case theme.ColorNameError:
		return widget.DangerImportance
	case theme.ColorNameWarning:
		return widget.WarningImportance
	}
	return widget.SuccessImportance
}

func (m *strengthMeter) CreateRenderer() fyne.WidgetRenderer {
	r := &meterRenderer{m: m}
	for range meterSegments {
		seg := canvas.NewRectangle(color.Transparent)
		r.segs = append(r.segs, seg)
		r.objs = append(r.objs, seg)
	}
	r.Refresh()
	return r
}

type meterRenderer struct {
	m    *strengthMeter
	segs []*canvas.Rectangle
	objs []fyne.CanvasObject
}

func (r *meterRenderer) Destroy()                     {}
func (r *meterRenderer) Objects() []fyne.CanvasObject { return r.objs }

func (r *meterRenderer) MinSize() fyne.Size {
	th := r.m.Theme()
	return fyne.NewSize(float32(meterSegments)*th.Size(theme.SizeNamePadding)*4, th.Size(theme.SizeNamePadding)*2)
}

func (r *meterRenderer) Layout(size fyne.Size) {
	gap := r.m.Theme().Size(theme.SizeNamePadding)
	w := (size.Width - gap*float32(meterSegments-1)) / float32(meterSegments)
	for i, seg := range r.segs {
		seg.Move(fyne.NewPos(float32(i)*(w+gap), 0))
		seg.Resize(fyne.NewSize(w, size.Height))
	}
}

func (r *meterRenderer) Refresh() {
	th, v := r.m.Theme(), fyne.CurrentApp().Settings().ThemeVariant()
	on, off := th.Color(gradeColour(r.m.grade), v), th.Color(theme.ColorNameInputBorder, v)
	for i, seg := range r.segs {
		seg.FillColor = off
		if i < r.m.filled() {
			seg.FillColor = on
		}
		seg.CornerRadius = th.Size(theme.SizeNameInputRadius)
		seg.Refresh()
	}
}
