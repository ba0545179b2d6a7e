package ipfs

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/ipfs/boxo/ipld/merkledag"
	"github.com/ipfs/go-cid"
	carv2 "github.com/ipld/go-car/v2"
	"github.com/ipld/go-car/v2/storage"
)

// ErrBadCAR: a CAR file is malformed, fails integrity checks or lacks part
// of a DAG it names as a root.
var ErrBadCAR = errors.New("invalid CAR file")

// MaxCARBlock bounds a single block read from a CAR (a profile leaf is
// 1 MiB; intermediate nodes are far smaller).
const MaxCARBlock = 2 << 20

// ExportCAR writes the DAGs under roots as one CARv1 stream (blocks in
// depth-first order, each once), so a patient can move their store to
// another node or device.
func (s *Store) ExportCAR(ctx context.Context, w io.Writer, roots ...cid.Cid) error {
	car, err := storage.NewWritable(w, roots, carv2.WriteAsCarV1(true))
	if err != nil {
		return fmt.Errorf("failed to start CAR: %w", err)
	}
	for _, root := range roots {
		var walkErr error
		err := merkledag.Walk(ctx, s.localLinks, root, func(c cid.Cid) bool {
			if walkErr != nil {
				return false
			}
			blk, err := s.blocks.Get(ctx, c)
			if err != nil {
				walkErr = notFound(c, err)
				return false
			}
			walkErr = car.Put(ctx, c.KeyString(), blk.RawData())
			return walkErr == nil
		})
		if err == nil {
			err = walkErr
		}
		if err != nil {
			return fmt.Errorf("failed to export %s: %w", root, notFound(root, err))
		}
	}
	return car.Finalize()
}

// ImportCAR reads a CAR (v1 or v2), verifying every block's hash, stores
// its blocks, and records each root whose DAG is complete. A root whose DAG
// is incomplete is an error; blocks already stored stay (GC removes them).
func (s *Store) ImportCAR(ctx context.Context, r io.Reader) ([]cid.Cid, error) {
	br, err := carv2.NewBlockReader(r, carv2.MaxAllowedSectionSize(MaxCARBlock))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadCAR, err)
	}
	done, err := s.beginWrite()
	if err != nil {
		return nil, err
	}
	defer done()
	for {
		blk, err := br.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrBadCAR, err)
		}
		if err := s.blocks.Put(ctx, blk); err != nil {
			return nil, fmt.Errorf("failed to store block: %w", err)
		}
	}
	for _, root := range br.Roots {
		var dag []cid.Cid
		err := merkledag.Walk(ctx, s.localLinks, root, func(c cid.Cid) bool {
			dag = append(dag, c)
			return true
		})
		if err != nil {
			return nil, fmt.Errorf("%w: root %s: incomplete DAG: %v", ErrBadCAR, root, err)
		}
		for _, c := range dag {
			if ok, _ := s.blocks.Has(ctx, c); !ok {
				return nil, fmt.Errorf("%w: root %s: block %s missing", ErrBadCAR, root, c)
			}
		}
		if err := s.index.addRoot(root, dag); err != nil {
			return nil, err
		}
	}
	return br.Roots, nil
}
