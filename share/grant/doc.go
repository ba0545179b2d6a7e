// Package grant is healthwallet's access grant: a time-limited permission,
// signed by a patient as EIP-712 typed data with their secp256k1 identity
// key, that lets one grantee (a did:key) read one or more encrypted share
// packages, and perhaps delegate narrower access onwards.
//
// # The typed data
//
// The EIP-712 domain is {name "healthwallet", version "1", chainId,
// verifyingContract = the revocation registry}. The primary type is
//
//	Grant(address issuer,bytes granteeKey,bytes32 parent,bytes[] packages,
//	      bytes[] providers,string[] resourceTypes,string[] categories,
//	      string[] sensitive,uint8 operations,uint8 depth,uint64 notBefore,
//	      uint64 expiresAt,bytes32 revocationId,uint64 nonce,bytes wrappedKey)
//
// granteeKey is the grantee's 33-byte compressed public key (the key of its
// did:key); packages are binary CIDs of the encrypted share packages;
// providers are binary multiaddrs (with /p2p/) of nodes that serve them;
// parent is the EIP-712 hash of the grant this one was delegated from (zero
// for a patient's own grant); depth is how many further delegations are
// allowed; revocationId is keccak256(abi.encode(TAG, chainid, registry,
// secret)) for a secret only the issuer knows.
//
// # The package key
//
// wrappedKey carries each package's object id, key and size to the grantee:
// an ephemeral secp256k1 key agrees a secret with granteeKey (ECDH, decred
// secp256k1), HKDF-SHA256 turns it into a ChaCha20-Poly1305 key, and the
// associated data is the grant's EIP-712 hash computed with wrappedKey
// empty ([Grant.CoreHash]), so a wrapped key moved into another grant does
// not open.
//
// # The link
//
// A chain travels as a link (and its QR code) sealed to the leaf grantee
// and the leaf issuer: see [Chain.Link] and [OpenLink]. Nothing of the
// grant is in the clear, not even for routing: the grantee opens the link
// with its own key before it dials the nodes named inside. The compact
// plaintext form ([Chain.Encode]) is what the grantee presents to the
// patient's node over its encrypted libp2p stream.
//
// # Verification
//
// [Verify] is the one verification function the CLI, the app and the node
// use. It checks, for every link of a delegation chain, the signature
// (low-S only), the domain against the verifier's own configuration, the
// time window with bounded leeway, the maximum lifetime, that each parent's
// grantee issued the child, that no link widens scope, extends expiry,
// exceeds depth or names nodes its parent does not, the presenter's proof of
// possession (bound to the verifier's and the presenter's peer ids, see
// [Challenge]), and revocation of
// every link (fail closed when the status cannot be known).
package grant
