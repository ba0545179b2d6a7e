package keep

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/big"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
)

// enrolmentTag separates enrolment signatures from every other signature
// a patient's key makes (grants are EIP-712 typed data, which starts with
// 0x19 0x01; this tag cannot).
const enrolmentTag = "healthwallet/keep/enrolment/v1"

// Errors of enrolment.
var (
	// ErrBadEnrolment: an enrolment is malformed, its signature does not
	// recover its patient, or it names another keeper or another peer
	// than the one presenting it.
	ErrBadEnrolment = errors.New("invalid enrolment")
)

// Enrolment is a patient's signed request that a keeper keep for it: the
// keeper then takes requests from PatientPeer as requests of Patient.
type Enrolment struct {
	Patient     common.Address `json:"patient"`
	PatientPeer peer.ID        `json:"patientPeer"`
	Keeper      peer.ID        `json:"keeper"`
	Created     int64          `json:"created"` // unix seconds
	Signature   []byte         `json:"signature"`
}

// Hash is what the patient signs: keccak256 of the tag, the patient's
// address, both peer ids (each length-prefixed) and the creation time.
func (e Enrolment) Hash() [32]byte {
	b := []byte(enrolmentTag)
	b = append(b, e.Patient.Bytes()...)
	for _, p := range []peer.ID{e.PatientPeer, e.Keeper} {
		b = binary.BigEndian.AppendUint16(b, uint16(len(p)))
		b = append(b, p...)
	}
	b = binary.BigEndian.AppendUint64(b, uint64(e.Created))
	return crypto.Keccak256Hash(b)
}

// NewEnrolment signs an enrolment of keeper for the patient holding key,
// whose node is patientPeer.
func NewEnrolment(key *secp256k1.PrivateKey, patientPeer, keeper peer.ID, created int64) (Enrolment, error) {
	ek, err := crypto.ToECDSA(key.Serialize())
	if err != nil {
		return Enrolment{}, err
	}
	e := Enrolment{Patient: crypto.PubkeyToAddress(ek.PublicKey), PatientPeer: patientPeer, Keeper: keeper, Created: created}
	h := e.Hash()
	if e.Signature, err = crypto.Sign(h[:], ek); err != nil {
		return Enrolment{}, err
	}
	return e, nil
}

// secp256k1HalfN is n/2: signatures with a higher s are refused (EIP-2).
var secp256k1HalfN = new(big.Int).Rsh(crypto.S256().Params().N, 1)

// Verify checks that the signature recovers Patient, that the enrolment
// names keeper as its keeper, and that from (the authenticated remote peer
// of the stream it came on) is its PatientPeer.
func (e Enrolment) Verify(keeper, from peer.ID) error {
	switch {
	case len(e.Signature) != 65:
		return fmt.Errorf("%w: signature is %d bytes, want 65", ErrBadEnrolment, len(e.Signature))
	case e.Keeper != keeper:
		return fmt.Errorf("%w: it names keeper %s, not this keeper", ErrBadEnrolment, e.Keeper)
	case e.PatientPeer != from:
		return fmt.Errorf("%w: it names node %s, but came from %s", ErrBadEnrolment, e.PatientPeer, from)
	case new(big.Int).SetBytes(e.Signature[32:64]).Cmp(secp256k1HalfN) > 0:
		return fmt.Errorf("%w: high-S signature", ErrBadEnrolment)
	}
	h := e.Hash()
	pub, err := crypto.SigToPub(h[:], e.Signature)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrBadEnrolment, err)
	}
	if got := crypto.PubkeyToAddress(*pub); got != e.Patient {
		return fmt.Errorf("%w: signed by %s, not by %s", ErrBadEnrolment, got.Hex(), e.Patient.Hex())
	}
	return nil
}
