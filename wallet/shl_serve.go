package wallet

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/healthwallet/healthwallet/share/shl"
)

// SHLServer is the SMART Health Links manifest server of this wallet's
// own node (the patient's node serves its links too while it is up;
// keepers serve them always). Mount it on an HTTPS listener whose base URL
// is opt.BaseURL, and give that URL as SHLOptions.URL.
//
// Links are read from this wallet's records, their files from its block
// store. Revocation is checked on the serving node's chain connection
// (its revocation mirror, fail closed: no chain, no file) and against the
// links this wallet has started revoking. Wrong passcodes are counted in
// memory, for as long as the server runs (a keeper persists them).
// Every opening is written to the access log.
func (w *Wallet) SHLServer(s *Serving, opt shl.ServerOptions) *shl.Server {
	if opt.Now == nil {
		opt.Now = w.now
	}
	attempts := opt.Attempts
	if attempts <= 0 {
		attempts = shl.DefaultAttempts
	}
	st := &walletSHLStore{w: w, attempts: attempts, failed: map[string]int{}}
	return shl.NewServer(st, servingRevocations{w: w, s: s}, opt)
}

// walletSHLStore is shl.Store over this wallet's links.
type walletSHLStore struct {
	w        *Wallet
	attempts int
	mu       sync.Mutex
	failed   map[string]int
}

func (st *walletSHLStore) record(id string) (SHLRecord, error) {
	recs, err := st.w.SHLs()
	if err != nil {
		return SHLRecord{}, err
	}
	for _, r := range recs {
		if r.ID == id {
			return r, nil
		}
	}
	return SHLRecord{}, shl.ErrUnknown
}

// Entry implements shl.Store.
func (st *walletSHLStore) Entry(ctx context.Context, id string) (shl.Entry, error) {
	r, err := st.record(id)
	if err != nil {
		return shl.Entry{}, err
	}
	e := shl.Entry{ID: r.ID, Flags: r.Flags, Expires: r.Expires, PasscodeHash: r.PasscodeHash}
	rid, err := hex.DecodeString(strings.TrimPrefix(r.RevocationID, "0x"))
	if err != nil || len(rid) != 32 {
		return shl.Entry{}, fmt.Errorf("link %s: bad revocation id", r.ID)
	}
	e.RevocationID = [32]byte(rid)
	roots, err := r.rootCIDs()
	if err != nil {
		return shl.Entry{}, err
	}
	store, err := st.w.objectStore()
	if err != nil {
		return shl.Entry{}, err
	}
	for _, root := range roots {
		var buf bytes.Buffer
		if err := store.ExportPlain(ctx, root, &buf); err != nil {
			return shl.Entry{}, fmt.Errorf("link %s: %w", r.ID, err)
		}
		e.Files = append(e.Files, shl.StoredFile{ContentType: SHLContentType, JWE: buf.String(), LastUpdated: r.Updated})
	}
	return e, nil
}

// PasscodeFailed implements shl.Store.
func (st *walletSHLStore) PasscodeFailed(_ context.Context, id string) (int, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.failed[id]++
	return max(st.attempts-st.failed[id], 0), nil
}

// PasscodeRemaining implements shl.Store.
func (st *walletSHLStore) PasscodeRemaining(_ context.Context, id string) (int, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	return max(st.attempts-st.failed[id], 0), nil
}

// Access implements shl.Store: the access log gets every opening; a
// failure to write it is dropped (the viewer is answered whatever the log
// does).
func (st *walletSHLStore) Access(_ context.Context, ev shl.AccessEvent) {
	_ = st.w.putAccess(shlAccessEntry(ev))
}

// servingRevocations is shl.Revocations over the serving node's chain
// connection.
type servingRevocations struct {
	w *Wallet
	s *Serving
}

// errNoChainServing: the node serves without a chain; nothing is served.
var errNoChainServing = errors.New("this node has no chain: revocation status unknown")

// Revoked implements shl.Revocations (an error fails closed).
func (r servingRevocations) Revoked(ctx context.Context, id [32]byte) (bool, error) {
	local, err := r.w.localRevocations()
	if err != nil {
		return false, err
	}
	for _, l := range local {
		if l == id {
			return true, nil
		}
	}
	if r.s == nil || r.s.conn == nil {
		return false, errNoChainServing
	}
	return shlRevocations{r.s.conn.mirror}.Revoked(ctx, id)
}
