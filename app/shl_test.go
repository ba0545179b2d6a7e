package app

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/healthwallet/healthwallet/ipfs"
	"github.com/healthwallet/healthwallet/share/grant"
	"github.com/healthwallet/healthwallet/share/shl"
	"github.com/healthwallet/healthwallet/wallet"
	"github.com/healthwallet/healthwallet/wallet/fhir"
)

// shlServer serves w's SMART Health Links from its node srv over httptest
// TLS (a real HTTPS server; its client trusts its certificate explicitly).
func shlServer(t *testing.T, w *wallet.Wallet, srv *wallet.Serving) *httptest.Server {
	t.Helper()
	var h http.Handler
	ts := httptest.NewTLSServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) { h.ServeHTTP(rw, r) }))
	t.Cleanup(ts.Close)
	h = w.SHLServer(srv, shl.ServerOptions{BaseURL: ts.URL})
	return ts
}

// TestShareSHLThenSharedByMe: the Share tab makes a live passcode link
// and a live grant; Shared by me lists both with the live badge; the
// link's page shows its records, who opened it (and the refusal), and
// revokes it, after which viewers are refused.
func TestShareSHLThenSharedByMe(t *testing.T) {
	u := openSharingWallet(t, "")
	node, err := u.nodeState()
	must(t, err)
	ts := shlServer(t, u.openWallet(), node)
	u.opts.SHLURL, u.opts.SHLHTTP = ts.URL, ts.Client()

	// A live grant, through the form.
	family := newPeerWallet(t)
	tapTab(t, u, tabShare)
	v := u.share
	test.Tap(v.live)
	if !v.terms.reshare.Disabled() {
		t.Fatal("a live grant may not be re-shared, but the box is enabled")
	}
	issued := shareWith(t, u, family.Info().DID, fhir.Labs)
	if !issued.Record.Live {
		t.Fatal("the live box made no live grant")
	}
	test.Tap(v.result.again)

	// A live passcode link to labs.
	test.Tap(v.catChecks[fhir.Labs])
	v.how.SetSelected(howSHL)
	if v.grantee.content.Visible() || !v.shlBox.Visible() {
		t.Fatal("the link choice still asks for a DID")
	}
	test.Type(v.label, "Labs for Dr. Osei")
	test.Type(v.passcode, "blue-otter-42")
	test.Tap(v.live)
	test.Tap(v.button)
	u.bg.Wait()
	if v.shlResult == nil {
		t.Fatalf("no link: %q", v.errLabel.Text)
	}
	rec := v.shlResult.rec
	if rec.Flags != "LP" || !rec.Live || rec.Label != "Labs for Dr. Osei" || rec.Records == 0 || !strings.HasPrefix(rec.Link, "shlink:/") {
		t.Fatalf("link made: %+v", rec)
	}
	mustContain(t, "result", markup(u), "Shared as a SMART Health Link", "Labs for Dr. Osei", "required")

	// A viewer gets a passcode wrong, then opens it.
	viewer := newPeerWallet(t)
	opts := wallet.OpenSHLOptions{HTTP: ts.Client(), Recipient: "Dr. Osei's intake"}
	if _, err := viewer.OpenSHL(t.Context(), rec.Link, "red-otter-42", opts); !errors.Is(err, shl.ErrPasscode) {
		t.Fatalf("wrong passcode: %v", err)
	}
	if _, err := viewer.OpenSHL(t.Context(), rec.Link, "blue-otter-42", opts); err != nil {
		t.Fatalf("open: %v", err)
	}

	tapTab(t, u, tabByMe)
	b := u.byMe
	if len(b.rows) != 2 || len(b.grants) != 1 || len(b.shls) != 1 || b.shls[0].ID != rec.ID {
		t.Fatalf("listed %d: %d grants, %d links", len(b.rows), len(b.grants), len(b.shls))
	}
	list := markup(u)
	mustContain(t, "list", list, "Labs for Dr. Osei", "active · live", shlCovers(rec))
	if strings.Count(list, "active · live") != 2 {
		t.Fatalf("live badges: %d, want 2 (the grant and the link)", strings.Count(list, "active · live"))
	}
	test.Tap(b.rows[1])
	u.bg.Wait()
	p := b.shlPage
	if p == nil {
		t.Fatal("no link page")
	}
	mustContain(t, "status", p.status.Text, "Active: until")
	mustContain(t, "where", p.where.where.Text, "Can be opened now from: this device.")
	mustContain(t, "link page", markup(u), "Records it holds", "Access log", "Dr. Osei's intake · opened", "refused", "required")
	if want := min(rec.Records, maxListedRecords+1); len(p.records.Objects) != want { // the rest as "and N more"
		t.Fatalf("%d records listed, want %d (the link holds %d)", len(p.records.Objects), want, rec.Records)
	}

	// Revoke asks first, then the registry has it and viewers are refused.
	test.Tap(p.revoke)
	if p.confirm == nil {
		t.Fatal("no confirmation asked")
	}
	p.confirm.Confirm()
	u.bg.Wait()
	mustContain(t, "revocation", p.step.Text, "The registry confirmed the revocation")
	mustContain(t, "status", p.status.Text, "Revoked")
	if !p.revoke.Disabled() {
		t.Fatal("Revoke still enabled")
	}
	if r, _ := u.openWallet().FindSHL(rec.ID); r.RevokedAt.IsZero() {
		t.Fatal("the wallet's link is not revoked")
	}
	if _, err := viewer.OpenSHL(t.Context(), rec.Link, "blue-otter-42", opts); !errors.Is(err, shl.ErrRevoked) && !errors.Is(err, shl.ErrUnknown) {
		t.Fatalf("open after revoke: %v", err)
	}
}

// servingPatientWallet is a patient's wallet (through the wallet API)
// with Marguerita Reilly's records, its node serving.
func servingPatientWallet(t *testing.T) (*wallet.Wallet, *wallet.Serving, wallet.ChainConfig) {
	t.Helper()
	chain, _ := startChain(t)
	patient := newPeerWallet(t)
	if _, err := patient.ImportFile(t.Context(), fixtureFile(t, "Marguerita_Reilly", "m.json"), nil); err != nil {
		t.Fatal(err)
	}
	srv, err := patient.Serve(t.Context(), wallet.ServeConfig{Listen: ipfs.LoopbackListen, Chain: chain, RefreshEvery: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return patient, srv, chain
}

// TestSharedWithMeOpensSHL: a viewer-prefixed link (and a QR code image
// of it) routes to OpenSHL; the passcode is asked; a wrong one says the
// attempts left; the right one shows the records by name, and Import
// keeps them.
func TestSharedWithMeOpensSHL(t *testing.T) {
	chain, _ := startChain(t)
	u := openTestWallet(t, Options{Chain: &chain})
	patient, srv, _ := servingPatientWallet(t)
	ts := shlServer(t, patient, srv)
	u.opts.SHLHTTP = ts.Client()
	sel := wallet.Selection{Categories: []fhir.Category{fhir.Labs, fhir.Medications}}
	rec, err := patient.CreateSHL(t.Context(), wallet.SHLOptions{Selection: sel, For: time.Hour, Passcode: "blue-otter-42",
		Label: "Labs and medications", URL: ts.URL, Viewer: "https://viewer.example/"}, chain)
	must(t, err)
	if !strings.HasPrefix(rec.Link, "https://viewer.example/#shlink:/") {
		t.Fatalf("link %.40q", rec.Link)
	}

	tapTab(t, u, tabWithMe)
	v := u.withMe
	// A QR code image of the link fills in the box.
	png, err := grant.QR(rec.Link)
	must(t, err)
	qr := filepath.Join(t.TempDir(), "shl.png")
	must(t, os.WriteFile(qr, png, 0o600))
	v.readQR(mustPicture(t, qr))
	u.bg.Wait()
	if v.link.Text != rec.Link {
		t.Fatalf("QR code gave %.40q", v.link.Text)
	}
	mustContain(t, "verdict", v.verdict.Text, "SMART Health Link")

	// Wrong passcode: the attempts left.
	test.Tap(v.redeem)
	if v.askPass == nil {
		t.Fatal("no passcode asked")
	}
	test.Type(v.passcode, "red-otter-42")
	v.askPass.Submit()
	u.bg.Wait()
	if want := "The passcode is wrong; 9 tries are left."; v.verdict.Text != want {
		t.Fatalf("verdict %q, want %q", v.verdict.Text, want)
	}
	if v.shl != nil {
		t.Fatal("a page shown for a wrong passcode")
	}

	// Right passcode: what it holds, not yet imported.
	before, _ := u.openWallet().Records(wallet.Filter{})
	test.Tap(v.redeem)
	test.Type(v.passcode, "blue-otter-42")
	v.askPass.Submit()
	u.bg.Wait()
	p := v.shl
	if p == nil {
		t.Fatalf("nothing shown: %q", v.verdict.Text)
	}
	want, recs, err := patient.SharePackage(t.Context(), sel, u.now())
	must(t, err)
	doc, _ := fhir.Parse(want)
	if len(p.records) != len(doc.Resources) {
		t.Fatalf("%d records shown, the package holds %d", len(p.records), len(doc.Resources))
	}
	mustContain(t, "verdict", v.verdict.Text, `Opened "Labs and medications"`, "Tap Import")
	mustContain(t, "page", markup(u), "Labs and medications", "Nothing is kept until you tap Import", "Marguerita")
	if now, _ := u.openWallet().Records(wallet.Filter{}); len(now) != len(before) {
		t.Fatal("records imported before Import")
	}
	test.Tap(p.imp)
	u.bg.Wait()
	after, _ := u.openWallet().Records(wallet.Filter{})
	if len(after)-len(before) != len(recs) {
		t.Fatalf("imported %d records, the link holds %d", len(after)-len(before), len(recs))
	}
	mustContain(t, "verdict", v.verdict.Text, "Imported", `from "Labs and medications"`)
	if !p.imp.Disabled() {
		t.Fatal("Import still enabled")
	}
}

// TestLiveGrantRefreshedWhenOpened: a received live grant shows "live";
// when the patient adds a lab result, opening Shared with me fetches the
// new version and says what came.
func TestLiveGrantRefreshedWhenOpened(t *testing.T) {
	chain, _ := startChain(t)
	u := openTestWallet(t, Options{Chain: &chain})
	patient, srv, _ := servingPatientWallet(t)
	w := u.openWallet()
	issued, err := patient.IssueGrant(t.Context(), wallet.GrantRequest{To: w.Info().DID, Duration: 24 * time.Hour, Providers: srv.Addrs(),
		Selection: wallet.Selection{Categories: []fhir.Category{fhir.Labs}}, Live: true}, chain)
	must(t, err)
	if _, err := w.Redeem(t.Context(), issued.Link, chain, wallet.RedeemOptions{Listen: ipfs.LoopbackListen}); err != nil {
		t.Fatalf("redeem: %v", err)
	}
	lab, err := os.ReadFile(filepath.Join("..", "wallet", "testdata", "live", "a1c-2026-11-20.json"))
	must(t, err)
	if res, err := patient.ImportFHIR(t.Context(), "a1c.json", lab); err != nil || res.Live != 1 {
		t.Fatalf("import: live %d, %v", res.Live, err)
	}

	tapTab(t, u, tabWithMe)
	v := u.withMe
	mustContain(t, "verdict", v.verdict.Text, "Updated: 1 new lab result from Marguerita", "Hemoglobin A1c")
	if v.list.Length() != 1 || v.grants[0].LiveSeq != 2 {
		t.Fatalf("%d grants; live version %d", v.list.Length(), v.grants[0].LiveSeq)
	}
	mustContain(t, "list", markup(u), "active · live")
	v.list.Select(0)
	u.bg.Wait()
	mustContain(t, "grant page", markup(u), "yes: version 2")
}

// TestSharedWithMeRefusesBadSHL: an expired link is refused before any
// passcode is asked; a malformed one is no link; each in one line.
func TestSharedWithMeRefusesBadSHL(t *testing.T) {
	u := openTestWalletOf(t, knownPhrase, Options{Chain: &wallet.ChainConfig{ChainID: 1337}})
	tapTab(t, u, tabWithMe)
	v := u.withMe
	key := "rxTgYlOaKJPFtcEd0qcceN8wEU4p94SqAwIWQe6uX7Q" // fixed: the link shows in the masters
	// Expired in 2001: under any clock.
	expired, err := shl.Payload{URL: "https://shl.example/shl/abc", Key: key, Exp: 1e9, Flag: "P"}.Link("")
	must(t, err)
	test.Type(v.link, expired)
	test.Tap(v.redeem)
	u.bg.Wait()
	if v.verdict.Text != "This link has expired; ask the person who shared it for a new one." || v.askPass != nil {
		t.Fatalf("expired link: %q (passcode asked: %v)", v.verdict.Text, v.askPass != nil)
	}
	if !v.details.Visible() || v.details.Items[0].Open || v.detail.Text != "link expired" {
		t.Fatalf("details: shown %v, open %v, %q", v.details.Visible(), v.details.Items[0].Open, v.detail.Text)
	}
	assertScreen(t, u, "shl-refused")
	v.details.Open(0)
	v.master.Refresh() // a window lays out again when a min size grows; the test canvas does not
	assertScreen(t, u, "shl-refused-details")
	v.link.SetText("shlink:/not-base64!")
	test.Tap(v.redeem)
	u.bg.Wait()
	if v.verdict.Text != "The link looks cut off; copy all of it again." || !strings.Contains(v.detail.Text, "malformed") || v.details.Items[0].Open {
		t.Fatalf("malformed link: %q, details %q", v.verdict.Text, v.detail.Text)
	}
	// A verdict that is no refusal has no details.
	v.showVerdict(widget.MediumImportance, "Opening the SMART Health Link…")
	if v.details.Visible() {
		t.Fatal("details shown without a refusal")
	}
}
