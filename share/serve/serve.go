// Package serve lets a patient's node serve share packages to grantees.
//
// A redeemer opens a stream with protocol [ProtocolID] and presents its
// grant chain; the node answers with a fresh 32-byte challenge; the redeemer
// signs it with its grantee key, bound to the node's and its own peer id as
// the connection authenticated them (grant.Prove with a grant.Challenge), so
// a node that relays another node's challenge to a redeemer gains nothing;
// the node verifies the chain
// (grant.Verify with its own policy, requiring the patient as root issuer)
// and the proof, and answers "ok" with the expiry, or the refusal reason.
// From then on the node's bitswap gate ([Server.Allowed]) hands that peer
// the blocks of the granted packages, until the grant expires or is
// revoked: [Server.Refresh] re-checks revocation of every open session
// (the wallet runs it every 500 ms, so a session ends within about a second
// of the revocation block), and [Server.Deny] ends the sessions of a grant
// the patient is revoking at once, before the chain has mined it.
//
//	redeemer → node: uvarint length ‖ grant chain (grant.Chain.Encode)
//	node → redeemer: 0 ‖ challenge (32 bytes), or a refusal (below)
//	redeemer → node: proof (65 bytes): grant.Prove(grantee key, leaf hash,
//	                 {challenge, node's peer id, redeemer's peer id})
//	node → redeemer: status (0 ok, 1 refused) ‖ uvarint length ‖ text
//
// Every accepted presentation is reported to the node's access callback,
// which the wallet writes to its access log. Refusals are reported too, but
// bounded (see [Limits]): a peer presenting garbage in a loop cannot grow the
// log without end. The grantee of a refused presentation is not reported:
// before the signatures check out it is whatever the presenter wrote.
//
// # Limits
//
// Each peer may present at Limits.PresentRate (a token bucket), hold at most
// Limits.SessionsPerPeer open sessions (presenting the same grant again
// replaces its session), and all peers together at most Limits.Sessions.
// Beyond that the node refuses with a reason that says so.
//
// # Keepers
//
// A keeper serves the packages of several patients ([NewKeeperServer]).
// It takes the patient from the chain's root grant, and honours the chain
// only if that patient enrolled the keeper ([Holdings.Enrolled]) and every
// package the grant names is held for that patient ([Holdings.Holds]); the
// gate then hands out only blocks of roots still held for the patient.
// Everything else (proof of possession, revocation, limits) is as on the
// patient's own node, and each [Access] names the patient it concerns.
//
// # Live grants
//
// [Server.ServeLive] adds [ProtocolLive]: the same presentation of a
// patient's live grant (no delegations), answered with the newest version
// from a [LiveSource] (an IPNS record and a live.Envelope, see package
// share/live); the session then covers that version's package root.
// [FetchLive] is the redeemer's side.
package serve

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"golang.org/x/time/rate"

	"github.com/healthwallet/healthwallet/share/grant"
)

// ProtocolID is the libp2p protocol of grant presentation.
const ProtocolID = "/healthwallet/grant/2.0.0"

// Limits of the protocol.
const (
	maxChain      = 64 << 10
	maxText       = 1024
	streamTimeout = 30 * time.Second
)

// ErrRefused: the node refused the grant; the error text is its reason.
var ErrRefused = errors.New("node refused the grant")

// Access is one presentation, as the patient's access log keeps it.
type Access struct {
	// Patient is the root issuer the presentation concerns: the node's own
	// patient, or on a keeper the enrolled patient the chain claims (zero
	// when it names none the keeper keeps for).
	Patient   common.Address
	Time      time.Time
	Peer      peer.ID
	GrantHash [32]byte       // the presented grant
	RootHash  [32]byte       // the patient's grant it descends from
	Grantee   common.Address // who presented it
	Links     int            // 1 for the patient's own grant, more for delegations
	Granted   bool
	Reason    string // why it was refused
	ExpiresAt time.Time
	// Suppressed counts this peer's refusals left out of the log since the
	// last one reported (see Limits.RefusalsPerPeer).
	Suppressed int
	// Live: the presentation fetched a live grant's version
	// ([ProtocolLive]) rather than opening a session on fixed packages.
	Live bool
}

// Limits bound what peers may cost the node. Zero fields take the
// defaults of DefaultLimits.
type Limits struct {
	// PresentRate is how many presentations per second one peer may make
	// in the long run, PresentBurst how many in a row.
	PresentRate  float64
	PresentBurst int
	// SessionsPerPeer and Sessions cap open sessions per peer and in all.
	SessionsPerPeer int
	Sessions        int
	// RefusalsPerPeer is how many refusals of one peer, and RefusalsTotal
	// of all peers, are reported per RefusalWindow; the rest are counted in
	// the next reported refusal's Suppressed. Accepted presentations are
	// always reported.
	RefusalsPerPeer int
	RefusalsTotal   int
	RefusalWindow   time.Duration
}

// DefaultLimits are the limits of a new Server.
var DefaultLimits = Limits{
	PresentRate: 1, PresentBurst: 10,
	SessionsPerPeer: 16, Sessions: 4096,
	RefusalsPerPeer: 5, RefusalsTotal: 100, RefusalWindow: time.Minute,
}

// Refusal reasons of the limits.
const (
	reasonTooFast      = "too many presentations from this peer; try again later"
	reasonPeerSessions = "too many open sessions for this peer"
	reasonBusy         = "the node holds too many open sessions; try again later"
	reasonRevoked      = "grant revoked"
	// ReasonNotKept: a keeper refuses a chain whose patient did not enrol it.
	ReasonNotKept = "this keeper does not keep for the grant's patient"
	// ReasonNotHeld: a keeper refuses a grant naming a package it does not
	// hold for the grant's patient.
	ReasonNotHeld = "this keeper does not hold the granted package for the grant's patient"
)

// Holdings is what a keeper knows of the patients it keeps for.
type Holdings interface {
	// Enrolled reports whether patient enrolled the keeper.
	Enrolled(patient common.Address) bool
	// Holds reports whether the keeper holds the DAG under root for
	// patient.
	Holds(patient common.Address, root cid.Cid) bool
}

type peerState struct {
	limiter    *rate.Limiter
	window     time.Time // start of the refusal window
	refusals   int       // refusals reported in the window
	suppressed int       // refusals not reported since the last reported one
}

type session struct {
	patient common.Address
	chain   grant.Chain
	roots   []cid.Cid
	expires time.Time
	leaf    [32]byte
}

// Server verifies presented grants and gates bitswap by them.
type Server struct {
	host     host.Host
	patient  common.Address
	holdings Holdings   // nil on the patient's own node
	live     LiveSource // nil until ServeLive
	policy   grant.Policy
	onAccess func(Access)

	mu       sync.Mutex
	limits   Limits
	sessions map[peer.ID][]session
	revoked  map[[32]byte]bool // revocation set: ids known revoked or being revoked
	peers    map[peer.ID]*peerState
	window   time.Time // start of the global refusal window
	refusals int       // refusals reported in it
}

// NewServer registers the protocol on h. patient is the wallet's own
// address: only chains rooted in its grants are honoured. onAccess may be
// nil.
func NewServer(h host.Host, patient common.Address, policy grant.Policy, onAccess func(Access)) *Server {
	s := &Server{host: h, patient: patient, policy: policy, onAccess: onAccess, limits: DefaultLimits,
		sessions: map[peer.ID][]session{}, revoked: map[[32]byte]bool{}, peers: map[peer.ID]*peerState{}}
	h.SetStreamHandler(ProtocolID, s.handle)
	return s
}

// NewKeeperServer registers the protocol on a keeper's host h: chains are
// honoured for every patient holdings says is enrolled, for the packages
// held for that patient (see the package doc's "Keepers"). onAccess may be
// nil.
func NewKeeperServer(h host.Host, holdings Holdings, policy grant.Policy, onAccess func(Access)) *Server {
	s := NewServer(h, common.Address{}, policy, onAccess)
	s.holdings = holdings
	return s
}

// orDefault sets *v to d when *v is zero or negative.
func orDefault[T int | float64 | time.Duration](v *T, d T) {
	if *v <= 0 {
		*v = d
	}
}

// SetLimits replaces the limits; zero fields take DefaultLimits' values.
func (s *Server) SetLimits(l Limits) {
	d := DefaultLimits
	orDefault(&l.PresentRate, d.PresentRate)
	orDefault(&l.PresentBurst, d.PresentBurst)
	orDefault(&l.SessionsPerPeer, d.SessionsPerPeer)
	orDefault(&l.Sessions, d.Sessions)
	orDefault(&l.RefusalsPerPeer, d.RefusalsPerPeer)
	orDefault(&l.RefusalsTotal, d.RefusalsTotal)
	orDefault(&l.RefusalWindow, d.RefusalWindow)
	s.mu.Lock()
	s.limits = l
	s.peers = map[peer.ID]*peerState{}
	s.mu.Unlock()
}

// peer returns p's state; s.mu is held. The table is bounded: when it
// grows past a few times the session cap, peers without sessions are
// forgotten.
func (s *Server) peer(p peer.ID) *peerState {
	ps := s.peers[p]
	if ps == nil {
		if len(s.peers) >= 4*s.limits.Sessions {
			for q := range s.peers {
				if len(s.sessions[q]) == 0 {
					delete(s.peers, q)
				}
			}
		}
		ps = &peerState{limiter: rate.NewLimiter(rate.Limit(s.limits.PresentRate), s.limits.PresentBurst)}
		s.peers[p] = ps
	}
	return ps
}

// admit takes a presentation token of p's bucket.
func (s *Server) admit(p peer.ID) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.peer(p).limiter.AllowN(s.now(), 1)
}

// Deny adds ids to the node's revocation set and ends at once every session
// whose chain holds one of them; later presentations of such chains are
// refused without asking the chain. The wallet calls it as soon as the
// patient starts revoking a grant. It returns how many sessions it ended.
func (s *Server) Deny(ids ...[32]byte) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range ids {
		s.revoked[id] = true
	}
	return s.dropLocked(func(ss session) bool { return s.revokedLocked(ss.chain) })
}

// revokedLocked reports whether chain holds an id of the revocation set.
func (s *Server) revokedLocked(chain grant.Chain) bool {
	return slices.ContainsFunc(chain, func(g *grant.Grant) bool { return s.revoked[g.RevocationID] })
}

// dropLocked removes the sessions gone says are gone; s.mu is held.
func (s *Server) dropLocked(gone func(session) bool) int {
	dropped := 0
	for p, list := range s.sessions {
		kept := list[:0]
		for _, ss := range list {
			if gone(ss) {
				dropped++
				continue
			}
			kept = append(kept, ss)
		}
		if len(kept) == 0 {
			delete(s.sessions, p)
		} else {
			s.sessions[p] = kept
		}
	}
	return dropped
}

func (s *Server) now() time.Time {
	if s.policy.Now != nil {
		return s.policy.Now()
	}
	return time.Now()
}

// presentation is a chain that passed the handshake: decoded, checked
// against the revocation set, its grantee's proof verified.
type presentation struct {
	chain    grant.Chain
	issuer   common.Address
	verified *grant.Verified
	access   Access
	refuse   func(reason string)
}

// handshake runs the common part of the present and live protocols on st,
// up to and including grant.Verify (see the package doc's wire format).
// check, if set, may refuse a decoded chain before the challenge. It
// returns false when it refused (refusals are reported) or the stream
// failed.
func (s *Server) handshake(ctx context.Context, st network.Stream, live bool, check func(grant.Chain) string) (*presentation, bool) {
	st.SetDeadline(time.Now().Add(streamTimeout))
	r := bufio.NewReader(st)
	p := &presentation{access: Access{Time: s.now().UTC(), Peer: st.Conn().RemotePeer(), Live: live}}
	a := &p.access
	p.refuse = func(reason string) {
		// Logged before the presenter hears the answer: whoever reads
		// the access log after a refusal finds it there.
		a.Reason = reason
		s.reportRefusal(*a)
		writeStatus(st, 1, reason)
	}
	if !s.admit(a.Peer) {
		p.refuse(reasonTooFast)
		return nil, false
	}
	n, err := binary.ReadUvarint(r)
	if err != nil || n == 0 || n > maxChain {
		p.refuse("malformed presentation")
		return nil, false
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(r, buf); err != nil {
		p.refuse("malformed presentation")
		return nil, false
	}
	chain, err := grant.DecodeChain(buf)
	if err == nil && len(chain) == 0 {
		err = errors.New("empty grant chain")
	}
	if err != nil {
		p.refuse(err.Error())
		return nil, false
	}
	p.chain = chain
	p.issuer = s.patient
	if s.holdings != nil {
		// The claimed root issuer; grant.Verify below requires it signed.
		if p.issuer = chain[0].Issuer; !s.holdings.Enrolled(p.issuer) {
			p.refuse(ReasonNotKept)
			return nil, false
		}
	}
	a.Patient = p.issuer
	a.Links = len(chain)
	if h, err := chain.Leaf().Hash(); err == nil {
		a.GrantHash = h
	}
	if h, err := chain[0].Hash(); err == nil {
		a.RootHash = h
	}
	if check != nil {
		if reason := check(chain); reason != "" {
			p.refuse(reason)
			return nil, false
		}
	}
	s.mu.Lock()
	denied := s.revokedLocked(chain)
	s.mu.Unlock()
	if denied {
		p.refuse(reasonRevoked)
		return nil, false
	}
	challenge := grant.Challenge{Verifier: []byte(st.Conn().LocalPeer()), Presenter: []byte(a.Peer)}
	rand.Read(challenge.Nonce[:])
	if _, err := st.Write(append([]byte{0}, challenge.Nonce[:]...)); err != nil {
		return nil, false
	}
	proof := make([]byte, 65)
	if _, err := io.ReadFull(r, proof); err != nil {
		p.refuse("no proof of possession")
		return nil, false
	}
	v, err := grant.Verify(ctx, chain, s.policy, grant.Request{Issuer: p.issuer, Challenge: challenge, Proof: proof, Operations: grant.Read})
	if err != nil {
		p.refuse(err.Error())
		return nil, false
	}
	p.verified = v
	// Only now is the grantee more than what the presenter wrote.
	a.Grantee, _ = chain.Leaf().GranteeAddress()
	return p, true
}

// accept opens the presentation's session over roots and answers "ok"
// with the expiry; it refuses (and returns false) when the limits or a
// Deny during verification say no.
func (s *Server) accept(st network.Stream, p *presentation, roots []cid.Cid) bool {
	a := &p.access
	if reason := s.open(a.Peer, session{patient: p.issuer, chain: p.chain, roots: roots, expires: p.verified.ExpiresAt, leaf: a.GrantHash}); reason != "" {
		p.refuse(reason)
		return false
	}
	a.Granted, a.ExpiresAt = true, p.verified.ExpiresAt
	s.report(*a) // logged before the presenter hears "ok", as refusals are
	writeStatus(st, 0, p.verified.ExpiresAt.Format(time.RFC3339))
	return true
}

func (s *Server) handle(st network.Stream) {
	defer st.Close()
	ctx, cancel := context.WithTimeout(context.Background(), streamTimeout)
	defer cancel()
	p, ok := s.handshake(ctx, st, false, nil)
	if !ok {
		return
	}
	var roots []cid.Cid
	for _, pkg := range p.chain.Leaf().Packages {
		c, err := cid.Cast(pkg)
		if err != nil {
			p.refuse("malformed package CID")
			return
		}
		if s.holdings != nil && !s.holdings.Holds(p.issuer, c) {
			p.refuse(ReasonNotHeld)
			return
		}
		roots = append(roots, c)
	}
	s.accept(st, p, roots)
}

// open adds a verified session for p, within the limits, and returns
// why it refused to ("" if it did not).
func (s *Server) open(p peer.ID, ss session) string {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	// Checked again under the lock: a Deny during verification wins.
	if s.revokedLocked(ss.chain) {
		return reasonRevoked
	}
	list := slices.DeleteFunc(s.sessions[p], func(o session) bool { return !now.Before(o.expires) || o.leaf == ss.leaf })
	total := 0
	for q, l := range s.sessions {
		if q != p {
			total += len(l)
		}
	}
	switch {
	case len(list) >= s.limits.SessionsPerPeer:
		return reasonPeerSessions
	case total+len(list) >= s.limits.Sessions:
		return reasonBusy
	}
	s.sessions[p] = append(list, ss)
	return ""
}

func (s *Server) report(a Access) {
	if s.onAccess != nil {
		s.onAccess(a)
	}
}

// reportRefusal reports a refusal unless the peer, or all peers together,
// used up the window's share; then it only counts it.
func (s *Server) reportRefusal(a Access) {
	now := s.now()
	s.mu.Lock()
	l := s.limits
	if now.Sub(s.window) >= l.RefusalWindow || now.Before(s.window) {
		s.window, s.refusals = now, 0
	}
	ps := s.peer(a.Peer)
	if now.Sub(ps.window) >= l.RefusalWindow || now.Before(ps.window) {
		ps.window, ps.refusals = now, 0
	}
	if ps.refusals >= l.RefusalsPerPeer || s.refusals >= l.RefusalsTotal {
		ps.suppressed++
		s.mu.Unlock()
		return
	}
	ps.refusals++
	s.refusals++
	a.Suppressed, ps.suppressed = ps.suppressed, 0
	s.mu.Unlock()
	s.report(a)
}

func writeStatus(w io.Writer, code byte, text string) error {
	if len(text) > maxText {
		text = text[:maxText]
	}
	b := append([]byte{code}, binary.AppendUvarint(nil, uint64(len(text)))...)
	_, err := w.Write(append(b, text...))
	return err
}

// Allowed implements ipfs.Gate: p may fetch root while one of its sessions
// covers root and has not expired.
func (s *Server) Allowed(p peer.ID, root cid.Cid) bool {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ss := range s.sessions[p] {
		if now.Before(ss.expires) && slices.Contains(ss.roots, root) && !s.revokedLocked(ss.chain) &&
			(s.holdings == nil || s.holdings.Holds(ss.patient, root)) {
			return true
		}
	}
	return false
}

// AllowsAny implements ipfs.PeerGate: p holds a live session.
func (s *Server) AllowsAny(p peer.ID) bool {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.ContainsFunc(s.sessions[p], func(ss session) bool { return now.Before(ss.expires) })
}

// Refresh drops sessions that expired or whose chain was revoked. It fails
// closed: a session whose revocation status cannot be learned is dropped
// too (the grantee may present again once the registry answers). It returns
// how many sessions it dropped.
func (s *Server) Refresh(ctx context.Context) int {
	s.mu.Lock()
	var ids [][32]byte
	for _, list := range s.sessions {
		for _, ss := range list {
			for _, g := range ss.chain {
				ids = append(ids, g.RevocationID)
			}
		}
	}
	s.mu.Unlock()
	revoked := map[[32]byte]bool{}
	unknown := false
	if len(ids) > 0 {
		if s.policy.Revocations == nil {
			unknown = true
		} else if at, err := s.policy.Revocations.RevokedAt(ctx, ids); err != nil || len(at) != len(ids) {
			unknown = true
		} else {
			for i, t := range at {
				if t != 0 {
					revoked[ids[i]] = true
				}
			}
		}
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	for id := range revoked {
		s.revoked[id] = true
	}
	return s.dropLocked(func(ss session) bool {
		return unknown || !now.Before(ss.expires) || s.revokedLocked(ss.chain)
	})
}

// Sessions returns the number of open sessions.
func (s *Server) Sessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, l := range s.sessions {
		n += len(l)
	}
	return n
}

// Present presents chain to the node at to, proving possession of key (the
// grantee key of the chain's last grant). It returns when the node accepts,
// with the expiry it granted, or with an error wrapping ErrRefused whose
// text is the node's reason.
func Present(ctx context.Context, h host.Host, to peer.AddrInfo, chain grant.Chain, key *secp256k1.PrivateKey) (time.Time, error) {
	// A patient's node behind NAT is reached through a keeper's circuit
	// relay, whose connections are "limited": the presentation may use them.
	ctx = network.WithAllowLimitedConn(ctx, "healthwallet grant")
	if err := h.Connect(ctx, to); err != nil {
		return time.Time{}, fmt.Errorf("patient's node %s unreachable: %w", to.ID, err)
	}
	st, _, exp, err := present(ctx, h, to.ID, ProtocolID, chain, key)
	if st != nil {
		st.Close()
	}
	return exp, err
}

// present runs the redeemer's side of the handshake common to the present
// and live protocols over a new stream to p. On success it returns the
// open stream (the caller closes it), its reader, and the granted expiry.
func present(ctx context.Context, h host.Host, to peer.ID, proto protocol.ID, chain grant.Chain, key *secp256k1.PrivateKey) (network.Stream, *bufio.Reader, time.Time, error) {
	enc, err := chain.Encode()
	if err != nil {
		return nil, nil, time.Time{}, err
	}
	leafHash, err := chain.Leaf().Hash()
	if err != nil {
		return nil, nil, time.Time{}, err
	}
	ctx = network.WithAllowLimitedConn(ctx, "healthwallet grant")
	st, err := h.NewStream(ctx, to, proto)
	if err != nil {
		what := "grants"
		if proto == ProtocolLive {
			what = "live grants"
		}
		return nil, nil, time.Time{}, fmt.Errorf("patient's node %s does not serve %s: %w", to, what, err)
	}
	fail := func(err error) (network.Stream, *bufio.Reader, time.Time, error) {
		st.Close()
		return nil, nil, time.Time{}, err
	}
	if dl, ok := ctx.Deadline(); ok {
		st.SetDeadline(dl)
	} else {
		st.SetDeadline(time.Now().Add(streamTimeout))
	}
	if _, err := st.Write(append(binary.AppendUvarint(nil, uint64(len(enc))), enc...)); err != nil {
		return fail(err)
	}
	r := bufio.NewReader(st)
	first, err := r.Peek(1)
	if err != nil {
		return fail(fmt.Errorf("no answer from %s: %w", to, err))
	}
	if first[0] != 0 {
		_, text, err := readStatus(r)
		if err != nil {
			return fail(fmt.Errorf("no answer from %s: %w", to, err))
		}
		return fail(fmt.Errorf("%w: %s", ErrRefused, text))
	}
	r.ReadByte()
	challenge := grant.Challenge{Verifier: []byte(st.Conn().RemotePeer()), Presenter: []byte(st.Conn().LocalPeer())}
	if _, err := io.ReadFull(r, challenge.Nonce[:]); err != nil {
		return fail(fmt.Errorf("no answer from %s: %w", to, err))
	}
	proof, err := grant.Prove(key, leafHash, challenge)
	if err != nil {
		return fail(err)
	}
	if _, err := st.Write(proof); err != nil {
		return fail(err)
	}
	code, text, err := readStatus(r)
	if err != nil {
		return fail(fmt.Errorf("no answer from %s: %w", to, err))
	}
	if code != 0 {
		return fail(fmt.Errorf("%w: %s", ErrRefused, text))
	}
	exp, err := time.Parse(time.RFC3339, text)
	if err != nil {
		return fail(fmt.Errorf("bad answer from %s: %q", to, text))
	}
	return st, r, exp, nil
}

func readStatus(r *bufio.Reader) (byte, string, error) {
	code, err := r.ReadByte()
	if err != nil {
		return 0, "", err
	}
	n, err := binary.ReadUvarint(r)
	if err != nil || n > maxText {
		return 0, "", errors.New("malformed status")
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return 0, "", err
	}
	return code, string(b), nil
}
