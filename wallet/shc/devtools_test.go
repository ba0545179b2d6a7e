package shc

import (
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The conformance set of health-cards-dev-tools (testdata/dev-tools-testdata,
// see testdata/README.md) holds valid and intentionally invalid artifacts.
// TestDevToolsConformance runs every file of it; TestDevToolsCoverage makes
// sure no file is left out.

// devCase is one row: the files, how they are fed to the package, and the
// expected outcome per card (nil: the card verifies). accept says why an
// artifact that upstream flags is accepted here; upstream-valid rows leave
// it empty.
type devCase struct {
	files  []string // relative to testdata/dev-tools-testdata
	uses   []string // further files the row reads (trust material)
	kind   devKind
	want   []error
	accept string
	detail string // text the first error must contain
}

type devKind int

const (
	// asInput: each file is user input for Decode; every JWS is verified
	// with the trust store of testdata/issuers.json (both example issuers).
	asInput devKind = iota
	// asRawJWS: the file content, untrimmed, is passed to Verify directly.
	asRawJWS
	// asQRSet: the files are the QR chunks of one card, for DecodeQR.
	asQRSet
	// asBadCRLCard: like asInput, with the trust directory
	// badcrl/issuers.json, whose issuers use the badcrl revocation lists.
	asBadCRLCard
	// asPayload: an unsigned JWS payload; it is signed, byte for byte, with
	// a key made by the test and trusted for its iss.
	asPayload
	// asBundle: a FHIR Bundle; it is wrapped into a minimal health card
	// payload, signed and verified like asPayload.
	asBundle
	// asKeySet: a JWK Set. A trust store holding only these keys for the
	// 2021 example issuer (the URI that the x5c certificates name) must
	// refuse 2021 example 00 as ErrUnknownKey, and the same card with its
	// header naming each key must fail with want[0]: ErrInvalidKey for a
	// refused key, ErrBadSignature for a usable one (it was used, the card
	// just isn't signed with it).
	asKeySet
	// asTrustFile: the file is not a JWK Set; ParseKeySet, and LoadTrust of
	// a trust directory naming it, must fail with ErrTrustStore.
	asTrustFile
	// notInput: documentation, not an artifact to verify.
	notInput
)

var devCases = []devCase{
	// --- -d- compact JWS files ---
	{files: []string{"test-example-00-d-jws-der-signature.txt"}, want: []error{ErrSignatureEncoding}, detail: "DER"},
	{files: []string{"test-example-00-d-jws-der-signature-r-neg.txt"}, want: []error{ErrSignatureEncoding}},
	{files: []string{"test-example-00-d-jws-der-signature-s-neg.txt"}, want: []error{ErrSignatureEncoding}},
	{files: []string{"test-example-00-d-jws-der-signature-rs-neg.txt"}, want: []error{ErrSignatureEncoding}},
	{files: []string{"test-example-00-d-jws-invalid-signature.txt"}, want: []error{ErrBadSignature}},
	{files: []string{"test-example-00-d-jws-issuer-kid-mismatch.txt"}, want: []error{ErrUnknownKey}},
	{files: []string{"test-example-00-d-jws-issuer-not-valid-with-smart-key.txt"}, want: []error{ErrUnknownIssuer}},
	// 1258 characters is over the single-QR limit, which does not apply to
	// a JWS or a file; the card fails because it has no nbf (its vc.type
	// also lacks #health-card).
	{files: []string{"test-example-00-d-jws-jws_too_long.txt"}, want: []error{ErrBadTimestamp}},
	{files: []string{"test-example-00-d-jws-no_deflate.txt"}, want: []error{ErrBadHeader}},
	{files: []string{"test-example-00-d-jws-no_jws_header_alg.txt"}, want: []error{ErrBadHeader}},
	{files: []string{"test-example-00-d-jws-no_jws_header_kid.txt"}, want: []error{ErrBadHeader}},
	{files: []string{"test-example-00-d-jws-no_jws_header_zip.txt"}, want: []error{ErrBadHeader}},
	{files: []string{"test-example-00-d-jws-wrong_jws_header_kid.txt"}, want: []error{ErrUnknownKey}},
	{files: []string{"test-example-00-d-jws-utf8_bom_prefix.txt"}, want: []error{ErrMalformed}, detail: "byte order mark"},
	{files: []string{"test-example-00-d-jws-trailing_chars.txt"}, want: []error{nil},
		accept: "whitespace around a pasted JWS is outside the signed content; Decode trims it (Verify itself refuses it, next row)"},
	{files: []string{"test-example-00-d-jws-trailing_chars.txt"}, kind: asRawJWS, want: []error{ErrMalformed}},
	{files: []string{"test-example-00-d-jws-bad-fhir-metadata.txt"}, want: []error{nil},
		accept: "a FHIR meta element the data-minimization profile forbids; FHIR profile conformance is not a signature or trust question"},

	// --- -e- .smart-health-card files ---
	{files: []string{"test-example-00-e-file-bad_jwks.smart-health-card"}, want: []error{ErrUnknownIssuer}},
	{files: []string{"test-example-00-e-file-invalid_deflate.smart-health-card"}, want: []error{ErrCompression}, detail: "zlib"},
	{files: []string{"test-example-00-e-file-invalid_issuer_url.smart-health-card"}, want: []error{ErrUnknownIssuer}},
	{files: []string{"test-example-00-e-file-invalid_issuer_url_http.smart-health-card"}, want: []error{ErrBadIssuer}},
	{files: []string{"test-example-00-e-file-issuer_url_with_trailing_slash.smart-health-card"}, want: []error{ErrBadIssuer}},
	{files: []string{"test-example-00-e-file-jws_too_long.smart-health-card"}, want: []error{ErrBadTimestamp}},
	{files: []string{"test-example-00-e-file-no_deflate.smart-health-card"}, want: []error{ErrBadHeader}},
	{files: []string{"test-example-00-e-file-multi-jws.smart-health-card"}, want: []error{nil, nil}},
	// First JWS has no alg; the second is fine, and the whitespace upstream
	// flags is after the file's closing brace.
	{files: []string{"test-example-00-e-file-multi-jws-issues.smart-health-card"}, want: []error{ErrBadHeader, nil},
		accept: "second card: the whitespace after the file's JSON is not part of any card"},
	{files: []string{"test-example-00-e-file-trailing_chars.smart-health-card"}, want: []error{nil},
		accept: "whitespace around the file's JSON is allowed by JSON and outside the signed content"},
	{files: []string{"test-example-00-e-file.wrong-extension"}, want: []error{nil},
		accept: "the file name extension is transport metadata (upstream: warning); the content is a valid card"},

	// --- $health-cards-issue responses ---
	{files: []string{"test-example-00-fhirhealthcard.json"}, want: []error{nil}},
	{files: []string{"test-example-00-fhirhealthcard-multi-jws.json"}, want: []error{nil, nil}},
	{files: []string{"test-example-00-fhirhealthcard-with-resource-link.json"}, want: []error{nil, nil}},

	// --- -f- numeric QR content ---
	{files: []string{"test-example-1195-byte-qrnumeric.txt"}, want: []error{nil}},
	{files: []string{"test-example-00-f-qr-code-numeric-value-0-index-out-of-range.txt"}, want: []error{ErrQR}},
	{files: []string{"test-example-00-f-qr-code-numeric-value-0-number-too-big.txt"}, want: []error{ErrQR}},
	{files: []string{"test-example-00-f-qr-code-numeric-value-0-odd-count.txt"}, want: []error{ErrQR}},
	{files: []string{"test-example-00-f-qr-code-numeric-value-0-wrong_qr_header.txt"}, want: []error{ErrQR}},
	// "shc:/1/1/": a chunk header on a card that needs no chunks
	// (upstream: warning only).
	{files: []string{"test-example-00-f-qr-code-numeric-value-0-wrong-multi-chunk.txt"}, want: []error{ErrQR}},
	{files: []string{"test-example-00-f-qr-code-numeric-value-0-trailing_chars.txt"}, want: []error{nil},
		accept: "whitespace around scanned QR text is not QR content; Decode and DecodeQR trim it"},
	// Example 00 (772 characters) needlessly split into 17 chunks.
	{files: qrChunks("test-example-00-f-qr-code-numeric-value-", 17, "-qr_chunk_too_small.txt"), kind: asQRSet, want: []error{ErrQR}},
	// Each 17th alone is an incomplete set.
	{files: []string{"test-example-00-f-qr-code-numeric-value-16-qr_chunk_too_small.txt"}, want: []error{ErrQR}},
	// Example 02 in 2 chunks of 1632 characters, over the 1191 per chunk.
	{files: qrChunks("test-example-02-f-qr-code-numeric-value-", 2, "-qr_chunk_too_big.txt"), kind: asQRSet, want: []error{ErrQR}},

	// --- badcrl/: revocation list error cases ---
	{files: []string{"badcrl/duplicate-rid/jws-crl-duplicate-rid.txt"}, kind: asBadCRLCard, want: []error{ErrBadRevocationList},
		uses: badCRLFiles("duplicate-rid")},
	{files: []string{"badcrl/invalid-method/jws-crl-invalid-method.txt"}, kind: asBadCRLCard, want: []error{ErrBadRevocationList},
		uses: badCRLFiles("invalid-method")},
	{files: []string{"badcrl/non-base64url-rid/jws-crl-non-base64url-rid.txt"}, kind: asBadCRLCard, want: []error{ErrBadRevocationList},
		uses: badCRLFiles("non-base64url-rid")},
	{files: []string{"badcrl/too-long-rid/jws-crl-too-long-rid.txt"}, kind: asBadCRLCard, want: []error{ErrBadRevocationList},
		uses: badCRLFiles("too-long-rid")},
	{files: []string{"badcrl/version-mismatch/jws-crl-version-mismatch.txt"}, kind: asBadCRLCard, want: []error{ErrBadRevocationList},
		uses: badCRLFiles("version-mismatch")},
	// A bare JWK where a JWK Set belongs.
	{files: []string{"badcrl/public.json"}, kind: asTrustFile},
	{files: []string{"badcrl/.well-known/jwks.json"}, kind: asTrustFile},
	{files: []string{"badjwks/.well-known/jwks.json"}, kind: asTrustFile},

	// --- -b- JWS payloads, signed by the test ---
	{files: []string{"test-example-00-b-jws-payload-expanded-expired.json"}, kind: asPayload, want: []error{ErrExpired}},
	{files: []string{"test-example-00-b-jws-payload-expanded-exp_milliseconds.json"}, kind: asPayload, want: []error{ErrBadTimestamp}, detail: "milliseconds"},
	{files: []string{"test-example-00-b-jws-payload-expanded-nbf_milliseconds.json"}, kind: asPayload, want: []error{ErrBadTimestamp}, detail: "milliseconds"},
	{files: []string{"test-example-00-b-jws-payload-expanded-nbf_not_yet_valid.json"}, kind: asPayload, want: []error{ErrNotYetValid}},
	{files: []string{"test-example-00-b-jws-payload-expanded-pre-expired.json"}, kind: asPayload, want: []error{ErrBadTimestamp}, detail: "before nbf"},
	{files: []string{"test-example-00-b-jws-payload-expanded-missing-shc-vc-type.json"}, kind: asPayload, want: []error{ErrBadCredential}},
	{files: []string{"test-example-00-b-jws-payload-expanded-missing-covid-vc-type.json"}, kind: asPayload, want: []error{nil},
		accept: "#covid19 is a SHOULD-level type (deprecated since spec 1.4.0); upstream: warning"},
	{files: []string{"test-example-00-b-jws-payload-expanded-missing-imm-vc-type.json"}, kind: asPayload, want: []error{nil},
		accept: "#immunization is a SHOULD-level type (deprecated since spec 1.4.0); upstream: warning"},
	{files: []string{"test-example-covid-lab-jwspayload-missing-lab-vc-type.json"}, kind: asPayload, want: []error{nil},
		accept: "#laboratory is a SHOULD-level type; upstream: warning"},
	{files: []string{"test-example-00-b-jws-payload-expanded-optional-vc-type.json"}, kind: asPayload, want: []error{nil},
		accept: `extra "VerifiableCredential" type; the spec says verifiers SHALL ignore types they do not understand`},
	{files: []string{"test-example-00-b-jws-payload-expanded-unknown-vc-types.json"}, kind: asPayload, want: []error{nil},
		accept: "unknown types; the spec says verifiers SHALL ignore types they do not understand"},
	{files: []string{"test-example-00-b-jws-payload-expanded-missing-coding.json"}, kind: asPayload, want: []error{nil},
		accept: "a FHIR content error (Immunization.vaccineCode without coding); FHIR validation is out of scope"},
	{files: []string{"test-example-00-b-jws-payload-expanded-trailing_chars.json"}, kind: asPayload, want: []error{nil},
		accept: "whitespace around the payload JSON is valid JSON and covered by the signature"},

	// --- -a- FHIR bundles, wrapped and signed by the test ---
	{files: []string{"test-example-00-a-fhirBundle-bad_meta_extra_key.json"}, kind: asBundle, want: []error{nil}, accept: fhirOnly},
	{files: []string{"test-example-00-a-fhirBundle-bad_meta_non_security.json"}, kind: asBundle, want: []error{nil}, accept: fhirOnly},
	{files: []string{"test-example-00-a-fhirBundle-bad_meta_wrong_security.json"}, kind: asBundle, want: []error{nil}, accept: fhirOnly},
	{files: []string{"test-example-00-a-fhirBundle-empty-values.json"}, kind: asBundle, want: []error{nil}, accept: fhirOnly},
	{files: []string{"test-example-00-a-fhirBundle-occurrence-issues.json"}, kind: asBundle, want: []error{nil}, accept: fhirOnly},
	{files: []string{"test-example-00-a-fhirBundle-profile-usa.json"}, kind: asBundle, want: []error{nil}, accept: fhirOnly},
	{files: []string{"test-example-00-a-fhirBundle-status-not-completed.json"}, kind: asBundle, want: []error{nil}, accept: fhirOnly},
	{files: []string{"test-example-00-a-non-dm-properties.json"}, kind: asBundle, want: []error{nil}, accept: fhirOnly},
	{files: []string{"test-example-00-a-short-refs.json"}, kind: asBundle, want: []error{nil}, accept: fhirOnly},
	{files: []string{"test-example-00-a-fhirBundle-trailing_chars.json"}, kind: asBundle, want: []error{nil},
		accept: "whitespace before the bundle is JSON whitespace inside the payload"},

	// --- issuer keys ---
	{files: []string{"valid_key.json"}, kind: asKeySet, want: []error{ErrBadSignature}},
	{files: []string{"valid_keys.json"}, kind: asKeySet, want: []error{ErrBadSignature, ErrBadSignature, ErrBadSignature}},
	{files: []string{"valid_key_with_x5c.json"}, kind: asKeySet, want: []error{ErrBadSignature}},
	{files: []string{"valid_2_chain.public.json"}, kind: asKeySet, want: []error{ErrBadSignature}},
	{files: []string{"issuer.jwks.public.not.smart.json"}, kind: asKeySet, want: []error{ErrBadSignature}},
	{files: []string{"wrong_alg_key.json"}, kind: asKeySet, want: []error{ErrInvalidKey}, detail: "alg is \"ES256K\""},
	{files: []string{"wrong_curve_key.json"}, kind: asKeySet, want: []error{ErrInvalidKey}, detail: "crv is \"P-384\""},
	{files: []string{"wrong_kid_key.json"}, kind: asKeySet, want: []error{ErrInvalidKey}, detail: "RFC 7638 thumbprint"},
	{files: []string{"wrong_kty_key.json"}, kind: asKeySet, want: []error{ErrInvalidKey}, detail: "kty is \"RSA\""},
	{files: []string{"wrong_use_key.json"}, kind: asKeySet, want: []error{ErrInvalidKey}, detail: "use is \"enc\""},
	{files: []string{"cert_mismatch.public.json"}, kind: asKeySet, want: []error{ErrInvalidKey}, detail: "different public key"},
	{files: []string{"invalid_chain.public.json"}, kind: asKeySet, want: []error{ErrInvalidKey}, detail: "not signed by certificate 1"},
	{files: []string{"invalid_DNS_SAN.public.json"}, kind: asKeySet, want: []error{ErrInvalidKey}, detail: "no URI subject alternative name"},
	{files: []string{"invalid_no_SAN.public.json"}, kind: asKeySet, want: []error{ErrInvalidKey}, detail: "no URI subject alternative name"},

	// --- not artifacts ---
	{files: []string{"UPSTREAM-README.md", "badcrl/info.md"}, kind: notInput},
	// The upstream issuer directory (VCI format) for its --directory
	// option; this package's trust manifest is issuers.json instead.
	{files: []string{"test-issuers.json"}, kind: notInput},
}

const fhirOnly = "FHIR profile/data-minimization finding (upstream FHIR_SCHEMA or PROFILE error); the wallet verifies signature, issuer and claims, not FHIR conformance"

func qrChunks(prefix string, n int, suffix string) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = prefix + strconv.Itoa(i) + suffix
	}
	return out
}

func badCRLFiles(name string) []string {
	return []string{
		"badcrl/" + name + "/.well-known/jwks.json",
		"badcrl/" + name + "/.well-known/crl/hrvC0uzB16UXK83BnPo7Glg685b1D6iYOyJd5hpRaAA.json",
	}
}

func TestDevToolsConformance(t *testing.T) {
	trust := specTrust(t)
	badCRL, err := LoadTrust("testdata/dev-tools-testdata/badcrl")
	if err != nil {
		t.Fatalf("LoadTrust(badcrl): %v", err)
	}
	signer := newTestSigner(t)
	ex2021 := string(readFile(t, "spec-examples-2021/example-00-d-jws.txt"))

	for _, tc := range devCases {
		name := tc.files[0]
		if len(tc.files) > 1 {
			name += "+"
		}
		t.Run(name, func(t *testing.T) {
			read := func(f string) []byte { return readFile(t, "dev-tools-testdata/"+f) }
			var got []error
			switch tc.kind {
			case notInput:
				return
			case asInput, asBadCRLCard:
				tr := trust
				if tc.kind == asBadCRLCard {
					tr = badCRL
				}
				jwss, err := Decode(read(tc.files[0]))
				if err != nil {
					got = []error{err}
					break
				}
				for _, jws := range jwss {
					_, err := Verify(jws, tr, testNow)
					got = append(got, err)
				}
			case asRawJWS:
				_, err := Verify(string(read(tc.files[0])), trust, testNow)
				got = []error{err}
			case asQRSet:
				var chunks []string
				for _, f := range tc.files {
					chunks = append(chunks, string(read(f)))
				}
				jws, err := DecodeQR(chunks...)
				if err == nil {
					_, err = Verify(jws, trust, testNow)
				}
				got = []error{err}
			case asPayload:
				payload := read(tc.files[0])
				var claims struct {
					ISS string `json:"iss"`
				}
				if err := json.Unmarshal(payload, &claims); err != nil {
					t.Fatal(err)
				}
				_, err := Verify(signer.sign(t, "", payload), signer.trust(t, claims.ISS), testNow)
				got = []error{err}
			case asBundle:
				bundle := read(tc.files[0])
				payload := []byte(`{"iss":"` + specISS + `","nbf":1668545475,"vc":{"type":["` + HealthCardType +
					`"],"credentialSubject":{"fhirVersion":"4.0.1","fhirBundle":` + string(bundle) + `}}}`)
				card, err := Verify(signer.sign(t, "", payload), signer.trust(t, specISS), testNow)
				if err == nil && !bytes.Equal(card.Bundle, bytes.TrimSpace(bundle)) {
					t.Error("card.Bundle is not the signed bundle")
				}
				got = []error{err}
			case asKeySet:
				got = keySetOutcomes(t, read(tc.files[0]), ex2021)
			case asTrustFile:
				_, err := ParseKeySet(read(tc.files[0]))
				if !errors.Is(err, ErrTrustStore) {
					t.Errorf("ParseKeySet: %v, want ErrTrustStore", err)
				}
				// The same through a trust directory.
				dir := t.TempDir()
				os.WriteFile(filepath.Join(dir, "jwks.json"), read(tc.files[0]), 0o644)
				os.WriteFile(filepath.Join(dir, ManifestFile),
					[]byte(`{"issuers":[{"iss":"https://issuer.example","jwks":"jwks.json"}]}`), 0o644)
				if _, err := LoadTrust(dir); !errors.Is(err, ErrTrustStore) {
					t.Errorf("LoadTrust: %v, want ErrTrustStore", err)
				}
				return
			}
			if tc.detail != "" && (len(got) == 0 || got[0] == nil || !strings.Contains(got[0].Error(), tc.detail)) {
				t.Errorf("error %v does not mention %q", got, tc.detail)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %d outcomes %v, want %d", len(got), got, len(tc.want))
			}
			for i := range got {
				wantErr(t, name, got[i], tc.want[i])
			}
		})
	}
}

// keySetOutcomes puts a JWK Set as the only keys of the 2021 example issuer
// and returns, for each key, the error of verifying 2021 example 00 re-headed
// to name that key; it also checks that the unchanged example is refused as
// ErrUnknownKey.
func keySetOutcomes(t *testing.T, data []byte, jws string) []error {
	ks, err := ParseKeySet(data)
	if err != nil {
		t.Fatalf("ParseKeySet: %v", err)
	}
	trust, err := NewTrust(Issuer{ISS: spec2021ISS, Keys: ks.Keys})
	if err != nil {
		t.Fatalf("NewTrust: %v", err)
	}
	_, err = Verify(jws, trust, testNow)
	wantErr(t, "unchanged example 00", err, ErrUnknownKey)
	var outcomes []error
	for _, k := range ks.Keys {
		_, err := Verify(withHeader(jws, `{"zip":"DEF","alg":"ES256","kid":"`+k.Kid+`"}`), trust, testNow)
		outcomes = append(outcomes, err)
	}
	return outcomes
}

// TestDevToolsCoverage: every upstream file appears in devCases, so none is
// silently dropped.
func TestDevToolsCoverage(t *testing.T) {
	covered := map[string]bool{}
	for _, tc := range devCases {
		for _, f := range slices.Concat(tc.files, tc.uses) {
			covered[f] = true
		}
	}
	root := filepath.Join("testdata", "dev-tools-testdata")
	n := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		if rel == "badcrl/issuers.json" || rel == "badjwks/issuers.json" {
			return nil // trust manifests written for these tests
		}
		n++
		if !covered[rel] {
			t.Errorf("dev-tools file %s is not in devCases", rel)
		}
		delete(covered, rel)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for f := range covered {
		t.Errorf("devCases names %s, which does not exist", f)
	}
	if n != 114 {
		t.Errorf("%d dev-tools files found, want the 114 of the upstream set", n)
	}
}
