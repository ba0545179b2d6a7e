// Package revocation keeps a verifier's local mirror of the revocation
// registry's Revoked events, so checking a grant does not tell the RPC
// operator which grant is being checked.
//
// # Policy
//
// [Mirror.RevokedAt] first tries a quick incremental sync (new blocks only).
// If the chain answers, the mirror is current and answers. If it does not,
// the mirror still answers when its last successful sync is younger than
// Config.MaxAge (default 5 minutes): within that window it is authoritative.
// Older than that, it asks the registry's revokedAtBatch directly (which
// reveals the ids to the RPC operator, so it is only the fallback), and if
// that fails too it refuses: the status is unknown, and grant verification
// fails closed.
//
// # Reorgs
//
// The mirror remembers the hashes of the last Config.Depth blocks it has
// seen. Each sync first checks that its newest remembered block is still on
// the chain; if not, it walks back to the newest block that is, forgets the
// events above it, and rescans from there. A reorg deeper than Depth resets
// the mirror and rescans from the registry's deployment block. Events in
// unconfirmed blocks count at once: treating a revocation as effective early
// is the safe side.
//
// # Failing closed
//
// Only a block the chain confirms it does not have ([ErrBlockNotFound])
// counts as gone. Any other error while checking (a timeout, a refused
// connection, a 5xx from a load balancer) aborts the sync and leaves the
// mirror exactly as it was, still aging towards Config.MaxAge. A head lower
// than the mirror's last synced block (a lagging backend behind a load
// balancer) is not a reorg either: the sync reports [ErrBehind] and changes
// nothing. When a reorg does roll the mirror back, or resets it, the mirror
// stops counting as fresh until a sync completes again, so while the chain
// is unreachable it is the registry's revokedAtBatch, or a refusal, that
// answers, never a mirror that just forgot events.
package revocation

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"
	bolt "go.etcd.io/bbolt"

	"github.com/healthwallet/healthwallet/internal/boltfile"
	"github.com/healthwallet/healthwallet/share/registry"
)

// Source is the chain as the mirror sees it.
type Source interface {
	// HeadNumber returns the latest block number.
	HeadNumber(ctx context.Context) (uint64, error)
	// BlockHash returns the hash of block n. It returns an error wrapping
	// ErrBlockNotFound only when the chain confirms it has no block n; any
	// other error means the answer is unknown.
	BlockHash(ctx context.Context, n uint64) (common.Hash, error)
	// Events returns the Revoked events in blocks from..to inclusive.
	Events(ctx context.Context, from, to uint64) ([]registry.Event, error)
	// RevokedAtBatch asks the registry directly.
	RevokedAtBatch(ctx context.Context, ids [][32]byte) ([]uint64, error)
}

// Config tunes a Mirror.
type Config struct {
	// MaxAge is how long after its last successful sync the mirror answers
	// alone when the chain is unreachable. Default 5 minutes; negative means
	// never (only a successful sync or the direct fallback answers).
	MaxAge time.Duration
	// Depth is how many recent block hashes are kept to detect reorgs.
	// Default 64.
	Depth uint64
	// SyncTimeout bounds the sync attempted before each answer. Default 3 s.
	SyncTimeout time.Duration
	// StartBlock is where scanning starts (the registry's deployment block).
	StartBlock uint64
	// ChunkSize is the most blocks asked for in one log query. Default 5000.
	ChunkSize uint64
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Errors of the mirror. RevokedAt's errors read as the end of
// "revocation status unknown: …".
var (
	ErrUnreachable = errors.New("registry unreachable")
	ErrInUse       = boltfile.ErrBusy
	// ErrBlockNotFound is what a Source's BlockHash returns (wrapped) when
	// the chain confirms it has no such block: the only answer that counts
	// as a reorg.
	ErrBlockNotFound = errors.New("block not found")
	// ErrBehind: the chain's head is below the block the mirror has already
	// synced (a lagging RPC backend). The mirror keeps its state. It wraps
	// ErrUnreachable, since the chain gave no usable answer.
	ErrBehind = fmt.Errorf("%w: chain head is behind the mirror", ErrUnreachable)
)

var (
	bucketMeta   = []byte("meta")
	bucketEvents = []byte("events") // id → at(8) ‖ block(8)
	bucketHashes = []byte("hashes") // block(8) → hash(32)
	keyIdentity  = []byte("identity")
	keySynced    = []byte("synced")   // block(8)
	keySyncedAt  = []byte("syncedAt") // unix nanoseconds(8)
)

// Mirror is a persisted, incremental copy of the registry's events. Its
// file is opened per transaction, so several processes may share it.
type Mirror struct {
	db  *boltfile.File
	src Source
	cfg Config

	mu        sync.Mutex // one sync at a time
	persisted time.Time  // syncedAt this Mirror last wrote (under mu)
}

// syncedAtEvery is how often a sync that found no new block writes its
// time to the file. A serving node syncs every 500 ms; the freshness
// policy counts in minutes, and a syncedAt up to this much older than the
// truth only makes the mirror look staler, never fresher.
const syncedAtEvery = time.Second

// Open opens or creates the mirror at path for one registry on one chain.
// A file made for another chain or registry is reset.
func Open(path string, src Source, chainID uint64, reg common.Address, cfg Config) (*Mirror, error) {
	if cfg.MaxAge == 0 {
		cfg.MaxAge = 5 * time.Minute
	}
	if cfg.Depth == 0 {
		cfg.Depth = 64
	}
	if cfg.SyncTimeout == 0 {
		cfg.SyncTimeout = 3 * time.Second
	}
	if cfg.ChunkSize == 0 {
		cfg.ChunkSize = 5000
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	identity := binary.BigEndian.AppendUint64(reg.Bytes(), chainID)
	db, err := boltfile.Open(path, 0, func(tx *bolt.Tx) error {
		meta, err := tx.CreateBucketIfNotExists(bucketMeta)
		if err != nil {
			return err
		}
		if old := meta.Get(keyIdentity); old != nil && string(old) != string(identity) {
			for _, b := range [][]byte{bucketEvents, bucketHashes} {
				if tx.Bucket(b) != nil {
					if err := tx.DeleteBucket(b); err != nil {
						return err
					}
				}
			}
			meta.Delete(keySynced)
			meta.Delete(keySyncedAt)
		}
		for _, b := range [][]byte{bucketEvents, bucketHashes} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return meta.Put(keyIdentity, identity)
	})
	if err != nil {
		return nil, fmt.Errorf("failed to open revocation mirror: %w", err)
	}
	return &Mirror{db: db, src: src, cfg: cfg}, nil
}

// Close forgets the mirror; nothing stays open between transactions.
func (m *Mirror) Close() error { return nil }

func u64(b []byte) uint64 { return binary.BigEndian.Uint64(b) }
func be(n uint64) []byte  { return binary.BigEndian.AppendUint64(nil, n) }

// Status describes the mirror.
type Status struct {
	SyncedBlock uint64
	SyncedAt    time.Time // zero if never synced
	Events      int
}

// Status returns the mirror's state, or the error reading its file.
func (m *Mirror) Status() (Status, error) {
	var s Status
	err := m.db.View(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if b := meta.Get(keySynced); b != nil {
			s.SyncedBlock = u64(b)
		}
		if b := meta.Get(keySyncedAt); b != nil {
			s.SyncedAt = time.Unix(0, int64(u64(b)))
		}
		s.Events = tx.Bucket(bucketEvents).Stats().KeyN
		return nil
	})
	if err != nil {
		return Status{}, fmt.Errorf("failed to read revocation mirror: %w", err)
	}
	return s, nil
}

// Sync brings the mirror up to the chain's head. On any error but a
// confirmed reorg the mirror is left as it was.
func (m *Mirror) Sync(ctx context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	head, err := m.src.HeadNumber(ctx)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrUnreachable, err)
	}
	next, err := m.rewind(ctx, head)
	if err != nil {
		return err
	}
	now := m.cfg.Now()
	if next > head && !m.persisted.IsZero() && now.Sub(m.persisted) >= 0 && now.Sub(m.persisted) < syncedAtEvery {
		return nil // nothing new, and syncedAt was written just now
	}
	for from := next; from <= head; from += m.cfg.ChunkSize {
		to := min(from+m.cfg.ChunkSize-1, head)
		evs, err := m.src.Events(ctx, from, to)
		if err != nil {
			return fmt.Errorf("%w: %v", ErrUnreachable, err)
		}
		// Remember the hashes of the blocks near the head, for reorgs.
		hashes := map[uint64]common.Hash{}
		lo := max(from, to-min(to, m.cfg.Depth-1))
		for n := lo; n <= to; n++ {
			h, err := m.src.BlockHash(ctx, n)
			if err != nil {
				return fmt.Errorf("%w: %v", ErrUnreachable, err)
			}
			hashes[n] = h
		}
		err = m.db.Update(func(tx *bolt.Tx) error {
			eb := tx.Bucket(bucketEvents)
			for _, e := range evs {
				if eb.Get(e.ID[:]) != nil {
					continue // first revocation wins, as on chain
				}
				if err := eb.Put(e.ID[:], append(be(e.At), be(e.Block)...)); err != nil {
					return err
				}
			}
			hb := tx.Bucket(bucketHashes)
			for n, h := range hashes {
				if err := hb.Put(be(n), h.Bytes()); err != nil {
					return err
				}
			}
			// Keep only the last Depth hashes.
			c := hb.Cursor()
			for k, _ := c.First(); k != nil && u64(k)+m.cfg.Depth <= to; k, _ = c.Next() {
				if err := c.Delete(); err != nil {
					return err
				}
			}
			return tx.Bucket(bucketMeta).Put(keySynced, be(to))
		})
		if err != nil {
			return err
		}
	}
	err = m.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketMeta).Put(keySyncedAt, be(uint64(now.UnixNano())))
	})
	if err == nil {
		m.persisted = now
	}
	return err
}

// rewind checks the remembered blocks against the chain and returns the
// first block to scan, undoing what a reorg replaced. Only ErrBlockNotFound
// counts as a block gone; any other error returns before anything changes.
// A head below the synced block returns ErrBehind, also changing nothing.
func (m *Mirror) rewind(ctx context.Context, head uint64) (uint64, error) {
	var synced uint64
	var have bool
	var known []uint64
	var hashes = map[uint64]common.Hash{}
	err := m.db.View(func(tx *bolt.Tx) error {
		if b := tx.Bucket(bucketMeta).Get(keySynced); b != nil {
			synced, have = u64(b), true
		}
		return tx.Bucket(bucketHashes).ForEach(func(k, v []byte) error {
			known = append(known, u64(k))
			hashes[u64(k)] = common.BytesToHash(v)
			return nil
		})
	})
	if err != nil {
		return 0, fmt.Errorf("failed to read revocation mirror: %w", err)
	}
	if !have {
		return m.cfg.StartBlock, nil
	}
	if head < synced {
		return 0, fmt.Errorf("%w (head %d, mirror at %d)", ErrBehind, head, synced)
	}
	// Newest first: the first remembered block still on the chain.
	for i := len(known) - 1; i >= 0; i-- {
		n := known[i]
		h, err := m.src.BlockHash(ctx, n)
		if errors.Is(err, ErrBlockNotFound) {
			// Confirmed gone (chain shorter after a reorg): go deeper.
			continue
		}
		if err != nil {
			return 0, fmt.Errorf("%w: %v", ErrUnreachable, err)
		}
		if h == hashes[n] {
			if n == synced {
				return synced + 1, nil
			}
			return n + 1, m.rollback(n)
		}
	}
	// Deeper than we remember: start over.
	return m.cfg.StartBlock, m.reset()
}

// rollback forgets events and hashes above block keep. The mirror is no
// longer fresh until the next complete sync.
func (m *Mirror) rollback(keep uint64) error {
	m.persisted = time.Time{}
	return m.db.Update(func(tx *bolt.Tx) error {
		eb := tx.Bucket(bucketEvents)
		c := eb.Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if u64(v[8:]) > keep {
				if err := c.Delete(); err != nil {
					return err
				}
			}
		}
		hc := tx.Bucket(bucketHashes).Cursor()
		for k, _ := hc.First(); k != nil; k, _ = hc.Next() {
			if u64(k) > keep {
				if err := hc.Delete(); err != nil {
					return err
				}
			}
		}
		meta := tx.Bucket(bucketMeta)
		if err := meta.Delete(keySyncedAt); err != nil {
			return err
		}
		return meta.Put(keySynced, be(keep))
	})
}

// reset forgets everything the mirror learned, freshness included.
func (m *Mirror) reset() error {
	m.persisted = time.Time{}
	return m.db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketEvents, bucketHashes} {
			if err := tx.DeleteBucket(b); err != nil {
				return err
			}
			if _, err := tx.CreateBucket(b); err != nil {
				return err
			}
		}
		meta := tx.Bucket(bucketMeta)
		if err := meta.Delete(keySyncedAt); err != nil {
			return err
		}
		return meta.Delete(keySynced)
	})
}

// local answers from the mirror.
func (m *Mirror) local(ids [][32]byte) ([]uint64, error) {
	out := make([]uint64, len(ids))
	err := m.db.View(func(tx *bolt.Tx) error {
		eb := tx.Bucket(bucketEvents)
		for i, id := range ids {
			if v := eb.Get(id[:]); v != nil {
				out[i] = u64(v[:8])
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("failed to read revocation mirror: %w", err)
	}
	return out, nil
}

// RevokedAt implements grant.Revocations with the policy in the package
// doc.
func (m *Mirror) RevokedAt(ctx context.Context, ids [][32]byte) ([]uint64, error) {
	sctx, cancel := context.WithTimeout(ctx, m.cfg.SyncTimeout)
	syncErr := m.Sync(sctx)
	cancel()
	if syncErr == nil {
		return m.local(ids)
	}
	st, err := m.Status()
	if err != nil {
		return nil, err
	}
	if !st.SyncedAt.IsZero() && m.cfg.MaxAge > 0 && m.cfg.Now().Sub(st.SyncedAt) <= m.cfg.MaxAge {
		return m.local(ids)
	}
	if at, err := m.src.RevokedAtBatch(ctx, ids); err == nil {
		return at, nil
	}
	if st.SyncedAt.IsZero() {
		return nil, fmt.Errorf("%w (no local mirror yet): %v", ErrUnreachable, errors.Unwrap(syncErr))
	}
	if m.cfg.MaxAge <= 0 {
		return nil, fmt.Errorf("%w, and the local mirror may not answer alone", ErrUnreachable)
	}
	return nil, fmt.Errorf("%w; local mirror last synced %s ago (limit %s)", ErrUnreachable,
		m.cfg.Now().Sub(st.SyncedAt).Round(time.Second), m.cfg.MaxAge)
}
