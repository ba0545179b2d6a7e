package shc

import (
	"errors"
	"strconv"
)

// Failure classes. Every error returned by Decode, DecodeQR, ParseFile and
// Verify is a *VerifyError whose Reason is exactly one of these, so callers
// branch with errors.Is:
//
//	card, err := shc.Verify(jws, trust, time.Now())
//	switch {
//	case err == nil:                        // verified
//	case errors.Is(err, shc.ErrRevoked):    // card != nil: store it marked revoked
//	case errors.Is(err, shc.ErrUnknownIssuer): // offer to trust the issuer
//	default:                                // reject; err.Error() says why
//	}
//
// LoadTrust and NewTrust report problems with the trust material itself as
// ErrTrustStore (a plain wrapped error, not a *VerifyError).
var (
	// ErrMalformed: the input is not a well-formed .smart-health-card file,
	// compact JWS, or JSON document where one is required (bad base64url,
	// wrong number of JWS parts, invalid JSON, a byte order mark inside the
	// signed payload, surrounding whitespace inside a JWS, ...).
	ErrMalformed = errors.New("shc: malformed health card")

	// ErrQR: the shc:/ numeric QR content is invalid: wrong "shc:/" prefix,
	// odd number of digits, a digit pair above 77, bad chunk numbering,
	// missing or duplicate chunks, or a chunk or JWS above the QR size limits.
	ErrQR = errors.New("shc: invalid shc:/ QR content")

	// ErrBadHeader: the JWS header lacks "alg":"ES256", "zip":"DEF" or a
	// "kid", or carries a "crit" parameter this verifier does not implement.
	ErrBadHeader = errors.New("shc: invalid JWS header")

	// ErrSignatureEncoding: the signature is not the 64-byte raw r‖s form
	// that ES256 requires (RFC 7515 appendix A.3); a DER/ASN.1 encoded
	// signature is the usual cause.
	ErrSignatureEncoding = errors.New("shc: signature is not a 64-byte ES256 r||s value")

	// ErrCompression: the payload is not raw DEFLATE data (for example it is
	// zlib-wrapped or corrupt), or it inflates beyond MaxPayloadSize.
	ErrCompression = errors.New("shc: payload is not valid raw DEFLATE data")

	// ErrBadIssuer: the "iss" claim is missing, not a string, not an https
	// URL, or ends with "/".
	ErrBadIssuer = errors.New("shc: invalid issuer URL")

	// ErrUnknownIssuer: the issuer is not in the trust store.
	ErrUnknownIssuer = errors.New("shc: issuer is not trusted")

	// ErrUnknownKey: the trusted issuer has no key with the header's kid.
	ErrUnknownKey = errors.New("shc: issuer has no key with this kid")

	// ErrInvalidKey: the issuer's key with this kid breaks the SMART Health
	// Cards key rules (kty EC, crv P-256, alg ES256, use sig, kid equal to
	// the RFC 7638 thumbprint, no private part, consistent x5c), so it is
	// not used.
	ErrInvalidKey = errors.New("shc: issuer key is not a valid SMART Health Cards key")

	// ErrBadSignature: the ES256 signature does not verify with the issuer's
	// key: the card was altered or was not signed by that key.
	ErrBadSignature = errors.New("shc: signature does not verify")

	// ErrBadTimestamp: "nbf" is missing or not a number, or "nbf"/"exp" is
	// negative, looks like milliseconds instead of seconds, or "exp" is
	// before "nbf".
	ErrBadTimestamp = errors.New("shc: invalid nbf/exp timestamp")

	// ErrNotYetValid: "nbf" is more than ClockSkew in the future.
	ErrNotYetValid = errors.New("shc: health card is not yet valid")

	// ErrExpired: "exp" is more than ClockSkew in the past.
	ErrExpired = errors.New("shc: health card has expired")

	// ErrBadCredential: the "vc" claim is not a SMART Health Card: the type
	// https://smarthealth.cards#health-card is missing, fhirVersion or
	// fhirBundle is missing, the bundle is not a FHIR Bundle, or "rid" is
	// not a revocation identifier.
	ErrBadCredential = errors.New("shc: not a SMART Health Card credential")

	// ErrRevoked: the issuer's revocation list lists the card. Verify
	// returns the card together with this error.
	ErrRevoked = errors.New("shc: health card was revoked by its issuer")

	// ErrBadRevocationList: the key announces a revocation list
	// ("crlVersion") that the trust store lacks, or the trust store's list
	// for the key is unusable (wrong kid or method, bad rid entries,
	// duplicates, ctr different from crlVersion). The card's revocation
	// status cannot be decided, so it is not accepted.
	ErrBadRevocationList = errors.New("shc: issuer revocation list is missing or invalid")

	// ErrTrustStore: LoadTrust or NewTrust found the trust material unusable
	// (unreadable manifest, JWK Set or revocation list, bad issuer URL,
	// duplicate issuer).
	ErrTrustStore = errors.New("shc: invalid trust store")
)

// VerifyError is the error type of this package's decoding and verification
// functions. Reason is one of the Err* sentinels above and Detail is a short
// human explanation of this particular failure; errors.Is(err, Reason)
// holds. Error returns one line, suitable to show to the user.
type VerifyError struct {
	Reason error
	Detail string
}

func (e *VerifyError) Error() string {
	if e.Detail == "" {
		return e.Reason.Error()
	}
	return e.Reason.Error() + ": " + e.Detail
}

// Unwrap returns the Reason sentinel.
func (e *VerifyError) Unwrap() error { return e.Reason }

// fail builds a *VerifyError.
func fail(reason error, detail string) *VerifyError {
	return &VerifyError{Reason: reason, Detail: detail}
}

// quote renders untrusted text for an error detail: Go-quoted, so it stays on
// one line, and cut to a readable length.
func quote(s string) string {
	const max = 64
	if len(s) > max {
		return strconv.Quote(s[:max]) + "..."
	}
	return strconv.Quote(s)
}
