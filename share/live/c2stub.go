// Package live is a placeholder with the API of DESIGN14 (share/live) so
// that the wallet compiles until branch i14-live lands; every function
// fails. Delete this file when merging i14-live.
package live

import (
	"errors"
	"time"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ipfs/boxo/ipns"
	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/crypto"
)

var (
	ErrMalformed = errors.New("live: malformed")
	ErrSignature = errors.New("live: bad signature")
	ErrBinding   = errors.New("live: envelope of another grant")
	ErrStale     = errors.New("live: stale version")
)

var errStub = errors.New("live: not built yet (waiting for branch i14-live)")

type Envelope struct {
	Grant   [32]byte
	Seq     uint64
	Root    cid.Cid
	Wrapped []byte
	Issued  int64
	Sig     []byte
}

func (e *Envelope) Sign(patient *secp256k1.PrivateKey) error                   { return errStub }
func (e Envelope) Verify(patient common.Address, grant [32]byte) error         { return errStub }
func (e Envelope) Encode() []byte                                              { return nil }
func DecodeEnvelope(b []byte) (Envelope, error)                                { return Envelope{}, errStub }
func NameKey(seed []byte) (crypto.PrivKey, ipns.Name, error)                   { return nil, ipns.Name{}, errStub }
func NewRecord(sk crypto.PrivKey, env Envelope, now time.Time) ([]byte, error) { return nil, errStub }
func OpenRecord(name ipns.Name, record, envelope []byte) (Envelope, error) {
	return Envelope{}, errStub
}
func Link(grantLink string, name ipns.Name) string { return grantLink + "#live=" + name.String() }
func SplitLink(s string) (grantLink string, name ipns.Name, ok bool, err error) {
	return s, ipns.Name{}, false, nil
}
