// Package shl implements SMART Health Links (HL7 "SMART Health Cards and
// Links" IG, links-specification): the shlink:/ payload, the encrypted files
// (compact JWE, alg "dir", enc "A256GCM"), the manifest protocol, a manifest
// [Server] and a [Client] that opens any conforming link.
//
// # Links and payloads
//
// A link is "shlink:/" followed by the base64url (no padding) of a JSON
// [Payload]; it may be prefixed by a viewer URL and "#". [ParseLink] accepts
// both forms, [Payload.Link] produces them. [Payload.Check] enforces the
// specification: an https manifest URL (plain http only on loopback), a
// 32-byte key, flags drawn from L, P and U with P and U exclusive, a label of
// at most 80 characters and version 0 or 1.
//
// # Files
//
// [Encrypt] seals one file for a link's key as a compact JWE with the content
// type in "cty", compressed ("zip":"DEF") only when that makes it smaller.
// [Decrypt] opens such a file; it refuses JWEs larger than [MaxJWE] and
// plaintexts larger than [MaxPlain], so a decompression bomb ends in
// [ErrTooLarge].
//
// # Serving and opening
//
// [NewServer] answers the manifest POST (recipient, passcode,
// embeddedLengthMax), the direct GET of "U" links and short-lived file
// locations. It refuses unknown, expired and revoked links with 404, fails
// closed with 503 when the revocation check itself fails, counts wrong
// passcodes and locks the link when the attempts run out (401 with
// "remainingAttempts"), and reports every access to its [Store].
// [Client.Open] follows the specification's steps from the receiver's side.
//
// This package knows nothing of the wallet: storage, revocation and the access
// log are interfaces ([Store], [Revocations]) that the caller provides.
package shl
