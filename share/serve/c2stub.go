package serve

// Placeholder with the live protocol API of DESIGN14 so that the wallet
// compiles until branch i14-live lands. Delete this file when merging
// i14-live.

import (
	"context"
	"errors"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	"github.com/ethereum/go-ethereum/common"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/healthwallet/healthwallet/share/grant"
)

const ProtocolLive = "/healthwallet/live/1.0.0"

var ErrNoLive = errors.New("no live version of this grant")

type LiveSource interface {
	Latest(ctx context.Context, patient common.Address, grant [32]byte) (record, envelope []byte, err error)
}

func (s *Server) ServeLive(src LiveSource) {}

func FetchLive(ctx context.Context, h host.Host, p peer.ID, chain grant.Chain, key *secp256k1.PrivateKey) (record, envelope []byte, err error) {
	return nil, nil, errors.New("live: not built yet (waiting for branch i14-live)")
}
