package keep

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
)

// Store is where a keeper keeps what patients give it (the wallet
// implements it over its catalog and block store). The Server has checked
// the request and the enrolment before it calls; patient is always the
// enrolled patient of the asking peer.
type Store interface {
	// Patient returns the patient whose enrolment names p as its node.
	Patient(p peer.ID) (common.Address, bool)
	// Enrol records a verified enrolment (replacing the patient's earlier
	// one).
	Enrol(ctx context.Context, e Enrolment) error
	// Put stores the CAR's blocks (each checked against its CID) and holds
	// items for patient; every item's DAG must be complete afterwards.
	Put(ctx context.Context, patient common.Address, items []Item, car io.Reader) error
	// Held lists the items held for patient.
	Held(ctx context.Context, patient common.Address) ([]Item, error)
	// Drop stops holding roots for patient and deletes blocks nothing else
	// holds.
	Drop(ctx context.Context, patient common.Address, roots []cid.Cid) error
	// Remove drops everything held for patient, its access records and its
	// enrolment.
	Remove(ctx context.Context, patient common.Address) error
	// Access returns at most max of patient's access records with Seq >
	// after, oldest first, and whether more follow.
	Access(ctx context.Context, patient common.Address, after uint64, max int) ([]AccessRecord, bool, error)
	// LastSeq is the Seq of patient's newest access record (0: none).
	LastSeq(ctx context.Context, patient common.Address) (uint64, error)
}

// SHLStore is a Store that serves SMART Health Links (the keep server asks
// for it with a type assertion; a store that is none refuses shl).
type SHLStore interface {
	// PutSHL stores or replaces entry e for patient; every file root must
	// be held for patient.
	PutSHL(ctx context.Context, patient common.Address, e SHLEntry) error
	// SHLURL is the HTTPS base URL manifests are served at ("": none).
	SHLURL() string
}

// LiveStore is a Store that keeps live grants' newest records (the keep
// server asks for it with a type assertion; a store that is none refuses
// live).
type LiveStore interface {
	// PutLive stores r for patient if it is newer than the one held for
	// its grant; its envelope and package roots must be held for patient.
	PutLive(ctx context.Context, patient common.Address, r LiveRecord) error
}

// ErrUnsupported: the keeper does not do what was asked (an older keeper,
// or one that serves no SMART Health Links).
var ErrUnsupported = errors.New("this keeper does not support that")

// Server answers the keep protocol on a keeper's host.
type Server struct {
	self  peer.ID
	store Store
	// OnError, if set, is told of requests that failed inside the store
	// (the patient is told too).
	OnError func(error)
}

// NewServer registers the protocol on h over store.
func NewServer(h host.Host, store Store) *Server {
	s := &Server{self: h.ID(), store: store}
	h.SetStreamHandler(ProtocolID, s.handle)
	return s
}

func (s *Server) handle(st network.Stream) {
	defer st.Close()
	st.SetDeadline(time.Now().Add(streamTimeout))
	r := bufio.NewReader(st)
	req, err := ReadRequest(r)
	if err != nil {
		st.SetDeadline(time.Now().Add(streamTimeout))
		writeFrame(st, Response{Code: codeRefused, Error: truncate(err.Error())})
		return
	}
	if req.Verb == VerbPut {
		st.SetDeadline(time.Now().Add(putTimeout))
	}
	ctx, cancel := context.WithTimeout(context.Background(), putTimeout)
	defer cancel()
	ready := func() error { return writeFrame(st, Response{Ready: true}) }
	resp := s.serve(ctx, st.Conn().RemotePeer(), req, r, ready)
	writeFrame(st, resp)
}

// serve answers one checked request from the authenticated peer from; r
// holds what follows the header (a put's CAR, which the patient sends only
// once ready has told it to go ahead).
func (s *Server) serve(ctx context.Context, from peer.ID, req Request, r io.Reader, ready func() error) Response {
	fail := func(err error) Response {
		if s.OnError != nil {
			s.OnError(fmt.Errorf("keep %s from %s: %w", req.Verb, from, err))
		}
		return Response{Code: codeRefused, Error: truncate(err.Error())}
	}
	if req.Verb == VerbEnrol {
		e := *req.Enrolment
		if err := e.Verify(s.self, from); err != nil {
			return Response{Code: codeRefused, Error: truncate(err.Error())}
		}
		if err := s.store.Enrol(ctx, e); err != nil {
			return fail(err)
		}
		return Response{}
	}
	patient, ok := s.store.Patient(from)
	if !ok {
		return Response{Code: codeNotEnrolled, Error: ErrNotEnrolled.Error()}
	}
	switch req.Verb {
	case VerbPut:
		if err := ready(); err != nil {
			return fail(err)
		}
		lr := &limitedReader{r: r, left: MaxPut}
		if err := s.store.Put(ctx, patient, req.Items, lr); err != nil {
			if lr.over {
				err = fmt.Errorf("%w: the CAR exceeds %d bytes", ErrMalformed, int64(MaxPut))
			}
			return fail(err)
		}
	case VerbHave:
		items, err := s.store.Held(ctx, patient)
		if err != nil {
			return fail(err)
		}
		if len(items) > MaxItems {
			items = items[:MaxItems]
		}
		return Response{Items: items}
	case VerbDrop:
		roots := make([]cid.Cid, len(req.Roots))
		for i, r := range req.Roots {
			roots[i], _ = cid.Decode(r) // checked by ReadRequest
		}
		if err := s.store.Drop(ctx, patient, roots); err != nil {
			return fail(err)
		}
	case VerbRemove:
		if err := s.store.Remove(ctx, patient); err != nil {
			return fail(err)
		}
	case VerbAccess:
		recs, more, err := s.store.Access(ctx, patient, req.After, MaxRecords)
		if err != nil {
			return fail(err)
		}
		return Response{Records: recs, More: more}
	case VerbStatus:
		items, err := s.store.Held(ctx, patient)
		if err != nil {
			return fail(err)
		}
		last, err := s.store.LastSeq(ctx, patient)
		if err != nil {
			return fail(err)
		}
		st := &Status{Patient: patient.Hex(), Held: len(items), LastSeq: last}
		if ss, ok := s.store.(SHLStore); ok {
			st.SHLURL = ss.SHLURL()
		}
		return Response{Status: st}
	case VerbSHL:
		ss, ok := s.store.(SHLStore)
		if !ok || ss.SHLURL() == "" {
			return Response{Code: codeUnsupported, Error: "it serves no SMART Health Links"}
		}
		if err := ss.PutSHL(ctx, patient, *req.SHL); err != nil {
			return fail(err)
		}
	case VerbLive:
		ls, ok := s.store.(LiveStore)
		if !ok {
			return Response{Code: codeUnsupported, Error: "it keeps no live grants"}
		}
		if err := ls.PutLive(ctx, patient, *req.Live); err != nil {
			return fail(err)
		}
	}
	return Response{}
}

func truncate(s string) string {
	if len(s) > maxText {
		return s[:maxText]
	}
	return s
}

// limitedReader reads at most left bytes and notes a reader that had more.
type limitedReader struct {
	r    io.Reader
	left int64
	over bool
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.left <= 0 {
		var one [1]byte
		if n, _ := l.r.Read(one[:]); n > 0 {
			l.over = true
			return 0, errors.New("too much data")
		}
		return 0, io.EOF
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	return n, err
}
