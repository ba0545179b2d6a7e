package grant

import (
	"fmt"
	"math/big"
	"slices"
	"sync"
	"time"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/common/math"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/signer/core/apitypes"
)

// Operations a grant may allow (a bit set).
type Operations uint8

// Operations.
const (
	// Read: fetch and view the shared records.
	Read Operations = 1 << iota
	// Export: save the shared FHIR Bundle outside the wallet.
	Export
	// Delegate: issue narrower grants onwards (with depth > 0).
	Delegate
)

// Has reports whether o includes every operation of want.
func (o Operations) Has(want Operations) bool { return o&want == want }

func (o Operations) String() string {
	var s []string
	for _, p := range []struct {
		op   Operations
		name string
	}{{Read, "read"}, {Export, "export"}, {Delegate, "delegate"}} {
		if o.Has(p.op) {
			s = append(s, p.name)
		}
	}
	if len(s) == 0 {
		return "none"
	}
	return fmt.Sprint(s)
}

// Domain is the EIP-712 domain every grant is signed under.
type Domain struct {
	ChainID  uint64
	Registry common.Address
}

// DomainName and DomainVersion identify the grant format in the EIP-712
// domain.
const (
	DomainName    = "healthwallet"
	DomainVersion = "1"
)

// Grant is one signed permission.
type Grant struct {
	Domain        Domain
	Issuer        common.Address
	GranteeKey    []byte // 33-byte compressed secp256k1 public key
	Parent        [32]byte
	Packages      [][]byte // binary CIDs
	Providers     [][]byte // binary multiaddrs
	ResourceTypes []string // allowed resource types; empty means those of the packages
	Categories    []string
	Sensitive     []string // sensitive categories explicitly shared
	Operations    Operations
	Depth         uint8
	NotBefore     uint64 // unix seconds
	ExpiresAt     uint64 // unix seconds
	RevocationID  [32]byte
	Nonce         uint64
	WrappedKey    []byte
	Signature     []byte // 65 bytes r ‖ s ‖ v (v = 27 or 28)
}

// Types is the EIP-712 type definition of a grant.
var Types = apitypes.Types{
	"EIP712Domain": {
		{Name: "name", Type: "string"},
		{Name: "version", Type: "string"},
		{Name: "chainId", Type: "uint256"},
		{Name: "verifyingContract", Type: "address"},
	},
	"Grant": {
		{Name: "issuer", Type: "address"},
		{Name: "granteeKey", Type: "bytes"},
		{Name: "parent", Type: "bytes32"},
		{Name: "packages", Type: "bytes[]"},
		{Name: "providers", Type: "bytes[]"},
		{Name: "resourceTypes", Type: "string[]"},
		{Name: "categories", Type: "string[]"},
		{Name: "sensitive", Type: "string[]"},
		{Name: "operations", Type: "uint8"},
		{Name: "depth", Type: "uint8"},
		{Name: "notBefore", Type: "uint64"},
		{Name: "expiresAt", Type: "uint64"},
		{Name: "revocationId", Type: "bytes32"},
		{Name: "nonce", Type: "uint64"},
		{Name: "wrappedKey", Type: "bytes"},
	},
}

// TypedData returns the grant as EIP-712 typed data, in the form
// eth_signTypedData_v4 takes.
func (g *Grant) TypedData() apitypes.TypedData {
	return apitypes.TypedData{
		Types:       Types,
		PrimaryType: "Grant",
		Domain: apitypes.TypedDataDomain{
			Name:              DomainName,
			Version:           DomainVersion,
			ChainId:           (*math.HexOrDecimal256)(new(big.Int).SetUint64(g.Domain.ChainID)),
			VerifyingContract: g.Domain.Registry.Hex(),
		},
		Message: apitypes.TypedDataMessage{
			"issuer":        g.Issuer.Hex(),
			"granteeKey":    hexutil.Encode(g.GranteeKey),
			"parent":        hexutil.Encode(g.Parent[:]),
			"packages":      hexList(g.Packages),
			"providers":     hexList(g.Providers),
			"resourceTypes": stringList(g.ResourceTypes),
			"categories":    stringList(g.Categories),
			"sensitive":     stringList(g.Sensitive),
			"operations":    fmt.Sprint(uint8(g.Operations)),
			"depth":         fmt.Sprint(g.Depth),
			"notBefore":     fmt.Sprint(g.NotBefore),
			"expiresAt":     fmt.Sprint(g.ExpiresAt),
			"revocationId":  hexutil.Encode(g.RevocationID[:]),
			"nonce":         fmt.Sprint(g.Nonce),
			"wrappedKey":    hexutil.Encode(g.WrappedKey),
		},
	}
}

func hexList(bs [][]byte) []interface{} {
	out := make([]interface{}, len(bs))
	for i, b := range bs {
		out[i] = hexutil.Encode(b)
	}
	return out
}

func stringList(ss []string) []interface{} {
	out := make([]interface{}, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// Hash returns the EIP-712 signing hash of the grant: the grant's identity,
// the parent hash of grants delegated from it.
func (g *Grant) Hash() ([32]byte, error) {
	td := g.TypedData()
	domain, err := domainSeparator(g.Domain, td)
	if err != nil {
		return [32]byte{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	msg, err := td.HashStruct(td.PrimaryType, td.Message)
	if err != nil {
		return [32]byte{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	// EIP-712: keccak256(0x19 ‖ 0x01 ‖ domainSeparator ‖ hashStruct(message)),
	// as apitypes.TypedDataAndHash computes it (checked against it and ethers).
	return [32]byte(crypto.Keccak256([]byte{0x19, 0x01}, domain[:], msg)), nil
}

// domainSeparators caches the EIP-712 domain separator of each Domain: a
// chain of grants is verified under one domain.
var domainSeparators sync.Map // Domain → [32]byte

func domainSeparator(d Domain, td apitypes.TypedData) ([32]byte, error) {
	if h, ok := domainSeparators.Load(d); ok {
		return h.([32]byte), nil
	}
	h, err := td.HashStruct("EIP712Domain", td.Domain.Map())
	if err != nil {
		return [32]byte{}, err
	}
	domainSeparators.Store(d, [32]byte(h))
	return [32]byte(h), nil
}

// CoreHash is the EIP-712 hash with WrappedKey empty: what the wrapped key
// is bound to.
func (g *Grant) CoreHash() ([32]byte, error) {
	c := *g
	c.WrappedKey = nil
	return c.Hash()
}

// Sign signs the grant with the issuer's key and sets Issuer and Signature.
func (g *Grant) Sign(key *secp256k1.PrivateKey) error {
	ek, err := crypto.ToECDSA(key.Serialize())
	if err != nil {
		return err
	}
	g.Issuer = crypto.PubkeyToAddress(ek.PublicKey)
	h, err := g.Hash()
	if err != nil {
		return err
	}
	sig, err := crypto.Sign(h[:], ek) // RFC 6979, low-S, v in {0,1}
	if err != nil {
		return err
	}
	sig[64] += 27
	g.Signature = sig
	return nil
}

// secp256k1HalfN is n/2: a valid Ethereum signature has s ≤ n/2 (EIP-2).
var secp256k1HalfN = new(big.Int).Rsh(crypto.S256().Params().N, 1)

// Signer recovers the address that signed the grant, refusing high-S
// signatures (go-ethereum's Ecrecover accepts the high-S twin of every
// signature; EIP-2 forbids it).
func (g *Grant) Signer() (common.Address, error) {
	h, err := g.Hash()
	if err != nil {
		return common.Address{}, err
	}
	return g.signerOf(h)
}

// signerOf is Signer for a grant whose hash h is known.
func (g *Grant) signerOf(h [32]byte) (common.Address, error) {
	if len(g.Signature) != 65 {
		return common.Address{}, fmt.Errorf("%w: signature is %d bytes, want 65", ErrBadSignature, len(g.Signature))
	}
	s := new(big.Int).SetBytes(g.Signature[32:64])
	if s.Cmp(secp256k1HalfN) > 0 {
		return common.Address{}, fmt.Errorf("%w: high-S signature", ErrBadSignature)
	}
	v := g.Signature[64]
	if v >= 27 {
		v -= 27
	}
	if v > 1 {
		return common.Address{}, fmt.Errorf("%w: recovery id %d", ErrBadSignature, g.Signature[64])
	}
	sig := slices.Clone(g.Signature)
	sig[64] = v
	pub, err := crypto.Ecrecover(h[:], sig) // 65 bytes: 0x04 ‖ X ‖ Y
	if err != nil || len(pub) != 65 {
		return common.Address{}, fmt.Errorf("%w: %v", ErrBadSignature, err)
	}
	return common.BytesToAddress(crypto.Keccak256(pub[1:])[12:]), nil
}

// Grantee parses GranteeKey.
func (g *Grant) Grantee() (*secp256k1.PublicKey, error) {
	k, err := secp256k1.ParsePubKey(g.GranteeKey)
	if err != nil || len(g.GranteeKey) != 33 {
		return nil, fmt.Errorf("%w: grantee key", ErrMalformed)
	}
	return k, nil
}

// GranteeAddress is the Ethereum address of the grantee key: the issuer
// address of grants it delegates.
func (g *Grant) GranteeAddress() (common.Address, error) {
	k, err := g.Grantee()
	if err != nil {
		return common.Address{}, err
	}
	return addressOf(k), nil
}

// Window returns the validity window.
func (g *Grant) Window() (notBefore, expiresAt time.Time) {
	return time.Unix(int64(g.NotBefore), 0).UTC(), time.Unix(int64(g.ExpiresAt), 0).UTC()
}

// IsRoot reports whether the grant was issued by the patient (no parent).
func (g *Grant) IsRoot() bool { return g.Parent == [32]byte{} }
