// Package identity turns a BIP-39 recovery phrase into the keys a
// healthwallet user is known by.
//
// # Recovery phrase
//
// A new wallet gets 24 English words (256 bits of entropy, BIP-39). Restore
// accepts 12, 15, 18, 21 or 24 words; [ParsePhrase] names the first word that
// is not in the BIP-39 English list, or reports a bad checksum. The BIP-39
// seed is derived with an empty BIP-39 passphrase (no "25th word"), so the
// words alone restore the wallet, exactly as MetaMask, Ledger Live and
// Rabby do for the same words.
//
// # Identity key
//
// The identity key is BIP-32 / BIP-44 path m/44'/60'/0'/0/0 ([IdentityPath]):
// the first Ethereum account. Its EIP-55 address is therefore the address any
// EVM wallet shows for the same phrase. The same secp256k1 public key is the
// user's did:key (multicodec 0xe7, compressed key, base58btc, "zQ3s…").
//
// # Purpose secrets
//
// Secrets that are not signing keys come from the 64-byte BIP-39 seed through
// HKDF-SHA256 (RFC 5869) with the salt [HKDFSalt] and an info label per
// purpose. The labels are part of the wallet format and never change:
//
//	healthwallet/v1/catalog-key              32-byte key that seals the record catalog
//	healthwallet/v1/revocation/<index>       32-byte secret revealed to revoke grant <index>
//	healthwallet/v1/libp2p-ed25519           32-byte Ed25519 seed of the IPFS node's peer identity
//	healthwallet/v1/dedup-key                32-byte HMAC key of the catalog's deduplication index
//
// Because they are derived, a wallet restored from its words can still open
// its catalog backup and revoke every grant it issued.
package identity
