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
// revoked: [Server.Refresh] re-checks revocation of every open session.
//
//	redeemer → node: uvarint length ‖ grant chain (grant.Chain.Encode)
//	node → redeemer: 0 ‖ challenge (32 bytes), or a refusal (below)
//	redeemer → node: proof (65 bytes): grant.Prove(grantee key, leaf hash,
//	                 {challenge, node's peer id, redeemer's peer id})
//	node → redeemer: status (0 ok, 1 refused) ‖ uvarint length ‖ text
//
// Every presentation, accepted or refused, is reported to the node's access
// callback, which the wallet writes to its access log.
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
	Time      time.Time
	Peer      peer.ID
	GrantHash [32]byte       // the presented grant
	RootHash  [32]byte       // the patient's grant it descends from
	Grantee   common.Address // who presented it
	Links     int            // 1 for the patient's own grant, more for delegations
	Granted   bool
	Reason    string // why it was refused
	ExpiresAt time.Time
}

type session struct {
	chain   grant.Chain
	roots   []cid.Cid
	expires time.Time
	leaf    [32]byte
}

// Server verifies presented grants and gates bitswap by them.
type Server struct {
	patient  common.Address
	policy   grant.Policy
	onAccess func(Access)

	mu       sync.Mutex
	sessions map[peer.ID][]session
}

// NewServer registers the protocol on h. patient is the wallet's own
// address: only chains rooted in its grants are honoured. onAccess may be
// nil.
func NewServer(h host.Host, patient common.Address, policy grant.Policy, onAccess func(Access)) *Server {
	s := &Server{patient: patient, policy: policy, onAccess: onAccess, sessions: map[peer.ID][]session{}}
	h.SetStreamHandler(ProtocolID, s.handle)
	return s
}

func (s *Server) now() time.Time {
	if s.policy.Now != nil {
		return s.policy.Now()
	}
	return time.Now()
}

func (s *Server) handle(st network.Stream) {
	defer st.Close()
	st.SetDeadline(time.Now().Add(streamTimeout))
	r := bufio.NewReader(st)
	a := Access{Time: s.now().UTC(), Peer: st.Conn().RemotePeer()}
	refuse := func(reason string) {
		a.Reason = reason
		writeStatus(st, 1, reason)
		s.report(a)
	}
	n, err := binary.ReadUvarint(r)
	if err != nil || n == 0 || n > maxChain {
		refuse("malformed presentation")
		return
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(r, buf); err != nil {
		refuse("malformed presentation")
		return
	}
	chain, err := grant.DecodeChain(buf)
	if err != nil {
		refuse(err.Error())
		return
	}
	a.Links = len(chain)
	if h, err := chain.Leaf().Hash(); err == nil {
		a.GrantHash = h
	}
	if h, err := chain[0].Hash(); err == nil {
		a.RootHash = h
	}
	a.Grantee, _ = chain.Leaf().GranteeAddress()
	challenge := grant.Challenge{Verifier: []byte(st.Conn().LocalPeer()), Presenter: []byte(a.Peer)}
	rand.Read(challenge.Nonce[:])
	if _, err := st.Write(append([]byte{0}, challenge.Nonce[:]...)); err != nil {
		return
	}
	proof := make([]byte, 65)
	if _, err := io.ReadFull(r, proof); err != nil {
		refuse("no proof of possession")
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), streamTimeout)
	defer cancel()
	v, err := grant.Verify(ctx, chain, s.policy, grant.Request{Issuer: s.patient, Challenge: challenge, Proof: proof, Operations: grant.Read})
	if err != nil {
		refuse(err.Error())
		return
	}
	var roots []cid.Cid
	for _, p := range chain.Leaf().Packages {
		c, err := cid.Cast(p)
		if err != nil {
			refuse("malformed package CID")
			return
		}
		roots = append(roots, c)
	}
	s.mu.Lock()
	s.sessions[a.Peer] = append(s.sessions[a.Peer], session{chain: chain, roots: roots, expires: v.ExpiresAt, leaf: a.GrantHash})
	s.mu.Unlock()
	a.Granted, a.ExpiresAt = true, v.ExpiresAt
	writeStatus(st, 0, v.ExpiresAt.Format(time.RFC3339))
	s.report(a)
}

func (s *Server) report(a Access) {
	if s.onAccess != nil {
		s.onAccess(a)
	}
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
		if now.Before(ss.expires) && slices.Contains(ss.roots, root) {
			return true
		}
	}
	return false
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
	dropped := 0
	s.mu.Lock()
	defer s.mu.Unlock()
	for p, list := range s.sessions {
		kept := list[:0]
		for _, ss := range list {
			gone := unknown || !now.Before(ss.expires) || slices.ContainsFunc(ss.chain, func(g *grant.Grant) bool { return revoked[g.RevocationID] })
			if gone {
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
	enc, err := chain.Encode()
	if err != nil {
		return time.Time{}, err
	}
	leafHash, err := chain.Leaf().Hash()
	if err != nil {
		return time.Time{}, err
	}
	if err := h.Connect(ctx, to); err != nil {
		return time.Time{}, fmt.Errorf("patient's node %s unreachable: %w", to.ID, err)
	}
	st, err := h.NewStream(ctx, to.ID, ProtocolID)
	if err != nil {
		return time.Time{}, fmt.Errorf("patient's node %s does not serve grants: %w", to.ID, err)
	}
	defer st.Close()
	if dl, ok := ctx.Deadline(); ok {
		st.SetDeadline(dl)
	} else {
		st.SetDeadline(time.Now().Add(streamTimeout))
	}
	if _, err := st.Write(append(binary.AppendUvarint(nil, uint64(len(enc))), enc...)); err != nil {
		return time.Time{}, err
	}
	r := bufio.NewReader(st)
	first, err := r.Peek(1)
	if err != nil {
		return time.Time{}, fmt.Errorf("no answer from %s: %w", to.ID, err)
	}
	if first[0] != 0 {
		_, text, err := readStatus(r)
		if err != nil {
			return time.Time{}, fmt.Errorf("no answer from %s: %w", to.ID, err)
		}
		return time.Time{}, fmt.Errorf("%w: %s", ErrRefused, text)
	}
	r.ReadByte()
	challenge := grant.Challenge{Verifier: []byte(st.Conn().RemotePeer()), Presenter: []byte(st.Conn().LocalPeer())}
	if _, err := io.ReadFull(r, challenge.Nonce[:]); err != nil {
		return time.Time{}, fmt.Errorf("no answer from %s: %w", to.ID, err)
	}
	proof, err := grant.Prove(key, leafHash, challenge)
	if err != nil {
		return time.Time{}, err
	}
	if _, err := st.Write(proof); err != nil {
		return time.Time{}, err
	}
	code, text, err := readStatus(r)
	if err != nil {
		return time.Time{}, fmt.Errorf("no answer from %s: %w", to.ID, err)
	}
	if code != 0 {
		return time.Time{}, fmt.Errorf("%w: %s", ErrRefused, text)
	}
	exp, err := time.Parse(time.RFC3339, text)
	if err != nil {
		return time.Time{}, fmt.Errorf("bad answer from %s: %q", to.ID, text)
	}
	return exp, nil
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
