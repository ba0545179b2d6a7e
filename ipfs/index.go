package ipfs

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/ipfs/go-cid"
	bolt "go.etcd.io/bbolt"

	"github.com/healthwallet/healthwallet/internal/boltfile"
)

// index records which DAG roots each stored block belongs to. The gate asks
// it whether a requested block is part of a DAG a peer may read; GC asks it
// which blocks a root owns. Keys are CIDs of ciphertext: nothing here says
// anything about content.
//
//	roots:  root CID → number of blocks
//	blocks: len(block) ‖ block CID ‖ root CID → (empty)
//
// The file is opened per transaction (package boltfile), so the node and
// CLI commands can share a store.
type index struct{ db *boltfile.File }

var (
	bucketRoots  = []byte("roots")
	bucketBlocks = []byte("blocks")
)

// ErrStoreInUse: another process held the block index for too long.
var ErrStoreInUse = boltfile.ErrBusy

func openIndex(path string) (*index, error) {
	db, err := boltfile.Open(path, 0, func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketRoots, bucketBlocks} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("failed to open block index: %w", err)
	}
	return &index{db: db}, nil
}

func (x *index) close() error { return nil }

func blockKey(block, root cid.Cid) []byte {
	b := block.Bytes()
	k := make([]byte, 0, 1+len(b)+len(root.Bytes()))
	k = append(k, byte(len(b)))
	k = append(k, b...)
	return append(k, root.Bytes()...)
}

func blockPrefix(block cid.Cid) []byte {
	b := block.Bytes()
	return append([]byte{byte(len(b))}, b...)
}

func (x *index) addRoot(root cid.Cid, blocks []cid.Cid) error {
	return x.addRoots(map[cid.Cid][]cid.Cid{root: blocks})
}

// addRoots records several DAGs in one transaction.
func (x *index) addRoots(roots map[cid.Cid][]cid.Cid) error {
	return x.db.Update(func(tx *bolt.Tx) error {
		bb := tx.Bucket(bucketBlocks)
		for root, blocks := range roots {
			for _, c := range blocks {
				if err := bb.Put(blockKey(c, root), nil); err != nil {
					return err
				}
			}
			if err := tx.Bucket(bucketRoots).Put(root.Bytes(), binary.BigEndian.AppendUint64(nil, uint64(len(blocks)))); err != nil {
				return err
			}
		}
		return nil
	})
}

// rootsOf returns the roots whose DAG contains block.
func (x *index) rootsOf(block cid.Cid) []cid.Cid {
	var out []cid.Cid
	prefix := blockPrefix(block)
	x.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketBlocks).Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			if r, err := cid.Cast(k[len(prefix):]); err == nil {
				out = append(out, r)
			}
		}
		return nil
	})
	return out
}

func (x *index) roots() []cid.Cid {
	var out []cid.Cid
	x.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketRoots).ForEach(func(k, _ []byte) error {
			if r, err := cid.Cast(k); err == nil {
				out = append(out, r)
			}
			return nil
		})
	})
	return out
}

// removeRoots forgets roots and returns the blocks no remaining root owns.
func (x *index) removeRoots(drop map[cid.Cid]bool) ([]cid.Cid, error) {
	var orphans []cid.Cid
	err := x.db.Update(func(tx *bolt.Tx) error {
		bb := tx.Bucket(bucketBlocks)
		owners := map[string]int{}
		var dropped [][]byte
		c := bb.Cursor()
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			n := int(k[0])
			block := string(k[1 : 1+n])
			root, err := cid.Cast(k[1+n:])
			if err != nil {
				continue
			}
			if drop[root] {
				dropped = append(dropped, bytes.Clone(k))
				if _, ok := owners[block]; !ok {
					owners[block] = 0
				}
			} else {
				owners[block]++
			}
		}
		for _, k := range dropped {
			if err := bb.Delete(k); err != nil {
				return err
			}
		}
		for r := range drop {
			if err := tx.Bucket(bucketRoots).Delete(r.Bytes()); err != nil {
				return err
			}
		}
		for b, n := range owners {
			if n == 0 {
				if c, err := cid.Cast([]byte(b)); err == nil {
					orphans = append(orphans, c)
				}
			}
		}
		return nil
	})
	return orphans, err
}

// blockHashes returns the multihashes of every block some root owns (the
// block store is keyed by multihash, not by CID).
func (x *index) blockHashes() (map[string]bool, error) {
	out := map[string]bool{}
	err := x.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketBlocks).ForEach(func(k, _ []byte) error {
			// A damaged entry stops the sweep rather than let it delete a
			// block some root may own.
			n := int(k[0])
			if 1+n > len(k) {
				return fmt.Errorf("damaged block index entry %x", k)
			}
			c, err := cid.Cast(k[1 : 1+n])
			if err != nil {
				return fmt.Errorf("damaged block index entry %x: %w", k, err)
			}
			out[string(c.Hash())] = true
			return nil
		})
	})
	return out, err
}
