package keep

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
)

// Client is a patient's side of the protocol, towards one keeper.
type Client struct {
	Host   host.Host     // the patient's host: its peer id is the enrolled node's
	Keeper peer.AddrInfo // where the keeper is
}

// ErrUnreachable wraps a failure to reach the keeper at all.
type ErrUnreachable struct {
	Keeper peer.ID
	Err    error
}

func (e *ErrUnreachable) Error() string {
	return fmt.Sprintf("keeper %s unreachable: %v", e.Keeper, e.Err)
}

func (e *ErrUnreachable) Unwrap() error { return e.Err }

// exchange sends req (and, for a put, what body writes after it) and reads
// the response.
func (c *Client) exchange(ctx context.Context, req Request, body func(io.Writer) error) (Response, error) {
	if err := c.Host.Connect(ctx, c.Keeper); err != nil {
		return Response{}, &ErrUnreachable{Keeper: c.Keeper.ID, Err: err}
	}
	st, err := c.Host.NewStream(ctx, c.Keeper.ID, ProtocolID)
	if err != nil {
		return Response{}, &ErrUnreachable{Keeper: c.Keeper.ID, Err: fmt.Errorf("does not speak the keep protocol: %w", err)}
	}
	defer st.Close()
	timeout := streamTimeout
	if body != nil {
		timeout = putTimeout
	}
	if dl, ok := ctx.Deadline(); ok {
		st.SetDeadline(dl)
	} else {
		st.SetDeadline(time.Now().Add(timeout))
	}
	if err := writeFrame(st, req); err != nil {
		return Response{}, fmt.Errorf("keeper %s: %w", c.Keeper.ID, err)
	}
	r := bufio.NewReader(st)
	if body != nil {
		// A put's CAR goes only once the keeper said it takes it.
		resp, err := ReadResponse(r)
		if err != nil {
			return Response{}, fmt.Errorf("keeper %s: no answer: %w", c.Keeper.ID, err)
		}
		if err := resp.err(); err != nil || !resp.Ready {
			if err == nil {
				err = fmt.Errorf("%w: put answered without ready", ErrMalformed)
			}
			return resp, err
		}
		if err := body(st); err != nil {
			st.Reset()
			return Response{}, err
		}
	}
	// The keeper may have answered and closed already (QUIC then refuses
	// the close); the answer decides.
	closeErr := st.CloseWrite()
	resp, err := ReadResponse(r)
	if err != nil {
		return Response{}, fmt.Errorf("keeper %s: no answer: %w", c.Keeper.ID, errors.Join(err, closeErr))
	}
	return resp, resp.err()
}

// Enrol hands the keeper the patient's signed enrolment.
func (c *Client) Enrol(ctx context.Context, e Enrolment) error {
	_, err := c.exchange(ctx, Request{Verb: VerbEnrol, Enrolment: &e}, nil)
	return err
}

// Put sends items and a CAR of their DAGs, written by car.
func (c *Client) Put(ctx context.Context, items []Item, car func(io.Writer) error) error {
	_, err := c.exchange(ctx, Request{Verb: VerbPut, Items: items}, car)
	return err
}

// Have lists the items the keeper holds for this patient.
func (c *Client) Have(ctx context.Context) ([]Item, error) {
	resp, err := c.exchange(ctx, Request{Verb: VerbHave}, nil)
	return resp.Items, err
}

// Drop asks the keeper to stop holding roots.
func (c *Client) Drop(ctx context.Context, roots []cid.Cid) error {
	req := Request{Verb: VerbDrop}
	for _, r := range roots {
		req.Roots = append(req.Roots, r.String())
	}
	_, err := c.exchange(ctx, req, nil)
	return err
}

// Remove asks the keeper to delete everything it holds for this patient,
// and the enrolment.
func (c *Client) Remove(ctx context.Context) error {
	_, err := c.exchange(ctx, Request{Verb: VerbRemove}, nil)
	return err
}

// Access returns the keeper's access records after Seq after, paging
// through them all.
func (c *Client) Access(ctx context.Context, after uint64) ([]AccessRecord, error) {
	var out []AccessRecord
	for {
		resp, err := c.exchange(ctx, Request{Verb: VerbAccess, After: after}, nil)
		if err != nil {
			return out, err
		}
		for _, r := range resp.Records {
			if r.Seq <= after {
				return out, fmt.Errorf("%w: keeper %s sent record %d after %d", ErrMalformed, c.Keeper.ID, r.Seq, after)
			}
			after = r.Seq
			out = append(out, r)
		}
		if !resp.More || len(resp.Records) == 0 {
			return out, nil
		}
	}
}

// Status asks what the keeper holds for this patient.
func (c *Client) Status(ctx context.Context) (Status, error) {
	resp, err := c.exchange(ctx, Request{Verb: VerbStatus}, nil)
	if err == nil && resp.Status == nil {
		err = fmt.Errorf("%w: status without a status", ErrMalformed)
	}
	if err != nil {
		return Status{}, err
	}
	return *resp.Status, nil
}

// PutSHL asks the keeper to serve SMART Health Link entry e (replacing an
// entry of the same id); put its files' roots first, as items.
func (c *Client) PutSHL(ctx context.Context, e SHLEntry) error {
	_, err := c.exchange(ctx, Request{Verb: VerbSHL, SHL: &e}, nil)
	return err
}

// PutLive hands the keeper the newest version of a live grant; put its
// envelope and package first, as items.
func (c *Client) PutLive(ctx context.Context, r LiveRecord) error {
	_, err := c.exchange(ctx, Request{Verb: VerbLive, Live: &r}, nil)
	return err
}
