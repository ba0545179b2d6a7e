package shc

import (
	"bytes"
	"compress/flate"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Issuer URLs of the two generations of specification examples.
const (
	specISS     = "https://spec.smarthealth.cards/examples/issuer"
	spec2021ISS = "https://smarthealth.cards/examples/issuer"

	kid3Kfdg = "3Kfdg-XwP-7gXyywtUfUADwBumDOPKMQx-iELL11W9s"
	kidEBKOr = "EBKOr72QQDcTBUuVzAzkfBTGew0ZA16GuWty64nS-sw"
	kidBVKTn = "bVKTnRwVq4YU9oLwwShYELnRtKop_MsCAjNklowYemg"
)

// testNow lies after the nbf of every valid fixture (the latest is spec
// example 00/01/03 of 2022-11-15) and before example 03's exp (2023-11-15).
var testNow = time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC)

// readFile reads a file under testdata.
func readFile(t testing.TB, rel string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", filepath.FromSlash(rel)))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// specTrust is the trust store of testdata/issuers.json: both example issuers.
func specTrust(t testing.TB) *Trust {
	t.Helper()
	trust, err := LoadTrust("testdata")
	if err != nil {
		t.Fatalf("LoadTrust(testdata): %v", err)
	}
	return trust
}

// wantErr fails the test unless err is a *VerifyError with the given reason
// (nil: unless err is nil).
func wantErr(t testing.TB, what string, err, reason error) {
	t.Helper()
	if reason == nil {
		if err != nil {
			t.Errorf("%s: unexpected error: %v", what, err)
		}
		return
	}
	if err == nil {
		t.Errorf("%s: no error, want %v", what, reason)
		return
	}
	var ve *VerifyError
	if !errors.As(err, &ve) {
		t.Errorf("%s: error %T %v is not a *VerifyError", what, err, err)
		return
	}
	if ve.Reason != reason || !errors.Is(err, reason) {
		t.Errorf("%s: got %v, want reason %v", what, err, reason)
	}
	if strings.ContainsAny(err.Error(), "\r\n") {
		t.Errorf("%s: error message is not one line: %q", what, err.Error())
	}
}

// testSigner is an issuer key made for the test, to sign payload fixtures
// that upstream ships unsigned.
type testSigner struct {
	key *ecdsa.PrivateKey
	jwk JWK
}

func newTestSigner(t testing.TB) *testSigner {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := key.PublicKey.Bytes() // 0x04 || X || Y
	if err != nil {
		t.Fatal(err)
	}
	jwk := JWK{Kty: "EC", Use: "sig", Alg: "ES256", Crv: "P-256",
		X: b64url.EncodeToString(pub[1:33]), Y: b64url.EncodeToString(pub[33:])}
	jwk.Kid = jwk.Thumbprint()
	return &testSigner{key: key, jwk: jwk}
}

// trust returns a trust store with this key as the only key of iss.
func (s *testSigner) trust(t testing.TB, iss string) *Trust {
	t.Helper()
	trust, err := NewTrust(Issuer{ISS: iss, Name: "test issuer", Keys: []JWK{s.jwk}})
	if err != nil {
		t.Fatal(err)
	}
	return trust
}

// sign makes a compact JWS of payload, exactly as given, the way an SHC
// issuer does: raw DEFLATE, ES256 with a 64-byte r||s signature.
func (s *testSigner) sign(t testing.TB, header string, payload []byte) string {
	t.Helper()
	var z bytes.Buffer
	w, err := flate.NewWriter(&z, flate.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(payload)
	w.Close()
	if header == "" {
		header = `{"zip":"DEF","alg":"ES256","kid":"` + s.jwk.Kid + `"}`
	}
	input := b64url.EncodeToString([]byte(header)) + "." + b64url.EncodeToString(z.Bytes())
	digest := sha256.Sum256([]byte(input))
	r, ss, err := ecdsa.Sign(rand.Reader, s.key, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	ss.FillBytes(sig[32:])
	return input + "." + b64url.EncodeToString(sig)
}

// withHeader replaces the header of a compact JWS (which breaks its
// signature) to make a card name another key.
func withHeader(jws, header string) string {
	_, rest, _ := strings.Cut(jws, ".")
	return b64url.EncodeToString([]byte(header)) + "." + rest
}

// bundleType returns the resourceType of a FHIR resource.
func bundleType(t testing.TB, raw json.RawMessage) string {
	t.Helper()
	var r struct {
		ResourceType string `json:"resourceType"`
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatalf("bundle: %v", err)
	}
	return r.ResourceType
}
