package ipfs

import (
	"context"
	"fmt"
	"io"
	"sync"

	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"
)

// MaxBatchObject bounds one object of ImportBatch; larger content goes
// through the streaming Import.
const MaxBatchObject = 8 << 20

// ImportBatch encrypts many small objects (FHIR resources, typically) and
// stores them with one block-store batch and one index transaction, instead
// of an fsync per object. It is all or nothing for the index: on error no
// root is recorded.
//
// The write order, which the crash tests hold it to:
//
//  1. Seal and chunk every object in memory. Nothing is on disk; a crash
//     here leaves nothing.
//  2. Write every block (PutMany; flatfs writes each to a temporary file
//     and renames it into place). A crash here or before step 3 leaves
//     blocks that no index entry names: [Store.GC] walks the block store
//     and deletes them.
//  3. Record every root and its blocks in one index transaction. A crash
//     after this leaves indexed roots the caller's catalog may not name
//     yet: GC drops them as roots not kept.
//
// Steps 2 and 3 run under the store's write lock, so a GC running at the
// same time does not take these blocks for strays.
func (s *Store) ImportBatch(ctx context.Context, contents [][]byte) ([]ObjectRef, error) {
	refs := make([]ObjectRef, len(contents))
	mem := &memDAG{nodes: map[cid.Cid]ipld.Node{}}
	roots := make(map[cid.Cid][]cid.Cid, len(contents))
	for i, c := range contents {
		if len(c) > MaxBatchObject {
			return nil, fmt.Errorf("object %d is %d bytes: too large for a batch", i, len(c))
		}
		id, key := NewKey()
		sealed, err := sealReader(bytesReader(c), int64(len(c)), id, key)
		if err != nil {
			return nil, err
		}
		rec := &recordingDAG{DAGService: mem, ctx: ctx}
		root, err := buildDAG(rec, sealed)
		sealed.Close()
		if err != nil {
			return nil, err
		}
		roots[root] = rec.cids
		refs[i] = ObjectRef{Root: root, ID: id, Key: key, Size: int64(len(c))}
	}
	blks := make([]blocks.Block, 0, len(mem.nodes))
	for _, n := range mem.nodes {
		blks = append(blks, n)
	}
	done, err := s.beginWrite()
	if err != nil {
		return nil, err
	}
	defer done()
	if err := s.blocks.PutMany(ctx, blks); err != nil {
		return nil, fmt.Errorf("failed to store blocks: %w", err)
	}
	if batchStored != nil {
		if err := batchStored(); err != nil {
			return nil, err
		}
	}
	if err := s.index.addRoots(roots); err != nil {
		return nil, err
	}
	return refs, nil
}

// batchStored, when set (by tests only), runs between steps 2 and 3 of
// ImportBatch; an error stops the import there, as a crash would.
var batchStored func() error

func bytesReader(b []byte) io.Reader { return &byteReader{b: b} }

type byteReader struct{ b []byte }

func (r *byteReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.b)
	r.b = r.b[n:]
	return n, nil
}

// memDAG collects nodes in memory for a batch.
type memDAG struct {
	mu    sync.Mutex
	nodes map[cid.Cid]ipld.Node
}

func (m *memDAG) Add(_ context.Context, n ipld.Node) error {
	m.mu.Lock()
	m.nodes[n.Cid()] = n
	m.mu.Unlock()
	return nil
}

func (m *memDAG) AddMany(ctx context.Context, ns []ipld.Node) error {
	for _, n := range ns {
		m.Add(ctx, n)
	}
	return nil
}

func (m *memDAG) Get(_ context.Context, c cid.Cid) (ipld.Node, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if n, ok := m.nodes[c]; ok {
		return n, nil
	}
	return nil, ipld.ErrNotFound{Cid: c}
}

func (m *memDAG) GetMany(ctx context.Context, cs []cid.Cid) <-chan *ipld.NodeOption {
	out := make(chan *ipld.NodeOption, len(cs))
	for _, c := range cs {
		n, err := m.Get(ctx, c)
		out <- &ipld.NodeOption{Node: n, Err: err}
	}
	close(out)
	return out
}

func (m *memDAG) Remove(_ context.Context, c cid.Cid) error {
	m.mu.Lock()
	delete(m.nodes, c)
	m.mu.Unlock()
	return nil
}

func (m *memDAG) RemoveMany(ctx context.Context, cs []cid.Cid) error {
	for _, c := range cs {
		m.Remove(ctx, c)
	}
	return nil
}
