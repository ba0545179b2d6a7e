package app

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/healthwallet/healthwallet/wallet"
	"github.com/healthwallet/healthwallet/wallet/identity"
)

// didPattern finds a did:key in pasted text (a bare DID, or a link or
// message that carries one).
var didPattern = regexp.MustCompile(`did:key:z[1-9A-HJ-NP-Za-km-z]+`)

// errNoGrantee: nothing that looks like a DID was given.
var errNoGrantee = errors.New("paste the DID (did:key:z…) of the person you share with, or choose a contact")

// granteeDID extracts and checks the did:key in s.
func granteeDID(s string) (string, error) {
	did := didPattern.FindString(s)
	if did == "" {
		return "", errNoGrantee
	}
	if _, err := identity.ParseDIDKey(did); err != nil {
		return "", err
	}
	return did, nil
}

// granteePicker chooses who receives a grant: a pasted DID or link, or a
// saved contact; a pasted DID can be saved as a contact.
type granteePicker struct {
	u        *UI
	content  fyne.CanvasObject
	entry    *widget.Entry
	contacts *widget.Select
	forget   *widget.Button
	save     *widget.Button
	picture  *widget.Button // reads their code from a picture
	hint     *widget.Label
	list     []wallet.Contact
	// onChange follows edits (the share preview).
	onChange func()
}

func (u *UI) newGranteePicker() *granteePicker {
	p := &granteePicker{u: u}
	p.entry = widget.NewEntry()
	p.entry.SetPlaceHolder("did:key:z… or a link that holds one")
	p.hint = wrapped("")
	p.entry.OnChanged = func(s string) {
		u.touch()
		p.check()
		if p.onChange != nil {
			p.onChange()
		}
	}
	p.contacts = widget.NewSelect(nil, func(name string) {
		for _, c := range p.list {
			if c.Name == name && p.entry.Text != c.DID {
				p.entry.SetText(c.DID)
			}
		}
	})
	p.contacts.PlaceHolder = "Choose a saved contact"
	p.forget = widget.NewButtonWithIcon("", theme.DeleteIcon(), u.act(p.forgetSelected))
	p.save = widget.NewButtonWithIcon("Save as contact…", theme.ContentAddIcon(), u.act(p.askName))
	p.save.Disable()
	p.picture = widget.NewButtonWithIcon("Their code from a picture…", theme.FileImageIcon(), u.act(func() {
		u.pickQRImage(p.readQR)
	}))
	p.content = container.NewVBox(p.entry, p.hint,
		container.NewBorder(nil, nil, nil, p.forget, p.contacts), buttonRow(p.picture, p.save))
	p.reload()
	return p
}

// reload reads the saved contacts.
func (p *granteePicker) reload() {
	w := p.u.openWallet()
	if w == nil {
		return
	}
	cs, err := w.Contacts()
	if err != nil {
		p.hint.SetText(userMessage(err))
		return
	}
	p.list = cs
	names := make([]string, len(cs))
	for i, c := range cs {
		names[i] = c.Name
	}
	p.contacts.SetOptions(names)
	p.check()
}

// check shows whom the entry names and whether it can be saved.
func (p *granteePicker) check() {
	p.hint.Importance = widget.MediumImportance
	did, err := granteeDID(p.entry.Text)
	switch {
	case strings.TrimSpace(p.entry.Text) == "":
		p.hint.SetText("")
		p.save.Disable()
		p.contacts.ClearSelected()
		return
	case err != nil:
		p.hint.Importance = widget.DangerImportance
		p.hint.SetText(userMessage(err))
		p.save.Disable()
		return
	}
	if c, ok := p.contact(did); ok {
		p.hint.SetText("Contact: " + c.Name)
		p.save.Disable()
		if p.contacts.Selected != c.Name {
			p.contacts.SetSelected(c.Name)
		}
		return
	}
	p.contacts.ClearSelected()
	p.hint.SetText("Not a saved contact: " + shortDID(did))
	p.save.Enable()
}

func (p *granteePicker) contact(did string) (wallet.Contact, bool) {
	for _, c := range p.list {
		if c.DID == did {
			return c, true
		}
	}
	return wallet.Contact{}, false
}

// readQR reads a contact code (another wallet's "My code") from the
// picture into the entry.
func (p *granteePicker) readQR(pic picture) {
	var did string
	p.u.run(func() (err error) {
		did, err = wallet.DecodeContactQR(pic.reader())
		return err
	}, func(err error) {
		if err != nil {
			p.hint.Importance = widget.DangerImportance
			p.hint.SetText(userMessage(err))
			return
		}
		p.entry.SetText(did)
	})
}

// did returns the chosen grantee.
func (p *granteePicker) did() (string, error) { return granteeDID(p.entry.Text) }

// askName asks what to call the pasted DID.
func (p *granteePicker) askName() {
	name := widget.NewEntry()
	name.SetPlaceHolder("e.g. Dr Ruiz, cardiology")
	dialog.ShowForm("Save contact", "Save", "Cancel", []*widget.FormItem{widget.NewFormItem("Name", name)}, func(ok bool) {
		if ok {
			if err := p.saveAs(name.Text); err != nil {
				p.u.showError(err)
			}
		}
	}, p.u.win)
}

// saveAs saves the pasted DID as a contact named name.
func (p *granteePicker) saveAs(name string) error {
	w := p.u.openWallet()
	if w == nil {
		return wallet.ErrLocked
	}
	did, err := p.did()
	if err != nil {
		return err
	}
	if err := w.SaveContact(wallet.Contact{Name: name, DID: did}); err != nil {
		return err
	}
	p.reload()
	return nil
}

// forgetSelected deletes the chosen contact.
func (p *granteePicker) forgetSelected() {
	w := p.u.openWallet()
	name := p.contacts.Selected
	if w == nil || name == "" {
		return
	}
	dialog.ShowConfirm("Forget contact?", "Forget "+name+"? Grants already given stay as they are.", func(ok bool) {
		if !ok {
			return
		}
		for _, c := range p.list {
			if c.Name == name {
				if err := w.DeleteContact(c.DID); err != nil {
					p.u.showError(err)
				}
			}
		}
		p.entry.SetText("")
		p.reload()
	}, p.u.win)
}

// Duration choices of a grant.
var durationChoices = []struct {
	label string
	d     time.Duration
}{
	{"1 hour", time.Hour},
	{"24 hours", 24 * time.Hour},
	{"7 days", 7 * 24 * time.Hour},
	{"30 days", 30 * 24 * time.Hour},
}

// customDuration is the duration choice that shows a free entry.
const customDuration = "Custom…"

// maxDepthChoice is the deepest re-sharing offered (the CLI allows 8).
const maxDepthChoice = 3

// parseDuration reads a custom duration: "90m", "12h", "3d", "2w", or any
// Go duration.
func parseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(strings.ToLower(s))
	for suffix, unit := range map[string]time.Duration{"d": 24 * time.Hour, "w": 7 * 24 * time.Hour} {
		if n, ok := strings.CutSuffix(s, suffix); ok {
			k, err := strconv.Atoi(strings.TrimSpace(n))
			if err != nil || k <= 0 {
				break
			}
			return time.Duration(k) * unit, nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("write a duration such as 90m, 12h, 3d or 2w")
	}
	return d, nil
}

// termsPicker chooses how long a grant lasts and whether, and how deep,
// the grantee may re-share it.
type termsPicker struct {
	content  fyne.CanvasObject
	duration *widget.Select
	custom   *widget.Entry
	reshare  *widget.Check
	depth    *widget.Select
}

// newTermsPicker offers re-sharing up to maxDepth steps (0: none).
func (u *UI) newTermsPicker(maxDepth int, onChange func()) *termsPicker {
	t := &termsPicker{}
	var labels []string
	for _, c := range durationChoices {
		labels = append(labels, c.label)
	}
	t.custom = widget.NewEntry()
	t.custom.SetPlaceHolder("e.g. 90m, 12h, 3d, 2w")
	t.custom.Hide()
	t.custom.OnChanged = func(string) { u.touch(); onChange() }
	t.duration = widget.NewSelect(append(labels, customDuration), nil)
	t.duration.SetSelected(durationChoices[1].label)
	t.duration.OnChanged = func(s string) {
		u.touch()
		if s == customDuration {
			t.custom.Show()
		} else {
			t.custom.Hide()
		}
		onChange()
	}
	var depths []string
	for i := 1; i <= min(maxDepth, maxDepthChoice); i++ {
		depths = append(depths, depthLabel(i))
	}
	t.depth = widget.NewSelect(depths, func(string) { onChange() })
	t.reshare = widget.NewCheck("Family may re-share it", func(on bool) {
		u.touch()
		if on {
			t.depth.Enable()
			if t.depth.Selected == "" {
				t.depth.SetSelected(depths[0])
			}
		} else {
			t.depth.Disable()
		}
		onChange()
	})
	t.depth.Disable()
	help := wrapped("1 step: they may share it with one more person, who cannot share it further. " +
		"A re-share never covers more, or lasts longer, than what you gave.")
	help.Importance = widget.LowImportance
	items := []fyne.CanvasObject{widget.NewForm(widget.NewFormItem("For", container.NewVBox(t.duration, t.custom)))}
	if maxDepth > 0 {
		items = append(items, t.reshare, widget.NewForm(widget.NewFormItem("How deep", t.depth)), help)
	}
	t.content = container.NewVBox(items...)
	return t
}

func depthLabel(n int) string {
	if n == 1 {
		return "1 step"
	}
	return strconv.Itoa(n) + " steps"
}

// value returns the duration and re-share depth chosen.
func (t *termsPicker) value() (time.Duration, uint8, error) {
	var d time.Duration
	for _, c := range durationChoices {
		if c.label == t.duration.Selected {
			d = c.d
		}
	}
	if t.duration.Selected == customDuration {
		var err error
		if d, err = parseDuration(t.custom.Text); err != nil {
			return 0, 0, err
		}
	}
	if d < wallet.MinGrantDuration || d > wallet.MaxGrantDuration {
		return 0, 0, wallet.ErrGrantDuration
	}
	var depth uint8
	if t.reshare.Checked {
		depth = uint8(t.depth.SelectedIndex() + 1)
	}
	return d, depth, nil
}
