package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/accounts/abi/bind/v2"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"

	"github.com/healthwallet/healthwallet/share/registry"
)

// errInsufficientFunds: the deploying account cannot pay for the gas.
var errInsufficientFunds = errors.New("insufficient funds")

// registryDeployJSON is `registry deploy --json`.
type registryDeployJSON struct {
	Registry string `json:"registry"`
	ChainID  uint64 `json:"chainId"`
	Tx       string `json:"tx"`
}

const registryUsage = "healthwallet registry deploy --chain-rpc URL --key HEX [--json]"

// runRegistry is `registry deploy`: it deploys the revocation registry
// (share/registry's compiled RevocationRegistry) from a funded key, waits
// until it is mined and prints its address, the chain id (read from the RPC)
// and the transaction.
func runRegistry(c *ctx, args []string) error {
	if len(args) == 0 || args[0] != "deploy" {
		return fmt.Errorf("%w: %s", errUsage, registryUsage)
	}
	fs := c.flags("registry deploy")
	rpc := fs.String("chain-rpc", "", "EVM JSON-RPC URL (env HW_CHAIN_RPC)")
	keyHex := fs.String("key", "", "hex private key of the funded account that pays for the deployment (env HW_DEPLOY_KEY)")
	wait := fs.Duration("timeout", 5*time.Minute, "how long to wait for the deployment to be mined")
	asJSON := fs.Bool("json", false, "print JSON: registry, chainId, tx")
	if err := c.parse(fs, args[1:]); err != nil {
		return err
	}
	if *rpc == "" {
		*rpc = c.Getenv("HW_CHAIN_RPC")
	}
	if *keyHex == "" {
		*keyHex = c.Getenv("HW_DEPLOY_KEY")
	}
	if *rpc == "" || *keyHex == "" {
		return fmt.Errorf("%w: %s", errUsage, registryUsage)
	}
	key, err := crypto.HexToECDSA(strings.TrimPrefix(*keyHex, "0x"))
	if err != nil {
		return fmt.Errorf("%w: --key is not a hex private key (64 hex digits)", errUsage)
	}
	from := crypto.PubkeyToAddress(key.PublicKey)
	ctx, cancel := context.WithTimeout(c.Context, *wait)
	defer cancel()
	client, err := ethclient.DialContext(ctx, *rpc)
	if err != nil {
		return fmt.Errorf("chain %s unreachable: %v", *rpc, err)
	}
	defer client.Close()
	chainID, err := client.ChainID(ctx)
	if err != nil {
		return fmt.Errorf("chain %s unreachable: %v", *rpc, err)
	}
	balance, err := client.BalanceAt(ctx, from, nil)
	if err != nil {
		return fmt.Errorf("chain %s unreachable: %v", *rpc, err)
	}
	noFunds := fmt.Errorf("%w: account %s has no ETH on chain %s to pay for the deployment; fund it or give another --key", errInsufficientFunds, from.Hex(), chainID)
	if balance.Sign() == 0 {
		return noFunds
	}
	_, tx, err := registry.Deploy(ctx, client, bind.NewKeyedTransactor(key, chainID))
	if err != nil {
		// Over JSON-RPC the node's error is text only.
		if msg := strings.ToLower(err.Error()); strings.Contains(msg, "insufficient funds") || strings.Contains(msg, "exceeds allowance") {
			return fmt.Errorf("%w: account %s (balance %s wei) cannot pay for the deployment on chain %s", errInsufficientFunds, from.Hex(), balance, chainID)
		}
		return err
	}
	rcpt, err := registry.WaitDeployed(ctx, client, tx)
	if err != nil {
		return fmt.Errorf("registry deployment %s: %w", tx.Hash().Hex(), err)
	}
	out := registryDeployJSON{Registry: rcpt.ContractAddress.Hex(), ChainID: chainID.Uint64(), Tx: tx.Hash().Hex()}
	if *asJSON {
		return c.printJSON(out)
	}
	fmt.Fprintf(c.Stdout, "registry %s\nchainId %d\ntx %s\n", out.Registry, out.ChainID, out.Tx)
	fmt.Fprintf(c.Stderr, "give wallets --chain-rpc %s --registry %s\n", *rpc, out.Registry)
	return nil
}
