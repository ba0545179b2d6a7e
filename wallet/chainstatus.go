package wallet

import (
	"context"
	"time"

	"github.com/healthwallet/healthwallet/share/revocation"
)

// DefaultMirrorMaxAge is the revocation mirror's freshness window when
// ChainConfig.MirrorMaxAge is zero (package revocation's default).
const DefaultMirrorMaxAge = 5 * time.Minute

// ChainStatus is what a settings screen shows about the chain: whether its
// RPC answers, and how fresh this wallet's revocation mirror is.
type ChainStatus struct {
	Head    uint64 // latest block; 0 when HeadErr is set
	HeadErr error  // the RPC did not answer
	Mirror  revocation.Status
	// MaxAge is how long after its last sync the mirror answers alone.
	MaxAge time.Duration
}

// Fresh reports whether the mirror answers on its own at now.
func (s ChainStatus) Fresh(now time.Time) bool {
	return !s.Mirror.SyncedAt.IsZero() && now.Sub(s.Mirror.SyncedAt) < s.MaxAge
}

// ChainStatus asks the chain for its head block and reports the revocation
// mirror (revocations.db in the home). With sync it first brings the mirror
// up to date, as a redemption would. An unreachable RPC is reported in
// HeadErr, not as an error.
func (w *Wallet) ChainStatus(ctx context.Context, cfg ChainConfig, sync bool) (ChainStatus, error) {
	conn, err := w.connect(ctx, cfg)
	if err != nil {
		return ChainStatus{}, err
	}
	defer conn.Close()
	st := ChainStatus{MaxAge: cfg.MirrorMaxAge}
	if st.MaxAge == 0 {
		st.MaxAge = DefaultMirrorMaxAge
	}
	st.Head, st.HeadErr = conn.client.BlockNumber(ctx)
	if sync && st.HeadErr == nil {
		conn.mirror.Sync(ctx) // a failure shows as an old SyncedAt
	}
	if st.Mirror, err = conn.mirror.Status(); err != nil {
		return ChainStatus{}, err
	}
	return st, nil
}

// RevokedOnChain asks the registry itself (not the mirror) when a grant
// this wallet issued was revoked; the zero time means it is not revoked.
// The UI uses it to confirm a revocation it just submitted.
func (w *Wallet) RevokedOnChain(ctx context.Context, cfg ChainConfig, g GrantRecord) (time.Time, error) {
	secret, err := w.RevocationSecretOf(g)
	if err != nil {
		return time.Time{}, err
	}
	conn, err := w.connect(ctx, cfg)
	if err != nil {
		return time.Time{}, err
	}
	defer conn.Close()
	id := cfg.revocationID(secret)
	at, err := conn.reg.RevokedAt(ctx, id)
	if err != nil || at == 0 {
		return time.Time{}, err
	}
	return time.Unix(int64(at), 0).UTC(), nil
}
