package wallet

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/healthwallet/healthwallet/internal/fixtures"
	"github.com/healthwallet/healthwallet/internal/plaintext"
	"github.com/healthwallet/healthwallet/internal/testclock"
	"github.com/healthwallet/healthwallet/share/shl"
	"github.com/healthwallet/healthwallet/wallet/fhir"
)

// shlTestServer serves the patient's links from its own node over
// httptest TLS (a real HTTPS server; its client trusts its certificate
// explicitly).
func shlTestServer(t *testing.T, patient *Wallet, srv *Serving) *httptest.Server {
	t.Helper()
	var h http.Handler
	ts := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	t.Cleanup(ts.Close)
	h = patient.SHLServer(srv, shl.ServerOptions{BaseURL: ts.URL})
	return ts
}

// TestSHLCreateOpenRevoke: the patient makes a passcode link to labs and
// medications; a viewer gets the wrong passcode told with the attempts
// left, then opens it and gets exactly the share package; the access log
// has both; the patient revokes it on chain and the link is refused.
func TestSHLCreateOpenRevoke(t *testing.T) {
	ctx := context.Background()
	d, chain := startDevnet(t)
	patient, srv := servingPatient(t, chain)
	ts := shlTestServer(t, patient, srv)
	viewer := newWallet(t)

	sel := Selection{Categories: []fhir.Category{fhir.Labs, fhir.Medications}}
	rec, err := patient.CreateSHL(ctx, SHLOptions{Selection: sel, For: time.Hour, Passcode: "blue-otter-42", Label: "Labs and medications for Dr. Osei", URL: ts.URL}, chain)
	if err != nil {
		t.Fatal(err)
	}
	want, recs, err := patient.SharePackage(ctx, sel, testclock.Now())
	must(t, err)
	if rec.Flags != "P" || rec.Records != len(recs) || rec.Expires.Sub(rec.Created) != time.Hour || rec.Created.Sub(testclock.Now()).Abs() > time.Minute ||
		rec.URL != ts.URL+"/shl/"+rec.ID || len(rec.ID) != 44 || rec.ID[0] == '-' || !strings.HasPrefix(rec.Link, "shlink:/") {
		t.Fatalf("record %+v", rec)
	}
	p, err := shl.ParseLink(rec.Link)
	must(t, err)
	if p.URL != rec.URL || p.Exp != rec.Expires.Unix() || p.Flag != "P" || p.Label != "Labs and medications for Dr. Osei" || p.V != 1 {
		t.Fatalf("payload %+v", p)
	}
	if got, _ := patient.FindSHL(strings.ToLower(rec.ID[:10])); got.ID != rec.ID {
		t.Fatalf("FindSHL by prefix: %+v", got)
	}

	opts := OpenSHLOptions{HTTP: ts.Client(), Recipient: "Dr. Osei's intake"}
	_, err = viewer.OpenSHL(ctx, rec.Link, "red-otter-42", opts)
	var pe *shl.PasscodeError
	if !errors.As(err, &pe) || pe.Remaining != shl.DefaultAttempts-1 {
		t.Fatalf("wrong passcode: %v", err)
	}
	opts.Import = true
	opened, err := viewer.OpenSHL(ctx, rec.Link, "blue-otter-42", opts)
	must(t, err)
	if len(opened.Files) != 1 || opened.Files[0].ContentType != SHLContentType || !slices.Equal(resourceSet(t, opened.Files[0].Plain), resourceSet(t, want)) {
		t.Fatalf("opened %+v", opened.Files)
	}
	if opened.Imported != len(recs) {
		t.Fatalf("imported %d records, want %d", opened.Imported, len(recs))
	}

	// The access log has the refusal and the opening, with the recipient.
	log, err := patient.AccessLog()
	must(t, err)
	var ok, refused int
	for _, e := range log {
		if e.SHL != rec.ID {
			continue
		}
		if e.Recipient != "Dr. Osei's intake" {
			t.Fatalf("access entry %+v", e)
		}
		if e.Granted {
			ok++
		} else {
			refused++
		}
	}
	// (A served opening is logged per request: the manifest, and the file
	// when it is fetched from its location.)
	if ok < 1 || refused != 1 {
		t.Fatalf("access log: %d served requests, %d refusals; want some and 1: %+v", ok, refused, log)
	}

	// No plaintext in the patient's home: the JWE is all the store holds.
	needles := []string{"Hydrochlorothiazide", "Marguerita"}
	if hits, err := plaintext.Find("bundle", want, needles...); err != nil || len(hits) != len(needles) {
		t.Fatalf("needles not in the share package (the scan below could not fail): %v %v", hits, err)
	}
	hits, _, err := plaintext.ScanDir(patient.Home(), needles...)
	must(t, err)
	if len(hits) > 0 {
		t.Fatalf("plaintext in the patient's home: %v", hits)
	}

	// GC keeps the link's file.
	_, err = patient.GC(ctx)
	must(t, err)
	if _, err := viewer.OpenSHL(ctx, rec.Link, "blue-otter-42", opts); err != nil {
		t.Fatalf("after GC: %v", err)
	}

	// Revoked on chain: refused.
	revoked, err := patient.RevokeSHL(ctx, rec, directRevoker(t, d, chain), chain)
	must(t, err)
	if revoked.Status(testclock.Now()) != "revoked" || revoked.RevokeTx == "" {
		t.Fatalf("after revoke %+v", revoked)
	}
	if again, _ := patient.FindSHL(rec.ID); again.RevokedAt.IsZero() {
		t.Fatal("revocation not recorded")
	}
	_, err = viewer.OpenSHL(ctx, rec.Link, "blue-otter-42", opts)
	if !errors.Is(err, shl.ErrUnknown) && !errors.Is(err, shl.ErrRevoked) {
		t.Fatalf("revoked link: %v", err)
	}
}

// TestSHLLive: a live link follows its selection: after an import adds
// labs, RefreshLiveSHLs re-encrypts it under the same key and the same
// link opens the new version.
func TestSHLLive(t *testing.T) {
	ctx := context.Background()
	_, chain := startDevnet(t)
	patient, srv := servingPatient(t, chain)
	ts := shlTestServer(t, patient, srv)
	viewer := newWallet(t)

	sel := Selection{Categories: []fhir.Category{fhir.Labs}}
	rec, err := patient.CreateSHL(ctx, SHLOptions{Selection: sel, For: 24 * time.Hour, Live: true, URL: ts.URL}, chain)
	must(t, err)
	if rec.Flags != "L" || rec.Version != 1 {
		t.Fatalf("live record %+v", rec)
	}
	opts := OpenSHLOptions{HTTP: ts.Client()}
	first, err := viewer.OpenSHL(ctx, rec.Link, "", opts)
	must(t, err)
	if n, err := patient.refreshLiveSHLs(ctx); n != 0 || err != nil {
		t.Fatalf("refresh with nothing new: %d, %v", n, err)
	}
	data, _ := fixtures.Named("Buster_Hoeger").Read()
	// The import refreshes the live link (and would push it to keepers).
	// Buster is not the patient: a family member's records.
	res, err := patient.ImportFHIR(ctx, "b.json", data, ImportOptions{OtherPatient: true})
	must(t, err)
	if res.LiveError != "" {
		t.Fatalf("import: %s", res.LiveError)
	}
	now, _ := patient.FindSHL(rec.ID)
	if now.Version != 2 || now.Records <= rec.Records || now.Link != rec.Link || now.Roots[0] == rec.Roots[0] {
		t.Fatalf("refreshed %+v", now)
	}
	second, err := viewer.OpenSHL(ctx, rec.Link, "", opts)
	must(t, err)
	want, _, _ := patient.SharePackage(ctx, sel, testclock.Now())
	if !slices.Equal(resourceSet(t, second.Files[0].Plain), resourceSet(t, want)) || second.Files[0].Resources <= first.Files[0].Resources {
		t.Fatalf("live link: %d resources, then %d", first.Files[0].Resources, second.Files[0].Resources)
	}
}

// TestSHLBadOptions: each refusal is its own error.
func TestSHLBadOptions(t *testing.T) {
	ctx := context.Background()
	_, chain := startDevnet(t)
	patient, _ := servingPatient(t, chain)
	sel := Selection{Categories: []fhir.Category{fhir.Labs}}
	cases := []struct {
		name string
		opts SHLOptions
		want error
	}{
		{"no server", SHLOptions{Selection: sel, For: time.Hour}, ErrNoSHLServer},
		{"label too long", SHLOptions{Selection: sel, For: time.Hour, Label: strings.Repeat("x", 81), URL: "https://keeper.example"}, ErrSHLLabel},
		{"too long", SHLOptions{Selection: sel, For: 400 * 24 * time.Hour, URL: "https://keeper.example"}, ErrGrantDuration},
		{"empty selection", SHLOptions{Selection: Selection{Categories: []fhir.Category{"no-such"}}, For: time.Hour, URL: "https://keeper.example"}, ErrEmptySelection},
	}
	for _, c := range cases {
		if _, err := patient.CreateSHL(ctx, c.opts, chain); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
	if _, err := patient.CreateSHL(ctx, SHLOptions{Selection: sel, For: time.Hour, URL: "https://keeper.example"}, ChainConfig{}); !errors.Is(err, ErrNoChain) {
		t.Errorf("no chain: %v", err)
	}
	if recs, _ := patient.SHLs(); len(recs) != 0 {
		t.Fatalf("refused links were recorded: %+v", recs)
	}
}
