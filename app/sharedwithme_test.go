package app

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/healthwallet/healthwallet/internal/testclock"
	"github.com/healthwallet/healthwallet/ipfs"
	"github.com/healthwallet/healthwallet/share/grant"
	"github.com/healthwallet/healthwallet/wallet"
	"github.com/healthwallet/healthwallet/wallet/fhir"
)

// patientSharing is a patient's wallet (through the wallet API) serving a
// grant of labs and medications to did, re-sharable depth times.
func patientSharing(t *testing.T, patient *wallet.Wallet, to string, depth uint8) (*wallet.Wallet, *wallet.IssuedGrant) {
	t.Helper()
	chain, _ := startChain(t)
	path := fixtureFile(t, "Marguerita_Reilly", "m.json")
	if _, err := patient.ImportFile(t.Context(), path, nil); err != nil {
		t.Fatal(err)
	}
	srv, err := patient.Serve(t.Context(), wallet.ServeConfig{Listen: ipfs.LoopbackListen, Chain: chain, RefreshEvery: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	g, err := patient.IssueGrant(t.Context(), wallet.GrantRequest{To: to, Duration: 24 * time.Hour, Delegable: depth, Providers: srv.Addrs(),
		Selection: wallet.Selection{Categories: []fhir.Category{fhir.Labs, fhir.Medications}}}, chain)
	if err != nil {
		t.Fatal(err)
	}
	return patient, g
}

func TestRedeemReadExportAndReshare(t *testing.T) {
	chain, revoker := startChain(t)
	u := openTestWalletOf(t, phraseRedeemer, Options{Chain: &chain, Revoker: revoker})
	patient, g := patientSharing(t, newPeerWalletOf(t, phrasePatient), u.openWallet().Info().DID, 1)
	tapTab(t, u, tabWithMe)
	v := u.withMe
	mustContain(t, "empty", v.empty.Text, "Nothing has been shared with you yet")

	// Not a link.
	test.Type(v.link, "hello")
	test.Tap(v.redeem)
	mustContain(t, "verdict", v.verdict.Text, "not a grant link")

	// A QR code image fills in the link.
	png, err := grant.QR(g.Link)
	if err != nil {
		t.Fatal(err)
	}
	qr := filepath.Join(t.TempDir(), "grant.png")
	os.WriteFile(qr, png, 0o600)
	v.readQR(mustPicture(t, qr))
	u.bg.Wait()
	if v.link.Text != g.Link {
		t.Fatalf("QR code gave %.40q", v.link.Text)
	}
	test.Tap(v.redeem)
	u.bg.Wait()
	mustContain(t, "verdict", v.verdict.Text, "Verified: a grant from "+shortAddress(patient.Info().Address), "directly from the patient", "FHIR resources")
	p := v.page
	if p == nil || len(p.resources) == 0 || v.list.Length() != 1 {
		t.Fatalf("after redeeming: page %v, %d grants", p != nil, v.list.Length())
	}
	want, _, _ := patient.SharePackage(t.Context(), wallet.Selection{Categories: []fhir.Category{fhir.Labs, fhir.Medications}}, testclock.Now())
	doc, _ := fhir.Parse(want)
	if len(p.resources) != len(doc.Resources) {
		t.Fatalf("%d resources received, the package holds %d", len(p.resources), len(doc.Resources))
	}
	assertScreenNormalized(t, u, "shared-with-me")

	// Read one: readable, and the JSON.
	p.list.Select(1)
	u.bg.Wait()
	if p.detail == nil || p.detail.title.Text == "" {
		t.Fatal("no resource shown")
	}
	p.detail.showJSON()
	mustContain(t, "JSON", p.detail.json.Text, `"resourceType"`)
	p.back()

	// Export the FHIR Bundle as received.
	var out closingBuffer
	if err := p.exportTo(&out); err != nil || !bytes.Equal(out.Bytes(), p.bundle) || !out.closed {
		t.Fatalf("export: %v", err)
	}
	if !bytes.Contains(out.Bytes(), []byte(`"resourceType": "Bundle"`)) && !bytes.Contains(out.Bytes(), []byte(`"resourceType":"Bundle"`)) {
		t.Fatal("export is not a Bundle")
	}

	// Re-share with a family member, narrowed to labs.
	family := newPeerWallet(t)
	test.Tap(p.reshare)
	f := p.delegate
	if f == nil || len(f.cats) != 2 {
		t.Fatalf("re-share form: %+v", f)
	}
	test.Tap(f.cats[string(fhir.Medications)])
	test.Type(f.grantee.entry, family.Info().DID)
	test.Tap(f.button)
	u.bg.Wait()
	if f.result == nil {
		t.Fatalf("re-share: %q", f.errLabel.Text)
	}
	child := f.result.issued
	if len(child.Chain) != 2 || child.Chain.Leaf().Depth != 0 || strings.Join(child.Chain.Leaf().Categories, ",") != "labs,people" {
		t.Fatalf("child grant: %d links, depth %d, %v", len(child.Chain), child.Chain.Leaf().Depth, child.Chain.Leaf().Categories)
	}
	var famBundle bytes.Buffer
	if _, err := family.Redeem(t.Context(), child.Link, chain, wallet.RedeemOptions{Out: &famBundle, Listen: ipfs.LoopbackListen}); err != nil {
		t.Fatalf("family redeem: %v", err)
	}

	// The patient revokes: redeeming again is refused with the reason.
	issued, _ := patient.FindGrant(g.Record.Hash)
	if _, err := patient.Revoke(t.Context(), issued, revoker, chain); err != nil {
		t.Fatal(err)
	}
	// Saved as a contact, the patient is named in the refusal.
	must(t, u.openWallet().SaveContact(wallet.Contact{Name: "Marguerita", DID: patient.Info().DID}))
	v.link.SetText(g.Link)
	test.Tap(v.redeem)
	u.bg.Wait()
	if !strings.HasPrefix(v.verdict.Text, "Marguerita withdrew this share on ") || !strings.HasSuffix(v.verdict.Text, "; ask for a new one.") {
		t.Fatalf("verdict %q", v.verdict.Text)
	}
	mustContain(t, "details", v.detail.Text, "grant revoked: at ")
	// The list and the page title name the contact, not an address.
	v.reload()
	u.bg.Wait()
	if got := v.sharer(patient.Info().Address); got != "Marguerita" {
		t.Fatalf("the sharer is %q, want the contact name", got)
	}
}

// TestRedeemRefusesAnotherWalletsGrant: a grant for someone else is
// refused with the verifier's reason.
func TestRedeemRefusesAnotherWalletsGrant(t *testing.T) {
	chain, _ := startChain(t)
	u := openTestWalletOf(t, knownPhrase, Options{Chain: &chain}) // a fixed address: the screen is a master
	_, g := patientSharing(t, newPeerWallet(t), newPeerWallet(t).Info().DID, 0)
	tapTab(t, u, tabWithMe)
	v := u.withMe
	test.Type(v.link, g.Link)
	test.Tap(v.redeem)
	u.bg.Wait()
	if v.verdict.Text != "This link was made for someone else." || v.detail.Text != "this link is not addressed to this wallet" {
		t.Fatalf("verdict %q, details %q", v.verdict.Text, v.detail.Text)
	}
	if v.list.Length() != 0 {
		t.Fatal("a refused grant was recorded")
	}
	v.link.SetText("") // the link is new each run
	v.details.Open(0)
	v.master.Refresh() // a window lays out again when a min size grows; the test canvas does not
	assertScreenNormalized(t, u, "redeem-refused")
}

// closingBuffer is a bytes.Buffer that records Close, standing in for the
// file the save dialog opens.
type closingBuffer struct {
	bytes.Buffer
	closed bool
}

func (c *closingBuffer) Close() error { c.closed = true; return nil }

// TestLiveRefreshOfflineSaysWhy: when the patient's node is gone, checking
// a received live share for updates says so in a sentence, naming the
// patient by contact name, with the reason behind Details.
func TestLiveRefreshOfflineSaysWhy(t *testing.T) {
	chain, _ := startChain(t)
	u := openTestWalletOf(t, knownPhrase, Options{Chain: &chain}) // a fixed address: the screen is a master
	patient, srv, _ := servingPatientWallet(t)
	w := u.openWallet()
	issued, err := patient.IssueGrant(t.Context(), wallet.GrantRequest{To: w.Info().DID, Duration: 24 * time.Hour, Providers: srv.Addrs(),
		Selection: wallet.Selection{Categories: []fhir.Category{fhir.Labs}}, Live: true}, chain)
	must(t, err)
	if _, err := w.Redeem(t.Context(), issued.Link, chain, wallet.RedeemOptions{Listen: ipfs.LoopbackListen}); err != nil {
		t.Fatalf("redeem: %v", err)
	}
	must(t, w.SaveContact(wallet.Contact{Name: "Marguerita", DID: patient.Info().DID}))
	must(t, srv.Close())

	tapTab(t, u, tabWithMe)
	v := u.withMe
	u.bg.Wait()
	if want := "Could not check live shares for updates. Marguerita's phone and keepers are offline; try again later."; v.verdict.Text != want {
		t.Fatalf("verdict %q, want %q (details %q)", v.verdict.Text, want, v.detail.Text)
	}
	mustContain(t, "details", v.detail.Text, "live grant", "no provider served the share")
	if !v.details.Visible() {
		t.Fatal("no Details")
	}
	assertScreenNormalized(t, u, "live-refused")
}
