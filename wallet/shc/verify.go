package shc

import (
	"bytes"
	"compress/flate"
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ClockSkew is the tolerance for the clocks of issuer and wallet: a card
// whose nbf is at most ClockSkew in the future is already valid, and one
// whose exp is at most ClockSkew in the past is not yet expired.
const ClockSkew = 60 * time.Second

// Size limits that keep hostile input from exhausting memory. Real cards are
// far smaller: a QR holds at most 1195 JWS characters, and even large patient
// summary files are a few hundred kilobytes.
const (
	// MaxJWSLength is the longest JWS Verify accepts, in characters.
	MaxJWSLength = 4 << 20
	// MaxPayloadSize is the most bytes a JWS payload may inflate to.
	MaxPayloadSize = 16 << 20
)

// millisecondThreshold: a NumericDate (seconds since 1970) this large is
// past the year 5000 and is taken as a value mistakenly written in
// milliseconds (any millisecond value after 1973 is above it).
const millisecondThreshold = 1e11

// HealthCardType is the vc.type every SMART Health Card must carry.
const HealthCardType = "https://smarthealth.cards#health-card"

// Status is the outcome of a verification, as stored by the wallet.
type Status string

// Verification outcomes.
const (
	// StatusVerified: signature, issuer, key, claims and validity period
	// are good, and the card is not on a revocation list the trust store has.
	StatusVerified Status = "verified"
	// StatusRevoked: as verified, but the issuer revoked the card.
	StatusRevoked Status = "revoked"
	// StatusRejected: the card failed verification; see Reason.
	StatusRejected Status = "rejected"
)

// Verification summarizes a verification for storage and display.
type Verification struct {
	Status Status `json:"status"`
	// Reason is one human-readable line: what was verified, or why not.
	Reason string `json:"reason"`
	// CheckedAt is the now given to Verify.
	CheckedAt time.Time `json:"checkedAt"`
	// RevocationListVersion is the ctr of the issuer's revocation list that
	// was consulted, or 0 if the trust store has no list for the key.
	RevocationListVersion int `json:"revocationListVersion,omitempty"`
}

// Rejected returns the Verification to store for a card that Verify
// rejected with err (the Reason is err's one-line message).
func Rejected(err error, checkedAt time.Time) Verification {
	reason := "rejected"
	if err != nil {
		reason = err.Error()
	}
	return Verification{Status: StatusRejected, Reason: reason, CheckedAt: checkedAt}
}

// Card is a verified (or verified-but-revoked) SMART Health Card.
type Card struct {
	// JWS is the compact JWS the card was verified from.
	JWS string `json:"jws"`
	// Issuer is the "iss" claim, the issuer URL.
	Issuer string `json:"issuer"`
	// IssuerName is the issuer's name from the trust store.
	IssuerName string `json:"issuerName,omitempty"`
	// Kid is the key that signed the card.
	Kid string `json:"kid"`
	// NotBefore is the "nbf" claim, the issuance time, to the millisecond.
	NotBefore time.Time `json:"notBefore"`
	// Expires is the "exp" claim; the zero Time if the card does not expire.
	Expires time.Time `json:"expires,omitzero"`
	// RID is the revocation identifier vc.rid, "" if none.
	RID string `json:"rid,omitempty"`
	// Types is vc.type, including HealthCardType.
	Types []string `json:"types"`
	// FHIRVersion is vc.credentialSubject.fhirVersion, e.g. "4.0.1".
	FHIRVersion string `json:"fhirVersion"`
	// Bundle is vc.credentialSubject.fhirBundle, a FHIR Bundle, as signed.
	Bundle json.RawMessage `json:"bundle"`
	// Payload is the inflated JWS payload, the signed JWT claims.
	Payload json.RawMessage `json:"payload"`
	// Verification is the outcome for storage and display.
	Verification Verification `json:"verification"`
}

// Verify checks one compact JWS against the issuers in trust, at time now,
// following "Protocol Details" of the specification:
//
//  1. The JWS is three base64url parts (ErrMalformed; surrounding
//     whitespace is refused here, Decode trims it). The header has
//     "alg":"ES256", "zip":"DEF" and a "kid" (ErrBadHeader). The signature is
//     64 bytes, raw r‖s; DER is refused (ErrSignatureEncoding). The payload
//     is raw DEFLATE (ErrCompression) of a JSON object (ErrMalformed).
//  2. "iss" is an https URL without trailing slash (ErrBadIssuer) of an
//     issuer in trust (ErrUnknownIssuer) that has a key "kid"
//     (ErrUnknownKey) obeying the key rules (ErrInvalidKey), and the ES256
//     signature over the ASCII "header.payload" verifies with it
//     (ErrBadSignature).
//  3. "nbf" is a number of seconds and "exp", if present, too and not
//     before nbf; values of 10^11 and above are taken for milliseconds and
//     refused (ErrBadTimestamp). vc.type includes HealthCardType, and
//     vc.credentialSubject has fhirVersion and a fhirBundle with
//     resourceType "Bundle" (ErrBadCredential).
//  4. nbf is not later than now+ClockSkew (ErrNotYetValid) and exp, if
//     present, not earlier than now-ClockSkew (ErrExpired).
//  5. If the key announces a revocation list, trust must have it, and a
//     list it has must be well-formed (ErrBadRevocationList). If the card's
//     vc.rid is on the list, the card is revoked (ErrRevoked).
//
// On success Verify returns the card with Verification.Status
// StatusVerified and a nil error. A revoked card is returned together with
// an error wrapping ErrRevoked, and Verification.Status StatusRevoked, so the
// wallet can keep it marked as revoked. On every other failure the card is
// nil and the error is a *VerifyError naming the first failed check.
//
// Verify works offline: it reads only trust, never the network.
func Verify(jws string, trust *Trust, now time.Time) (*Card, error) {
	card, verr := verify(jws, trust, now)
	if verr != nil {
		return card, verr
	}
	return card, nil
}

// claims are the JWT claims of the payload, kept raw to report precisely
// which one is wrong.
type claims struct {
	ISS json.RawMessage `json:"iss"`
	NBF json.RawMessage `json:"nbf"`
	EXP json.RawMessage `json:"exp"`
	VC  json.RawMessage `json:"vc"`
}

func verify(jws string, trust *Trust, now time.Time) (*Card, *VerifyError) {
	// 1. Structure.
	if len(jws) > MaxJWSLength {
		return nil, fail(ErrMalformed, fmt.Sprintf("the JWS has %d characters, more than the %d accepted", len(jws), MaxJWSLength))
	}
	parts := strings.Split(jws, ".")
	if len(parts) != 3 {
		return nil, fail(ErrMalformed, fmt.Sprintf("a compact JWS has 3 dot-separated parts, this has %d", len(parts)))
	}
	names := [3]string{"header", "payload", "signature"}
	var raw [3][]byte
	for i, p := range parts {
		if p == "" {
			return nil, fail(ErrMalformed, "the JWS "+names[i]+" is empty")
		}
		if !isBase64URL(p) {
			what := "characters outside the base64url alphabet"
			if strings.ContainsAny(p, " \t\r\n\ufeff") {
				what = "whitespace or a byte order mark"
			}
			return nil, fail(ErrMalformed, "the JWS "+names[i]+" contains "+what)
		}
		var err error
		if raw[i], err = b64url.DecodeString(p); err != nil {
			return nil, fail(ErrMalformed, "the JWS "+names[i]+" is not valid base64url")
		}
	}

	kid, verr := checkHeader(raw[0])
	if verr != nil {
		return nil, verr
	}
	sig := raw[2]
	if len(sig) != 64 {
		if len(sig) >= 8 && sig[0] == 0x30 && sig[2] == 0x02 {
			return nil, fail(ErrSignatureEncoding, fmt.Sprintf(
				"the %d-byte signature is DER (ASN.1) encoded; ES256 in JWS is the 64-byte r||s concatenation (RFC 7515 A.3)", len(sig)))
		}
		return nil, fail(ErrSignatureEncoding, fmt.Sprintf("the signature has %d bytes, want 64", len(sig)))
	}
	payload, verr := inflate(raw[1])
	if verr != nil {
		return nil, verr
	}
	if bytes.HasPrefix(payload, utf8BOM) {
		return nil, fail(ErrMalformed, "the payload starts with a UTF-8 byte order mark, which JSON does not allow")
	}
	var c claims
	if err := json.Unmarshal(payload, &c); err != nil {
		return nil, fail(ErrMalformed, "the payload is not a JSON object: "+jsonProblem(err))
	}

	// 2. Issuer, key, signature.
	iss, verr := checkIssuer(c.ISS)
	if verr != nil {
		return nil, verr
	}
	var ti *trustedIssuer
	if trust != nil {
		ti = trust.issuers[iss]
	}
	if ti == nil {
		return nil, fail(ErrUnknownIssuer, fmt.Sprintf("issuer %s is not in the trust store", quote(iss)))
	}
	key := ti.keys[kid]
	if key == nil {
		return nil, fail(ErrUnknownKey, fmt.Sprintf("issuer %s has no key %s", quote(iss), quote(kid)))
	}
	if key.problem != "" {
		return nil, fail(ErrInvalidKey, key.problem)
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	r := new(big.Int).SetBytes(sig[:32])
	s := new(big.Int).SetBytes(sig[32:])
	if !ecdsa.Verify(key.pub, digest[:], r, s) {
		return nil, fail(ErrBadSignature, fmt.Sprintf("ES256 signature check failed with key %s of %s", quote(kid), quote(iss)))
	}

	// 3. Claims.
	if c.NBF == nil {
		return nil, fail(ErrBadTimestamp, "the payload has no nbf (issuance time)")
	}
	nbfSec, nbf, verr := numericDate(c.NBF, "nbf")
	if verr != nil {
		return nil, verr
	}
	var exp time.Time
	if c.EXP != nil {
		expSec, e, verr := numericDate(c.EXP, "exp")
		if verr != nil {
			return nil, verr
		}
		if expSec < nbfSec {
			return nil, fail(ErrBadTimestamp, fmt.Sprintf("exp %s is before nbf %s",
				e.UTC().Format(time.RFC3339), nbf.UTC().Format(time.RFC3339)))
		}
		exp = e
	}
	vc, verr := checkCredential(c.VC)
	if verr != nil {
		return nil, verr
	}

	// 4. Validity period.
	if nbf.After(now.Add(ClockSkew)) {
		return nil, fail(ErrNotYetValid, fmt.Sprintf("nbf %s is after %s", nbf.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339)))
	}
	if !exp.IsZero() && exp.Before(now.Add(-ClockSkew)) {
		return nil, fail(ErrExpired, fmt.Sprintf("exp %s is before %s", exp.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339)))
	}

	// 5. Revocation.
	if key.crlProblem != "" {
		return nil, fail(ErrBadRevocationList, key.crlProblem)
	}
	card := &Card{
		JWS:         jws,
		Issuer:      iss,
		IssuerName:  ti.name,
		Kid:         kid,
		NotBefore:   nbf,
		Expires:     exp,
		RID:         vc.rid,
		Types:       vc.types,
		FHIRVersion: vc.fhirVersion,
		Bundle:      vc.bundle,
		Payload:     json.RawMessage(payload),
		Verification: Verification{
			Status:    StatusVerified,
			CheckedAt: now,
		},
	}
	who := fmt.Sprintf("signed by %s with key %s", iss, kid)
	if ti.name != "" {
		who = fmt.Sprintf("signed by %s (%s) with key %s", ti.name, iss, kid)
	}
	switch {
	case key.crl == nil:
		card.Verification.Reason = who + "; the trust store has no revocation list for this key"
	case vc.rid == "":
		card.Verification.RevocationListVersion = key.crl.Ctr
		card.Verification.Reason = who + "; the card has no rid, so it cannot be revoked individually"
	default:
		card.Verification.RevocationListVersion = key.crl.Ctr
		if why := revokedBy(key, vc.rid, nbfSec); why != "" {
			card.Verification.Status = StatusRevoked
			card.Verification.Reason = why
			return card, fail(ErrRevoked, why)
		}
		card.Verification.Reason = fmt.Sprintf("%s; not on the issuer's revocation list (ctr %d)", who, key.crl.Ctr)
	}
	return card, nil
}

// revokedBy says why the card with rid and issuance second nbfSec is
// revoked by key's revocation list, or "" if it is not.
//
// An entry "<rid>" revokes every card with that rid. An entry
// "<rid>.<timestamp>" revokes, in the words of the specification, the cards
// with that rid "issued before" the timestamp, the card's "nbf value is
// before the timestamp". Timestamps in revocation lists are whole seconds,
// while nbf usually has a fraction, so this compares whole seconds: the
// card is revoked if nbf, rounded down to the second, is not after the
// timestamp. The strict reading (nbf < timestamp) would let the
// specification's own revoked example through: example 03 has nbf
// 1668545475.4 and its list entry is "vwAjHdarZuc.1668545475", because the
// example generator wrote the revocation time, rounded to the second, at
// the moment it issued the card. An issuer revoking "up to" a second means
// the cards it issued in that second too.
func revokedBy(key *trustedKey, rid string, nbfSec int64) string {
	ts, listed := key.revoked[rid]
	if !listed {
		return ""
	}
	if ts < 0 {
		return fmt.Sprintf("rid %s is on the issuer's revocation list (ctr %d)", rid, key.crl.Ctr)
	}
	if nbfSec <= ts {
		return fmt.Sprintf("rid %s is on the issuer's revocation list for cards issued up to %s (ctr %d)",
			rid, time.Unix(ts, 0).UTC().Format(time.RFC3339), key.crl.Ctr)
	}
	return ""
}

// checkHeader checks the JWS header and returns its kid.
func checkHeader(raw []byte) (string, *VerifyError) {
	var h map[string]json.RawMessage
	if err := json.Unmarshal(raw, &h); err != nil || h == nil {
		return "", fail(ErrMalformed, "the JWS header is not a JSON object")
	}
	str := func(name string) (string, bool) {
		v, ok := h[name]
		if !ok {
			return "", false
		}
		var s string
		if json.Unmarshal(v, &s) != nil {
			return "", true
		}
		return s, true
	}
	if alg, ok := str("alg"); !ok {
		return "", fail(ErrBadHeader, `the header has no "alg"; SMART Health Cards use "ES256"`)
	} else if alg != "ES256" {
		return "", fail(ErrBadHeader, fmt.Sprintf(`"alg" is %s, want "ES256"`, quote(alg)))
	}
	if zip, ok := str("zip"); !ok {
		return "", fail(ErrBadHeader, `the header has no "zip"; the payload must be DEFLATE-compressed ("zip":"DEF")`)
	} else if zip != "DEF" {
		return "", fail(ErrBadHeader, fmt.Sprintf(`"zip" is %s, want "DEF"`, quote(zip)))
	}
	kid, ok := str("kid")
	if !ok || kid == "" {
		return "", fail(ErrBadHeader, `the header has no "kid" naming the signing key`)
	}
	if _, ok := h["crit"]; ok {
		return "", fail(ErrBadHeader, `the header has "crit" extensions, which this verifier does not implement`)
	}
	return kid, nil
}

// inflate undoes the raw DEFLATE (RFC 1951) compression of the payload.
func inflate(data []byte) ([]byte, *VerifyError) {
	r := flate.NewReader(bytes.NewReader(data))
	defer r.Close()
	out, err := io.ReadAll(io.LimitReader(r, MaxPayloadSize+1))
	if err != nil {
		hint := ""
		if len(data) >= 2 && data[0]&0x0f == 8 && data[0]>>4 <= 7 && (uint16(data[0])<<8|uint16(data[1]))%31 == 0 {
			hint = " (it starts with a zlib header: use raw DEFLATE without zlib wrapper)"
		}
		return nil, fail(ErrCompression, "inflating the payload failed: "+err.Error()+hint)
	}
	if len(out) > MaxPayloadSize {
		return nil, fail(ErrCompression, fmt.Sprintf("the payload inflates to more than %d bytes", MaxPayloadSize))
	}
	return out, nil
}

// checkIssuer checks the "iss" claim.
func checkIssuer(raw json.RawMessage) (string, *VerifyError) {
	if raw == nil {
		return "", fail(ErrBadIssuer, `the payload has no "iss"`)
	}
	var iss string
	if err := json.Unmarshal(raw, &iss); err != nil {
		return "", fail(ErrBadIssuer, `"iss" is not a string`)
	}
	if problem := issuerURLProblem(iss); problem != "" {
		return "", fail(ErrBadIssuer, fmt.Sprintf("%s: %s", problem, quote(iss)))
	}
	return iss, nil
}

// numericDate parses a JWT NumericDate (RFC 7519 §2): seconds since 1970,
// possibly with a fraction. It returns the whole seconds and the time to the
// millisecond.
func numericDate(raw json.RawMessage, name string) (int64, time.Time, *VerifyError) {
	text := string(raw)
	if text == "" || !(text[0] == '-' || '0' <= text[0] && text[0] <= '9') {
		return 0, time.Time{}, fail(ErrBadTimestamp, fmt.Sprintf("%s is not a number: %s", name, quote(text)))
	}
	f, err := strconv.ParseFloat(text, 64)
	switch {
	case err != nil || math.IsInf(f, 0) || math.IsNaN(f):
		return 0, time.Time{}, fail(ErrBadTimestamp, fmt.Sprintf("%s is not a usable number: %s", name, quote(text)))
	case f < 0:
		return 0, time.Time{}, fail(ErrBadTimestamp, fmt.Sprintf("%s %s is negative", name, quote(text)))
	case f >= millisecondThreshold:
		asMS := time.UnixMilli(int64(math.Min(f, 1e15))).UTC().Format(time.RFC3339)
		return 0, time.Time{}, fail(ErrBadTimestamp, fmt.Sprintf(
			"%s %s is in milliseconds (it would be %s); JWT times are seconds since 1970", name, text, asMS))
	}
	return int64(math.Floor(f)), time.UnixMilli(int64(math.Round(f * 1000))), nil
}

// credential is the checked content of the "vc" claim.
type credential struct {
	types       []string
	fhirVersion string
	bundle      json.RawMessage
	rid         string
}

// checkCredential checks the "vc" claim ("Health Cards are encoded as
// Compact Serialization JSON Web Signatures").
func checkCredential(raw json.RawMessage) (credential, *VerifyError) {
	var out credential
	var vc struct {
		Type              json.RawMessage `json:"type"`
		CredentialSubject json.RawMessage `json:"credentialSubject"`
		RID               json.RawMessage `json:"rid"`
	}
	if raw == nil {
		return out, fail(ErrBadCredential, `the payload has no "vc" claim`)
	}
	if err := json.Unmarshal(raw, &vc); err != nil || string(raw) == "null" {
		return out, fail(ErrBadCredential, `"vc" is not a JSON object`)
	}
	if err := json.Unmarshal(vc.Type, &out.types); err != nil || out.types == nil {
		return out, fail(ErrBadCredential, `vc.type is missing or not a list of strings`)
	}
	if !slices.Contains(out.types, HealthCardType) {
		return out, fail(ErrBadCredential, "vc.type lacks "+HealthCardType)
	}
	var subject struct {
		FHIRVersion json.RawMessage `json:"fhirVersion"`
		FHIRBundle  json.RawMessage `json:"fhirBundle"`
	}
	if err := json.Unmarshal(vc.CredentialSubject, &subject); err != nil || vc.CredentialSubject == nil || string(vc.CredentialSubject) == "null" {
		return out, fail(ErrBadCredential, "vc.credentialSubject is missing or not a JSON object")
	}
	if err := json.Unmarshal(subject.FHIRVersion, &out.fhirVersion); err != nil || out.fhirVersion == "" {
		return out, fail(ErrBadCredential, "vc.credentialSubject.fhirVersion is missing or not a string")
	}
	var bundle struct {
		ResourceType *string `json:"resourceType"`
	}
	if err := json.Unmarshal(subject.FHIRBundle, &bundle); err != nil || subject.FHIRBundle == nil || string(subject.FHIRBundle) == "null" {
		return out, fail(ErrBadCredential, "vc.credentialSubject.fhirBundle is missing or not a JSON object")
	}
	if bundle.ResourceType == nil || *bundle.ResourceType != "Bundle" {
		return out, fail(ErrBadCredential, `vc.credentialSubject.fhirBundle is not a FHIR resource with resourceType "Bundle"`)
	}
	out.bundle = subject.FHIRBundle
	if vc.RID != nil {
		if err := json.Unmarshal(vc.RID, &out.rid); err != nil {
			return out, fail(ErrBadCredential, "vc.rid is not a string")
		}
		if p := ridProblem(out.rid); p != "" {
			return out, fail(ErrBadCredential, "vc.rid: "+p)
		}
	}
	return out, nil
}
