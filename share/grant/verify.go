package grant

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
)

// Chain is a presented grant with the grants it was delegated from:
// Chain[0] is the patient's grant, the last is the presented one.
type Chain []*Grant

// Leaf returns the presented grant.
func (c Chain) Leaf() *Grant { return c[len(c)-1] }

// Limits of verification.
const (
	// MaxLeeway bounds the clock skew a verifier tolerates.
	MaxLeeway = 120 * time.Second
	// DefaultLeeway is the skew tolerated unless configured.
	DefaultLeeway = 60 * time.Second
	// DefaultMaxLifetime is the longest grant accepted unless configured.
	DefaultMaxLifetime = 366 * 24 * time.Hour
	// MaxChain bounds delegation chains.
	MaxChain = 8
)

// Revocations answers whether grants are revoked. RevokedAt returns, per
// id, the unix time of revocation or 0; when the status cannot be known
// (registry unreachable, mirror stale) it returns an error, and Verify
// refuses the grant: it fails closed.
type Revocations interface {
	RevokedAt(ctx context.Context, ids [][32]byte) ([]uint64, error)
}

// Policy is the verifier's own configuration. Nothing in it comes from the
// grant.
type Policy struct {
	Domain      Domain
	Revocations Revocations
	Now         func() time.Time // nil means time.Now
	Leeway      time.Duration    // 0 means DefaultLeeway; capped at MaxLeeway
	MaxLifetime time.Duration    // 0 means DefaultMaxLifetime
}

// Request is what the presenter wants and who they are.
type Request struct {
	// Issuer, if set, must have issued the patient's grant (a node only
	// honours grants from its own patient).
	Issuer common.Address
	// Holder, if set, must be the grantee of the presented grant.
	Holder *secp256k1.PublicKey
	// Challenge and Proof, if Challenge.Nonce is set, must show the
	// presenter holds the grantee key (see [Prove]).
	Challenge Challenge
	Proof     []byte
	// Operations are needed; ResourceTypes and Categories, if set, must be
	// within the grant.
	Operations    Operations
	ResourceTypes []string
	Categories    []string
}

// Verified is a chain that passed Verify.
type Verified struct {
	Chain  Chain
	Hashes [][32]byte // EIP-712 hash of each link
	// ExpiresAt is when the presented grant stops being valid.
	ExpiresAt time.Time
}

// Verify checks a chain against the verifier's policy and the request; see
// the package documentation for the list. The error is a *VerifyError.
func Verify(ctx context.Context, chain Chain, p Policy, req Request) (*Verified, error) {
	if len(chain) == 0 || len(chain) > MaxChain {
		return nil, refuse(0, ErrMalformed, "chain of %d grants", len(chain))
	}
	now := time.Now()
	if p.Now != nil {
		now = p.Now()
	}
	leeway := p.Leeway
	if leeway == 0 {
		leeway = DefaultLeeway
	}
	leeway = min(leeway, MaxLeeway)
	maxLife := p.MaxLifetime
	if maxLife == 0 {
		maxLife = DefaultMaxLifetime
	}
	v := &Verified{Chain: chain}
	var granteeAddrs []common.Address // of each link, computed once
	for i, g := range chain {
		if g.Domain != p.Domain {
			return nil, refuse(i, ErrWrongDomain, "signed for chain %d registry %s; this wallet uses chain %d registry %s",
				g.Domain.ChainID, g.Domain.Registry.Hex(), p.Domain.ChainID, p.Domain.Registry.Hex())
		}
		h, err := g.Hash()
		if err != nil {
			return nil, refuse(i, ErrMalformed, "%v", err)
		}
		signer, err := g.signerOf(h)
		if err != nil {
			return nil, refuse(i, ErrBadSignature, "%s", strings.TrimPrefix(err.Error(), ErrBadSignature.Error()+": "))
		}
		if signer != g.Issuer {
			return nil, refuse(i, ErrBadSignature, "signed by %s, not by the issuer %s", signer.Hex(), g.Issuer.Hex())
		}
		grantee, err := g.Grantee()
		if err != nil {
			return nil, refuse(i, ErrMalformed, "grantee key")
		}
		granteeAddrs = append(granteeAddrs, addressOf(grantee))
		nb, exp := g.Window()
		switch {
		case g.ExpiresAt <= g.NotBefore:
			return nil, refuse(i, ErrMalformed, "expires before it starts")
		case exp.Sub(nb) > maxLife:
			return nil, refuse(i, ErrTooLong, "%s, maximum %s", exp.Sub(nb).Round(time.Hour), maxLife)
		case now.Add(leeway).Before(nb):
			return nil, refuse(i, ErrNotYetValid, "valid from %s", nb.Format(time.RFC3339))
		case !now.Add(-leeway).Before(exp):
			return nil, refuse(i, ErrExpired, "at %s", exp.Format(time.RFC3339))
		}
		v.Hashes = append(v.Hashes, h)
		if i == 0 {
			if !g.IsRoot() {
				return nil, refuse(0, ErrBrokenChain, "the first grant names a parent that was not presented")
			}
			if req.Issuer != (common.Address{}) && g.Issuer != req.Issuer {
				return nil, refuse(0, ErrWrongGrantee, "issued by %s, not by this wallet's patient %s", g.Issuer.Hex(), req.Issuer.Hex())
			}
			continue
		}
		if err := checkDelegation(i, chain[i-1], v.Hashes[i-1], granteeAddrs[i-1], g); err != nil {
			return nil, err
		}
	}
	leaf := chain.Leaf()
	last := len(chain) - 1
	if req.Holder != nil && !slices.Equal(req.Holder.SerializeCompressed(), leaf.GranteeKey) {
		return nil, refuse(last, ErrWrongGrantee, "this wallet is not the grantee")
	}
	if req.Challenge.Nonce != ([32]byte{}) {
		if err := checkProof(v.Hashes[last], req.Challenge, req.Proof, leaf.GranteeKey); err != nil {
			return nil, refuse(last, ErrWrongGrantee, "%v", err)
		}
	}
	if !leaf.Operations.Has(req.Operations) {
		return nil, refuse(last, ErrNotGranted, "operation %s (granted: %s)", req.Operations, leaf.Operations)
	}
	if !within(req.ResourceTypes, leaf.ResourceTypes) {
		return nil, refuse(last, ErrNotGranted, "resource types %v (granted: %v)", req.ResourceTypes, leaf.ResourceTypes)
	}
	if !within(req.Categories, leaf.Categories) {
		return nil, refuse(last, ErrNotGranted, "categories %v (granted: %v)", req.Categories, leaf.Categories)
	}
	if p.Revocations == nil {
		return nil, refuse(0, ErrRevocationUnknown, "no revocation registry configured")
	}
	ids := make([][32]byte, len(chain))
	for i, g := range chain {
		ids[i] = g.RevocationID
	}
	at, err := p.Revocations.RevokedAt(ctx, ids)
	if err != nil {
		return nil, refuse(0, ErrRevocationUnknown, "%v", err)
	}
	if len(at) != len(ids) {
		return nil, refuse(0, ErrRevocationUnknown, "registry answered %d of %d", len(at), len(ids))
	}
	for i, t := range at {
		if t != 0 {
			return nil, refuse(i, ErrRevoked, "at %s", time.Unix(int64(t), 0).UTC().Format(time.RFC3339))
		}
	}
	_, v.ExpiresAt = leaf.Window()
	return v, nil
}

// ErrOtherProviders: a delegation names a node to fetch from that its parent
// does not. It is a kind of ErrWidened: a delegator could otherwise send
// its grantee (and its proof of possession) to a node of its choosing.
var ErrOtherProviders = fmt.Errorf("%w: it names nodes its parent does not", ErrWidened)

// checkDelegation checks that child was delegated from parent within its
// limits.
func checkDelegation(i int, parent *Grant, parentHash [32]byte, parentGrantee common.Address, child *Grant) error {
	if child.Parent != parentHash {
		return refuse(i, ErrBrokenChain, "names another parent")
	}
	if child.Issuer != parentGrantee {
		return refuse(i, ErrBrokenChain, "issued by %s, but the parent was granted to %s", child.Issuer.Hex(), parentGrantee.Hex())
	}
	switch {
	case !parent.Operations.Has(Delegate) || parent.Depth == 0:
		return refuse(i, ErrWidened, "the parent grant does not allow delegation")
	case child.Depth > parent.Depth-1:
		return refuse(i, ErrWidened, "depth %d exceeds the %d left", child.Depth, parent.Depth-1)
	case child.ExpiresAt > parent.ExpiresAt:
		return refuse(i, ErrWidened, "expires after its parent")
	case child.NotBefore < parent.NotBefore:
		return refuse(i, ErrWidened, "starts before its parent")
	case !parent.Operations.Has(child.Operations):
		return refuse(i, ErrWidened, "operations %s beyond %s", child.Operations, parent.Operations)
	case !subsetBytes(child.Packages, parent.Packages):
		return refuse(i, ErrWidened, "shares packages its parent does not")
	case !subsetBytes(child.Providers, parent.Providers):
		return refuse(i, ErrOtherProviders, "%d of its nodes are not its parent's", len(child.Providers)-countIn(child.Providers, parent.Providers))
	case !narrower(child.ResourceTypes, parent.ResourceTypes):
		return refuse(i, ErrWidened, "resource types %v beyond %v", child.ResourceTypes, parent.ResourceTypes)
	case !narrower(child.Categories, parent.Categories):
		return refuse(i, ErrWidened, "categories %v beyond %v", child.Categories, parent.Categories)
	case !within(child.Sensitive, parent.Sensitive) || len(parent.Sensitive) == 0 && len(child.Sensitive) > 0:
		return refuse(i, ErrWidened, "sensitive categories %v beyond %v", child.Sensitive, parent.Sensitive)
	}
	return nil
}

// narrower: an empty list means "no restriction", so a child may narrow an
// empty parent list, but not empty a parent's list.
func narrower(child, parent []string) bool {
	if len(parent) == 0 {
		return true
	}
	return len(child) > 0 && within(child, parent)
}

// within: every wanted item is allowed; an empty allowed list allows all.
func within(wanted, allowed []string) bool {
	if len(allowed) == 0 {
		return true
	}
	for _, w := range wanted {
		if !slices.Contains(allowed, w) {
			return false
		}
	}
	return true
}

func subsetBytes(child, parent [][]byte) bool {
	return countIn(child, parent) == len(child)
}

// countIn counts the items of child that parent holds.
func countIn(child, parent [][]byte) int {
	n := 0
	for _, c := range child {
		if slices.ContainsFunc(parent, func(p []byte) bool { return slices.Equal(p, c) }) {
			n++
		}
	}
	return n
}

// Challenge is what a presenter signs to prove it holds the grantee key: a
// verifier's fresh random nonce, bound to both ends of the connection it
// travels on (as the connection authenticated them), so that a proof made
// for one verifier cannot be relayed to another, nor used by another peer.
type Challenge struct {
	Nonce     [32]byte
	Verifier  []byte // the verifier's peer id (binary form)
	Presenter []byte // the presenter's peer id (binary form)
}

// proofTag separates proofs of possession from every other signature of
// the grantee key.
const proofTag = "healthwallet proof of possession v2"

// proofDigest is what a presenter signs:
// keccak256(tag ‖ grantHash ‖ nonce ‖ len ‖ verifier ‖ len ‖ presenter),
// lengths as uvarints.
func proofDigest(grantHash [32]byte, ch Challenge) ([]byte, error) {
	if len(ch.Verifier) == 0 || len(ch.Presenter) == 0 || len(ch.Verifier) > 255 || len(ch.Presenter) > 255 {
		return nil, errors.New("challenge not bound to both peers")
	}
	b := append([]byte(proofTag), grantHash[:]...)
	b = append(b, ch.Nonce[:]...)
	b = appendItem(b, ch.Verifier)
	b = appendItem(b, ch.Presenter)
	return crypto.Keccak256(b), nil
}

// Prove signs a verifier's challenge for the grant with hash grantHash.
func Prove(key *secp256k1.PrivateKey, grantHash [32]byte, ch Challenge) ([]byte, error) {
	ek, err := crypto.ToECDSA(key.Serialize())
	if err != nil {
		return nil, err
	}
	d, err := proofDigest(grantHash, ch)
	if err != nil {
		return nil, err
	}
	return crypto.Sign(d, ek)
}

func checkProof(grantHash [32]byte, ch Challenge, proof, granteeKey []byte) error {
	if len(proof) != 65 {
		return errors.New("no proof of possession")
	}
	d, err := proofDigest(grantHash, ch)
	if err != nil {
		return err
	}
	pub, err := crypto.Ecrecover(d, proof)
	if err != nil {
		return errors.New("invalid proof of possession")
	}
	ek, err := crypto.UnmarshalPubkey(pub)
	if err != nil || !slices.Equal(crypto.CompressPubkey(ek), granteeKey) {
		return errors.New("proof of possession signed by another key, or for another connection")
	}
	return nil
}
