package wallet

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/healthwallet/healthwallet/internal/plaintext"
	"github.com/healthwallet/healthwallet/internal/testclock"
	"github.com/healthwallet/healthwallet/ipfs"
	"github.com/healthwallet/healthwallet/wallet/catalog"
	"github.com/healthwallet/healthwallet/wallet/fhir"
)

// testPDF returns size bytes that start like a PDF (so import detects
// application/pdf) followed by a fixed-seed ChaCha8 stream: the same bytes
// every run, and no run of them found by chance in ciphertext.
func testPDF(size int) []byte {
	b := make([]byte, size)
	head := "%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >> endobj\n"
	n := copy(b, head)
	_, _ = rand.NewChaCha8([32]byte{'p', 'd', 'f'}).Read(b[n:])
	return b
}

// importPDF imports pdf as a file named name and returns its record.
func importPDF(t *testing.T, w *Wallet, name string, pdf []byte) Record {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	must(t, os.WriteFile(path, pdf, 0o600))
	res, err := w.ImportFile(t.Context(), path, nil)
	must(t, err)
	if res.Added != 1 || len(res.Records) != 1 {
		t.Fatalf("import %s: %+v", name, res)
	}
	r, err := w.Record(res.Records[0])
	must(t, err)
	if r.Type != "DocumentReference" || r.Attachment == nil {
		t.Fatalf("imported %s as %s (attachment %v)", name, r.Type, r.Attachment)
	}
	return r
}

// sharedPDF finds the one DocumentReference of a Bundle and returns the
// file it carries, checking that its attachment no longer names the
// patient's own object.
func sharedPDF(t *testing.T, bundle []byte) DocumentFile {
	t.Helper()
	doc, err := fhir.Parse(bundle)
	must(t, err)
	var refs []fhir.Resource
	for _, r := range doc.Resources {
		if r.Type == "DocumentReference" {
			refs = append(refs, r)
		}
	}
	if len(refs) != 1 {
		t.Fatalf("%d DocumentReferences in the Bundle, want 1", len(refs))
	}
	if u, _ := firstAttachment(refs[0]).Get("url").(string); u != "" {
		t.Fatalf("the shared attachment still points at %q", u)
	}
	f, err := SharedDocument(refs[0], doc.Resources)
	must(t, err)
	return f
}

// pdfNeedles are runs of the PDF's random part, raw and as the base64 the
// Bundle holds, checked to be where a leak would put them.
func pdfNeedles(t *testing.T, pdf, bundle []byte) []string {
	t.Helper()
	var needles []string
	for _, off := range []int{4096, len(pdf) / 2, len(pdf) - 64} {
		needles = append(needles, string(pdf[off:off+24]))
	}
	b64 := base64.StdEncoding.EncodeToString(pdf)
	for _, off := range []int{4096, len(b64) / 2} {
		needles = append(needles, b64[off:off+32])
	}
	hits, err := plaintext.Find("pdf", append(append([]byte(nil), pdf...), bundle...), needles...)
	if err != nil || len(hits) != len(needles) {
		t.Fatalf("needles not in the PDF and its Bundle (the scan could not fail): %v %v", hits, err)
	}
	return needles
}

// TestDocumentTravelsWithGrant: a 5 MiB PDF the patient imported, shared
// in a grant and redeemed over the patient's node (bitswap), arrives with
// the same SHA-256, inline in the DocumentReference; a delegate of the
// grant gets it too; no block store or catalog holds it in the clear.
func TestDocumentTravelsWithGrant(t *testing.T) {
	ctx := t.Context()
	_, chain := startDevnet(t)
	patient, srv := servingPatient(t, chain)
	specialist, second := newWallet(t), newWallet(t)
	pdf := testPDF(5 << 20)
	doc := importPDF(t, patient, "discharge-letter.pdf", pdf)

	sel := Selection{Categories: []fhir.Category{fhir.Labs}, Records: []catalog.ID{doc.ID}}
	g, err := patient.IssueGrant(ctx, GrantRequest{To: specialist.Info().DID, Selection: sel, Duration: time.Hour, Delegable: 1, Providers: srv.Addrs()}, chain)
	must(t, err)
	var out bytes.Buffer
	red, err := specialist.Redeem(ctx, g.Link, chain, RedeemOptions{Out: &out, Listen: ipfs.LoopbackListen})
	if err != nil {
		t.Fatalf("redeem: %v", err)
	}
	got := sharedPDF(t, red.Bundle)
	if sha256.Sum256(got.Data) != sha256.Sum256(pdf) || got.ContentType != "application/pdf" || got.Title != "discharge-letter.pdf" {
		t.Fatalf("redeemed document: %s, %q, %d bytes, SHA-256 equal %v", got.Title, got.ContentType, len(got.Data), sha256.Sum256(got.Data) == sha256.Sum256(pdf))
	}
	if !bytes.Contains(red.Bundle, []byte("Glucose")) {
		t.Fatal("the redeemed Bundle lost the labs shared beside the document")
	}
	// What the app shows later: the package kept (encrypted) in the
	// specialist's wallet.
	var kept bytes.Buffer
	must(t, specialist.ReadObject(ctx, red.Record.Package, &kept, nil))
	if f := sharedPDF(t, kept.Bytes()); !bytes.Equal(f.Data, pdf) {
		t.Fatal("the kept package's document differs")
	}

	// Re-shared (only the documents): the file goes with its record.
	g2, err := specialist.Delegate(ctx, g.Link, DelegateRequest{To: second.Info().DID, Duration: time.Hour, Categories: []fhir.Category{fhir.Documents, fhir.People}}, chain)
	must(t, err)
	red2, err := second.Redeem(ctx, g2.Link, chain, RedeemOptions{Listen: ipfs.LoopbackListen})
	if err != nil {
		t.Fatalf("redeem the re-share: %v", err)
	}
	if f := sharedPDF(t, red2.Bundle); sha256.Sum256(f.Data) != sha256.Sum256(pdf) {
		t.Fatal("the re-shared document differs")
	}
	if bytes.Contains(red2.Bundle, []byte("Glucose")) {
		t.Fatal("the documents-only re-share holds labs")
	}

	needles := pdfNeedles(t, pdf, red.Bundle)
	for name, w := range map[string]*Wallet{"patient": patient, "specialist": specialist, "second": second} {
		hits, files, err := plaintext.ScanDir(w.Home(), needles...)
		must(t, err)
		if len(hits) > 0 || files == 0 {
			t.Fatalf("%s's home (%d files): the PDF in the clear: %v", name, files, hits)
		}
	}
}

// TestDocumentTravelsWithSHL: the same 5 MiB PDF in a SMART Health Link
// arrives whole through OpenSHL, and once imported the viewer's wallet
// gives it back as a document of its own.
func TestDocumentTravelsWithSHL(t *testing.T) {
	ctx := t.Context()
	_, chain := startDevnet(t)
	patient, srv := servingPatient(t, chain)
	ts := shlTestServer(t, patient, srv)
	viewer := newWallet(t)
	pdf := testPDF(5 << 20)
	doc := importPDF(t, patient, "scan.pdf", pdf)

	rec, err := patient.CreateSHL(ctx, SHLOptions{Selection: Selection{Records: []catalog.ID{doc.ID}}, For: time.Hour, Passcode: "blue-otter-42", Label: "Discharge letter", URL: ts.URL}, chain)
	must(t, err)
	opened, err := viewer.OpenSHL(ctx, rec.Link, "blue-otter-42", OpenSHLOptions{HTTP: ts.Client(), Import: true})
	must(t, err)
	if len(opened.Files) != 1 || opened.Files[0].ContentType != SHLContentType {
		t.Fatalf("opened %+v", opened.Files)
	}
	got := sharedPDF(t, opened.Files[0].Plain)
	if sha256.Sum256(got.Data) != sha256.Sum256(pdf) || got.ContentType != "application/pdf" {
		t.Fatalf("document through the link: %q, %d bytes", got.ContentType, len(got.Data))
	}
	docs, err := viewer.Records(Filter{Type: "DocumentReference"})
	must(t, err)
	if len(docs) != 1 {
		t.Fatalf("viewer has %d DocumentReferences after import", len(docs))
	}
	mine, err := viewer.RecordDocument(ctx, docs[0])
	must(t, err)
	if !bytes.Equal(mine.Data, pdf) || mine.ContentType != "application/pdf" || mine.Title != "scan.pdf" {
		t.Fatalf("imported document: %q %q, %d bytes", mine.Title, mine.ContentType, len(mine.Data))
	}
	var saved bytes.Buffer // what `show --attachment` writes
	if err := viewer.ReadAttachment(ctx, docs[0], &saved, nil); err != nil || !bytes.Equal(saved.Bytes(), pdf) {
		t.Fatalf("ReadAttachment of the imported document: %d bytes, %v", saved.Len(), err)
	}
	needles := pdfNeedles(t, pdf, opened.Files[0].Plain)
	for name, w := range map[string]*Wallet{"patient": patient, "viewer": viewer} {
		hits, _, err := plaintext.ScanDir(w.Home(), needles...)
		must(t, err)
		if len(hits) > 0 {
			t.Fatalf("%s's home: the PDF in the clear: %v", name, hits)
		}
	}
}

// TestShareRefusesOversizeDocument: a file above MaxSharedDocument stops
// the share with an error naming it, rather than travelling without it.
func TestShareRefusesOversizeDocument(t *testing.T) {
	w := newWallet(t)
	doc := importPDF(t, w, "ct-scan.pdf", testPDF(MaxSharedDocument+1))
	own, err := w.RecordDocument(t.Context(), doc)
	if err != nil || len(own.Data) != MaxSharedDocument+1 {
		t.Fatalf("the patient's own document: %d bytes, %v", len(own.Data), err)
	}
	_, _, err = w.SharePackage(t.Context(), Selection{Records: []catalog.ID{doc.ID}}, testclock.Now())
	var tl *DocumentTooLargeError
	if !errors.As(err, &tl) || !errors.Is(err, ErrDocumentTooLarge) || tl.Title != "ct-scan.pdf" || tl.Size != MaxSharedDocument+1 {
		t.Fatalf("share of an oversize document: %v", err)
	}
	if !strings.Contains(err.Error(), "ct-scan.pdf is 16.0 MiB") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("message %q", err)
	}
}

// TestSharedDocumentResolves: a DocumentReference's file is found inline
// or in a Binary of its Bundle, checked against its size and hash.
func TestSharedDocumentResolves(t *testing.T) {
	png := append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte("IDAT-pixels-"), 40)...)
	data := base64.StdEncoding.EncodeToString(png)
	bundle := `{"resourceType":"Bundle","type":"collection","entry":[
	 {"fullUrl":"urn:uuid:6f1e4b1c-0000-4000-8000-000000000001","resource":{"resourceType":"DocumentReference","id":"d1","status":"current",
	  "content":[{"attachment":{"contentType":"image/png","title":"rash.png","size":` + strconv.Itoa(len(png)) + `,"data":"` + data + `"}}]}},
	 {"fullUrl":"urn:uuid:6f1e4b1c-0000-4000-8000-000000000002","resource":{"resourceType":"DocumentReference","id":"d2","status":"current","description":"X-ray",
	  "content":[{"attachment":{"contentType":"image/png","url":"Binary/b1"}}]}},
	 {"fullUrl":"urn:uuid:6f1e4b1c-0000-4000-8000-000000000003","resource":{"resourceType":"Binary","id":"b1","contentType":"image/png","data":"` + data + `"}},
	 {"fullUrl":"urn:uuid:6f1e4b1c-0000-4000-8000-000000000004","resource":{"resourceType":"DocumentReference","id":"d3","status":"current",
	  "content":[{"attachment":{"contentType":"image/png","size":3,"data":"` + data + `"}}]}},
	 {"fullUrl":"urn:uuid:6f1e4b1c-0000-4000-8000-000000000005","resource":{"resourceType":"DocumentReference","id":"d4","status":"current",
	  "content":[{"attachment":{"contentType":"application/pdf","url":"https://example.org/letter.pdf"}}]}},
	 {"fullUrl":"urn:uuid:6f1e4b1c-0000-4000-8000-000000000006","resource":{"resourceType":"DocumentReference","id":"d5","status":"current",
	  "content":[{"attachment":{"contentType":"image/png","hash":"2jmj7l5rSw0yVb/vlWAYkK/YBwk=","data":"` + data + `"}}]}}]}`
	doc, err := fhir.Parse([]byte(bundle))
	must(t, err)
	byID := map[string]fhir.Resource{}
	for _, r := range doc.Resources {
		byID[r.ID] = r
	}
	for _, tc := range []struct {
		id, title string
		want      error
	}{
		{"d1", "rash.png", nil},
		{"d2", "X-ray", nil},
		{"d3", "", ErrDocumentMismatch},
		{"d4", "", ErrNoDocument},
		{"d5", "", ErrDocumentMismatch}, // the hash of no bytes
		{"b1", "", ErrNoDocument},
	} {
		f, err := SharedDocument(byID[tc.id], doc.Resources)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.id, err, tc.want)
			continue
		}
		if tc.want == nil && (!bytes.Equal(f.Data, png) || f.ContentType != "image/png" || f.Title != tc.title) {
			t.Errorf("%s: %q %q, %d bytes", tc.id, f.Title, f.ContentType, len(f.Data))
		}
	}
}

// FuzzSharedDocument: any resource, any Bundle around it: a file, or one
// error (never a panic), and a file returned always matches its stated
// size.
func FuzzSharedDocument(f *testing.F) {
	f.Add([]byte(`{"resourceType":"DocumentReference","content":[{"attachment":{"contentType":"application/pdf","size":4,"data":"JVBERg=="}}]}`))
	f.Add([]byte(`{"resourceType":"DocumentReference","content":[{"attachment":{"url":"Binary/b"}}]}`))
	f.Add([]byte(`{"resourceType":"DocumentReference","content":[{"attachment":{"data":"%%%","hash":7}}]}`))
	f.Add([]byte(`{"resourceType":"DocumentReference","content":[1,{"attachment":[]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := fhir.ParseResource(data)
		if err != nil {
			return
		}
		bin, _ := fhir.ParseResource([]byte(`{"resourceType":"Binary","id":"b","contentType":"image/png","data":"iVBORw0K"}`))
		file, err := SharedDocument(res, []fhir.Resource{bin, res})
		if err != nil {
			if !errors.Is(err, ErrNoDocument) && !errors.Is(err, ErrDocumentMismatch) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("error %q", err)
			}
			return
		}
		if size := firstAttachment(res).Get("size"); size != nil && fmt.Sprint(size) != strconv.Itoa(len(file.Data)) {
			t.Fatalf("returned %d bytes, stated %v", len(file.Data), size)
		}
	})
}

// TestDocumentTravelsWithLiveGrant: a PDF imported after a live grant on
// documents was issued reaches the grantee in the grant's next version.
func TestDocumentTravelsWithLiveGrant(t *testing.T) {
	ctx := t.Context()
	_, chain := startDevnet(t)
	patient, srv := servingPatient(t, chain)
	family := newWallet(t)
	sel := Selection{Categories: []fhir.Category{fhir.Labs, fhir.Documents}}
	issued, err := patient.IssueGrant(ctx, GrantRequest{To: family.Info().DID, Selection: sel, Duration: 24 * time.Hour,
		Providers: srv.Addrs(), Live: true}, chain)
	must(t, err)
	if _, err := family.Redeem(ctx, issued.Link, chain, fastRedeem()); err != nil {
		t.Fatal(err)
	}
	pdf := testPDF(1 << 20)
	importPDF(t, patient, "referral.pdf", pdf)
	us, err := family.RefreshReceived(ctx, fastRedeem())
	must(t, err)
	if len(us) != 1 || us[0].Seq != 2 {
		t.Fatalf("refresh: %+v, want version 2", us)
	}
	if f := sharedPDF(t, us[0].Bundle); sha256.Sum256(f.Data) != sha256.Sum256(pdf) || f.Title != "referral.pdf" {
		t.Fatalf("live version's document: %q, %d bytes", f.Title, len(f.Data))
	}
}
