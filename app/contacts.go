package app

import (
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/healthwallet/healthwallet/wallet"
)

// people names the people a wallet shares with: its contacts by DID and
// by address (the access log's form), and, for grants this wallet issued,
// who each grant went to.
type people struct {
	names  map[string]string             // DID, lower-case address → contact name
	grants map[string]wallet.GrantRecord // grant hash → issued grant
	links  map[string]wallet.SHLRecord   // link id → link
	dids   map[string]string             // lower-case address → DID, of grantees
}

// newPeople indexes names (wallet.ContactNames), grants and links.
func newPeople(names map[string]string, grants []wallet.GrantRecord, links []wallet.SHLRecord) *people {
	p := &people{names: names, grants: map[string]wallet.GrantRecord{}, links: map[string]wallet.SHLRecord{}, dids: map[string]string{}}
	if p.names == nil {
		p.names = map[string]string{}
	}
	for _, g := range grants {
		p.grants[g.Hash] = g
		if a := wallet.ContactAddress(g.Grantee); a != "" {
			p.dids[strings.ToLower(a)] = g.Grantee
		}
	}
	for _, l := range links {
		p.links[l.ID] = l
	}
	return p
}

// known reports whether did is a saved contact.
func (p *people) known(did string) bool {
	_, ok := p.names[did]
	return ok
}

// name is the contact name of a DID, or "someone new (did:key:z…abcd)".
func (p *people) name(did string) string {
	if n, ok := p.names[did]; ok {
		return n
	}
	return someoneNew(shortDID(did))
}

// someoneNew names a person who is not a contact by an abbreviated key.
func someoneNew(key string) string { return "someone new (" + key + ")" }

// presenter names who presented a grant in an access entry, and returns
// their DID when this wallet knows it (the grantee of its own grant), for
// "Add as contact".
func (p *people) presenter(e wallet.AccessEntry) (who, did string) {
	addr := strings.ToLower(e.Grantee)
	did = p.dids[addr]
	if n, ok := p.names[addr]; ok {
		who = n
	} else if did != "" {
		who = p.name(did)
	} else {
		who = someoneNew(shortAddress(e.Grantee))
	}
	if e.Links > 1 {
		if root, ok := p.grants[e.Root]; ok {
			who += " through " + possessive(p.name(root.Grantee)) + " re-share"
		} else {
			who += fmt.Sprintf(" (through %d re-share%s)", e.Links-1, plural(e.Links-1))
		}
	}
	return who, did
}

// possessive is "Zoe's" (or "someone new (…)'s").
func possessive(name string) string { return name + "'s" }

// accessWho names who an access entry is about: a grant's presenter, or
// the viewer of a link as it named itself; did is set when it can be
// saved as a contact.
func (p *people) accessWho(e wallet.AccessEntry) (who, did string) {
	if e.SHL != "" {
		if e.Recipient != "" {
			return e.Recipient, ""
		}
		return "a viewer", ""
	}
	return p.presenter(e)
}

// accessWhat is what an access entry opened: a grant's summary, or a
// link's label.
func (p *people) accessWhat(e wallet.AccessEntry) string {
	if e.SHL != "" {
		if l, ok := p.links[e.SHL]; ok {
			return shlTitle(l)
		}
		return "a SMART Health Link"
	}
	g, ok := p.grants[e.Root]
	if !ok {
		g, ok = p.grants[e.Grant]
	}
	if ok {
		return g.Summary
	}
	return "a share"
}

// accessVerb says what happened: "opened", or "was refused (why)", and
// through which keeper.
func accessVerb(e wallet.AccessEntry) string {
	v := "opened"
	if !e.Granted {
		v = "was refused (" + oneLine(e.Reason) + ")"
	}
	if e.Keeper != "" {
		v += " at " + e.Keeper
	}
	return v
}

// contactsPage lists the saved contacts, adds one from a code (pasted or
// read from a picture), and shows this wallet's own code.
type contactsPage struct {
	u       *UI
	content fyne.CanvasObject
	list    *fyne.Container
	code    *widget.Entry // a pasted DID or contact code
	name    *widget.Entry
	add     *widget.Button
	picture *widget.Button
	status  *widget.Label
	myCode  *widget.Button
	mine    *myCodePage // while on show
	// onChange follows additions and removals (the lists that name people).
	onChange func()
	// show opens a page (the master-detail's show).
	show func(title string, page fyne.CanvasObject)
}

func (u *UI) newContactsPage(show func(string, fyne.CanvasObject), onChange func()) *contactsPage {
	p := &contactsPage{u: u, show: show, onChange: onChange}
	p.list = container.NewVBox()
	p.code = widget.NewEntry()
	p.code.SetPlaceHolder("Their code: did:key:z… (or a message holding it)")
	p.code.OnChanged = func(string) { u.touch(); p.check() }
	p.name = widget.NewEntry()
	p.name.SetPlaceHolder("Name, e.g. Dr Ruiz, cardiology")
	p.name.OnChanged = func(string) { u.touch(); p.check() }
	p.status = wrapped("")
	p.add = widget.NewButtonWithIcon("Add contact", theme.ContentAddIcon(), u.act(p.save))
	p.add.Importance = widget.HighImportance
	p.add.Disable()
	p.picture = widget.NewButtonWithIcon("From a picture…", theme.FileImageIcon(), u.act(func() {
		u.pickQRImage(p.readQR)
	}))
	p.myCode = widget.NewButtonWithIcon("My code", theme.AccountIcon(), u.act(func() {
		p.mine = u.newMyCodePage()
		p.show("My code", p.mine.content)
	}))
	help := wrapped("Ask them to show their code (Shared by me → My code): read it from a photo or screenshot, or paste it. " +
		"A contact's name stays in your wallet; nobody else sees it.")
	help.Importance = widget.LowImportance
	p.content = container.NewScroll(container.NewPadded(container.NewVBox(
		heading("People"),
		section("Contacts", p.list),
		section("Add contact", help, p.code, p.name, p.status, buttonRow(p.picture, p.add)),
		section("Your own code", wrapped("Show it to people who share with you, so their wallet knows you by name."), buttonRow(p.myCode)),
	)))
	p.reload()
	return p
}

// reload lists the contacts.
func (p *contactsPage) reload() {
	w := p.u.openWallet()
	if w == nil {
		return
	}
	cs, err := w.Contacts()
	p.list.RemoveAll()
	if err != nil {
		p.list.Add(wrapped(userMessage(err)))
		return
	}
	if len(cs) == 0 {
		l := wrapped("No contacts yet. Add the people you share with, and every list shows their names.")
		l.Importance = widget.LowImportance
		p.list.Add(l)
	}
	for _, c := range cs {
		name := widget.NewLabelWithStyle(c.Name, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
		name.Truncation = fyne.TextTruncateEllipsis
		did := widget.NewLabel(shortDID(c.DID))
		did.SizeName = theme.SizeNameCaptionText
		did.Importance = widget.LowImportance
		forget := widget.NewButtonWithIcon("", theme.DeleteIcon(), p.u.act(func() { p.askForget(c) }))
		p.list.Add(container.NewBorder(nil, nil, nil, forget, container.New(&tightVBox{}, name, did)))
	}
	p.list.Refresh()
}

// check enables Add once a valid code and a name are given.
func (p *contactsPage) check() {
	if strings.TrimSpace(p.code.Text) == "" {
		p.setStatus(widget.MediumImportance, "")
		p.add.Disable()
		return
	}
	did, err := wallet.ParseContactCode(p.code.Text)
	if err != nil {
		p.setStatus(widget.DangerImportance, userMessage(err))
		p.add.Disable()
		return
	}
	if w := p.u.openWallet(); w != nil && did == w.Info().DID {
		p.setStatus(widget.WarningImportance, "This is your own code.")
		p.add.Disable()
		return
	}
	p.setStatus(widget.MediumImportance, "Code of "+shortDID(did))
	if strings.TrimSpace(p.name.Text) == "" {
		p.add.Disable()
	} else {
		p.add.Enable()
	}
}

func (p *contactsPage) setStatus(imp widget.Importance, text string) {
	p.status.Importance = imp
	p.status.SetText(text)
}

// readQR reads a contact code from the picture into the code box.
func (p *contactsPage) readQR(pic picture) {
	var did string
	p.u.run(func() (err error) {
		did, err = wallet.DecodeContactQR(pic.reader())
		return err
	}, func(err error) {
		if err != nil {
			p.setStatus(widget.DangerImportance, userMessage(err))
			return
		}
		p.code.SetText(did)
		if strings.TrimSpace(p.name.Text) == "" {
			p.setStatus(widget.MediumImportance, "Read "+shortDID(did)+" from the picture. What is their name?")
			p.u.win.Canvas().Focus(p.name)
		}
	})
}

// save adds the contact.
func (p *contactsPage) save() {
	w := p.u.openWallet()
	if w == nil {
		return
	}
	did, err := wallet.ParseContactCode(p.code.Text)
	if err == nil {
		err = w.SaveContact(wallet.Contact{Name: p.name.Text, DID: did})
	}
	if err != nil {
		p.setStatus(widget.DangerImportance, userMessage(err))
		return
	}
	name := strings.TrimSpace(p.name.Text)
	p.code.SetText("")
	p.name.SetText("")
	p.setStatus(widget.SuccessImportance, "Added "+name+".")
	p.reload()
	if p.onChange != nil {
		p.onChange()
	}
}

// askForget forgets a contact once confirmed.
func (p *contactsPage) askForget(c wallet.Contact) {
	dialog.ShowConfirm("Forget contact?", "Forget "+c.Name+"? What you shared with them stays as it is; lists show their key instead.", func(ok bool) {
		w := p.u.openWallet()
		if !ok || w == nil {
			return
		}
		if err := w.DeleteContact(c.DID); err != nil {
			p.u.showError(err)
			return
		}
		p.reload()
		if p.onChange != nil {
			p.onChange()
		}
	}, p.u.win)
}

// askSaveContact asks for a name for did ("Add as contact" in the access
// log) and saves it; saved runs after.
func (u *UI) askSaveContact(did string, saved func()) {
	name := widget.NewEntry()
	name.SetPlaceHolder("e.g. Dr Ruiz, cardiology")
	dialog.ShowForm("Add as contact", "Save", "Cancel", []*widget.FormItem{
		widget.NewFormItem("Key", widget.NewLabel(shortDID(did))),
		widget.NewFormItem("Name", name),
	}, func(ok bool) {
		w := u.openWallet()
		if !ok || w == nil {
			return
		}
		if err := w.SaveContact(wallet.Contact{Name: name.Text, DID: did}); err != nil {
			u.showError(err)
			return
		}
		if saved != nil {
			saved()
		}
	}, u.win)
}
