package wallet

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"

	"github.com/healthwallet/healthwallet/wallet/catalog"
)

// RevocationPending is the status of a grant whose revocation the chain
// does not show yet (GrantRecord.Status).
const RevocationPending = "revocation pending"

// ErrRevocationPending: the revocation was asked for, but the wallet's own
// RPC does not show it mined; the grant stays pending (this wallet's node
// refuses it already) and revoking again retries.
var ErrRevocationPending = errors.New("revocation pending, not confirmed on chain; revoke again to retry")

// revokeConfirmWait is how long Revoke waits for the wallet's own RPC to
// show the receipt a relay (or a direct submission) reported: the RPC may
// lag behind the relay's.
const revokeConfirmWait = 30 * time.Second

// confirmRevoked checks on this connection's RPC that tx has a successful
// receipt (waiting up to wait for it) and that the registry reports id
// revoked. Any other outcome wraps ErrRevocationPending.
func (c *chainConn) confirmRevoked(ctx context.Context, tx common.Hash, id [32]byte, wait time.Duration) error {
	if tx == (common.Hash{}) {
		return fmt.Errorf("%w: the relay answered without a transaction", ErrRevocationPending)
	}
	wctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	delay := 50 * time.Millisecond
	var rcpt *types.Receipt
	for {
		var err error
		rcpt, err = c.client.TransactionReceipt(wctx, tx)
		if err == nil && rcpt != nil {
			break
		}
		if err != nil && !errors.Is(err, ethereum.NotFound) && wctx.Err() == nil {
			return fmt.Errorf("%w: receipt of %s: %v", ErrRevocationPending, tx.Hex(), err)
		}
		select {
		case <-wctx.Done():
			return fmt.Errorf("%w: no receipt for transaction %s on %s", ErrRevocationPending, tx.Hex(), c.cfg.RPC)
		case <-time.After(delay):
		}
		delay = min(2*delay, time.Second)
	}
	if rcpt.Status != types.ReceiptStatusSuccessful {
		return fmt.Errorf("%w: transaction %s failed", ErrRevocationPending, tx.Hex())
	}
	at, err := c.reg.RevokedAt(ctx, id)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrRevocationPending, err)
	}
	if at == 0 {
		return fmt.Errorf("%w: transaction %s was mined but the registry does not show the grant revoked", ErrRevocationPending, tx.Hex())
	}
	return nil
}

// localRevocationsKey holds, in the Settings bucket, the revocation ids
// this wallet has started revoking: 32 bytes each. Its node refuses them
// whatever the chain says.
var localRevocationsKey = catalog.IDFromHash([]byte("local-revocations"))

// denyLocally records id as being revoked and tells this process's
// serving nodes at once; nodes in other processes read it within a
// refresh.
func (w *Wallet) denyLocally(id [32]byte) error {
	cat, err := w.Catalog()
	if err != nil {
		return err
	}
	err = cat.Update(func(tx *catalog.Tx) error {
		b, err := tx.Get(catalog.Settings, localRevocationsKey)
		if err != nil && !errors.Is(err, catalog.ErrNotFound) {
			return err
		}
		for i := 0; i+32 <= len(b); i += 32 {
			if [32]byte(b[i:i+32]) == id {
				return nil
			}
		}
		return tx.Put(catalog.Settings, localRevocationsKey, append(b, id[:]...))
	})
	if err != nil {
		return err
	}
	localDeny.notify(w.home, id)
	return nil
}

// localRevocations returns the ids denyLocally recorded.
func (w *Wallet) localRevocations() ([][32]byte, error) {
	cat, err := w.Catalog()
	if err != nil {
		return nil, err
	}
	b, err := cat.Get(catalog.Settings, localRevocationsKey)
	if errors.Is(err, catalog.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out [][32]byte
	for i := 0; i+32 <= len(b); i += 32 {
		out = append(out, [32]byte(b[i:i+32]))
	}
	return out, nil
}

// localDeny connects Revoke, and the keeper syncs (keeperHost), to the
// nodes serving the same wallet home in this process.
var localDeny = &denyHub{subs: map[string]map[*Serving]bool{}}

type denyHub struct {
	mu   sync.Mutex
	subs map[string]map[*Serving]bool // wallet home → serving nodes
}

func (h *denyHub) add(home string, s *Serving) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.subs[home] == nil {
		h.subs[home] = map[*Serving]bool{}
	}
	h.subs[home][s] = true
}

func (h *denyHub) remove(home string, s *Serving) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.subs[home], s)
	if len(h.subs[home]) == 0 {
		delete(h.subs, home)
	}
}

func (h *denyHub) notify(home string, id [32]byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs[home] {
		s.grants.Deny(id)
	}
}

// running returns a node serving home in this process, or nil.
func (h *denyHub) running(home string) *Serving {
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs[home] {
		return s
	}
	return nil
}
