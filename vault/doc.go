// Package vault keeps healthwallet secrets in HashiCorp Vault (or OpenBao):
// a clinic's or specialist's wallet seed, a patient's escrowed keystore, and
// one-time handovers to a family member's device.
//
// It imports neither the wallet nor the UI: it deals in seeds (BIP-39
// entropy) and opaque, passphrase-sealed keystore files, and the wallet wires
// it in. It never reads or writes local files, so no error here loses
// anything local.
//
// # Sessions
//
// [Login] authenticates with one of [AppRole] (services), [UserPass] (people)
// or [Token] (scripts), or any other api.AuthMethod. [Client.Watch] keeps the
// token alive with the api's LifetimeWatcher and calls back when the session
// is lost — max TTL reached, renewal impossible before expiry, or an
// operation finding the token revoked — so the wallet can lock. [Client.Logout]
// revokes a token obtained by logging in.
//
// # Clinic identity: envelope encryption
//
// A clinic's seed never sits on the desktop's disk. [Client.StoreSeed] asks
// Transit for a fresh data key (transit/datakey/plaintext/<key>, 256 bits),
// which Vault returns twice: in plaintext and wrapped under the Transit key.
// The seed is sealed locally with AES-256-GCM under the plaintext data key,
// with the identity's name as associated data (entries cannot be swapped
// between names); the plaintext key is then wiped. Only the envelope is
// stored, in KV v2:
//
//	<mount>/data/<prefix>/identities/<name>
//	  format        "healthwallet-identity"
//	  version       1
//	  alg           "AES-256-GCM"
//	  transit_mount, transit_key, key_version   (which Transit key wrapped it)
//	  wrapped_key   "vault:v1:…"   the data key, wrapped by Transit
//	  nonce         base64 (12 bytes)
//	  ciphertext    base64 (seed + 16-byte tag)
//
// [Client.LoadSeed] reads the entry and asks transit/decrypt/<key> to unwrap
// the data key. Reading the KV entry alone — a backup of Vault's storage, a
// too-broad KV policy — yields nothing: Transit decrypt on the key is needed
// as well, and the two can be granted separately. Every use appears in
// Vault's audit log (the KV read and the Transit decrypt, with the token's
// identity), which is the record of who unlocked a clinic identity and when.
// The plaintext data key and seed exist only in this process's memory; Go
// strings in the api's JSON decoding cannot be wiped, so wiping is best
// effort.
//
// Transit has no secp256k1 keys, so Vault cannot sign for the wallet: the
// seed is unsealed into memory and the wallet derives and uses its
// secp256k1 key there, as it does for a patient's keystore. Vault guards the
// seed at rest and who may unseal it, not the signing.
//
// The Transit key is made by an administrator ([Client.EnsureTransitKey], or
// vault write -f transit/keys/healthwallet). Rotating it
// (transit/keys/<key>/rotate) keeps old envelopes readable.
//
// # Patient escrow
//
// [Client.Backup] stores the patient's keystore file — already sealed under
// their passphrase with age, and refused if it is not an age file — at
//
//	<mount>/data/<prefix>/escrow/<name>
//	  format "healthwallet-keystore-backup", version 1,
//	  keystore (base64), sha256 (hex), size
//
// using KV v2 versions and check-and-set: [NoCAS], [CreateOnly], or the
// version the device last saw, so two devices cannot silently overwrite each
// other. [Client.Restore] fetches the latest or a given version and checks
// its digest; [Client.Versions] lists the restorable ones. Whoever runs the
// Vault (a health system, a family member) holds only ciphertext: the backup
// is useless without the passphrase.
//
// # One-time handover
//
// [Client.Wrap] puts a keystore backup or a delegated-access bundle into
// Vault's response wrapping (sys/wrapping/wrap) with a short TTL. The
// wrapping token goes to the other device as a QR code or link
// ([HandoverLink]: "healthwallet:handover/" + base64url of
// {"addr","token","kind"}); [Unwrap] opens it there without any login. It
// opens once: a second unwrap, or one after the TTL, fails with
// [ErrWrapUsed]. If the recipient did not open it, someone else did — which
// is exactly what response wrapping makes visible. A link carries the Vault
// address chosen by its maker: show it before unwrapping.
//
// # Errors
//
// Every error is an [*Error] whose Error() is one line saying what to do, and
// which unwraps to one sentinel. The rules:
//
//   - [ErrUnreachable]: no HTTP answer (connection refused, DNS, TLS
//     verification, timeout), or a 503 that is not "sealed" (standby,
//     uninitialized). Connection errors and 5xx other than 503 are retried
//     (Config.Retries).
//   - [ErrSealed]: any answer whose error says "… is sealed" (Vault and
//     OpenBao answer 503 while sealed).
//   - [ErrTokenExpired]: a 403 whose errors include "invalid token" (Vault
//     adds it for a revoked, expired or unknown token). Older servers answer
//     a bare "permission denied"; then the client looks its token up
//     (auth/token/lookup-self, allowed to every token by the default policy):
//     if that is refused too, the token is gone. A token created without the
//     default policy is therefore reported as expired when denied.
//   - [ErrPermissionDenied]: any other 403 (the token is fine, its policies
//     do not allow the path, which the message names); also a login whose
//     credentials are refused (400/403 from the auth method).
//   - [ErrCASConflict]: KV v2's "check-and-set parameter did not match the
//     current version"; also StoreSeed on an existing identity.
//   - [ErrWrapUsed]: "wrapping token is not valid or does not exist" — used,
//     expired or never issued; Vault cannot tell which.
//   - [ErrNotFound]: no such entry or version (404, deleted version), or
//     Transit's "encryption key not found".
//   - [ErrCorrupt]: an entry that fails its format or integrity checks.
//   - [ErrInvalidLink]: text that is not a handover link.
//
// None of them changes Vault's data (a failed check-and-set writes nothing)
// or anything local.
//
// # OpenBao
//
// OpenBao speaks the same HTTP API (KV v2, Transit, AppRole, userpass,
// response wrapping, token renewal), so this package works with it
// unchanged; only the product name in its error messages differs, and the
// rules above match on the parts that are the same.
//
// # Tests
//
// The tests run a real Vault dev server built by scripts/vault-dev.sh build
// (binary cached outside the repo; HW_VAULT_BIN overrides), started by
// internal/vaulttest, which the CLI's tests share. Without it they skip,
// except under CI, where they fail. The renewal timing of [Client.Watch] is
// also tested on the fake clock of testing/synctest, against a fake server.
package vault
