package shc

import (
	"errors"
	"path/filepath"
	"testing"
)

// sentinels are the possible Reasons of Decode and Verify errors.
var sentinels = []error{ErrMalformed, ErrQR, ErrBadHeader, ErrSignatureEncoding, ErrCompression,
	ErrBadIssuer, ErrUnknownIssuer, ErrUnknownKey, ErrInvalidKey, ErrBadSignature, ErrBadTimestamp,
	ErrNotYetValid, ErrExpired, ErrBadCredential, ErrRevoked, ErrBadRevocationList}

// fixtureInputs returns the card fixtures (files, JWS, QR text) as seeds.
func fixtureInputs(t testing.TB) [][]byte {
	var out [][]byte
	for _, pattern := range []string{
		"testdata/spec-examples*/example-*-[def]-*",
		"testdata/dev-tools-testdata/test-example-*-[def]-*",
		"testdata/dev-tools-testdata/*fhirhealthcard*.json",
		"testdata/dev-tools-testdata/test-example-1195-byte-qrnumeric.txt",
		"testdata/dev-tools-testdata/badcrl/*/*.txt",
	} {
		files, err := filepath.Glob(pattern)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			rel, _ := filepath.Rel("testdata", f)
			out = append(out, readFile(t, filepath.ToSlash(rel)))
		}
	}
	if len(out) < 50 {
		t.Fatalf("only %d fixture seeds", len(out))
	}
	return out
}

// checkVerify asserts the contract of Verify for any input.
func checkVerify(t *testing.T, jws string, trust *Trust) {
	card, err := Verify(jws, trust, testNow)
	if err == nil {
		if card == nil || card.Verification.Status != StatusVerified {
			t.Fatalf("verified without a verified card: %+v", card)
		}
		return
	}
	var ve *VerifyError
	if !errors.As(err, &ve) {
		t.Fatalf("error %T is not a *VerifyError: %v", err, err)
	}
	known := false
	for _, s := range sentinels {
		known = known || ve.Reason == s
	}
	if !known || ve.Error() == "" {
		t.Fatalf("error with unknown reason: %v", err)
	}
	if (card != nil) != (ve.Reason == ErrRevoked) {
		t.Fatalf("card %v returned with %v", card != nil, err)
	}
}

// FuzzDecode feeds arbitrary user input to Decode, and what it yields to
// Verify: neither may panic, and failures are *VerifyError.
func FuzzDecode(f *testing.F) {
	for _, seed := range fixtureInputs(f) {
		f.Add(seed)
	}
	trust := specTrust(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		jwss, err := Decode(data)
		if err != nil {
			var ve *VerifyError
			if !errors.As(err, &ve) || (ve.Reason != ErrMalformed && ve.Reason != ErrQR) || jwss != nil {
				t.Fatalf("Decode: %v, %d results", err, len(jwss))
			}
			return
		}
		if len(jwss) == 0 {
			t.Fatal("Decode returned neither a JWS nor an error")
		}
		for _, jws := range jwss {
			checkVerify(t, jws, trust)
		}
	})
}

// FuzzVerify feeds arbitrary strings to Verify with the example issuers'
// trust store: it may not panic, every failure is a *VerifyError with a known
// Reason, and only ErrRevoked comes with a card.
func FuzzVerify(f *testing.F) {
	for _, seed := range fixtureInputs(f) {
		if jwss, err := Decode(seed); err == nil {
			for _, jws := range jwss {
				f.Add(jws)
			}
		}
	}
	trust := specTrust(f)
	f.Fuzz(func(t *testing.T, jws string) {
		checkVerify(t, jws, trust)
	})
}
