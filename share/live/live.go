// Package live carries the versions of a live grant: a grant that follows
// its selection of records as new ones arrive, without a new grant.
//
// Each version is an [Envelope]: the grant it belongs to, a sequence
// number, the root CID of that version's share package, the package key
// wrapped to the grantee, and the patient's secp256k1 signature over all of
// it. The newest envelope is published under a mutable pointer, an IPNS
// record (github.com/ipfs/boxo/ipns) whose name is an ed25519 key of its
// own per live grant ([NameKey]); the record's value is the envelope,
// stored as one raw IPFS block ([EnvelopeCID]), and its sequence number is
// the envelope's.
//
// A redeemer checks a version in two steps: [OpenRecord] (the record is
// signed by the name's key, points at exactly these envelope bytes, and
// carries the envelope's sequence number), then [Envelope.Verify] (the
// patient signed the envelope, for this grant). It keeps the highest
// sequence number it has seen and treats a lower one as [ErrStale].
//
// A live grant's link is the grant link with the name appended ([Link],
// [SplitLink]):
//
//	healthwallet:grant/…#live=k51qzi5uqu5d…
//
// # Envelope encoding
//
// Fixed field order, integers big-endian, byte strings with a uvarint
// length; at most [MaxEnvelope] bytes, with no trailing bytes:
//
//	"HWL1" ‖ grant (32) ‖ seq (8) ‖ len ‖ root CID (binary) ‖
//	len ‖ wrapped key ‖ issued (8, unix seconds) ‖ len ‖ signature (0 or 65)
//
// The signature is go-ethereum's crypto.Sign (RFC 6979, low-S, v = 27 or
// 28 as in grants) over keccak256([SignDomain] ‖ the encoding above up to
// and excluding the signature's length).
package live

import (
	"bytes"
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ipfs/boxo/ipns"
	"github.com/ipfs/boxo/path"
	"github.com/ipfs/go-cid"
	p2pcrypto "github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/multiformats/go-multihash"
)

// Errors. Every error of the package wraps one of them, so callers branch
// with errors.Is and show Error() to the user.
var (
	// ErrMalformed: bytes that are not an envelope, a record or a link.
	ErrMalformed = errors.New("malformed live share")
	// ErrSignature: a signature (the patient's on an envelope, or the name
	// key's on a record) does not check out.
	ErrSignature = errors.New("bad live share signature")
	// ErrBinding: well signed, but for something else: another grant, a
	// record pointing at other envelope bytes, or a sequence number that
	// differs between record and envelope.
	ErrBinding = errors.New("live share does not belong together")
	// ErrStale: a version older than one already seen. The package never
	// returns it by itself; callers comparing sequence numbers wrap it.
	ErrStale = errors.New("live share version is older than the one already seen")
)

// Sizes and constants of the format.
const (
	// MaxEnvelope bounds an encoded envelope, in bytes.
	MaxEnvelope = 4 << 10
	// Magic starts every encoded envelope (format version 1).
	Magic = "HWL1"
	// SignDomain tags the signed digest so that an envelope signature is
	// never valid as anything else the patient's key signs.
	SignDomain = "healthwallet live envelope v1\x00"
	// LinkMarker separates a grant link from the live name in [Link].
	LinkMarker = "#live="
	// RecordTTL is the TTL of every IPNS record made by [NewRecord].
	RecordTTL = time.Minute

	maxCID  = 128 // bytes of a binary root CID
	sigLen  = 65
	maxName = 128 // characters of a name in a link
)

// RecordEOL is the end of life of every record: fixed and far, so that
// validity never depends on a clock. A live grant ends with the grant's
// expiry or revocation, which the server checks on every fetch.
var RecordEOL = time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)

// Envelope is one version of a live grant's package: which package, and
// its key wrapped to the grantee; signed by the patient.
type Envelope struct {
	Grant   [32]byte // leaf hash of the live grant (grant.Grant.Hash)
	Seq     uint64   // version number, 1 for the first; the IPNS sequence number
	Root    cid.Cid  // root of this version's share package
	Wrapped []byte   // the package key wrapped to the grantee
	Issued  int64    // unix seconds
	Sig     []byte   // 65 bytes r ‖ s ‖ v (v = 27 or 28); nil before Sign
}

// body appends the signed part of the encoding to b.
func (e Envelope) body(b []byte) []byte {
	b = append(b, Magic...)
	b = append(b, e.Grant[:]...)
	b = binary.BigEndian.AppendUint64(b, e.Seq)
	var root []byte
	if e.Root.Defined() {
		root = e.Root.Bytes()
	}
	b = binary.AppendUvarint(b, uint64(len(root)))
	b = append(b, root...)
	b = binary.AppendUvarint(b, uint64(len(e.Wrapped)))
	b = append(b, e.Wrapped...)
	return binary.BigEndian.AppendUint64(b, uint64(e.Issued))
}

// Encode returns the envelope's encoding (see the package doc). Fields
// over the format's bounds make an encoding that [DecodeEnvelope] refuses.
func (e Envelope) Encode() []byte {
	b := e.body(make([]byte, 0, 128+len(e.Wrapped)))
	b = binary.AppendUvarint(b, uint64(len(e.Sig)))
	return append(b, e.Sig...)
}

// digest is what the patient signs.
func (e Envelope) digest() []byte {
	return crypto.Keccak256(e.body([]byte(SignDomain)))
}

// Sign signs the envelope with the patient's key, replacing Sig.
func (e *Envelope) Sign(patient *secp256k1.PrivateKey) error {
	if patient == nil {
		return fmt.Errorf("%w: no signing key", ErrSignature)
	}
	if !e.Root.Defined() {
		return fmt.Errorf("%w: envelope has no package root", ErrMalformed)
	}
	ek, err := crypto.ToECDSA(patient.Serialize())
	if err != nil {
		return err
	}
	sig, err := crypto.Sign(e.digest(), ek) // RFC 6979, low-S, v in {0,1}
	if err != nil {
		return err
	}
	sig[64] += 27
	e.Sig = sig
	return nil
}

var halfN = new(big.Int).Rsh(crypto.S256().Params().N, 1)

// Signer recovers the address that signed the envelope, refusing high-S
// signatures (EIP-2). A bad signature is ErrSignature.
func (e Envelope) Signer() (common.Address, error) {
	if len(e.Sig) != sigLen {
		return common.Address{}, fmt.Errorf("%w: signature is %d bytes, want %d", ErrSignature, len(e.Sig), sigLen)
	}
	r, s, v := new(big.Int).SetBytes(e.Sig[:32]), new(big.Int).SetBytes(e.Sig[32:64]), e.Sig[64]
	if v != 27 && v != 28 {
		return common.Address{}, fmt.Errorf("%w: recovery id %d", ErrSignature, v)
	}
	if s.Cmp(halfN) > 0 || !crypto.ValidateSignatureValues(v-27, r, s, true) {
		return common.Address{}, fmt.Errorf("%w: signature values out of range", ErrSignature)
	}
	sig := bytes.Clone(e.Sig)
	sig[64] -= 27
	pub, err := crypto.SigToPub(e.digest(), sig)
	if err != nil {
		return common.Address{}, fmt.Errorf("%w: %v", ErrSignature, err)
	}
	return crypto.PubkeyToAddress(*pub), nil
}

// Verify checks that patient signed the envelope (ErrSignature) and that
// it is a version of grant, the live grant's leaf hash (ErrBinding).
func (e Envelope) Verify(patient common.Address, grant [32]byte) error {
	signer, err := e.Signer()
	if err != nil {
		return err
	}
	if signer != patient {
		return fmt.Errorf("%w: envelope signed by %s, not the patient %s", ErrSignature, signer, patient)
	}
	if e.Grant != grant {
		return fmt.Errorf("%w: envelope is for another grant", ErrBinding)
	}
	if !e.Root.Defined() {
		return fmt.Errorf("%w: envelope has no package root", ErrMalformed)
	}
	return nil
}

// DecodeEnvelope parses an encoding made by [Envelope.Encode]. It does not
// check the signature (see [Envelope.Verify]). Anything but exactly one
// well-formed envelope of at most MaxEnvelope bytes is ErrMalformed.
func DecodeEnvelope(b []byte) (Envelope, error) {
	bad := func(what string) (Envelope, error) {
		return Envelope{}, fmt.Errorf("%w: envelope %s", ErrMalformed, what)
	}
	if len(b) > MaxEnvelope {
		return bad(fmt.Sprintf("is %d bytes, over %d", len(b), MaxEnvelope))
	}
	rest, ok := bytes.CutPrefix(b, []byte(Magic))
	if !ok {
		return bad("does not start with " + Magic)
	}
	var e Envelope
	if len(rest) < 32+8 {
		return bad("is truncated")
	}
	copy(e.Grant[:], rest)
	e.Seq = binary.BigEndian.Uint64(rest[32:])
	rest = rest[40:]
	field := func(max int) ([]byte, bool) {
		n, k := binary.Uvarint(rest)
		if k <= 0 || n > uint64(max) || n > uint64(len(rest)-k) {
			return nil, false
		}
		f := rest[k : k+int(n)]
		rest = rest[k+int(n):]
		return f, true
	}
	root, ok := field(maxCID)
	if !ok {
		return bad("root is truncated or too long")
	}
	if len(root) > 0 {
		c, err := cid.Cast(root)
		if err != nil || !bytes.Equal(c.Bytes(), root) {
			return bad("root is not a CID")
		}
		e.Root = c
	}
	wrapped, ok := field(MaxEnvelope)
	if !ok {
		return bad("wrapped key is truncated")
	}
	if len(wrapped) > 0 {
		e.Wrapped = bytes.Clone(wrapped)
	}
	if len(rest) < 8 {
		return bad("is truncated")
	}
	e.Issued = int64(binary.BigEndian.Uint64(rest))
	rest = rest[8:]
	sig, ok := field(sigLen)
	if !ok || (len(sig) != 0 && len(sig) != sigLen) {
		return bad("signature is truncated or of the wrong length")
	}
	if len(sig) > 0 {
		e.Sig = bytes.Clone(sig)
	}
	if len(rest) != 0 {
		return bad(fmt.Sprintf("has %d trailing bytes", len(rest)))
	}
	return e, nil
}

// EnvelopeCID is the CID of an encoded envelope stored as one raw block
// (CIDv1, raw codec, sha2-256): the value of its IPNS record, and the root
// a keeper must hold.
func EnvelopeCID(envelope []byte) cid.Cid {
	h, _ := multihash.Sum(envelope, multihash.SHA2_256, -1) // cannot fail for sha2-256
	return cid.NewCidV1(cid.Raw, h)
}

// NameKey derives a live grant's IPNS key from a 32-byte seed: the ed25519
// key of that seed (the wallet derives the seed by HKDF from its identity
// key and the grant's revocation index). The same seed always gives the
// same name.
func NameKey(seed []byte) (p2pcrypto.PrivKey, ipns.Name, error) {
	if len(seed) != ed25519.SeedSize {
		return nil, ipns.Name{}, fmt.Errorf("%w: name key seed is %d bytes, want %d", ErrMalformed, len(seed), ed25519.SeedSize)
	}
	k := ed25519.NewKeyFromSeed(seed)
	sk, _, err := p2pcrypto.KeyPairFromStdKey(&k)
	if err != nil {
		return nil, ipns.Name{}, err
	}
	id, err := peer.IDFromPrivateKey(sk)
	if err != nil {
		return nil, ipns.Name{}, err
	}
	return sk, ipns.NameFromPeer(id), nil
}

// NewRecord makes the marshalled IPNS record publishing env under sk's
// name: value /ipfs/<EnvelopeCID(env.Encode())>, sequence env.Seq, end of
// life [RecordEOL], TTL [RecordTTL]. The record is the same for the same
// key and envelope (ed25519 signatures are deterministic); now is only
// checked not to precede the envelope's issue time.
func NewRecord(sk p2pcrypto.PrivKey, env Envelope, now time.Time) ([]byte, error) {
	if sk == nil {
		return nil, fmt.Errorf("%w: no name key", ErrSignature)
	}
	if len(env.Sig) == 0 {
		return nil, fmt.Errorf("%w: the envelope is not signed", ErrSignature)
	}
	if env.Issued > now.Unix() {
		return nil, fmt.Errorf("%w: the envelope is issued after %s", ErrMalformed, now.UTC().Format(time.RFC3339))
	}
	rec, err := ipns.NewRecord(sk, path.FromCid(EnvelopeCID(env.Encode())), env.Seq, RecordEOL, RecordTTL)
	if err != nil {
		return nil, err
	}
	return ipns.MarshalRecord(rec)
}

// OpenRecord checks a marshalled IPNS record against the live grant's name
// and returns the envelope it publishes: the record must be signed by
// name's key (ErrSignature), point at exactly envelope's bytes and carry
// its sequence number (ErrBinding). Unparseable input is ErrMalformed. It
// does not check the patient's signature: call [Envelope.Verify] next.
func OpenRecord(name ipns.Name, record, envelope []byte) (Envelope, error) {
	rec, err := ipns.UnmarshalRecord(record)
	if err != nil {
		return Envelope{}, fmt.Errorf("%w: IPNS record: %v", ErrMalformed, firstLine(err))
	}
	if err := ipns.ValidateWithName(rec, name); err != nil {
		return Envelope{}, fmt.Errorf("%w: IPNS record for %s: %v", ErrSignature, name, firstLine(err))
	}
	env, err := DecodeEnvelope(envelope)
	if err != nil {
		return Envelope{}, err
	}
	value, err := rec.Value()
	if err != nil {
		return Envelope{}, fmt.Errorf("%w: IPNS record value: %v", ErrMalformed, firstLine(err))
	}
	if want := path.FromCid(EnvelopeCID(envelope)); value.String() != want.String() {
		return Envelope{}, fmt.Errorf("%w: the IPNS record points at %s, not at this envelope", ErrBinding, value)
	}
	seq, err := rec.Sequence()
	if err != nil {
		return Envelope{}, fmt.Errorf("%w: IPNS record sequence: %v", ErrMalformed, firstLine(err))
	}
	if seq != env.Seq {
		return Envelope{}, fmt.Errorf("%w: IPNS record has sequence %d, the envelope %d", ErrBinding, seq, env.Seq)
	}
	return env, nil
}

// firstLine keeps errors to one line (errors.Join separates by newlines).
func firstLine(err error) string {
	s, _, _ := strings.Cut(err.Error(), "\n")
	return s
}

// Link returns a live grant's link: grantLink + "#live=" + name.
func Link(grantLink string, name ipns.Name) string {
	return grantLink + LinkMarker + name.String()
}

// SplitLink splits a link made by [Link], forgiving whitespace and line
// breaks as grant links do. A link without "#live=" is returned whole with
// ok false; one with a bad name is ErrMalformed.
func SplitLink(s string) (grantLink string, name ipns.Name, ok bool, err error) {
	s = strings.Join(strings.Fields(s), "")
	grantLink, n, found := strings.Cut(s, LinkMarker)
	if !found {
		return s, ipns.Name{}, false, nil
	}
	if grantLink == "" {
		return "", ipns.Name{}, false, fmt.Errorf("%w: live link without a grant link", ErrMalformed)
	}
	if len(n) == 0 || len(n) > maxName || strings.ContainsAny(n, "/#") {
		return "", ipns.Name{}, false, fmt.Errorf("%w: live name %.40q", ErrMalformed, n)
	}
	name, err = ipns.NameFromString(n)
	if err != nil {
		return "", ipns.Name{}, false, fmt.Errorf("%w: live name: %v", ErrMalformed, firstLine(err))
	}
	pid := name.Peer()
	if pk, err := pid.ExtractPublicKey(); err != nil || pk.Type() != p2pcrypto.Ed25519 {
		return "", ipns.Name{}, false, fmt.Errorf("%w: live name is not an ed25519 key", ErrMalformed)
	}
	return grantLink, name, true, nil
}
