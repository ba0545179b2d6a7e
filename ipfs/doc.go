// Package ipfs is healthwallet's embedded IPFS node: an encrypted object
// store on boxo with a flatfs block store, served to grantees over libp2p
// bitswap, with CAR export and import, garbage collection and an optional
// trustless gateway.
//
// # Objects
//
// An object is one encrypted file (a FHIR resource, a share package, a PDF).
// [Store.Import] encrypts it and imports the ciphertext as a UnixFS file DAG
// with the IPIP-499 "unixfs-v1-2025" profile (CIDv1, raw leaves, sha2-256,
// 1 MiB chunks, 1024 links per node). What a holder needs to read it is an
// [ObjectRef]: the DAG's root CID, a random object id, the 32-byte object key
// and the plaintext size.
//
// # Encryption
//
// Each object has its own fresh random key. The ciphertext is Tink's
// streaming AEAD AES-256-GCM-HKDF (HKDF-SHA256, 32-byte derived keys) with
// 1 MiB ciphertext segments, so each 1 MiB leaf block holds exactly one
// authenticated segment. The associated data is
//
//	"healthwallet/object/v1" 0x00 objectID
//
// so a ciphertext presented under another object's reference does not open.
// The plaintext stream is an 8-byte big-endian length, the content, and zero
// padding up to the Padmé size bucket (see [PaddedSize]; at least 1 KiB) so
// the exact size does not leak. Truncation, reordering and any flipped byte
// fail authentication and are reported as an [*ObjectError] naming the
// object.
//
// # Network
//
// A [Node] runs a go-libp2p host (TCP and QUIC, Noise, Yamux) with a bitswap
// server and client. Nothing is announced to any DHT: grantees dial the
// patient's node from address hints. The server hands a block only to a peer
// its [Gate] allows for a DAG that contains the block.
package ipfs
