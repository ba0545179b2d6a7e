package wallet

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/healthwallet/healthwallet/internal/testclock"
	"github.com/healthwallet/healthwallet/wallet/fhir"
	"github.com/healthwallet/healthwallet/wallet/shc"
)

var shcData = filepath.Join("shc", "testdata")

func TestImportSMARTHealthCards(t *testing.T) {
	ctx := context.Background()
	w := newWallet(t)
	// No trusted issuers yet: a clear refusal.
	if _, err := w.ImportFile(ctx, filepath.Join(shcData, "spec-examples", "example-00-e-file.smart-health-card"), nil); !errors.Is(err, ErrNoTrust) {
		t.Fatalf("without trust: %v", err)
	}
	w.SetTrustDir(shcData)

	for _, f := range []string{"example-00-e-file.smart-health-card", "example-00-f-qr-code-numeric-value-0.txt", "example-01-d-jws.txt"} {
		res, err := w.ImportFile(ctx, filepath.Join(shcData, "spec-examples", f), nil)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if res.Card == nil || res.Card.Status != "verified" || !strings.Contains(res.Card.IssuerName, "example issuer") {
			t.Fatalf("%s: card %+v", f, res.Card)
		}
		if len(res.Records) == 0 || res.PerType["Immunization"] == 0 {
			t.Fatalf("%s: records %+v", f, res)
		}
		rec, _ := w.Record(res.Records[0])
		if rec.Card == nil || rec.Card.Status != "verified" || rec.Source.Kind != "smart-health-card" {
			t.Fatalf("%s: stored record %+v", f, rec)
		}
	}
	// The same card as a file and as a QR makes the same records, and
	// examples 00 and 01 carry the same Bundle: three immunizations in all.
	imms, _ := w.Records(Filter{Type: "Immunization"})
	if len(imms) != 3 {
		t.Fatalf("%d immunization records, want 3", len(imms))
	}
	// Their local fullUrls ("resource:0") became global, and the share
	// package keeps each immunization's link to the Patient.
	if !strings.HasPrefix(imms[0].FullURL, "urn:uuid:") || !strings.HasPrefix(imms[0].Subject, "urn:uuid:") {
		t.Fatalf("fullUrl %q subject %q", imms[0].FullURL, imms[0].Subject)
	}
	b, recs, err := w.SharePackage(ctx, Selection{Categories: []fhir.Category{fhir.Immunizations}}, testclock.Now())
	if err != nil || len(recs) != 4 || recs[0].Type != "Patient" {
		t.Fatalf("package: %d records, %v", len(recs), err)
	}
	if strings.Count(string(b), `"patient": {`) != 3 && strings.Count(string(b), `"patient":{`) != 3 {
		t.Fatalf("immunizations lost their patient reference:\n%s", b)
	}

	// Example 03 expired in 2023 (and was revoked): refused today as expired.
	_, err = w.ImportFile(ctx, filepath.Join(shcData, "spec-examples", "example-03-e-file.smart-health-card"), nil)
	if !errors.Is(err, shc.ErrExpired) {
		t.Fatalf("example 03 today: %v", err)
	}
	// On a day it was still valid, it is imported and marked revoked. Its
	// patient ("Johnny Revoked") is not this wallet's: a family member's.
	w.clock = func() time.Time { return time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC) }
	res, err := w.ImportFile(ctx, filepath.Join(shcData, "spec-examples", "example-03-e-file.smart-health-card"), nil, ImportOptions{OtherPatient: true})
	if !errors.Is(err, shc.ErrRevoked) || res.Card == nil || res.Card.Status != "revoked" || len(res.Records) == 0 {
		t.Fatalf("example 03 in 2023: %+v %v", res.Card, err)
	}
	rec, _ := w.Record(res.Records[0])
	if rec.Card.Status != "revoked" {
		t.Fatalf("stored as %q", rec.Card.Status)
	}
	w.clock = testclock.Now

	// A tampered card is refused with its reason and imports nothing.
	before, _ := w.Records(Filter{})
	_, err = w.ImportFile(ctx, filepath.Join(shcData, "dev-tools-testdata", "test-example-00-d-jws-invalid-signature.txt"), nil)
	if !errors.Is(err, shc.ErrBadSignature) && !errors.Is(err, shc.ErrUnknownIssuer) {
		t.Fatalf("invalid signature: %v", err)
	}
	after, _ := w.Records(Filter{})
	if len(after) != len(before) {
		t.Fatal("a rejected card added records")
	}
}
