package wallet

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/healthwallet/healthwallet/share/grant"
	"github.com/healthwallet/healthwallet/share/registry"
	"github.com/healthwallet/healthwallet/wallet/catalog"
	"github.com/healthwallet/healthwallet/wallet/identity"
)

var revocationCounter = catalog.IDFromHash([]byte("revocation-index-counter"))

// nextRevocationIndex hands out revocation secret indexes, never twice, and
// anchored to time: index = issuance second << 8 | sequence. A wallet
// restored from its phrase has lost its counter but not the clock, so its
// new grants cannot reuse an old grant's secret; and any grant's secret can
// be found again from the grant alone (RevocationIndexOf).
func (w *Wallet) nextRevocationIndex(issued time.Time) (uint64, error) {
	cat, err := w.Catalog()
	if err != nil {
		return 0, err
	}
	idx := uint64(issued.Unix()) << 8
	err = cat.Update(func(tx *catalog.Tx) error {
		if b, err := tx.Get(catalog.Settings, revocationCounter); err == nil && len(b) == 8 {
			idx = max(idx, binary.BigEndian.Uint64(b))
		}
		return tx.Put(catalog.Settings, revocationCounter, binary.BigEndian.AppendUint64(nil, idx+1))
	})
	return idx, err
}

// ErrNotIssuedHere: the grant was not issued by this wallet's identity.
var ErrNotIssuedHere = errors.New("this wallet did not issue that grant")

// RevocationIndexOf finds the index of the revocation secret of a grant this
// wallet issued, from the grant alone (no catalog needed): the index is its
// notBefore second shifted left 8, plus a sequence number under 256.
func (w *Wallet) RevocationIndexOf(g *grant.Grant) (uint64, error) {
	keys, err := w.Keys()
	if err != nil {
		return 0, err
	}
	if g.Issuer != common.HexToAddress(keys.Address().String()) {
		return 0, ErrNotIssuedHere
	}
	chainID := new(big.Int).SetUint64(g.Domain.ChainID)
	for seq := uint64(0); seq < 1<<16; seq++ { // a busy second, or a clock that moved
		idx := g.NotBefore<<8 + seq
		if registry.RevocationID(chainID, g.Domain.Registry, revocationSecret(keys, idx)) == g.RevocationID {
			return idx, nil
		}
	}
	return 0, errors.New("no revocation secret of this wallet matches the grant")
}

func revocationSecret(keys *identity.Keys, idx uint64) [32]byte {
	return [32]byte(keys.RevocationSecret(idx))
}

// Revoker publishes revocation secrets on chain: directly with a funded key
// (share/relay.Direct) or through a relay, so a phone needs no ETH.
type Revoker interface {
	Revoke(ctx context.Context, secrets [][32]byte) (common.Hash, error)
}

// Revoke reveals the revocation secret of a grant this wallet issued (or
// delegated), through r, and records the revocation once the chain shows it.
// From then on every verifier refuses the grant and everything delegated
// from it.
//
// The grant is first marked pending, and this wallet's node (if serving in
// this process, or within half a second in another) refuses it at once.
// It is marked revoked only when the wallet's own RPC (chain, not the
// relay) returns the transaction's receipt and the registry's revokedAt for
// its id is non-zero. Otherwise Revoke returns the grant still pending and
// an error wrapping ErrRevocationPending; calling it again retries (first
// checking whether the earlier transaction has been mined since).
func (w *Wallet) Revoke(ctx context.Context, g GrantRecord, r Revoker, chain ChainConfig) (GrantRecord, error) {
	if g.Direction != Issued {
		return g, errors.New("only the wallet that issued a grant can revoke it")
	}
	if !g.RevokedAt.IsZero() {
		return g, nil
	}
	keys, err := w.Keys()
	if err != nil {
		return g, err
	}
	if chain.ChainID == 0 {
		return g, ErrNoChain
	}
	save := func() error { return w.putGrant(g) }
	if err := w.revokeIndex(ctx, keys, g.RevocationIndex, &g.RevokePending, &g.RevokeTx, save, r, chain); err != nil {
		return g, err
	}
	return w.markRevoked(g)
}

// revokeIndex reveals the revocation secret of index idx through r, for a
// grant or a SMART Health Link, with the same steps (see Revoke): mark it
// pending (save stores *pending and *tx), deny it locally, check whether
// an earlier transaction was mined, else send one, and wait until the
// wallet's own RPC shows the registry's revokedAt non-zero. It returns nil
// only then.
func (w *Wallet) revokeIndex(ctx context.Context, keys *identity.Keys, idx uint64, pending *time.Time, txHex *string, save func() error, r Revoker, chain ChainConfig) error {
	secret := revocationSecret(keys, idx)
	id := chain.revocationID(secret)
	if pending.IsZero() {
		*pending = w.now().UTC()
		if err := save(); err != nil {
			return err
		}
	}
	if err := w.denyLocally(id); err != nil {
		return err
	}
	conn, err := w.connect(ctx, chain)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrRevocationPending, err)
	}
	defer conn.Close()
	if *txHex != "" {
		// An earlier attempt got a transaction: mined since?
		if err := conn.confirmRevoked(ctx, common.HexToHash(*txHex), id, 0); err == nil {
			return nil
		}
	}
	tx, err := r.Revoke(ctx, [][32]byte{secret})
	if err != nil {
		return fmt.Errorf("%w: %v", ErrRevocationPending, err)
	}
	if tx != (common.Hash{}) {
		*txHex = tx.Hex()
		if err := save(); err != nil {
			return err
		}
	}
	return conn.confirmRevoked(ctx, tx, id, revokeConfirmWait)
}

func (w *Wallet) markRevoked(g GrantRecord) (GrantRecord, error) {
	g.RevokedAt = w.now().UTC()
	return g, w.putGrant(g)
}

// RevokeLink revokes a grant this wallet issued, given its link: for a
// wallet restored from its phrase, which has lost its grant records but can
// find each grant's secret again (RevocationIndexOf). A link is sealed to
// its issuer as well as to its grantee, so the issuer opens it with its own
// key. Like Revoke, it succeeds only when the wallet's own RPC shows the
// revocation mined, and this wallet's node refuses the grant from the start.
func (w *Wallet) RevokeLink(ctx context.Context, link string, r Revoker, chain ChainConfig) (common.Hash, error) {
	keys, err := w.Keys()
	if err != nil {
		return common.Hash{}, err
	}
	c, err := grant.OpenLink(link, keys.PrivateKey())
	if errors.Is(err, grant.ErrNotAddressed) {
		return common.Hash{}, ErrNotIssuedHere
	}
	if err != nil {
		return common.Hash{}, err
	}
	idx, err := w.RevocationIndexOf(c.Leaf())
	if err != nil {
		return common.Hash{}, err
	}
	if err := w.denyLocally(c.Leaf().RevocationID); err != nil {
		return common.Hash{}, err
	}
	conn, err := w.connect(ctx, chain)
	if err != nil {
		return common.Hash{}, fmt.Errorf("%w: %v", ErrRevocationPending, err)
	}
	defer conn.Close()
	tx, err := r.Revoke(ctx, [][32]byte{revocationSecret(keys, idx)})
	if err != nil {
		return tx, fmt.Errorf("%w: %v", ErrRevocationPending, err)
	}
	return tx, conn.confirmRevoked(ctx, tx, c.Leaf().RevocationID, revokeConfirmWait)
}

// RevocationSecretOf returns the secret that revokes an issued grant (for
// a relay, or to publish elsewhere).
func (w *Wallet) RevocationSecretOf(g GrantRecord) ([32]byte, error) {
	keys, err := w.Keys()
	if err != nil {
		return [32]byte{}, err
	}
	return revocationSecret(keys, g.RevocationIndex), nil
}
