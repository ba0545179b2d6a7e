package ipfs

import (
	"context"
	"fmt"

	"github.com/ipfs/go-cid"
)

// GCResult says what a garbage collection removed.
type GCResult struct {
	Roots  int // DAG roots dropped
	Blocks int // blocks deleted from the block store
}

// GC drops every stored DAG whose root is not in keep and deletes the
// blocks no kept DAG shares. The wallet passes the roots its catalog still
// references.
func (s *Store) GC(ctx context.Context, keep []cid.Cid) (GCResult, error) {
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
	if len(drop) == 0 {
		return GCResult{}, nil
	}
	orphans, err := s.index.removeRoots(drop)
	if err != nil {
		return GCResult{}, fmt.Errorf("failed to update block index: %w", err)
	}
	res := GCResult{Roots: len(drop)}
	for _, b := range orphans {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		if err := s.blocks.DeleteBlock(ctx, b); err != nil {
			return res, fmt.Errorf("failed to delete block %s: %w", b, err)
		}
		res.Blocks++
	}
	return res, nil
}

// Roots lists the DAG roots held in the store.
func (s *Store) Roots() []cid.Cid { return s.index.roots() }
