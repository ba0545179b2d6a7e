// Package shc verifies SMART Health Cards offline, against issuer keys the
// user chose to trust.
//
// The specification is https://spec.smarthealth.cards (SMART Health Cards
// Framework, now the HL7 "SMART Health Cards and Links" IG). Section names
// below are those of that page.
//
// # Getting the JWS
//
// A health card is a compact JWS. Patients get it as a .smart-health-card
// file ("User Retrieves Health Cards / via File Download"), from a FHIR
// $health-cards-issue operation, or as a QR code whose text is "shc:/"
// followed by digits ("Health Cards as QR Codes", "Encoding QRs"), possibly
// split into the deprecated chunks "shc:/C/N/..." ("Chunking Larger SHCs").
// Decode accepts any of these as raw user input; ParseFile and DecodeQR
// handle one form each.
//
// # Trusting issuers
//
// A Trust holds the issuers the user trusts, with their JWK Sets
// ("Determining keys associated with an issuer") and revocation lists
// ("Revocation"). LoadTrust reads it from a directory with a manifest
// issuers.json (layout in its doc); NewTrust builds one in memory. Nothing
// is fetched from the network: keeping copies of <iss>/.well-known/jwks.json
// and <iss>/.well-known/crl/<kid>.json current is up to the wallet.
//
// Keys must have kty EC, crv P-256, alg ES256, use sig, no private part and
// a kid equal to their RFC 7638 thumbprint. A key with an x5c certificate
// chain is checked for consistency only (the leaf certifies the key and
// names the issuer URL, each certificate is signed by the next); the chain
// is not validated against trusted roots, nor are certificate validity
// periods or certificate revocation checked ("Certificates" describes
// PKI-based trust frameworks as optional for verifiers; this wallet trusts
// by the user's manifest).
//
// # Verifying
//
// Verify checks header (alg ES256, zip DEF, kid), raw-DEFLATE payload,
// issuer and key, the ES256 signature as 64-byte r‖s ("Health Cards are
// encoded as Compact Serialization JSON Web Signatures", "Health Cards are
// Compact"), the nbf and exp claims with ClockSkew of tolerance
// ("Expiration of Health Cards"), the vc claim, and the revocation list.
// The result is a Card with a storable Verification summary. Every failure is
// a *VerifyError whose Reason is one Err* sentinel; a revoked card is
// returned together with an error wrapping ErrRevoked.
//
// The FHIR content of the Bundle is not validated beyond its resourceType:
// profile conformance (data minimization, short resource references,
// vaccine codes, which vc.type values "SHOULD" be present) is the concern of
// an issuer-side validator, not of a wallet deciding whether to trust what
// it was given.
package shc
