package kubo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/ipfs/boxo/ipld/merkledag"
	"github.com/ipfs/boxo/verifcid"
	"github.com/ipfs/go-cid"
	carv2 "github.com/ipld/go-car/v2"
	"github.com/ipld/go-car/v2/storage"

	"github.com/healthwallet/healthwallet/ipfs"
)

// Errors of the fetcher.
var (
	// ErrBadBlock: a gateway served a block whose bytes do not hash to
	// the CID asked for, a block that is not part of the DAG asked for,
	// or a block larger than any block of ours. The replica is serving
	// wrong data; try another provider.
	ErrBadBlock = errors.New("gateway served a block that does not match its CID")
	// ErrIncomplete: the gateway's answer ended before the DAG was
	// complete.
	ErrIncomplete = errors.New("gateway did not serve the whole DAG")
)

// Mode chooses how a Fetcher asks its gateway for a DAG.
type Mode int

const (
	// ModeCAR asks once for the whole DAG as a CAR
	// (GET /ipfs/{root}?format=car, depth first, no duplicates).
	ModeCAR Mode = iota
	// ModeBlocks asks for one block at a time
	// (GET /ipfs/{cid}?format=raw), depth first.
	ModeBlocks
)

// DefaultFetchTimeout bounds one gateway request of a Fetcher made by
// NewFetcher.
const DefaultFetchTimeout = 5 * time.Minute

// Fetcher reads DAGs from one trustless gateway and verifies every block.
// It is safe for concurrent use.
type Fetcher struct {
	gw   string
	http *http.Client
	// Mode is how the DAG is asked for; ModeCAR unless set.
	Mode Mode
}

// NewFetcher returns a fetcher from the gateway at gatewayURL (e.g.
// "http://127.0.0.1:8080"; requests go to gatewayURL/ipfs/…). hc nil means
// a client with DefaultFetchTimeout.
func NewFetcher(gatewayURL string, hc *http.Client) (*Fetcher, error) {
	base, err := baseURL(gatewayURL)
	if err != nil {
		return nil, fmt.Errorf("gateway URL: %w", err)
	}
	if hc == nil {
		hc = &http.Client{Timeout: DefaultFetchTimeout}
	}
	return &Fetcher{gw: base, http: hc}, nil
}

// URL returns the gateway's base URL.
func (f *Fetcher) URL() string { return f.gw }

// Fetch reads the DAG under root from the gateway into store, which then
// holds it as if it had been imported: the object whose ObjectRef has this
// root can be read with store.Export. Only verified blocks reach the store,
// and the root is recorded only if its whole DAG arrived.
func (f *Fetcher) Fetch(ctx context.Context, root cid.Cid, store *ipfs.Store) error {
	pr, pw := io.Pipe()
	fetched := make(chan error, 1)
	go func() {
		err := f.WriteCAR(ctx, root, pw)
		fetched <- err
		pw.CloseWithError(err)
	}()
	_, ierr := store.ImportCAR(ctx, pr)
	pr.CloseWithError(errStoreEnded)
	// A failed fetch is the cause of whatever the import says.
	if err := <-fetched; err != nil && !errors.Is(err, errStoreEnded) {
		return err
	}
	if ierr != nil {
		return fmt.Errorf("storing %s from gateway %s: %w", root, f.gw, ierr)
	}
	return nil
}

var errStoreEnded = errors.New("store stopped reading")

// WriteCAR reads the DAG under root from the gateway and writes it to w as
// a CARv1 whose only root is root, depth first, each block once. It writes
// only blocks it has verified; on an error what was written is incomplete.
func (f *Fetcher) WriteCAR(ctx context.Context, root cid.Cid, w io.Writer) error {
	if err := verifcid.ValidateCid(verifcid.DefaultAllowlist, root); err != nil {
		return fmt.Errorf("refusing to fetch %s: %w", root, err)
	}
	car, err := storage.NewWritable(w, []cid.Cid{root}, carv2.WriteAsCarV1(true))
	if err != nil {
		return fmt.Errorf("failed to start CAR: %w", err)
	}
	d := &dagCheck{gw: f.gw, want: map[cid.Cid]bool{root: true}, seen: map[cid.Cid]bool{}}
	put := func(c cid.Cid, data []byte) error {
		links, fresh, err := d.accept(c, data)
		if err != nil || !fresh {
			return err
		}
		if err := car.Put(ctx, c.KeyString(), data); err != nil {
			return err
		}
		if f.Mode == ModeBlocks {
			d.stack = append(d.stack, reversed(links)...)
		}
		return nil
	}
	switch f.Mode {
	case ModeCAR:
		err = f.carInto(ctx, root, put)
	case ModeBlocks:
		d.stack = []cid.Cid{root}
		for err == nil && len(d.stack) > 0 {
			c := d.stack[len(d.stack)-1]
			d.stack = d.stack[:len(d.stack)-1]
			if d.seen[c] {
				continue
			}
			var data []byte
			if data, err = f.raw(ctx, c); err == nil {
				err = put(c, data)
			}
		}
	default:
		err = fmt.Errorf("unknown fetch mode %d", f.Mode)
	}
	if err != nil {
		return err
	}
	if err := d.complete(root); err != nil {
		return err
	}
	return car.Finalize()
}

// Block reads one block from the gateway and verifies it against c.
func (f *Fetcher) Block(ctx context.Context, c cid.Cid) ([]byte, error) {
	if err := verifcid.ValidateCid(verifcid.DefaultAllowlist, c); err != nil {
		return nil, fmt.Errorf("refusing to fetch %s: %w", c, err)
	}
	data, err := f.raw(ctx, c)
	if err != nil {
		return nil, err
	}
	if err := verify(f.gw, c, data); err != nil {
		return nil, err
	}
	return data, nil
}

// raw GETs one block, unverified.
func (f *Fetcher) raw(ctx context.Context, c cid.Cid) ([]byte, error) {
	resp, err := f.get(ctx, c, "raw", "application/vnd.ipld.raw")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, ipfs.MaxCARBlock+1))
	if err != nil {
		return nil, fmt.Errorf("%w: gateway %s: reading %s: %v", ErrIncomplete, f.gw, c, err)
	}
	if len(data) > ipfs.MaxCARBlock {
		return nil, fmt.Errorf("%w: gateway %s served more than %d bytes for %s", ErrBadBlock, f.gw, ipfs.MaxCARBlock, c)
	}
	return data, nil
}

// carInto GETs the DAG under root as a CAR and hands each block to put.
func (f *Fetcher) carInto(ctx context.Context, root cid.Cid, put func(cid.Cid, []byte) error) error {
	resp, err := f.get(ctx, root, "car", "application/vnd.ipld.car; version=1; order=dfs; dups=n")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	// Hashes are checked by put, so that a mismatch is ErrBadBlock.
	br, err := carv2.NewBlockReader(resp.Body, carv2.MaxAllowedSectionSize(ipfs.MaxCARBlock), carv2.WithTrustedCAR(true))
	if err != nil {
		return fmt.Errorf("%w: gateway %s: CAR for %s: %v", ErrIncomplete, f.gw, root, err)
	}
	for {
		blk, err := br.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%w: gateway %s: CAR for %s: %v", ErrIncomplete, f.gw, root, err)
		}
		if err := put(blk.Cid(), blk.RawData()); err != nil {
			return err
		}
	}
}

// get sends GET /ipfs/{c}?format=format and checks the status.
func (f *Fetcher) get(ctx context.Context, c cid.Cid, format, accept string) (*http.Response, error) {
	u := f.gw + "/ipfs/" + c.String() + "?format=" + format
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", accept)
	resp, err := f.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("gateway %s: %w", f.gw, err)
	}
	if resp.StatusCode == http.StatusOK {
		return resp, nil
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	resp.Body.Close()
	msg := fmt.Sprintf("gateway %s: %s: HTTP %d: %s", f.gw, c, resp.StatusCode, strings.TrimSpace(string(b)))
	if resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone {
		return nil, fmt.Errorf("%w: %s", ipfs.ErrNotFound, msg)
	}
	return nil, errors.New(msg)
}

// dagCheck admits only blocks of the DAG being fetched: each must be the
// root or linked from a block admitted before, and hash to its CID.
type dagCheck struct {
	gw    string
	want  map[cid.Cid]bool // linked, not yet received
	seen  map[cid.Cid]bool // received and verified
	stack []cid.Cid        // ModeBlocks: still to ask for, next on top
}

// accept verifies one block and returns its links. fresh is false for a
// block already admitted (a duplicate, skipped).
func (d *dagCheck) accept(c cid.Cid, data []byte) (links []cid.Cid, fresh bool, err error) {
	if d.seen[c] {
		return nil, false, nil
	}
	if !d.want[c] {
		return nil, false, fmt.Errorf("%w: gateway %s served %s, which is not part of the DAG asked for", ErrBadBlock, d.gw, c)
	}
	if err := verify(d.gw, c, data); err != nil {
		return nil, false, err
	}
	switch c.Prefix().Codec {
	case cid.Raw:
	case cid.DagProtobuf:
		nd, err := merkledag.DecodeProtobuf(data)
		if err != nil {
			return nil, false, fmt.Errorf("%s is not a dag-pb node: %w", c, err)
		}
		for _, l := range nd.Links() {
			if err := verifcid.ValidateCid(verifcid.DefaultAllowlist, l.Cid); err != nil {
				return nil, false, fmt.Errorf("%s links to %s: %w", c, l.Cid, err)
			}
			links = append(links, l.Cid)
		}
	default:
		return nil, false, fmt.Errorf("%s: unsupported codec %#x", c, c.Prefix().Codec)
	}
	delete(d.want, c)
	d.seen[c] = true
	for _, l := range links {
		if !d.seen[l] {
			d.want[l] = true
		}
	}
	return links, true, nil
}

// complete fails unless every linked block was received.
func (d *dagCheck) complete(root cid.Cid) error {
	if len(d.want) == 0 {
		return nil
	}
	var some cid.Cid
	for c := range d.want {
		some = c
		break
	}
	return fmt.Errorf("%w: gateway %s: %s lacks %d blocks (e.g. %s)", ErrIncomplete, d.gw, root, len(d.want), some)
}

// verify checks that data hashes to c.
func verify(gw string, c cid.Cid, data []byte) error {
	got, err := c.Prefix().Sum(data)
	if err != nil {
		return fmt.Errorf("hashing %s: %w", c, err)
	}
	if !got.Equals(c) {
		return fmt.Errorf("%w: gateway %s served %d bytes for %s that hash to %s", ErrBadBlock, gw, len(data), c, got)
	}
	return nil
}

func reversed(cs []cid.Cid) []cid.Cid {
	out := slices.Clone(cs)
	slices.Reverse(out)
	return out
}
