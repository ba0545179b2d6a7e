package wallet

import (
	"crypto/ecdsa"
	"errors"
	"fmt"
	"math/big"
	"strings"

	"github.com/ethereum/go-ethereum/accounts/abi/bind/v2"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"

	"github.com/healthwallet/healthwallet/share/registry"
	"github.com/healthwallet/healthwallet/share/relay"
)

// DefaultRelay is where `healthwallet relay` listens by default, and where
// revocations go when nothing else is configured.
const DefaultRelay = "127.0.0.1:4190"

// ErrBadRevokeKey: a funded key given to pay for revocations is not a hex
// secp256k1 private key.
var ErrBadRevokeKey = errors.New("not a hex private key")

// RevokerChoice says how revocations reach the registry. The first of
// these that is set wins: Relay, then Key; with neither, the relay at
// DefaultRelay, so a phone needs no ETH.
type RevokerChoice struct {
	Relay string // a relay's URL (or host:port)
	Key   string // a funded account's private key, hex, for direct submission
}

// NewRevoker returns the Revoker the choice names, and a function that
// releases it.
func NewRevoker(cfg ChainConfig, choice RevokerChoice) (Revoker, func(), error) {
	if choice.Relay == "" && choice.Key == "" {
		choice.Relay = DefaultRelay
	}
	if choice.Relay != "" {
		return RelayRevoker(choice.Relay), func() {}, nil
	}
	key, err := parseKey(choice.Key)
	if err != nil {
		return nil, nil, err
	}
	client, err := ethclient.Dial(cfg.RPC)
	if err != nil {
		return nil, nil, err
	}
	opts := bind.NewKeyedTransactor(key, new(big.Int).SetUint64(cfg.ChainID))
	return &relay.Direct{Client: registry.NewClient(client, cfg.Registry), Opts: opts}, client.Close, nil
}

// RelayRevoker sends revocations to the relay at url (a URL or host:port;
// "" means DefaultRelay), which pays the gas.
func RelayRevoker(url string) Revoker {
	if url == "" {
		url = DefaultRelay
	}
	if !strings.Contains(url, "://") {
		url = "http://" + url
	}
	return relay.Client{URL: strings.TrimRight(url, "/")}
}

func parseKey(s string) (*ecdsa.PrivateKey, error) {
	key, err := crypto.HexToECDSA(strings.TrimPrefix(strings.TrimSpace(s), "0x"))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadRevokeKey, err)
	}
	return key, nil
}
