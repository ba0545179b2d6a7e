package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/accounts/abi/bind/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"

	"github.com/healthwallet/healthwallet/share/devnet"
	"github.com/healthwallet/healthwallet/share/registry"
	"github.com/healthwallet/healthwallet/share/relay"
	"github.com/healthwallet/healthwallet/wallet"
)

// DefaultRelay is where `healthwallet relay` listens, and where `revoke`
// looks when no relay or key is given.
const DefaultRelay = wallet.DefaultRelay

// chainArgs are the chain flags every chain-using command takes.
type chainArgs struct {
	rpc, registry, devnetFile string
	mirrorMaxAge              time.Duration
}

func addChainFlags(fs *flag.FlagSet, a *chainArgs) {
	fs.DurationVar(&a.mirrorMaxAge, "mirror-max-age", 5*time.Minute, "how long the local revocation mirror may answer alone while the chain is unreachable (0: never; fail closed)")
	fs.StringVar(&a.rpc, "chain-rpc", "", "EVM JSON-RPC URL (env HW_CHAIN_RPC; default: the devnet file)")
	fs.StringVar(&a.registry, "registry", "", "revocation registry address (env HW_REGISTRY; default: the devnet file)")
	fs.StringVar(&a.devnetFile, "devnet-file", "", "devnet info file (env HW_DEVNET_FILE; default "+defaultDevnetFile+")")
}

// chainConfig turns the flags, the environment and the devnet file into a
// chain configuration (wallet.ResolveChain): with --chain-rpc or --registry
// the chain id comes from the RPC, and a mismatch with the devnet file is
// refused.
func (c *ctx) chainConfig(ctx context.Context, a chainArgs) (wallet.ChainConfig, error) {
	rpc, reg := a.rpc, a.registry
	if rpc == "" {
		rpc = c.Getenv("HW_CHAIN_RPC")
	}
	if reg == "" {
		reg = c.Getenv("HW_REGISTRY")
	}
	file := a.devnetFile
	if file == "" {
		file = c.devnetFile()
	}
	var regAddr common.Address
	if reg != "" {
		if !common.IsHexAddress(reg) || common.HexToAddress(reg) == (common.Address{}) {
			return wallet.ChainConfig{}, fmt.Errorf("%w: --registry %q is not an address", errUsage, reg)
		}
		regAddr = common.HexToAddress(reg)
	}
	cfg, err := wallet.ResolveChain(ctx, file, rpc, regAddr)
	if errors.Is(err, wallet.ErrChainIncomplete) {
		return cfg, fmt.Errorf("%w: give both --chain-rpc and --registry", errUsage)
	}
	cfg.MirrorMaxAge = a.mirrorMaxAge
	if a.mirrorMaxAge == 0 {
		cfg.MirrorMaxAge = -1
	}
	return cfg, err
}

// defaultDevnetFile is how flag help names the devnet file's default place.
const defaultDevnetFile = "$HW_DEVNET_FILE, else healthwallet-devnet/devnet.json in the user's configuration directory"

// devnetFile is the devnet info file by default (wallet.DefaultDevnetFile).
func (c *ctx) devnetFile() string { return wallet.DefaultDevnetFile(c.Getenv) }

// devnetJSON is the line `devnet` prints when ready.
type devnetJSON struct {
	RPC      string `json:"rpc"`
	ChainID  uint64 `json:"chainId"`
	Registry string `json:"registry"`
	File     string `json:"file"`
}

func runDevnet(c *ctx, args []string) error {
	fs := c.flags("devnet")
	dataDir := fs.String("datadir", "", "chain data directory (default: beside the devnet file)")
	port := fs.Int("port", 8545, "JSON-RPC port on 127.0.0.1 (0 picks a free one)")
	file := fs.String("devnet-file", "", "where to write the RPC URL, chain id and registry (default "+defaultDevnetFile+")")
	if err := c.parse(fs, args); err != nil {
		return err
	}
	if *file == "" {
		*file = c.devnetFile()
	}
	if *file == "" {
		return fmt.Errorf("%w: no configuration directory for the devnet file: give --devnet-file or set HW_DEVNET_FILE", errUsage)
	}
	if *dataDir == "" {
		*dataDir = filepath.Join(filepath.Dir(*file), "chain")
	}
	if err := os.MkdirAll(filepath.Dir(*file), 0o700); err != nil {
		return err
	}
	d, err := devnet.Start(c.Context, devnet.Config{DataDir: *dataDir, Port: *port})
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.WriteInfo(*file); err != nil {
		return err
	}
	info := d.Info()
	b, _ := jsonLine(devnetJSON{RPC: info.RPC, ChainID: info.ChainID, Registry: info.Registry.Hex(), File: *file})
	c.Stdout.Write(b)
	fmt.Fprintln(c.Stderr, "devnet running; press Ctrl-C to stop (revocations persist in "+*dataDir+")")
	<-c.Context.Done()
	return nil
}

func runRelay(c *ctx, args []string) error {
	fs := c.flags("relay")
	var ca chainArgs
	addChainFlags(fs, &ca)
	listen := fs.String("listen", DefaultRelay, "address to serve the relay API on")
	keyHex := fs.String("key", "", "hex private key of the funded account that pays (env HW_RELAY_KEY; default: a devnet dev account)")
	gas := fs.Uint64("gas-per-hour", relay.DefaultLimits.Gas, "most gas the relay spends per hour, all clients together (about 50,000 per revocation)")
	if err := c.parse(fs, args); err != nil {
		return err
	}
	cfg, err := c.chainConfig(c.Context, ca)
	if err != nil {
		return err
	}
	if *keyHex == "" {
		*keyHex = c.Getenv("HW_RELAY_KEY")
	}
	if *keyHex == "" {
		accounts := devnet.Accounts()
		*keyHex = accounts[len(accounts)-1].PrivateKey
	}
	key, err := crypto.HexToECDSA(strings.TrimPrefix(*keyHex, "0x"))
	if err != nil {
		return fmt.Errorf("%w: --key is not a hex private key", errUsage)
	}
	client, err := ethclient.DialContext(c.Context, cfg.RPC)
	if err != nil {
		return err
	}
	defer client.Close()
	opts := bind.NewKeyedTransactor(key, new(big.Int).SetUint64(cfg.ChainID))
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: relay.NewHandler(&relay.Direct{Client: registry.NewClient(client, cfg.Registry), Opts: opts}, relay.Limits{Gas: *gas}), ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	defer srv.Close()
	b, _ := jsonLine(map[string]string{"url": "http://" + ln.Addr().String(), "payer": crypto.PubkeyToAddress(key.PublicKey).Hex()})
	c.Stdout.Write(b)
	fmt.Fprintln(c.Stderr, "relay running; press Ctrl-C to stop")
	select {
	case <-c.Context.Done():
		return nil
	case err := <-served:
		return fmt.Errorf("relay stopped: %w", err)
	}
}

// revoker picks how to pay for a revocation: --relay URL, else --key, else
// the default local relay.
func (c *ctx) revoker(cfg wallet.ChainConfig, relayURL, keyHex string) (wallet.Revoker, func(), error) {
	if relayURL == "" {
		relayURL = c.Getenv("HW_RELAY")
	}
	if keyHex == "" {
		keyHex = c.Getenv("HW_REVOKE_KEY")
	}
	r, release, err := wallet.NewRevoker(cfg, wallet.RevokerChoice{Relay: relayURL, Key: keyHex})
	if errors.Is(err, wallet.ErrBadRevokeKey) {
		return nil, nil, fmt.Errorf("%w: --key is not a hex private key", errUsage)
	}
	return r, release, err
}

// parseDuration accepts Go durations and days: "1h", "24h", "7d", "30d".
func parseDuration(s string) (time.Duration, error) {
	if d, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(d)
		if err != nil || n <= 0 {
			return 0, fmt.Errorf("%w: duration %q", errUsage, s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%w: duration %q (e.g. 1h, 24h, 7d, 30d)", errUsage, s)
	}
	return d, nil
}

// nodeFile is where `node` records its addresses for `grant` to use as
// provider hints.
const nodeFile = "node.json"

type nodeInfo struct {
	PeerID string   `json:"peerId"`
	Addrs  []string `json:"addrs"`
	SHLURL string   `json:"shlUrl,omitempty"` // the node's SMART Health Link endpoint, if it serves one
}

func readNodeInfo(home string) (nodeInfo, error) {
	var n nodeInfo
	b, err := os.ReadFile(filepath.Join(home, nodeFile))
	if err != nil {
		return n, err
	}
	return n, json.Unmarshal(b, &n)
}

var errNoProviders = errors.New("no address for your node: run 'healthwallet node' first, or give --provider")
