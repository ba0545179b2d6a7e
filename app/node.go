package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/ethereum/go-ethereum/common"

	"github.com/healthwallet/healthwallet/ipfs"
	"github.com/healthwallet/healthwallet/wallet"
)

// anyPortListen is where the node listens when ipfs.DefaultListen's port is
// taken (say, by another wallet's node on this machine).
var anyPortListen = []string{"/ip4/0.0.0.0/tcp/0", "/ip4/0.0.0.0/udp/0/quic-v1"}

// loadChain finds the chain as the CLI does (wallet.ResolveChain):
// Options.Chain, else the devnet file, with $HW_CHAIN_RPC and $HW_REGISTRY
// overriding it (the chain id then comes from that RPC).
func (u *UI) loadChain(ctx context.Context) (wallet.ChainConfig, error) {
	if u.opts.Chain != nil {
		return *u.opts.Chain, nil
	}
	file := u.opts.ChainFile
	if file == "" {
		file = wallet.DefaultDevnetFile(u.getenv)
	}
	rpc, reg := u.getenv("HW_CHAIN_RPC"), u.getenv("HW_REGISTRY")
	if (rpc != "" || reg != "") && (rpc == "" || !common.IsHexAddress(reg)) {
		return wallet.ChainConfig{}, errors.New("set both HW_CHAIN_RPC and HW_REGISTRY (an address), or neither")
	}
	var regAddr common.Address
	if reg != "" {
		regAddr = common.HexToAddress(reg)
	}
	return wallet.ResolveChain(ctx, file, rpc, regAddr)
}

// revoker is how revocations reach the registry: Options.Revoker, else a
// relay, so a wallet needs no ETH.
func (u *UI) revoker() wallet.Revoker {
	if u.opts.Revoker != nil {
		return u.opts.Revoker
	}
	return wallet.RelayRevoker(u.getenv("HW_RELAY"))
}

// startNode loads the chain and, when there is one, starts the wallet's
// node in the background so grantees can fetch what it shares. Without a
// chain the node would refuse every grant (revocation status unknown), so
// it is not started; the settings tab says why.
func (u *UI) startNode(w *wallet.Wallet) {
	ctx, cancel := context.WithCancel(context.Background())
	u.mu.Lock()
	u.nodeStop = cancel
	u.node, u.nodeErr, u.chainErr = nil, nil, nil
	u.mu.Unlock()
	var srv *wallet.Serving
	var chain wallet.ChainConfig
	var chainErr, nodeErr error
	u.run(func() error {
		chain, chainErr = u.loadChain(ctx)
		if chainErr != nil {
			return nil
		}
		listen := u.opts.Listen
		if listen == nil {
			listen = ipfs.DefaultListen
		}
		srv, nodeErr = w.Serve(ctx, wallet.ServeConfig{Listen: listen, Chain: chain})
		if nodeErr != nil && u.opts.Listen == nil {
			srv, nodeErr = w.Serve(ctx, wallet.ServeConfig{Listen: anyPortListen, Chain: chain})
		}
		return nil
	}, func(error) {
		u.mu.Lock()
		current := u.wallet == w && ctx.Err() == nil
		if current {
			u.chain, u.chainErr = chain, chainErr
			u.node, u.nodeErr = srv, nodeErr
		}
		u.mu.Unlock()
		if !current && srv != nil {
			srv.Close() // locked while starting
			return
		}
		if u.settings != nil {
			u.settings.refresh()
		}
	})
}

// stopNode stops the node before the wallet locks.
func (u *UI) stopNode() {
	u.mu.Lock()
	srv, stop := u.node, u.nodeStop
	u.node, u.nodeStop = nil, nil
	u.nodeErr = errors.New("the wallet is locked")
	u.mu.Unlock()
	if stop != nil {
		stop()
	}
	if srv != nil {
		srv.Close()
	}
}

// chainState returns the chain, or why there is none.
func (u *UI) chainState() (wallet.ChainConfig, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.chainErr == nil && u.chain.RPC == "" {
		return u.chain, errors.New("still looking for the chain")
	}
	return u.chain, u.chainErr
}

// nodeState returns the running node, or why it is not running.
func (u *UI) nodeState() (*wallet.Serving, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	switch {
	case u.node != nil:
		return u.node, nil
	case errors.Is(u.chainErr, wallet.ErrNoChain):
		return nil, errors.New("not started: no chain configured")
	case u.chainErr != nil:
		return nil, fmt.Errorf("not started: %w", u.chainErr)
	case u.nodeErr != nil:
		return nil, u.nodeErr
	}
	return nil, errors.New("starting")
}

// providers are the addresses grants name for fetching: this wallet's node.
func (u *UI) providers() ([]string, error) {
	srv, err := u.nodeState()
	if err != nil {
		return nil, fmt.Errorf("your node is not running (%v), so nobody could fetch what you share", err)
	}
	return srv.Addrs(), nil
}

// shareProviders are the addresses a new grant names: this wallet's node
// (when it runs) and its keepers (wallet.KeeperProviders: each keeper,
// this node relayed through each keeper, each Kubo replica). With the node
// not running but keepers enrolled, the grant names the keepers only, so
// sharing works from a locked or offline phone; with neither, sharing is
// refused, since nobody could fetch what is shared.
func (u *UI) shareProviders(w *wallet.Wallet) ([]string, error) {
	keepers, err := w.KeeperProviders()
	if err != nil {
		return nil, err
	}
	own, err := u.providers()
	if err != nil && len(keepers) == 0 {
		return nil, err
	}
	return append(own, keepers...), nil
}
