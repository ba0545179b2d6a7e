package app

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/healthwallet/healthwallet/ipfs"
	"github.com/healthwallet/healthwallet/share/grant"
	"github.com/healthwallet/healthwallet/wallet"
)

// TestPeopleAndMyCode: Shared by me → People adds a contact from the
// picture of another wallet's code (or pasted text), refuses what is no
// code, and the wallet's own code, in one line; "My code" shows this
// wallet's DID as a QR code and as text.
func TestPeopleAndMyCode(t *testing.T) {
	u := openTestWallet(t, Options{})
	friend := newPeerWalletOf(t, phraseSpecialist) // a fixed key: the master shows its end
	tapTab(t, u, tabByMe)
	v := u.byMe
	test.Tap(v.peopleB)
	c := v.contacts
	if c == nil {
		t.Fatal("no people page")
	}
	mustContain(t, "people", labelTexts(c.content), "No contacts yet", "Add contact", "Your own code")

	// Not a code; the wallet's own code.
	test.Type(c.code, "hello there")
	mustContain(t, "status", c.status.Text, "not a Health Wallet contact code")
	if !c.add.Disabled() || strings.Contains(c.status.Text, "\n") {
		t.Fatalf("after a bad code: add enabled %v, status %q", !c.add.Disabled(), c.status.Text)
	}
	c.code.SetText(u.openWallet().Info().DID)
	if c.status.Text != "This is your own code." || !c.add.Disabled() {
		t.Fatalf("own code: %q", c.status.Text)
	}

	// A picture of a grant link is no contact code.
	dir := t.TempDir()
	linkPNG, err := grant.QR("healthwallet:grant/notacontactcode")
	must(t, err)
	linkPath := filepath.Join(dir, "link.png")
	must(t, os.WriteFile(linkPath, linkPNG, 0o600))
	c.readQR(mustPicture(t, linkPath))
	u.bg.Wait()
	mustContain(t, "status", c.status.Text, "not a Health Wallet contact code")

	// The friend's code, read from a picture, then named.
	text, png, err := friend.MyCode()
	must(t, err)
	codePath := filepath.Join(dir, "friend.png")
	must(t, os.WriteFile(codePath, png, 0o600))
	c.code.SetText("")
	c.readQR(mustPicture(t, codePath))
	u.bg.Wait()
	if c.code.Text != text || text != friend.Info().DID {
		t.Fatalf("read %q from the picture, want %q", c.code.Text, friend.Info().DID)
	}
	mustContain(t, "status", c.status.Text, "What is their name?")
	if !c.add.Disabled() {
		t.Fatal("Add enabled without a name")
	}
	test.Type(c.name, "Zoe (sister)")
	test.Tap(c.add)
	u.bg.Wait()
	if c.status.Text != "Added Zoe (sister)." || c.code.Text != "" {
		t.Fatalf("after adding: %q, code box %q", c.status.Text, c.code.Text)
	}
	cs, err := u.openWallet().Contacts()
	if err != nil || len(cs) != 1 || cs[0].Name != "Zoe (sister)" || cs[0].DID != friend.Info().DID {
		t.Fatalf("contacts %+v %v", cs, err)
	}
	mustContain(t, "people", labelTexts(c.content), "Zoe (sister)")
	assertScreenNormalized(t, u, "people")

	// My code: the DID as a QR code and as text to copy.
	test.Tap(c.myCode)
	u.bg.Wait()
	if c.mine == nil || c.mine.did.Text != u.openWallet().Info().DID || c.mine.qr == nil {
		t.Fatalf("my code page: %+v", c.mine)
	}
	mustContain(t, "my code", labelTexts(c.mine.content), "My code", "Copy my code")
	assertScreenNormalized(t, u, "my-code")

	// The Share tab reads a code from a picture too, and names the contact.
	tapTab(t, u, tabShare)
	u.share.grantee.readQR(mustPicture(t, codePath))
	u.bg.Wait()
	if u.share.grantee.entry.Text != friend.Info().DID || u.share.grantee.hint.Text != "Contact: Zoe (sister)" {
		t.Fatalf("share picker: %q, %q", u.share.grantee.entry.Text, u.share.grantee.hint.Text)
	}
	u.share.grantee.readQR(mustPicture(t, linkPath))
	u.bg.Wait()
	mustContain(t, "share picker", u.share.grantee.hint.Text, "not a Health Wallet contact code")
}

// TestReshareTellsUsageIsLogged: a family member re-sharing a received
// grant is told that the patient's side logs its use, and it does: the
// patient's access log holds the re-share's presentation, which the
// patient's Shared by me names through the family member's contact name.
func TestReshareTellsUsageIsLogged(t *testing.T) {
	chain, revoker := startChain(t)
	u := openTestWallet(t, Options{Chain: &chain, Revoker: revoker})
	patient, g := patientSharing(t, newPeerWallet(t), u.openWallet().Info().DID, 1)
	tapTab(t, u, tabWithMe)
	w := u.withMe
	w.link.SetText(g.Link)
	test.Tap(w.redeem)
	u.bg.Wait()
	p := w.page
	if p == nil {
		t.Fatalf("not redeemed: %q", w.verdict.Text)
	}
	test.Tap(p.reshare)
	f := p.delegate
	mustContain(t, "re-share form", labelTexts(p.content), "The patient's wallet logs every use of what you re-share")

	family := newPeerWallet(t)
	test.Type(f.grantee.entry, family.Info().DID)
	test.Tap(f.button)
	u.bg.Wait()
	if f.result == nil {
		t.Fatalf("re-share: %q", f.errLabel.Text)
	}
	mustContain(t, "re-share result", f.result.where.where.Text, "The patient's node and keepers serve it, not this device.", "logs every use")
	if _, err := family.Redeem(t.Context(), f.result.issued.Link, chain, wallet.RedeemOptions{Listen: ipfs.LoopbackListen}); err != nil {
		t.Fatalf("family redeem: %v", err)
	}

	// The patient's side logged it, and names it.
	must(t, patient.SaveContact(wallet.Contact{Name: "Zoe (sister)", DID: u.openWallet().Info().DID}))
	log, err := patient.AccessLog()
	must(t, err)
	var via *wallet.AccessEntry
	for i, e := range log {
		if e.Links == 2 && strings.EqualFold(e.Grantee, family.Info().Address) && e.Granted {
			via = &log[i]
		}
	}
	if via == nil {
		t.Fatalf("the patient's access log lacks the re-share's presentation: %+v", log)
	}
	names, err := patient.ContactNames()
	must(t, err)
	grants, err := patient.Grants()
	must(t, err)
	who, did := newPeople(names, grants, nil).presenter(*via)
	if want := "someone new (" + shortAddress(family.Info().Address) + ") through Zoe (sister)'s re-share"; who != want || did != "" {
		t.Fatalf("presenter %q (DID %q), want %q", who, did, want)
	}
}
