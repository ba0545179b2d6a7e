package ipfs

import (
	"context"
	"fmt"

	"github.com/ipfs/go-cid"
)

// GCResult says what a garbage collection removed.
type GCResult struct {
	Roots  int // DAG roots dropped
	Blocks int // blocks deleted from the block store, Stray included
	// Stray counts the deleted blocks no index entry named: blocks of an
	// import or fetch that stopped (a crash, a kill) between writing its
	// blocks and recording them in the index.
	Stray int
	// Deferred is true when an import or fetch was writing during the GC,
	// so unindexed blocks were left alone: they may be that write's. The
	// next GC sweeps them.
	Deferred bool
}

// GC drops every stored DAG whose root is not in keep, then deletes every
// block of the block store that no kept DAG contains. The wallet passes the
// roots its catalog still references.
//
// It works in two passes. The first forgets the dropped roots in the block
// index and deletes the blocks only they owned. The second walks the block
// store itself (every key flatfs holds) and deletes the blocks the index
// does not name at all, so a crash at any point of an import or fetch
// leaves nothing behind for good. The second pass runs only while no
// import or fetch is writing (see the write lock); otherwise GC sets
// Deferred and the next GC does it.
func (s *Store) GC(ctx context.Context, keep []cid.Cid) (GCResult, error) {
	unlock, sweep, err := s.trySweepLock()
	if err != nil {
		return GCResult{}, err
	}
	if sweep {
		defer unlock()
	}
	res := GCResult{Deferred: !sweep}
	kept := make(map[cid.Cid]bool, len(keep))
	for _, c := range keep {
		kept[c] = true
	}
	drop := map[cid.Cid]bool{}
	for _, r := range s.index.roots() {
		if !kept[r] {
			drop[r] = true
		}
	}
	if len(drop) > 0 {
		orphans, err := s.index.removeRoots(drop)
		if err != nil {
			return res, fmt.Errorf("failed to update block index: %w", err)
		}
		res.Roots = len(drop)
		for _, b := range orphans {
			if err := ctx.Err(); err != nil {
				return res, err
			}
			if err := s.blocks.DeleteBlock(ctx, b); err != nil {
				return res, fmt.Errorf("failed to delete block %s: %w", b, err)
			}
			res.Blocks++
		}
	}
	if !sweep {
		return res, nil
	}
	n, err := s.sweep(ctx)
	res.Blocks += n
	res.Stray = n
	return res, err
}

// sweep deletes the blocks of the block store that the index does not
// name. The caller holds the write lock exclusively.
func (s *Store) sweep(ctx context.Context) (int, error) {
	indexed, err := s.index.blockHashes()
	if err != nil {
		return 0, fmt.Errorf("failed to read block index: %w", err)
	}
	stored, err := s.Blocks(ctx)
	if err != nil {
		return 0, fmt.Errorf("failed to list the block store: %w", err)
	}
	n := 0
	for _, c := range stored {
		if indexed[string(c.Hash())] {
			continue
		}
		if err := s.blocks.DeleteBlock(ctx, c); err != nil {
			return n, fmt.Errorf("failed to delete block %s: %w", c, err)
		}
		n++
	}
	return n, nil
}

// Roots lists the DAG roots held in the store.
func (s *Store) Roots() []cid.Cid { return s.index.roots() }
