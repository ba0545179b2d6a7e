package serve

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ipfs/boxo/ipns"
	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/healthwallet/healthwallet/share/grant"
	"github.com/healthwallet/healthwallet/share/live"
)

// ProtocolLive is the libp2p protocol of live grants (package
// share/live). The redeemer presents the patient's live grant exactly as
// in [ProtocolID]; the node checks it the same way (revocation included,
// failing closed), then answers with the newest version:
//
//	redeemer → node: uvarint length ‖ grant chain (one grant)
//	node → redeemer: 0 ‖ challenge (32 bytes), or a refusal
//	redeemer → node: proof (65 bytes), as for ProtocolID
//	node → redeemer: status (0 ok, 1 refused) ‖ uvarint length ‖ text
//	on ok:           uvarint length ‖ IPNS record ‖ uvarint length ‖ envelope
//
// From then on the node's bitswap gate hands that peer the blocks of the
// version's package root (on a keeper, while it holds them for the
// patient); fetching again replaces the session with the newer version's.
// Live grants are the patient's own: a delegated chain is refused with
// [ReasonLiveDelegated].
const ProtocolLive = "/healthwallet/live/1.0.0"

// Refusal reasons of the live protocol.
const (
	// ReasonLiveDelegated: a live grant was presented with delegations.
	ReasonLiveDelegated = "live shares cannot be delegated"
	// ReasonNoLive: the node has no version of the live grant.
	ReasonNoLive = "this node has no version of the live share"
	// ReasonLiveUnavailable: the node's version could not be read or does
	// not check out (the details stay on the node).
	ReasonLiveUnavailable = "the live share is unavailable on this node"
)

// ErrNoLive: a LiveSource has no version of the grant.
var ErrNoLive = errors.New("no live version")

// LiveSource gives the newest version of a live grant: the patient's
// wallet on its own node, the kept live store on a keeper.
type LiveSource interface {
	// Latest returns the marshalled IPNS record and the encoded
	// live.Envelope of the newest version of the live grant whose leaf
	// hash is grant, issued by patient; ErrNoLive when there is none.
	Latest(ctx context.Context, patient common.Address, grant [32]byte) (record, envelope []byte, err error)
}

// ServeLive registers [ProtocolLive] on the server's host, answering from
// src. Calling it again replaces the source.
func (s *Server) ServeLive(src LiveSource) {
	s.mu.Lock()
	s.live = src
	s.mu.Unlock()
	s.host.SetStreamHandler(ProtocolLive, s.handleLive)
}

func oneGrant(chain grant.Chain) string {
	if len(chain) != 1 {
		return ReasonLiveDelegated
	}
	return ""
}

func (s *Server) handleLive(st network.Stream) {
	defer st.Close()
	ctx, cancel := context.WithTimeout(context.Background(), streamTimeout)
	defer cancel()
	p, ok := s.handshake(ctx, st, true, oneGrant)
	if !ok {
		return
	}
	s.mu.Lock()
	src := s.live
	s.mu.Unlock()
	if src == nil {
		p.refuse(ReasonNoLive)
		return
	}
	leaf := p.access.GrantHash
	record, envelope, err := src.Latest(ctx, p.issuer, leaf)
	switch {
	case errors.Is(err, ErrNoLive):
		p.refuse(ReasonNoLive)
		return
	case err != nil || len(record) == 0 || len(record) > ipns.MaxRecordSize:
		p.refuse(ReasonLiveUnavailable)
		return
	}
	// The node checks what it hands out: the patient's envelope for this
	// grant, so the gate never opens on a root the patient did not name.
	env, err := live.DecodeEnvelope(envelope)
	if err == nil {
		err = env.Verify(p.issuer, leaf)
	}
	if err != nil {
		p.refuse(ReasonLiveUnavailable)
		return
	}
	if s.holdings != nil && !s.holdings.Holds(p.issuer, env.Root) {
		p.refuse(ReasonNotHeld)
		return
	}
	if !s.accept(st, p, []cid.Cid{env.Root}) {
		return
	}
	b := binary.AppendUvarint(nil, uint64(len(record)))
	b = append(b, record...)
	b = binary.AppendUvarint(b, uint64(len(envelope)))
	st.Write(append(b, envelope...))
}

// FetchLive presents chain, the patient's live grant (one grant), to the
// node p over [ProtocolLive], proving possession of key, and returns the
// newest version's marshalled IPNS record and encoded envelope. The
// caller checks them (live.OpenRecord with the grant's name, then
// Envelope.Verify) and then fetches the envelope's root over bitswap
// from p. h must know how to reach p (a connection or peerstore
// addresses). A refusal wraps ErrRefused with the node's reason.
func FetchLive(ctx context.Context, h host.Host, p peer.ID, chain grant.Chain, key *secp256k1.PrivateKey) (record, envelope []byte, err error) {
	st, r, _, err := present(ctx, h, p, ProtocolLive, chain, key)
	if err != nil {
		return nil, nil, err
	}
	defer st.Close()
	return readLiveAnswer(r, p.String())
}

// readLiveAnswer reads the live protocol's answer after "ok": uvarint
// length ‖ IPNS record, uvarint length ‖ envelope, each bounded.
func readLiveAnswer(r *bufio.Reader, from string) (record, envelope []byte, err error) {
	read := func(what string, max int) ([]byte, error) {
		n, err := binary.ReadUvarint(r)
		if err != nil || n == 0 || n > uint64(max) {
			return nil, fmt.Errorf("bad answer from %s: malformed %s", from, what)
		}
		b := make([]byte, n)
		if _, err := io.ReadFull(r, b); err != nil {
			return nil, fmt.Errorf("bad answer from %s: %s: %w", from, what, err)
		}
		return b, nil
	}
	if record, err = read("IPNS record", ipns.MaxRecordSize); err != nil {
		return nil, nil, err
	}
	if envelope, err = read("live envelope", live.MaxEnvelope); err != nil {
		return nil, nil, err
	}
	return record, envelope, nil
}
