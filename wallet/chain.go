package wallet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
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

// ErrNoChain: no chain is configured.
var ErrNoChain = errors.New("no chain configured: run 'healthwallet devnet', or give --chain-rpc and --registry")

// Domain is the EIP-712 domain of grants on this chain.
func (c ChainConfig) Domain() grant.Domain {
	return grant.Domain{ChainID: c.ChainID, Registry: c.Registry}
}

// DefaultDevnetFile is where `healthwallet devnet` writes its RPC URL, chain
// id and registry address, and where wallets look by default:
// $HW_DEVNET_FILE, else healthwallet-devnet/devnet.json in the user's
// configuration directory.
func DefaultDevnetFile() string {
	if f := os.Getenv("HW_DEVNET_FILE"); f != "" {
		return f
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		dir = os.TempDir()
	}
	return filepath.Join(dir, "healthwallet-devnet", "devnet.json")
}

// LoadChainConfig reads a devnet info file.
func LoadChainConfig(path string) (ChainConfig, error) {
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
