package revocation

import (
	"context"
	"errors"
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/accounts/abi/bind/v2"
	"github.com/ethereum/go-ethereum/common"

	"github.com/healthwallet/healthwallet/share/registry"
)

// RegistrySource is the Source of a deployed registry reached through a
// go-ethereum backend (ethclient, or the simulated backend's client).
type RegistrySource struct {
	Client  *registry.Client
	Backend bind.Backend
}

// HeadNumber implements Source.
func (s RegistrySource) HeadNumber(ctx context.Context) (uint64, error) {
	h, err := s.Backend.HeaderByNumber(ctx, nil)
	if err != nil {
		return 0, err
	}
	return h.Number.Uint64(), nil
}

// BlockHash implements Source. go-ethereum's clients report a block the
// node does not have as ethereum.NotFound (a null result); that, and only
// that, becomes ErrBlockNotFound.
func (s RegistrySource) BlockHash(ctx context.Context, n uint64) (common.Hash, error) {
	h, err := s.Backend.HeaderByNumber(ctx, new(big.Int).SetUint64(n))
	if errors.Is(err, ethereum.NotFound) {
		return common.Hash{}, fmt.Errorf("block %d: %w", n, ErrBlockNotFound)
	}
	if err != nil {
		return common.Hash{}, err
	}
	return h.Hash(), nil
}

// Events implements Source.
func (s RegistrySource) Events(ctx context.Context, from, to uint64) ([]registry.Event, error) {
	return s.Client.RevokedEvents(ctx, from, to)
}

// RevokedAtBatch implements Source.
func (s RegistrySource) RevokedAtBatch(ctx context.Context, ids [][32]byte) ([]uint64, error) {
	return s.Client.RevokedAtBatch(ctx, ids)
}
