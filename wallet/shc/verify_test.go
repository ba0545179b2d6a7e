package shc

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

// TestSpecExamples verifies every valid specification example from every
// form it is published in: the .smart-health-card file, the bare JWS and
// the numeric QR content (three chunks for 2021 example 02).
func TestSpecExamples(t *testing.T) {
	trust := specTrust(t)
	examples := []struct {
		dir, n, iss, kid string
		qr               []string
		rid              string
	}{
		{"spec-examples", "00", specISS, kid3Kfdg, []string{"0"}, "MKyCxh7p6uQ"},
		{"spec-examples", "01", specISS, kidEBKOr, []string{"0"}, ""},
		{"spec-examples-2021", "00", spec2021ISS, kid3Kfdg, []string{"0"}, ""},
		{"spec-examples-2021", "01", spec2021ISS, kidBVKTn, []string{"0"}, ""},
		{"spec-examples-2021", "02", spec2021ISS, kid3Kfdg, []string{"0", "1", "2"}, ""},
	}
	for _, ex := range examples {
		prefix := ex.dir + "/example-" + ex.n + "-"
		t.Run(ex.dir+"/"+ex.n, func(t *testing.T) {
			jws := string(readFile(t, prefix+"d-jws.txt"))
			minified := readFile(t, prefix+"c-jws-payload-minified.json")

			// Each published form decodes to the same JWS.
			forms := map[string][]string{}
			for _, f := range []string{"d-jws.txt", "e-file.smart-health-card"} {
				got, err := Decode(readFile(t, prefix+f))
				if err != nil {
					t.Fatalf("Decode(%s): %v", f, err)
				}
				forms[f] = got
			}
			fromFile, err := ParseFile(readFile(t, prefix+"e-file.smart-health-card"))
			if err != nil {
				t.Fatalf("ParseFile: %v", err)
			}
			forms["ParseFile"] = fromFile
			var chunks []string
			var joined []byte
			for _, i := range ex.qr {
				c := readFile(t, prefix+"f-qr-code-numeric-value-"+i+".txt")
				chunks = append(chunks, string(c))
				joined = append(append(joined, c...), '\n')
			}
			fromQR, err := DecodeQR(chunks...)
			if err != nil {
				t.Fatalf("DecodeQR: %v", err)
			}
			forms["DecodeQR"] = []string{fromQR}
			if forms["Decode(qr)"], err = Decode(joined); err != nil {
				t.Fatalf("Decode(QR text): %v", err)
			}
			for name, got := range forms {
				if len(got) != 1 || got[0] != jws {
					t.Fatalf("%s: got %d JWS, want the -d-jws.txt one", name, len(got))
				}
				if _, err := Verify(got[0], trust, testNow); err != nil {
					t.Errorf("Verify(%s): %v", name, err)
				}
			}

			card, err := Verify(jws, trust, testNow)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if card.Issuer != ex.iss || card.Kid != ex.kid || card.RID != ex.rid {
				t.Errorf("card iss %q kid %q rid %q, want %q %q %q", card.Issuer, card.Kid, card.RID, ex.iss, ex.kid, ex.rid)
			}
			if !strings.HasPrefix(card.IssuerName, "SMART Health Cards example issuer") {
				t.Errorf("IssuerName %q not taken from the manifest", card.IssuerName)
			}
			if got := bundleType(t, card.Bundle); got != "Bundle" {
				t.Errorf("bundle resourceType %q", got)
			}
			if !bytes.Equal(card.Payload, minified) {
				t.Errorf("decoded payload differs from %sc-jws-payload-minified.json", prefix)
			}
			if card.FHIRVersion != "4.0.1" || card.Types[0] == "" || !card.Expires.IsZero() {
				t.Errorf("card fhirVersion %q types %v expires %v", card.FHIRVersion, card.Types, card.Expires)
			}
			var claims struct {
				NBF float64 `json:"nbf"`
			}
			json.Unmarshal(minified, &claims)
			if d := card.NotBefore.Sub(time.UnixMilli(int64(claims.NBF * 1000))); d < -time.Millisecond || d > time.Millisecond {
				t.Errorf("NotBefore %v, payload nbf %v", card.NotBefore, claims.NBF)
			}
			v := card.Verification
			if v.Status != StatusVerified || !v.CheckedAt.Equal(testNow) || v.Reason == "" {
				t.Errorf("verification %+v", v)
			}
			if card.JWS != jws {
				t.Error("card.JWS is not the verified JWS")
			}
			// The card can be stored as JSON and read back.
			stored, err := json.Marshal(card)
			if err != nil {
				t.Fatal(err)
			}
			var back Card
			if err := json.Unmarshal(stored, &back); err != nil || back.Verification.Status != StatusVerified || back.Kid != ex.kid {
				t.Errorf("stored card did not round-trip: %v", err)
			}
		})
	}
}

// TestRevokedExample: example 03's rid is on the issuer's revocation list;
// Verify returns the card and ErrRevoked.
func TestRevokedExample(t *testing.T) {
	trust := specTrust(t)
	for _, f := range []string{"d-jws.txt", "e-file.smart-health-card", "f-qr-code-numeric-value-0.txt"} {
		jwss, err := Decode(readFile(t, "spec-examples/example-03-"+f))
		if err != nil || len(jwss) != 1 {
			t.Fatalf("Decode(%s): %v", f, err)
		}
		card, err := Verify(jwss[0], trust, testNow)
		wantErr(t, f, err, ErrRevoked)
		if card == nil {
			t.Fatalf("%s: revoked card not returned", f)
		}
		if card.RID != "vwAjHdarZuc" || card.Verification.Status != StatusRevoked ||
			card.Verification.RevocationListVersion != 1 || !strings.Contains(card.Verification.Reason, "vwAjHdarZuc") {
			t.Errorf("%s: card rid %q verification %+v", f, card.RID, card.Verification)
		}
		if card.Expires.Unix() != 1700081475 {
			t.Errorf("%s: Expires %v, want exp 1700081475.4", f, card.Expires)
		}
	}
	// Without the revocation list the same card verifies: the list is what
	// revokes it.
	ks, err := ParseKeySet(readFile(t, "spec-examples/issuer-jwks.json"))
	if err != nil {
		t.Fatal(err)
	}
	noCRL, err := NewTrust(Issuer{ISS: specISS, Keys: ks.Keys})
	if err != nil {
		t.Fatal(err)
	}
	card, err := Verify(string(readFile(t, "spec-examples/example-03-d-jws.txt")), noCRL, testNow)
	wantErr(t, "without list", err, nil)
	if card == nil || card.Verification.RevocationListVersion != 0 {
		t.Errorf("without list: %+v", card)
	}
}

// TestRevocationTimestamps covers "<rid>" and "<rid>.<timestamp>" entries
// around a card's nbf, with a card signed for the test.
func TestRevocationTimestamps(t *testing.T) {
	s := newTestSigner(t)
	jws := s.sign(t, "", []byte(`{"iss":"`+specISS+`","nbf":1700000000.7,"vc":{"type":["`+HealthCardType+`"],`+
		`"credentialSubject":{"fhirVersion":"4.0.1","fhirBundle":{"resourceType":"Bundle"}},"rid":"abc_DEF-123"}}`))
	now := time.Unix(1800000000, 0)
	for _, tc := range []struct {
		entry string
		want  error
	}{
		{"abc_DEF-123", ErrRevoked},
		{"abc_DEF-123.1700000001", ErrRevoked}, // issued before the timestamp
		{"abc_DEF-123.1700000000", ErrRevoked}, // issued within the timestamp's second
		{"abc_DEF-123.1699999999", nil},        // issued after: a newer card for the same rid
		{"abc_DEF-12", nil},
		{"xyz", nil},
	} {
		trust, err := NewTrust(Issuer{ISS: specISS, Keys: []JWK{s.jwk},
			RevocationLists: []RevocationList{{Kid: s.jwk.Kid, Method: "rid", Ctr: 3, RIDs: []string{"other", tc.entry}}}})
		if err != nil {
			t.Fatal(err)
		}
		card, err := Verify(jws, trust, now)
		wantErr(t, tc.entry, err, tc.want)
		if card == nil || card.Verification.RevocationListVersion != 3 {
			t.Errorf("%s: card %v", tc.entry, card)
			continue
		}
		if want := map[error]Status{nil: StatusVerified, ErrRevoked: StatusRevoked}[tc.want]; card.Verification.Status != want {
			t.Errorf("%s: status %q, want %q", tc.entry, card.Verification.Status, want)
		}
	}
}

// TestValidityPeriod checks nbf and exp against a controlled now, with the
// ClockSkew tolerance, using example 03 (nbf 1668545475.4, exp 1700081475.4).
func TestValidityPeriod(t *testing.T) {
	ks, err := ParseKeySet(readFile(t, "spec-examples/issuer-jwks.json"))
	if err != nil {
		t.Fatal(err)
	}
	trust, err := NewTrust(Issuer{ISS: specISS, Keys: ks.Keys}) // no revocation list
	if err != nil {
		t.Fatal(err)
	}
	jws := string(readFile(t, "spec-examples/example-03-d-jws.txt"))
	nbf := time.UnixMilli(1668545475400)
	exp := time.UnixMilli(1700081475400)
	for _, tc := range []struct {
		name string
		now  time.Time
		want error
	}{
		{"long before nbf", time.Date(2022, 1, 1, 0, 0, 0, 0, time.UTC), ErrNotYetValid},
		{"nbf-61s", nbf.Add(-61 * time.Second), ErrNotYetValid},
		{"nbf-59s (clock skew)", nbf.Add(-59 * time.Second), nil},
		{"at nbf", nbf, nil},
		{"between", nbf.Add(24 * time.Hour), nil},
		{"at exp", exp, nil},
		{"exp+59s (clock skew)", exp.Add(59 * time.Second), nil},
		{"exp+61s", exp.Add(61 * time.Second), ErrExpired},
		{"long after exp", time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC), ErrExpired},
	} {
		card, err := Verify(jws, trust, tc.now)
		wantErr(t, tc.name, err, tc.want)
		if (card != nil) != (tc.want == nil) {
			t.Errorf("%s: card returned %v, want %v", tc.name, card != nil, tc.want == nil)
		}
	}
	// Example 00 has no exp: valid forever after nbf.
	if _, err := Verify(string(readFile(t, "spec-examples/example-00-d-jws.txt")), trust,
		time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Errorf("example 00 in 2100: %v", err)
	}
}

// TestVerifyFailures: unknown issuer and kid, tampering, DER signatures and
// other malformed input, each with its sentinel.
func TestVerifyFailures(t *testing.T) {
	trust := specTrust(t)
	jws := string(readFile(t, "spec-examples/example-00-d-jws.txt"))
	parts := strings.Split(jws, ".")
	header, payload, sig := parts[0], parts[1], parts[2]

	only2021, err := NewTrust(Issuer{ISS: spec2021ISS, Keys: mustKeys(t, "spec-examples-2021/issuer-jwks.json")})
	if err != nil {
		t.Fatal(err)
	}
	// The 2021 key set without 3Kfdg, under the 2022 issuer URL.
	var otherKeys []JWK
	for _, k := range mustKeys(t, "spec-examples-2021/issuer-jwks.json") {
		if k.Kid != kid3Kfdg {
			otherKeys = append(otherKeys, k)
		}
	}
	noKid, err := NewTrust(Issuer{ISS: specISS, Keys: otherKeys})
	if err != nil {
		t.Fatal(err)
	}

	flip := func(s string, i int) string {
		b := []byte(s)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return string(b)
	}
	der := derSignature(t, sig)
	rawSig, _ := b64url.DecodeString(sig)

	cases := []struct {
		name  string
		jws   string
		trust *Trust
		want  error
	}{
		{"valid", jws, trust, nil},
		{"unknown issuer", jws, only2021, ErrUnknownIssuer},
		{"nil trust", jws, nil, ErrUnknownIssuer},
		{"unknown kid", jws, noKid, ErrUnknownKey},
		{"tampered signature", header + "." + payload + "." + flip(sig, 10), trust, ErrBadSignature},
		{"tampered signature last char", header + "." + payload + "." + flip(sig, len(sig)-2), trust, ErrBadSignature},
		{"tampered payload", header + "." + flip(payload, 40) + "." + sig, trust, nil}, // decided below
		{"signature of another card", header + "." + payload + "." + strings.Split(string(readFile(t, "spec-examples/example-03-d-jws.txt")), ".")[2], trust, ErrBadSignature},
		{"header without zip", withHeader(jws, `{"alg":"ES256","kid":"`+kid3Kfdg+`"}`), trust, ErrBadHeader},
		{"alg none", withHeader(jws, `{"zip":"DEF","alg":"none","kid":"`+kid3Kfdg+`"}`), trust, ErrBadHeader},
		{"alg ES384", withHeader(jws, `{"zip":"DEF","alg":"ES384","kid":"`+kid3Kfdg+`"}`), trust, ErrBadHeader},
		{"zip GZIP", withHeader(jws, `{"zip":"GZIP","alg":"ES256","kid":"`+kid3Kfdg+`"}`), trust, ErrBadHeader},
		{"kid number", withHeader(jws, `{"zip":"DEF","alg":"ES256","kid":7}`), trust, ErrBadHeader},
		{"crit", withHeader(jws, `{"zip":"DEF","alg":"ES256","kid":"`+kid3Kfdg+`","crit":["b64"]}`), trust, ErrBadHeader},
		{"header not JSON", withHeader(jws, `zip`), trust, ErrMalformed},
		{"header JSON array", withHeader(jws, `[]`), trust, ErrMalformed},
		{"DER signature", header + "." + payload + "." + b64url.EncodeToString(der), trust, ErrSignatureEncoding},
		{"63-byte signature", header + "." + payload + "." + b64url.EncodeToString(rawSig[:63]), trust, ErrSignatureEncoding},
		{"zero signature", header + "." + payload + "." + b64url.EncodeToString(make([]byte, 64)), trust, ErrBadSignature},
		{"two parts", header + "." + payload, trust, ErrMalformed},
		{"four parts", jws + "." + sig, trust, ErrMalformed},
		{"empty payload", header + ".." + sig, trust, ErrMalformed},
		{"padding", jws + "==", trust, ErrMalformed},
		{"base64 not url", header + "." + strings.ReplaceAll(payload, "_", "/") + "." + sig, trust, ErrMalformed},
		{"leading space", " " + jws, trust, ErrMalformed},
		{"trailing newline", jws + "\n", trust, ErrMalformed},
		{"payload not deflate", header + "." + b64url.EncodeToString([]byte(`{"iss":"x"}`)) + "." + sig, trust, ErrCompression},
		{"empty", "", trust, ErrMalformed},
	}
	for _, tc := range cases {
		card, err := Verify(tc.jws, tc.trust, testNow)
		if tc.name == "tampered payload" {
			// A changed payload either no longer inflates/parses or fails the
			// signature; it never verifies.
			if err == nil {
				t.Errorf("tampered payload verified")
			}
			var ve *VerifyError
			if !errors.As(err, &ve) || !(ve.Reason == ErrBadSignature || ve.Reason == ErrCompression || ve.Reason == ErrMalformed) {
				t.Errorf("tampered payload: %v", err)
			}
			continue
		}
		wantErr(t, tc.name, err, tc.want)
		if (card != nil) != (tc.want == nil) {
			t.Errorf("%s: card returned %v", tc.name, card != nil)
		}
		if err != nil {
			if v := Rejected(err, testNow); v.Status != StatusRejected || v.Reason != err.Error() || !v.CheckedAt.Equal(testNow) {
				t.Errorf("%s: Rejected() = %+v", tc.name, v)
			}
		}
	}
}

// TestClaims checks the payload rules with cards signed for the test.
func TestClaims(t *testing.T) {
	s := newTestSigner(t)
	trust := s.trust(t, specISS)
	vc := `"vc":{"type":["` + HealthCardType + `"],"credentialSubject":{"fhirVersion":"4.0.1","fhirBundle":{"resourceType":"Bundle","type":"collection"}}}`
	iss := `"iss":"` + specISS + `"`
	for _, tc := range []struct {
		payload string
		want    error
	}{
		{`{` + iss + `,"nbf":1600000000,` + vc + `}`, nil},
		{`{` + iss + `,"nbf":1600000000,"exp":1.8e9,` + vc + `}`, nil},
		{`{"nbf":1600000000,` + vc + `}`, ErrBadIssuer},
		{`{"iss":7,"nbf":1600000000,` + vc + `}`, ErrBadIssuer},
		{`{"iss":"https://","nbf":1600000000,` + vc + `}`, ErrBadIssuer},
		{`{` + iss + `,` + vc + `}`, ErrBadTimestamp},
		{`{` + iss + `,"nbf":"1600000000",` + vc + `}`, ErrBadTimestamp},
		{`{` + iss + `,"nbf":null,` + vc + `}`, ErrBadTimestamp},
		{`{` + iss + `,"nbf":-5,` + vc + `}`, ErrBadTimestamp},
		{`{` + iss + `,"nbf":1e400,` + vc + `}`, ErrBadTimestamp},
		{`{` + iss + `,"nbf":1600000000000,` + vc + `}`, ErrBadTimestamp},
		{`{` + iss + `,"nbf":1600000000,"exp":1500000000,` + vc + `}`, ErrBadTimestamp},
		{`{` + iss + `,"nbf":1600000000,"exp":true,` + vc + `}`, ErrBadTimestamp},
		{`{` + iss + `,"nbf":1600000000}`, ErrBadCredential},
		{`{` + iss + `,"nbf":1600000000,"vc":[]}`, ErrBadCredential},
		{`{` + iss + `,"nbf":1600000000,"vc":null}`, ErrBadCredential},
		{`{` + iss + `,"nbf":1600000000,"vc":{"type":"` + HealthCardType + `","credentialSubject":{"fhirVersion":"4.0.1","fhirBundle":{"resourceType":"Bundle"}}}}`, ErrBadCredential},
		{`{` + iss + `,"nbf":1600000000,"vc":{"type":["x"],"credentialSubject":{"fhirVersion":"4.0.1","fhirBundle":{"resourceType":"Bundle"}}}}`, ErrBadCredential},
		{`{` + iss + `,"nbf":1600000000,"vc":{"type":["` + HealthCardType + `"]}}`, ErrBadCredential},
		{`{` + iss + `,"nbf":1600000000,"vc":{"type":["` + HealthCardType + `"],"credentialSubject":{"fhirBundle":{"resourceType":"Bundle"}}}}`, ErrBadCredential},
		{`{` + iss + `,"nbf":1600000000,"vc":{"type":["` + HealthCardType + `"],"credentialSubject":{"fhirVersion":"4.0.1"}}}`, ErrBadCredential},
		{`{` + iss + `,"nbf":1600000000,"vc":{"type":["` + HealthCardType + `"],"credentialSubject":{"fhirVersion":"4.0.1","fhirBundle":{"resourceType":"Patient"}}}}`, ErrBadCredential},
		{`{` + iss + `,"nbf":1600000000,"vc":{"type":["` + HealthCardType + `"],"credentialSubject":{"fhirVersion":"4.0.1","fhirBundle":[]}}}`, ErrBadCredential},
		{`{` + iss + `,"nbf":1600000000,"vc":{"type":["` + HealthCardType + `"],"rid":"has space","credentialSubject":{"fhirVersion":"4.0.1","fhirBundle":{"resourceType":"Bundle"}}}}`, ErrBadCredential},
		{`{` + iss + `,"nbf":1600000000,"vc":{"type":["` + HealthCardType + `"],"rid":"abcdefghijklmnopqrstuvwxy","credentialSubject":{"fhirVersion":"4.0.1","fhirBundle":{"resourceType":"Bundle"}}}}`, ErrBadCredential},
		{`[` + iss + `]`, ErrMalformed},
		{`null`, ErrBadIssuer},
		{"\ufeff{" + iss + `,"nbf":1600000000,` + vc + `}`, ErrMalformed},
	} {
		_, err := Verify(s.sign(t, "", []byte(tc.payload)), trust, testNow)
		wantErr(t, tc.payload, err, tc.want)
	}
}

// TestPayloadSizeLimit: a payload that inflates beyond MaxPayloadSize is
// refused before it is parsed.
func TestPayloadSizeLimit(t *testing.T) {
	s := newTestSigner(t)
	big := bytes.Repeat([]byte(" "), MaxPayloadSize+1)
	_, err := Verify(s.sign(t, "", big), s.trust(t, specISS), testNow)
	wantErr(t, "huge payload", err, ErrCompression)
}

func mustKeys(t testing.TB, rel string) []JWK {
	t.Helper()
	ks, err := ParseKeySet(readFile(t, rel))
	if err != nil {
		t.Fatal(err)
	}
	return ks.Keys
}

// derSignature re-encodes a raw r||s signature as ASN.1 DER, the form that
// SHC forbids.
func derSignature(t testing.TB, sig string) []byte {
	t.Helper()
	raw, err := b64url.DecodeString(sig)
	if err != nil || len(raw) != 64 {
		t.Fatal("bad fixture signature")
	}
	integer := func(b []byte) []byte {
		b = bytes.TrimLeft(b, "\x00")
		if b[0]&0x80 != 0 {
			b = append([]byte{0}, b...)
		}
		return append([]byte{0x02, byte(len(b))}, b...)
	}
	body := append(integer(raw[:32]), integer(raw[32:])...)
	out := append([]byte{0x30, byte(len(body))}, body...)
	if len(out) < 68 {
		t.Fatalf("unexpected DER length %d", len(out))
	}
	return out
}
