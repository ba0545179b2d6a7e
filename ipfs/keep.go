package ipfs

import (
	"context"

	"github.com/ipfs/go-cid"
)

// Blocks lists the multihashes of every block in the block store, as raw
// CIDs (the block store is keyed by multihash): what a keeper's tests scan
// to see a patient's copies gone.
func (s *Store) Blocks(ctx context.Context) ([]cid.Cid, error) {
	ch, err := s.blocks.AllKeysChan(ctx)
	if err != nil {
		return nil, err
	}
	var out []cid.Cid
	for c := range ch {
		out = append(out, c)
	}
	return out, ctx.Err()
}
