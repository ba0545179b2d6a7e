package ipfs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/ipfs/boxo/blockservice"
	"github.com/ipfs/boxo/blockstore"
	chunker "github.com/ipfs/boxo/chunker"
	"github.com/ipfs/boxo/ipld/merkledag"
	"github.com/ipfs/boxo/ipld/unixfs"
	"github.com/ipfs/boxo/ipld/unixfs/importer/balanced"
	"github.com/ipfs/boxo/ipld/unixfs/importer/helpers"
	uio "github.com/ipfs/boxo/ipld/unixfs/io"
	"github.com/ipfs/go-cid"
	ds "github.com/ipfs/go-datastore"
	dssync "github.com/ipfs/go-datastore/sync"
	flatfs "github.com/ipfs/go-ds-flatfs"
	ipld "github.com/ipfs/go-ipld-format"
)

// Profile is the UnixFS import profile for every DAG this package builds:
// IPIP-499 unixfs-v1-2025.
var Profile = uio.UnixFS_v1_2025

// ChunkSize is the leaf size of Profile: 1 MiB.
const ChunkSize = 1 << 20

// Errors of the store.
var (
	// ErrNotFound: a block or object is not in the store.
	ErrNotFound = errors.New("not in the local block store")
	// ErrSize: the content did not match its declared size.
	ErrSize = errors.New("content size does not match")
)

// Progress receives bytes done and bytes in total during an import or
// export; total is -1 when unknown. It is called from the working goroutine
// at most once per MiB and once at the end.
type Progress func(done, total int64)

// Store is an encrypted object store over a block store. It is safe for
// concurrent use.
type Store struct {
	blocks blockstore.Blockstore
	dag    ipld.DAGService
	index  *index
	dir    string
	closer func() error
}

// StoreOptions tune OpenStore.
type StoreOptions struct {
	// InMemory keeps blocks in memory (unit tests only). The index still
	// lives in dir.
	InMemory bool
	// NoSync skips fsync per block (benchmarks of the import path only).
	NoSync bool
}

// OpenStore opens or creates the store under dir: blocks in dir/blocks
// (flatfs, next-to-last/2 sharding, fsync per block) and the block index in
// dir/index.db.
func OpenStore(dir string, opts StoreOptions) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("failed to create block store directory: %w", err)
	}
	var d ds.Batching
	closeDS := func() error { return nil }
	if opts.InMemory {
		d = dssync.MutexWrap(ds.NewMapDatastore())
	} else {
		f, err := flatfs.CreateOrOpen(filepath.Join(dir, "blocks"), flatfs.NextToLast(2), !opts.NoSync)
		if err != nil {
			return nil, fmt.Errorf("failed to open block store: %w", err)
		}
		d, closeDS = f, f.Close
	}
	idx, err := openIndex(filepath.Join(dir, "index.db"))
	if err != nil {
		closeDS()
		return nil, err
	}
	bs := blockstore.NewBlockstore(d, blockstore.NoPrefix())
	s := &Store{
		blocks: bs,
		dag:    merkledag.NewDAGService(blockservice.New(bs, nil)),
		index:  idx,
		dir:    dir,
	}
	s.closer = func() error { return errors.Join(idx.close(), closeDS()) }
	return s, nil
}

// Close closes the block store and index.
func (s *Store) Close() error { return s.closer() }

// Import encrypts size bytes of content under a fresh key and stores them.
func (s *Store) Import(ctx context.Context, content io.Reader, size int64, progress Progress) (ObjectRef, error) {
	id, key := NewKey()
	sealed, err := sealReader(newCountingReader(content, size, progress), size, id, key)
	if err != nil {
		return ObjectRef{}, err
	}
	defer sealed.Close()
	root, err := s.importDAG(ctx, sealed)
	if err != nil {
		return ObjectRef{}, err
	}
	return ObjectRef{Root: root, ID: id, Key: key, Size: size}, nil
}

// ImportPlain stores r unencrypted as a UnixFS file with [Profile] and
// returns its CID. healthwallet never stores health data this way; it is the
// baseline for benchmarks and the path for public, non-sensitive files.
func (s *Store) ImportPlain(ctx context.Context, r io.Reader, progress Progress) (cid.Cid, error) {
	return s.importDAG(ctx, newCountingReader(r, -1, progress))
}

// importDAG builds the UnixFS file DAG and records its blocks in the index.
func (s *Store) importDAG(ctx context.Context, r io.Reader) (cid.Cid, error) {
	done, err := s.beginWrite()
	if err != nil {
		return cid.Undef, err
	}
	defer done()
	rec := &recordingDAG{DAGService: s.dag, ctx: ctx}
	root, err := buildDAG(rec, r)
	if err != nil {
		return cid.Undef, err
	}
	if err := s.index.addRoot(root, rec.cids); err != nil {
		return cid.Undef, err
	}
	return root, nil
}

// buildDAG imports r as a UnixFS file with Profile into dag.
func buildDAG(dag ipld.DAGService, r io.Reader) (cid.Cid, error) {
	params := helpers.DagBuilderParams{
		Maxlinks:   Profile.FileDAGWidth,
		RawLeaves:  Profile.RawLeaves,
		CidBuilder: Profile.CidBuilder(),
		Dagserv:    dag,
	}
	db, err := params.New(chunker.NewSizeSplitter(r, Profile.ChunkSize))
	if err != nil {
		return cid.Undef, err
	}
	nd, err := balanced.Layout(db)
	if err != nil {
		return cid.Undef, fmt.Errorf("failed to import: %w", err)
	}
	return nd.Cid(), nil
}

// recordingDAG remembers the CIDs added through it.
type recordingDAG struct {
	ipld.DAGService
	ctx  context.Context
	cids []cid.Cid
}

func (r *recordingDAG) Add(ctx context.Context, n ipld.Node) error {
	if err := r.ctx.Err(); err != nil {
		return err
	}
	r.cids = append(r.cids, n.Cid())
	return r.DAGService.Add(ctx, n)
}

func (r *recordingDAG) AddMany(ctx context.Context, ns []ipld.Node) error {
	for _, n := range ns {
		r.cids = append(r.cids, n.Cid())
	}
	return r.DAGService.AddMany(ctx, ns)
}

// Export decrypts the object ref from the local store into w.
func (s *Store) Export(ctx context.Context, ref ObjectRef, w io.Writer, progress Progress) error {
	return readObject(ctx, s.readLocal, ref, w, progress)
}

// ExportPlain writes the bytes of the UnixFS file root to w.
func (s *Store) ExportPlain(ctx context.Context, root cid.Cid, w io.Writer) error {
	return s.readLocal(ctx, root, w)
}

// readLocal streams a UnixFS file from the local store, one block at a
// time, depth first. boxo's DagReader preloads ten leaves ahead, which pays
// off over the network (see Node.Fetch) but only costs memory on a local
// disk.
func (s *Store) readLocal(ctx context.Context, c cid.Cid, w io.Writer) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	nd, err := s.dag.Get(ctx, c)
	if err != nil {
		return notFound(c, err)
	}
	switch n := nd.(type) {
	case *merkledag.RawNode:
		_, err := w.Write(n.RawData())
		return err
	case *merkledag.ProtoNode:
		fsn, err := unixfs.FSNodeFromBytes(n.Data())
		if err != nil {
			return fmt.Errorf("%s is not a UnixFS node: %w", c, err)
		}
		if t := fsn.Type(); t != unixfs.TFile && t != unixfs.TRaw {
			return fmt.Errorf("%s is a UnixFS %s, not a file", c, t)
		}
		if _, err := w.Write(fsn.Data()); err != nil {
			return err
		}
		for _, l := range n.Links() {
			if err := s.readLocal(ctx, l.Cid, w); err != nil {
				return err
			}
		}
		return nil
	}
	return fmt.Errorf("%s: unsupported codec %d", c, c.Prefix().Codec)
}

// Has reports whether every block of the DAG under root is stored locally.
func (s *Store) Has(ctx context.Context, root cid.Cid) (bool, error) {
	complete := true
	err := merkledag.Walk(ctx, s.localLinks, root, func(c cid.Cid) bool {
		ok, err := s.blocks.Has(ctx, c)
		if err != nil || !ok {
			complete = false
			return false
		}
		return true
	})
	if errors.Is(err, ipld.ErrNotFound{}) || ipld.IsNotFound(err) {
		return false, nil
	}
	return complete && err == nil, err
}

// localLinks lists the links of a stored node without touching the network.
func (s *Store) localLinks(ctx context.Context, c cid.Cid) ([]*ipld.Link, error) {
	if c.Prefix().Codec == cid.Raw {
		return nil, nil
	}
	nd, err := s.dag.Get(ctx, c)
	if err != nil {
		return nil, err
	}
	return nd.Links(), nil
}

// fileReader streams the UnixFS file root into w.
type fileReader func(ctx context.Context, root cid.Cid, w io.Writer) error

// dagFileReader reads through boxo's DagReader over ng (with preloading).
func dagFileReader(ng ipld.NodeGetter) fileReader {
	return func(ctx context.Context, root cid.Cid, w io.Writer) error { return readFile(ctx, ng, root, w) }
}

// readObject reads ref's DAG with read and decrypts it into w.
func readObject(ctx context.Context, read fileReader, ref ObjectRef, w io.Writer, progress Progress) error {
	pr, pw := io.Pipe()
	fetched := make(chan error, 1)
	go func() {
		err := read(ctx, ref.Root, pw)
		fetched <- err
		pw.CloseWithError(err)
	}()
	defer pr.Close()
	// A failure to fetch (missing block, cancelled) is reported as itself,
	// not as the authentication failure it causes downstream.
	fail := func(err error) error {
		pr.CloseWithError(err)
		if ferr := <-fetched; ferr != nil && !errors.Is(ferr, io.ErrClosedPipe) && !errors.Is(ferr, err) {
			return ref.errorf(ferr)
		}
		return ref.errorf(err)
	}
	content, size, err := openReader(pr, ref.ID, ref.Key)
	if err != nil {
		return fail(err)
	}
	if size != ref.Size {
		return fail(fmt.Errorf("%w: object holds %d bytes, reference says %d", ErrTampered, size, ref.Size))
	}
	cw := &countingWriter{w: w, progressCounter: progressCounter{total: size, progress: progress}}
	if _, err := io.Copy(cw, content); err != nil {
		return fail(err)
	}
	cw.finish()
	return nil
}

// readFile streams the UnixFS file root from ng into w.
func readFile(ctx context.Context, ng ipld.NodeGetter, root cid.Cid, w io.Writer) error {
	nd, err := ng.Get(ctx, root)
	if err != nil {
		return notFound(root, err)
	}
	dr, err := uio.NewDagReader(ctx, nd, ng)
	if err != nil {
		return fmt.Errorf("%s is not a UnixFS file: %w", root, err)
	}
	defer dr.Close()
	if _, err := dr.WriteTo(w); err != nil {
		return notFound(root, err)
	}
	return nil
}

func notFound(root cid.Cid, err error) error {
	if ipld.IsNotFound(err) {
		return fmt.Errorf("%w: %s: %v", ErrNotFound, root, err)
	}
	return err
}

// progressCounter calls a Progress at most once per ChunkSize bytes and
// once at the end.
type progressCounter struct {
	done, total, last int64
	progress          Progress
}

func (c *progressCounter) add(n int, final bool) {
	c.done += int64(n)
	if c.progress != nil && (c.done-c.last >= ChunkSize || final && (c.done != c.last || c.done == 0)) {
		c.last = c.done
		c.progress(c.done, c.total)
	}
}

// countingReader reports progress while reading.
type countingReader struct {
	r io.Reader
	progressCounter
}

func newCountingReader(r io.Reader, total int64, p Progress) *countingReader {
	return &countingReader{r: r, progressCounter: progressCounter{total: total, progress: p}}
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.add(n, err == io.EOF || c.done+int64(n) == c.total)
	return n, err
}

// countingWriter reports progress while writing; call finish at the end.
type countingWriter struct {
	w io.Writer
	progressCounter
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.add(n, false)
	return n, err
}

func (c *countingWriter) finish() { c.add(0, true) }
