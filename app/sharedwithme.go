package app

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/healthwallet/healthwallet/internal/qrimage"
	"github.com/healthwallet/healthwallet/share/grant"
	"github.com/healthwallet/healthwallet/wallet"
)

// sharedWithMeView is for specialists and family: redeem a grant (a pasted
// link or a QR code image), see it verified or refused with the exact
// reason, fetch with progress, then read, export and re-share what it
// holds (receivedpage.go).
type sharedWithMeView struct {
	u        *UI
	content  fyne.CanvasObject
	md       *masterDetail
	link     *widget.Entry
	openQR   *widget.Button
	redeem   *widget.Button
	progress *widget.ProgressBar
	verdict  *widget.Label // the verification result
	details  *widget.Accordion
	detail   *widget.Label // a refusal's technical reason, in details
	grants   []wallet.GrantRecord
	names    wallet.Names // contact names, to name sharers
	list     *widget.List
	empty    *widget.Label
	master   *fyne.Container
	page     *receivedPage  // the grant on show
	shl      *shlOpenedPage // the SMART Health Link on show
	askPass  *dialog.FormDialog
	passcode *widget.Entry // in askPass
	checked  bool          // live grants were refreshed this session
}

func (u *UI) newSharedWithMeView() *sharedWithMeView {
	v := &sharedWithMeView{u: u}
	v.link = widget.NewMultiLineEntry()
	v.link.Wrapping = fyne.TextWrapBreak
	v.link.SetMinRowsVisible(3)
	v.link.SetPlaceHolder("Paste a " + grant.LinkPrefix + "… or shlink:/… link")
	v.link.OnChanged = func(string) { u.touch() }
	v.openQR = widget.NewButtonWithIcon("Open QR image…", theme.FolderOpenIcon(), u.act(v.chooseQR))
	v.redeem = widget.NewButtonWithIcon("Redeem", theme.DownloadIcon(), u.act(func() { v.submit() }))
	v.redeem.Importance = widget.HighImportance
	v.progress = widget.NewProgressBar()
	v.progress.Hide()
	v.verdict = wrapped("")
	v.detail = wrapped("")
	v.detail.Importance = widget.LowImportance
	v.detail.TextStyle.Monospace = true
	v.details = widget.NewAccordion(widget.NewAccordionItem("Details", v.detail))
	v.details.Hide()
	v.list = widget.NewList(
		func() int { return len(v.grants) },
		func() fyne.CanvasObject { return newGrantRow() },
		func(id widget.ListItemID, o fyne.CanvasObject) {
			if id < len(v.grants) {
				g := v.grants[id]
				o.(*grantRow).set("From "+v.sharer(g.Issuer), g.Summary, g.Status(u.now()), untilText(g, u.now()), g.Live)
			}
		})
	v.list.OnSelected = func(id widget.ListItemID) {
		u.touch()
		if id < len(v.grants) {
			v.open(v.grants[id], nil)
		}
	}
	v.empty = wrapped("Nothing has been shared with you yet. Give people your DID (Settings) so they can share with you.")
	v.empty.Importance = widget.LowImportance
	redeemCard := section("Redeem a grant", v.link, buttonRow(v.openQR, v.redeem), v.progress, v.verdict, v.details)
	v.master = container.NewBorder(container.NewVBox(redeemCard, v.empty), nil, nil, nil, v.list)
	v.md = newMasterDetail("Shared with me", v.master, "Redeem a grant, or choose one to read what it shares.")
	v.content = v.md.content
	return v
}

// reload reads the grants this wallet received.
func (v *sharedWithMeView) reload() {
	w := v.u.openWallet()
	if w == nil {
		return
	}
	var grants []wallet.GrantRecord
	var names wallet.Names
	v.u.run(func() error {
		names, _ = w.ContactNames() // without names, people show as addresses
		all, err := w.Grants()
		for _, g := range all {
			if g.Direction == wallet.Received {
				grants = append(grants, g)
			}
		}
		return err
	}, func(err error) {
		if err != nil {
			v.empty.SetText(userMessage(err))
			v.empty.Show()
			return
		}
		v.grants, v.names = grants, names
		if !v.checked {
			v.checked = true
			v.refreshLive(w)
		}
		if len(grants) > 0 {
			v.empty.Hide()
		} else {
			v.empty.Show()
		}
		v.master.Refresh() // lay out again without (or with) the hint
		v.list.UnselectAll()
		v.list.Refresh()
	})
}

// chooseQR reads a grant link from a QR code image file.
func (v *sharedWithMeView) chooseQR() {
	v.u.pickQRImage(v.readQR)
}

// readQR puts the link in a QR code picture into the link box.
func (v *sharedWithMeView) readQR(pic picture) {
	var link string
	v.u.run(func() (err error) {
		if link, err = wallet.DecodeLinkQR(pic.reader()); err != nil {
			if l, shlErr := wallet.DecodeSHLQR(pic.reader()); shlErr == nil && isSHL(l) {
				link, err = l, nil
			}
		}
		return err
	}, func(err error) {
		if err != nil {
			v.showVerdict(widget.DangerImportance, userMessage(err))
			return
		}
		v.link.SetText(link)
		if isSHL(link) {
			v.showVerdict(widget.MediumImportance, "Read a SMART Health Link from the QR code. Tap Redeem to open it.")
			return
		}
		v.showVerdict(widget.MediumImportance, "Read a grant from the QR code. Tap Redeem to check and fetch it.")
	})
}

func (v *sharedWithMeView) showVerdict(imp widget.Importance, text string) {
	v.verdict.Importance = imp
	v.verdict.SetText(text)
	if v.details.Visible() {
		v.details.Hide()
		v.master.Refresh()
	}
}

// showRefusal says why a grant, a link or a live version could not be
// opened: one sentence a person understands (wallet.Explain, naming the
// sharer when they are a contact), the technical reason behind Details.
// prefix, if any, comes before the sentence.
func (v *sharedWithMeView) showRefusal(imp widget.Importance, prefix string, err error) {
	var names wallet.Names
	if w := v.u.openWallet(); w != nil {
		names, _ = w.ContactNames() // no names: "the person who shared it"
	}
	e := wallet.Explain(err, names.Of)
	v.showVerdict(imp, prefix+e.Sentence)
	v.detail.SetText(e.Details)
	v.details.CloseAll()
	v.details.Show()
	v.master.Refresh() // lay out again with the toggle
}

// submit verifies the grant, fetches what it shares with progress and
// records it as received.
func (v *sharedWithMeView) submit() {
	w := v.u.openWallet()
	if w == nil || v.redeem.Disabled() {
		return
	}
	link := strings.Join(strings.Fields(v.link.Text), "")
	if isSHL(link) {
		v.submitSHL(w, link)
		return
	}
	if !strings.HasPrefix(link, grant.LinkPrefix) && !grant.IsBundleLink(link) {
		v.showVerdict(widget.DangerImportance, "This is not a grant link: it starts with "+grant.LinkPrefix)
		return
	}
	chain, err := v.u.chainState()
	if err != nil {
		v.showVerdict(widget.DangerImportance, userMessage(err))
		return
	}
	v.redeem.Disable()
	v.progress.SetValue(0)
	v.progress.Show()
	v.showVerdict(widget.MediumImportance, "Checking the signature, the dates and the revocation registry…")
	fetching := false
	progress := func(done, total int64) {
		if total <= 0 {
			return
		}
		fyne.Do(func() {
			if !fetching {
				fetching = true
				v.showVerdict(widget.MediumImportance, "Verified. Fetching the records…")
			}
			v.progress.SetValue(float64(done) / float64(total))
		})
	}
	var red *wallet.Redeemed
	ctx := v.u.walletCtx()
	v.u.run(func() (err error) {
		red, err = w.Redeem(ctx, link, chain, wallet.RedeemOptions{Progress: progress, Listen: v.u.opts.RedeemListen})
		return err
	}, func(err error) {
		v.redeem.Enable()
		v.progress.Hide()
		if err != nil {
			v.showRefusal(widget.DangerImportance, "", err)
			return
		}
		v.link.SetText("")
		v.reload()
		v.open(red.Record, red.Bundle)
		n := 0
		if v.page != nil {
			n = len(v.page.resources)
		}
		v.showVerdict(widget.SuccessImportance, fmt.Sprintf("Verified: a grant from %s (%s), valid until %s. Received %d FHIR resource%s.",
			v.sharer(red.Record.Issuer), chainText(red.Record.Links), dateTime(red.Record.ExpiresAt), n, plural(n)))
	})
}

// chainText describes a grant's delegation chain.
func chainText(links int) string {
	if links <= 1 {
		return "directly from the patient"
	}
	return fmt.Sprintf("re-shared %d time%s", links-1, plural(links-1))
}

// open shows a received grant; bundle is its package when just fetched,
// nil to read it from the wallet.
func (v *sharedWithMeView) open(g wallet.GrantRecord, bundle []byte) {
	v.page = v.u.newReceivedPage(g, bundle)
	v.md.show("From "+v.sharer(g.Issuer), v.page.content)
}

// sharer names who shared: their contact name, else their short address.
func (v *sharedWithMeView) sharer(address string) string {
	if n := v.names.Of(address); n != "" {
		return n
	}
	return shortAddress(address)
}

// picture is a picked image: a name for messages and its bytes. A phone's
// picker hands over a stream (a content URI), not a file, so the QR code
// is decoded from the bytes (in pure Go) and never from a path.
type picture struct {
	name string
	data []byte
}

// reader returns the picture's bytes as a stream for the QR decoders.
func (p picture) reader() io.Reader { return bytes.NewReader(p.data) }

// pictureFile reads the picture at path (tests, and pictures dropped on the
// window).
func pictureFile(path string) (picture, error) {
	f, err := os.Open(path)
	if err != nil {
		return picture{}, err
	}
	defer f.Close()
	return readPicture(filepath.Base(path), f)
}

// readPicture reads at most qrimage.MaxFileSize bytes of r; a larger
// picture is refused by the decoder, which sees one byte more.
func readPicture(name string, r io.Reader) (picture, error) {
	data, err := io.ReadAll(io.LimitReader(r, qrimage.MaxFileSize+1))
	return picture{name: name, data: data}, err
}

// pickQRImage lets the user pick a QR code picture (a file on desktop, a
// photo on a phone) and hands its bytes to read.
func (u *UI) pickQRImage(read func(picture)) {
	d := dialog.NewFileOpen(func(rc fyne.URIReadCloser, err error) {
		if err != nil {
			u.showError(err)
			return
		}
		if rc == nil {
			return
		}
		pic, err := readPicture(rc.URI().Name(), rc)
		rc.Close()
		if err != nil {
			u.showError(err)
			return
		}
		read(pic)
	}, u.win)
	d.SetFilter(storage.NewExtensionFileFilter([]string{".png", ".jpg", ".jpeg", ".gif"}))
	d.Show()
}
