// Package devnet runs a local, persistent Ethereum chain in-process with the
// revocation registry deployed: what `geth --dev --datadir DIR` does, plus the
// registry, for `healthwallet devnet` and for tests.
//
// The chain is a go-ethereum node (node.New with a data directory and HTTP
// JSON-RPC on 127.0.0.1) running the eth service on a dev genesis, with the
// filter API (eth_getLogs) and a simulated beacon that seals a block as soon
// as a transaction arrives (catalyst.NewSimulatedBeacon with period 0). Unlike
// the simulated backend of ethclient/simulated, it survives restarts: block
// height, nonces, balances and every revocation carry over.
//
// # Chain
//
//   - chain id 1337 (ChainID), network id the same;
//   - current Ethereum mainnet rules: every fork through Osaka (Fusaka) plus
//     the BPO1/BPO2 blob-parameter forks, active at genesis (ChainConfig);
//   - block gas limit 60,000,000, initial base fee 1 gwei, miner minimum tip
//     1 wei;
//   - state kept in hash-scheme archive mode: every block's state is flushed
//     to the database as it is sealed, so a killed process (even kill -9)
//     loses nothing that was mined;
//   - no log index: eth_getLogs scans block blooms and receipts, which is
//     instant on a chain that only grows when someone transacts.
//
// # Dev accounts
//
// Four accounts, each funded with 10,000 ETH at genesis, are the first
// accounts of the well-known test mnemonic
// "test test test test test test test test test test test junk" at
// m/44'/60'/0'/0/i (i = 0..3), the same as Hardhat's and Anvil's defaults.
// Their private keys are public knowledge: use them only on this devnet.
// Account 0 deploys the registry on first start, so on a fresh data directory
// the registry lands at 0x5FbDB2315678afecb367f032d93F642f64180aa3.
//
// The registry address is kept in DataDir/registry.json, so restarts reuse
// it.
package devnet

import (
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"sync"

	"github.com/ethereum/go-ethereum/accounts/abi/bind/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/core/rawdb"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/eth"
	"github.com/ethereum/go-ethereum/eth/catalyst"
	"github.com/ethereum/go-ethereum/eth/ethconfig"
	"github.com/ethereum/go-ethereum/eth/filters"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/ethereum/go-ethereum/node"
	"github.com/ethereum/go-ethereum/p2p"
	"github.com/ethereum/go-ethereum/params"
	"github.com/ethereum/go-ethereum/rpc"

	"github.com/healthwallet/healthwallet/internal/atomicfile"
	"github.com/healthwallet/healthwallet/share/registry"
)

const (
	// GasLimit is the block gas limit of the devnet.
	GasLimit = 60_000_000
	// registryFile, in the data directory, remembers the registry address.
	registryFile = "registry.json"
	// nodeName names the node's instance directory inside the data dir.
	nodeName = "devnet"
)

// devKeys are the private keys of m/44'/60'/0'/0/0..3 of the mnemonic
// "test test test test test test test test test test test junk"
// (checked by TestDevAccountsFromMnemonic).
var devKeys = []string{
	"ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
	"59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
	"5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
	"7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
}

// devBalance is each dev account's genesis balance: 10,000 ETH.
var devBalance = new(big.Int).Mul(big.NewInt(10_000), big.NewInt(params.Ether))

// Errors. Start wraps them; test with errors.Is.
var (
	// ErrRegistryMissing: the data directory names a registry that has no
	// code on its chain (the chain data was replaced or damaged).
	ErrRegistryMissing = errors.New("registry recorded in the data directory is not on the chain")
	// ErrOtherChain: the data directory holds a chain with another chain id.
	ErrOtherChain = errors.New("data directory holds a different chain")
)

// Config configures Start.
type Config struct {
	// DataDir holds the chain database and registry.json; it is created if
	// missing. Empty means an ephemeral in-memory chain (nothing persists).
	DataDir string
	// Port is the HTTP JSON-RPC port on 127.0.0.1; 0 picks a free one.
	Port int
	// ChainID overrides the chain id (default ChainID, 1337), for tests
	// that need a second, different chain.
	ChainID uint64
}

// Account is a funded dev account.
type Account struct {
	Address    common.Address `json:"address"`
	PrivateKey string         `json:"privateKey"` // hex, without 0x
}

// Key returns the account's private key.
func (a Account) Key() (*ecdsa.PrivateKey, error) { return crypto.HexToECDSA(a.PrivateKey) }

// Info describes a running devnet; WriteInfo stores it as JSON.
type Info struct {
	RPC      string         `json:"rpc"`      // HTTP JSON-RPC endpoint, http://127.0.0.1:PORT
	ChainID  uint64         `json:"chainId"`  // 1337
	Registry common.Address `json:"registry"` // revocation registry address
	Accounts []Account      `json:"accounts"` // funded dev accounts
}

// Devnet is a running local chain. Close it when done.
type Devnet struct {
	stack  *node.Node
	client *ethclient.Client
	info   Info

	closeOnce sync.Once
	closeErr  error
}

// Accounts returns the dev accounts (see the package comment).
func Accounts() []Account {
	accs := make([]Account, len(devKeys))
	for i, k := range devKeys {
		key, err := crypto.HexToECDSA(k)
		if err != nil {
			panic(err)
		}
		accs[i] = Account{Address: crypto.PubkeyToAddress(key.PublicKey), PrivateKey: k}
	}
	return accs
}

// Genesis returns the devnet's genesis block: ChainConfig(ChainID), the
// system contracts mainnet has (EIP-4788 beacon roots, EIP-2935 block
// hashes, EIP-7002 withdrawal and EIP-7251 consolidation queues) and the
// funded dev accounts. It is deterministic, so every start agrees with the
// genesis stored in the data directory.
func Genesis() *core.Genesis {
	alloc := types.GenesisAlloc{}
	sys := core.SystemContractAllocs()
	for _, a := range []common.Address{
		params.BeaconRootsAddress,
		params.HistoryStorageAddress,
		params.WithdrawalQueueAddress,
		params.ConsolidationQueueAddress,
	} {
		alloc[a] = sys[a]
	}
	for _, acc := range Accounts() {
		alloc[acc.Address] = types.Account{Balance: devBalance}
	}
	return &core.Genesis{
		Config:     ChainConfig(ChainID),
		GasLimit:   GasLimit,
		BaseFee:    big.NewInt(params.InitialBaseFee),
		Difficulty: big.NewInt(0),
		Alloc:      alloc,
	}
}

// Start starts the devnet and returns once its JSON-RPC endpoint answers and
// the registry is deployed (on the first start with a data directory, or
// every start without one). ctx bounds the startup only.
func Start(ctx context.Context, cfg Config) (_ *Devnet, err error) {
	if cfg.Port < 0 || cfg.Port > 65535 {
		return nil, fmt.Errorf("devnet: invalid port %d", cfg.Port)
	}
	if cfg.DataDir != "" {
		if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
			return nil, fmt.Errorf("devnet: %w", err)
		}
	}
	chainID := cfg.ChainID
	if chainID == 0 {
		chainID = ChainID
	}
	accounts := Accounts()
	stack, err := node.New(&node.Config{
		Name:             nodeName,
		DataDir:          cfg.DataDir,
		HTTPHost:         "127.0.0.1",
		HTTPPort:         cfg.Port,
		HTTPModules:      []string{"eth", "net", "web3"},
		HTTPVirtualHosts: []string{"localhost"},
		HTTPTimeouts:     rpc.DefaultHTTPTimeouts,
		// Nothing authenticated is registered, but keep the engine
		// endpoint on loopback and off fixed ports should that change.
		AuthAddr:             "127.0.0.1",
		AuthPort:             0,
		BatchRequestLimit:    node.DefaultConfig.BatchRequestLimit,
		BatchResponseMaxSize: node.DefaultConfig.BatchResponseMaxSize,
		HTTPBodyLimit:        node.DefaultConfig.HTTPBodyLimit,
		// Like --dev: no peers, no discovery, no listening socket.
		P2P: p2p.Config{MaxPeers: 0, NoDiscovery: true, NoDial: true, ListenAddr: ""},
	})
	if err != nil {
		return nil, fmt.Errorf("devnet: %w", err)
	}
	defer func() {
		if err != nil {
			stack.Close()
		}
	}()

	ethCfg := ethconfig.Defaults
	ethCfg.Genesis = Genesis()
	ethCfg.Genesis.Config = ChainConfig(chainID)
	ethCfg.NetworkId = chainID
	ethCfg.SyncMode = ethconfig.FullSync
	ethCfg.Miner.GasPrice = big.NewInt(1) // minimum tip, as in --dev
	ethCfg.Miner.GasCeil = GasLimit
	ethCfg.Miner.PendingFeeRecipient = accounts[0].Address
	// Archive mode on the hash scheme writes each block's state to the
	// database when it is sealed (the path scheme journals it only on a
	// clean shutdown), so a killed devnet keeps what it mined.
	ethCfg.StateScheme = rawdb.HashScheme
	ethCfg.NoPruning = true
	ethCfg.SnapshotCache = 0
	// No log index: eth_getLogs scans receipts instead, which is instant on a
	// chain that only grows when someone transacts, and the indexer's
	// background work would otherwise dominate start/stop time.
	ethCfg.LogNoHistory = true
	// A dev chain is tiny: keep the caches small.
	ethCfg.DatabaseCache = 32
	ethCfg.TrieCleanCache = 16
	ethCfg.TrieDirtyCache = 0
	backend, err := eth.New(stack, &ethCfg)
	if err != nil {
		return nil, fmt.Errorf("devnet: %w", err)
	}
	if id := backend.BlockChain().Config().ChainID; id == nil || id.Uint64() != chainID {
		return nil, fmt.Errorf("devnet: %w (chain id %v, want %d)", ErrOtherChain, id, chainID)
	}

	// eth_getLogs and friends, as geth registers them (utils.RegisterFilterAPI).
	filterSystem := filters.NewFilterSystem(backend.APIBackend, filters.Config{})
	stack.RegisterAPIs([]rpc.API{{Namespace: "eth", Service: filters.NewFilterAPI(filterSystem)}})

	// Dev-mode block production, as cmd/geth does for --dev with
	// --dev.period 0: a block as soon as a transaction arrives.
	beacon, err := catalyst.NewSimulatedBeacon(0, accounts[0].Address, backend)
	if err != nil {
		return nil, fmt.Errorf("devnet: simulated beacon: %w", err)
	}
	catalyst.RegisterSimulatedBeaconAPIs(stack, beacon)
	stack.RegisterLifecycle(beacon)

	if err := stack.Start(); err != nil {
		return nil, fmt.Errorf("devnet: %w", err)
	}
	d := &Devnet{
		stack:  stack,
		client: ethclient.NewClient(stack.Attach()),
		info: Info{
			RPC:      stack.HTTPEndpoint(),
			ChainID:  chainID,
			Accounts: accounts,
		},
	}
	defer func() {
		if err != nil {
			d.client.Close()
		}
	}()
	addr, err := d.ensureRegistry(ctx, cfg.DataDir, accounts[0])
	if err != nil {
		return nil, fmt.Errorf("devnet: %w", err)
	}
	d.info.Registry = addr
	return d, nil
}

type registryRecord struct {
	ChainID  uint64         `json:"chainId"`
	Registry common.Address `json:"registry"`
}

// ensureRegistry returns the registry recorded in dataDir, after checking it
// is on the chain, or deploys one from deployer and records it.
func (d *Devnet) ensureRegistry(ctx context.Context, dataDir string, deployer Account) (common.Address, error) {
	path := ""
	if dataDir != "" {
		path = filepath.Join(dataDir, registryFile)
		data, err := os.ReadFile(path)
		switch {
		case err == nil:
			var rec registryRecord
			if err := json.Unmarshal(data, &rec); err != nil {
				return common.Address{}, fmt.Errorf("%s: %w", path, err)
			}
			if rec.ChainID != d.info.ChainID {
				return common.Address{}, fmt.Errorf("%s: %w (chain id %d)", path, ErrOtherChain, rec.ChainID)
			}
			code, err := d.client.CodeAt(ctx, rec.Registry, nil)
			if err != nil {
				return common.Address{}, err
			}
			if len(code) == 0 {
				return common.Address{}, fmt.Errorf("%w: %s", ErrRegistryMissing, rec.Registry.Hex())
			}
			return rec.Registry, nil
		case !errors.Is(err, os.ErrNotExist):
			return common.Address{}, err
		}
	}

	key, err := deployer.Key()
	if err != nil {
		return common.Address{}, err
	}
	// A start that deployed but died before recording the address left the
	// registry at the deployer's first contract address: adopt it.
	addr := crypto.CreateAddress(deployer.Address, 0)
	code, err := d.client.CodeAt(ctx, addr, nil)
	if err != nil {
		return common.Address{}, err
	}
	if len(code) == 0 {
		opts := bind.NewKeyedTransactor(key, new(big.Int).SetUint64(d.info.ChainID))
		_, tx, err := registry.Deploy(ctx, d.client, opts)
		if err != nil {
			return common.Address{}, err
		}
		rcpt, err := registry.WaitDeployed(ctx, d.client, tx)
		if err != nil {
			return common.Address{}, fmt.Errorf("deploy registry: %w", err)
		}
		addr = rcpt.ContractAddress
	}
	if path != "" {
		rec, err := json.MarshalIndent(registryRecord{ChainID: d.info.ChainID, Registry: addr}, "", "  ")
		if err != nil {
			return common.Address{}, err
		}
		if err := atomicfile.WriteFile(path, append(rec, '\n'), 0o600); err != nil {
			return common.Address{}, err
		}
	}
	return addr, nil
}

// Info describes the running devnet.
func (d *Devnet) Info() Info {
	info := d.info
	info.Accounts = append([]Account(nil), d.info.Accounts...)
	return info
}

// Client returns an in-process client of the devnet (no HTTP round trip).
// It is closed by Close.
func (d *Devnet) Client() *ethclient.Client { return d.client }

// WriteInfo writes Info as indented JSON to path, atomically (temporary
// file, fsync, rename), readable by the owner only since it holds the dev
// keys.
func (d *Devnet) WriteInfo(path string) error {
	data, err := json.MarshalIndent(d.Info(), "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(path, append(data, '\n'), 0o600)
}

// Close stops the chain, flushes it to the data directory and releases the
// directory and the port. It is safe to call more than once.
func (d *Devnet) Close() error {
	d.closeOnce.Do(func() {
		d.client.Close()
		d.closeErr = d.stack.Close()
	})
	return d.closeErr
}
