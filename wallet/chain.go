package wallet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/ethclient"

	"github.com/healthwallet/healthwallet/share/grant"
	"github.com/healthwallet/healthwallet/share/registry"
	"github.com/healthwallet/healthwallet/share/revocation"
)

// ChainConfig says which EVM chain and revocation registry the wallet uses.
type ChainConfig struct {
	RPC        string         `json:"rpc"`
	ChainID    uint64         `json:"chainId"`
	Registry   common.Address `json:"registry"`
	StartBlock uint64         `json:"startBlock,omitempty"`
	// MirrorMaxAge overrides the revocation mirror's 5-minute freshness
	// window (see package revocation); negative disables it.
	MirrorMaxAge time.Duration `json:"-"`
}

// ErrNoChain: no chain is configured. Front ends add how to configure one
// in their own terms.
var ErrNoChain = errors.New("no chain configured")

// Domain is the EIP-712 domain of grants on this chain.
func (c ChainConfig) Domain() grant.Domain {
	return grant.Domain{ChainID: c.ChainID, Registry: c.Registry}
}

// DefaultDevnetFile is where `healthwallet devnet` writes its RPC URL, chain
// id and registry address, and where wallets look by default:
// $HW_DEVNET_FILE, else healthwallet-devnet/devnet.json in the user's
// configuration directory, both read through getenv. It is "" when getenv
// names neither.
func DefaultDevnetFile(getenv Getenv) string {
	if f := getenv.get("HW_DEVNET_FILE"); f != "" {
		return f
	}
	dir, err := userConfigDir(getenv)
	if err != nil {
		return ""
	}
	return filepath.Join(dir, "healthwallet-devnet", "devnet.json")
}

// LoadChainConfig reads a devnet info file. No path ("") is no chain.
func LoadChainConfig(path string) (ChainConfig, error) {
	if path == "" {
		return ChainConfig{}, fmt.Errorf("%w (no devnet file)", ErrNoChain)
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return ChainConfig{}, fmt.Errorf("%w (no %s)", ErrNoChain, path)
	}
	if err != nil {
		return ChainConfig{}, err
	}
	var c ChainConfig
	if err := json.Unmarshal(b, &c); err != nil || c.RPC == "" || c.ChainID == 0 || c.Registry == (common.Address{}) {
		return ChainConfig{}, fmt.Errorf("%s is not a devnet info file (want rpc, chainId, registry)", path)
	}
	return c, nil
}

// Errors of ResolveChain.
var (
	// ErrChainIncomplete: an override names an RPC without a registry, or
	// a registry without an RPC, and no devnet file supplies the other.
	ErrChainIncomplete = errors.New("both an RPC URL and a registry address are needed")
	// ErrChainIDMismatch: the RPC reports another chain id than the one
	// the devnet file (or the registry taken from it) belongs to.
	ErrChainIDMismatch = errors.New("chain id mismatch")
)

// ResolveChain finds the chain the way both front ends do: the devnet info
// file at file, with rpc and registry (either may be empty or zero)
// overriding it.
//
// Without overrides it is the file, checked against eth_chainId of the
// file's RPC when that answers within a few seconds (a devnet file left
// behind while another chain now listens on its port is refused); when the
// RPC does not answer, the file is used as it is, and the revocation
// mirror's policy decides what an unreachable chain means. With an
// override, the chain id always comes from eth_chainId of the RPC in use,
// since the registry derives revocation ids from block.chainid: a grant
// signed for any other chain id could never be revoked. It refuses
// (ErrChainIDMismatch) when the RPC in use is the file's RPC but reports
// another chain id than the file, and when the registry comes from the file
// but the RPC is of another chain. The file's start block is kept only when
// both the RPC and the registry are the file's; otherwise the mirror scans
// from block 0, which is slow on a long chain but never misses an event.
func ResolveChain(ctx context.Context, file, rpc string, registry common.Address) (ChainConfig, error) {
	fileCfg, fileErr := LoadChainConfig(file)
	if rpc == "" && registry == (common.Address{}) {
		if fileErr != nil {
			return fileCfg, fileErr
		}
		qctx, cancel := context.WithTimeout(ctx, fileCheckTimeout)
		defer cancel()
		if id, err := chainIDOf(qctx, fileCfg.RPC); err == nil && id != fileCfg.ChainID {
			return ChainConfig{}, fmt.Errorf("%w: %s reports chain id %d, but %s says %d", ErrChainIDMismatch, fileCfg.RPC, id, file, fileCfg.ChainID)
		}
		return fileCfg, nil
	}
	var cfg ChainConfig
	if fileErr == nil {
		cfg = fileCfg
	}
	if rpc != "" {
		cfg.RPC = rpc
	}
	if registry != (common.Address{}) {
		cfg.Registry = registry
	}
	if cfg.RPC == "" || cfg.Registry == (common.Address{}) {
		return ChainConfig{}, ErrChainIncomplete
	}
	id, err := chainIDOf(ctx, cfg.RPC)
	if err != nil {
		return ChainConfig{}, err
	}
	cfg.ChainID = id
	if fileErr == nil {
		sameRPC := cfg.RPC == fileCfg.RPC
		sameRegistry := cfg.Registry == fileCfg.Registry
		switch {
		case sameRPC && cfg.ChainID != fileCfg.ChainID:
			return ChainConfig{}, fmt.Errorf("%w: %s reports chain id %d, but %s says %d", ErrChainIDMismatch, cfg.RPC, cfg.ChainID, file, fileCfg.ChainID)
		case registry == (common.Address{}) && cfg.ChainID != fileCfg.ChainID:
			return ChainConfig{}, fmt.Errorf("%w: %s is chain %d, but the registry from %s is on chain %d; give the registry on chain %d too", ErrChainIDMismatch, cfg.RPC, cfg.ChainID, file, fileCfg.ChainID, cfg.ChainID)
		}
		if !sameRPC || !sameRegistry {
			cfg.StartBlock = 0
		}
	}
	return cfg, nil
}

// fileCheckTimeout bounds the check of a devnet file's chain id.
const fileCheckTimeout = 3 * time.Second

// chainIDOf asks the RPC at url for its chain id (eth_chainId).
func chainIDOf(ctx context.Context, url string) (uint64, error) {
	client, err := ethclient.DialContext(ctx, url)
	if err != nil {
		return 0, fmt.Errorf("chain %s unreachable: %w", url, err)
	}
	defer client.Close()
	id, err := client.ChainID(ctx)
	if err != nil {
		return 0, fmt.Errorf("chain %s unreachable: %w", url, err)
	}
	if id.Sign() <= 0 || !id.IsUint64() {
		return 0, fmt.Errorf("chain %s reports an invalid chain id %s", url, id)
	}
	return id.Uint64(), nil
}

// chainConn is an open connection to the configured chain.
type chainConn struct {
	cfg    ChainConfig
	client *ethclient.Client
	reg    *registry.Client
	mirror *revocation.Mirror
}

// connect dials the chain and opens the wallet's revocation mirror
// (revocations.db in the home). Dialling an HTTP RPC does not contact it
// yet, so an unreachable chain shows up as a failing sync, and the mirror's
// policy decides.
func (w *Wallet) connect(ctx context.Context, cfg ChainConfig) (*chainConn, error) {
	if cfg.RPC == "" {
		return nil, ErrNoChain
	}
	client, err := ethclient.DialContext(ctx, cfg.RPC)
	if err != nil {
		return nil, fmt.Errorf("failed to reach chain %s: %w", cfg.RPC, err)
	}
	reg := registry.NewClient(client, cfg.Registry)
	mirror, err := revocation.Open(filepath.Join(w.home, "revocations.db"), revocation.RegistrySource{Client: reg, Backend: client},
		cfg.ChainID, cfg.Registry, revocation.Config{StartBlock: cfg.StartBlock, MaxAge: cfg.MirrorMaxAge, Now: w.now})
	if err != nil {
		client.Close()
		return nil, err
	}
	return &chainConn{cfg: cfg, client: client, reg: reg, mirror: mirror}, nil
}

func (c *chainConn) Close() {
	c.mirror.Close()
	c.client.Close()
}

// policy is the verifier's policy on this chain.
func (c *chainConn) policy(now func() time.Time) grant.Policy {
	return grant.Policy{Domain: c.cfg.Domain(), Revocations: c.mirror, Now: now}
}

// revocationID is the registry's id of secret on this chain: what a grant
// or link carries, and what revoking it reveals the secret of.
func (c ChainConfig) revocationID(secret [32]byte) [32]byte {
	return registry.RevocationID(new(big.Int).SetUint64(c.ChainID), c.Registry, secret)
}
