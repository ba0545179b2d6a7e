package app

import (
	"bytes"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/healthwallet/healthwallet/share/grant"
	"github.com/healthwallet/healthwallet/wallet"
	"github.com/healthwallet/healthwallet/wallet/fhir"
	"github.com/healthwallet/healthwallet/wallet/identity"
)

// openSharingWallet is the patient's wallet on the test chain, with its
// node running and Marguerita Reilly's records imported.
func openSharingWallet(t *testing.T, phrase string) *UI {
	t.Helper()
	chain, revoker := startChain(t)
	if phrase == "" {
		p, _ := identity.NewPhrase()
		phrase = strings.Join(p.Words(), " ")
	}
	u := openTestWalletOf(t, phrase, Options{Chain: &chain, Revoker: revoker})
	if _, err := u.nodeState(); err != nil {
		t.Fatalf("node: %v", err)
	}
	importFixture(t, u, "Marguerita_Reilly")
	return u
}

// shareWith fills the share form as a user does and taps Share.
func shareWith(t *testing.T, u *UI, to string, cats ...fhir.Category) *wallet.IssuedGrant {
	t.Helper()
	tapTab(t, u, tabShare)
	v := u.share
	for _, c := range cats {
		test.Tap(v.catChecks[c])
	}
	u.bg.Wait()
	test.Type(v.grantee.entry, to)
	test.Tap(v.button)
	u.bg.Wait()
	if v.result == nil {
		t.Fatalf("no grant: %q", v.errLabel.Text)
	}
	return v.result.issued
}

func TestShareFlow(t *testing.T) {
	u := openSharingWallet(t, phraseSharer)
	specialist := newPeerWalletOf(t, phraseSpecialist)
	tapTab(t, u, tabShare)
	v := u.share
	assertScreenNormalized(t, u, "share")

	// Nothing chosen: the preview says so and Share refuses.
	mustContain(t, "preview", v.preview.Text, "Choose categories")
	test.Tap(v.button)
	mustContain(t, "error", v.errLabel.Text, "Paste the DID")

	// Sensitive records (such as the "Errin 28 Day Pack" prescription)
	// are left out until switched on.
	test.Tap(v.catChecks[fhir.Labs])
	test.Tap(v.catChecks[fhir.Medications])
	u.bg.Wait()
	mustContain(t, "preview", v.preview.Text, "records will be shared", "sensitive records left out")
	for _, s := range fhir.AllSensitive {
		test.Tap(v.sensitive[s])
	}
	u.bg.Wait()
	if strings.Contains(v.preview.Text, "left out") {
		t.Fatalf("preview %q with every sensitive category on", v.preview.Text)
	}
	for _, s := range fhir.AllSensitive {
		test.Tap(v.sensitive[s])
	}
	u.bg.Wait()

	// The grantee: garbage is flagged; a link holding a DID is accepted.
	test.Type(v.grantee.entry, "dr-ruiz")
	mustContain(t, "hint", v.grantee.hint.Text, "Paste the DID")
	v.grantee.entry.SetText("")
	test.Type(v.grantee.entry, "https://clinic.example/#"+specialist.Info().DID)
	mustContain(t, "hint", v.grantee.hint.Text, "Not a saved contact")
	if err := v.grantee.saveAs("Dr Ruiz, cardiology"); err != nil {
		t.Fatal(err)
	}
	mustContain(t, "hint", v.grantee.hint.Text, "Contact: Dr Ruiz, cardiology")

	// Seven days, re-sharable two steps deep.
	v.terms.duration.SetSelected("7 days")
	test.Tap(v.terms.reshare)
	v.terms.depth.SetSelected("2 steps")
	// A custom duration is checked.
	v.terms.duration.SetSelected(customDuration)
	test.Type(v.terms.custom, "3 fortnights")
	test.Tap(v.button)
	mustContain(t, "error", v.errLabel.Text, "Write a duration")
	v.terms.duration.SetSelected("7 days")

	test.Tap(v.button)
	u.bg.Wait()
	if v.result == nil {
		t.Fatalf("no result: %q", v.errLabel.Text)
	}
	g := v.result.issued.Record
	if !strings.HasPrefix(v.result.link.Text, grant.LinkPrefix) || g.Grantee != specialist.Info().DID || g.Depth != 2 {
		t.Fatalf("grant %+v, link %.40q", g, v.result.link.Text)
	}
	if d := g.ExpiresAt.Sub(g.NotBefore); d != 7*24*time.Hour {
		t.Fatalf("grant lasts %v", d)
	}
	if img, err := png.Decode(bytes.NewReader(v.result.png)); err != nil || img.Bounds().Dx() < 100 {
		t.Fatalf("QR code: %v", err)
	}
	// The QR code holds the link.
	qr := filepath.Join(t.TempDir(), "qr.png")
	os.WriteFile(qr, v.result.png, 0o600)
	if link, err := wallet.ReadLinkQR(qr); err != nil || link != v.result.issued.Link {
		t.Fatalf("QR code reads %.40q, %v", link, err)
	}
	test.Tap(v.result.copy)
	if u.app.Clipboard().Content() != v.result.issued.Link {
		t.Fatal("Copy link did not copy the link")
	}
	mustContain(t, "result", markup(u), "Dr Ruiz, cardiology", "allowed, 2 steps")
	assertScreenNormalized(t, u, "share-result")

	// The specialist redeems it from the patient's node: labs and
	// medications, without the sensitive record.
	var bundle bytes.Buffer
	if _, err := specialist.Redeem(t.Context(), v.result.issued.Link, testChain.cfg, wallet.RedeemOptions{Out: &bundle, Listen: u.opts.RedeemListen}); err != nil {
		t.Fatalf("redeem: %v", err)
	}
	if !bytes.Contains(bundle.Bytes(), []byte("Hydrochlorothiazide")) || bytes.Contains(bundle.Bytes(), []byte("28 Day Pack")) {
		t.Fatal("the shared bundle is not the selection")
	}

	// Done: back to an empty form that knows the new contact.
	test.Tap(v.result.again)
	if v.stack.Objects[0] != v.form || v.catChecks[fhir.Labs].Checked || v.grantee.entry.Text != "" {
		t.Fatal("the form was not reset")
	}
	v.grantee.contacts.SetSelected("Dr Ruiz, cardiology")
	if v.grantee.entry.Text != specialist.Info().DID {
		t.Fatalf("contact filled %q", v.grantee.entry.Text)
	}
}

// TestShareByRecordAndPatientSummary: records picked one by one, and the
// International Patient Summary preset.
func TestShareByRecordAndPatientSummary(t *testing.T) {
	u := openSharingWallet(t, "")
	family := newPeerWallet(t)
	tapTab(t, u, tabShare)
	v := u.share
	test.Tap(v.pickButton)
	p := v.picker
	if p == nil || p.list.Length() != len(v.all) {
		t.Fatal("the picker did not open on every record")
	}
	test.Type(p.search, "hydrochlorothiazide")
	if p.list.Length() == 0 {
		t.Fatal("picker search found nothing")
	}
	p.list.Select(0)
	p.list.Select(1)
	p.list.Select(1) // a second tap unticks
	picked := p.shown[0]
	p.dialog.Hide()
	u.bg.Wait()
	if len(v.picked) != 1 || !v.picked[picked.ID] {
		t.Fatalf("picked %v", v.picked)
	}
	mustContain(t, "picked", v.pickedInfo.Text, "1 record picked")
	mustContain(t, "preview", v.preview.Text, "1 record will be shared")
	test.Type(v.grantee.entry, family.Info().DID)
	test.Tap(v.button)
	u.bg.Wait()
	if v.result == nil || len(v.result.issued.Record.Records) != 2 { // the record and the Patient
		t.Fatalf("grant: %v %q", v.result, v.errLabel.Text)
	}
	test.Tap(v.result.again)

	test.Tap(v.ips)
	test.Type(v.grantee.entry, family.Info().DID)
	test.Tap(v.button)
	u.bg.Wait()
	if v.result == nil || len(v.result.issued.Record.Records) < 5 {
		t.Fatalf("IPS grant: %q", v.errLabel.Text)
	}
}

// TestShareNeedsAChain: without a chain the form says why it cannot share.
func TestShareNeedsAChain(t *testing.T) {
	u := openTestWallet(t, Options{})
	importFixture(t, u, "Liz_Conn")
	tapTab(t, u, tabShare)
	v := u.share
	test.Tap(v.catChecks[fhir.Vitals])
	test.Type(v.grantee.entry, newPeerWallet(t).Info().DID)
	test.Tap(v.button)
	u.bg.Wait()
	mustContain(t, "error", v.errLabel.Text, "No chain is configured")
	if v.result != nil {
		t.Fatal("shared without a chain")
	}
}
