// Package relay submits revocations for wallets that hold no ETH.
//
// Revoking a grant means revealing its 32-byte revocation secret to the
// registry. The secret identifies nothing and becomes public on chain
// anyway, so anyone may submit it: a patient's phone hands it to a relay
// (a clinic, a family member's node, `healthwallet relay` on the devnet)
// which pays the gas. [Direct] submits with a funded key; [Client] talks to
// a relay; [Handler] is the relay's HTTP side:
//
//	POST /v1/revoke   {"secrets": ["0x…32 bytes…", …]}
//	200               {"tx": "0x…", "block": 123}
//	4xx/5xx           {"error": "one line"}
package relay

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/accounts/abi/bind/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"

	"github.com/healthwallet/healthwallet/share/registry"
)

// MaxBatch is the most secrets one request may carry.
const MaxBatch = 64

// ErrRelay: the relay refused or failed; the text says why.
var ErrRelay = errors.New("relay failed")

// Direct submits revocations with a funded key and waits until mined.
type Direct struct {
	Client *registry.Client
	Opts   *bind.TransactOpts

	mu sync.Mutex // one transaction at a time: nonces
}

// Revoke implements wallet.Revoker.
func (d *Direct) Revoke(ctx context.Context, secrets [][32]byte) (common.Hash, error) {
	if len(secrets) == 0 || len(secrets) > MaxBatch {
		return common.Hash{}, fmt.Errorf("%d secrets: between 1 and %d", len(secrets), MaxBatch)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	tx, err := d.Client.Revoke(ctx, d.Opts, secrets...)
	if err != nil {
		return common.Hash{}, err
	}
	if _, err := d.Client.WaitMined(ctx, tx); err != nil {
		return tx.Hash(), err
	}
	return tx.Hash(), nil
}

type request struct {
	Secrets []hexutil.Bytes `json:"secrets"`
}

type response struct {
	Tx    string `json:"tx,omitempty"`
	Error string `json:"error,omitempty"`
}

// Handler serves the relay API with a Direct submitter.
func Handler(d *Direct) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/revoke", func(w http.ResponseWriter, r *http.Request) {
		var req request
		if err := json.NewDecoder(io.LimitReader(r.Body, 64<<10)).Decode(&req); err != nil {
			reply(w, http.StatusBadRequest, response{Error: "body is not {\"secrets\": [...]}"})
			return
		}
		var secrets [][32]byte
		for _, s := range req.Secrets {
			if len(s) != 32 {
				reply(w, http.StatusBadRequest, response{Error: "each secret is 32 bytes"})
				return
			}
			secrets = append(secrets, [32]byte(s))
		}
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Minute)
		defer cancel()
		tx, err := d.Revoke(ctx, secrets)
		if err != nil {
			reply(w, http.StatusBadGateway, response{Error: err.Error()})
			return
		}
		reply(w, http.StatusOK, response{Tx: tx.Hex()})
	})
	return mux
}

func reply(w http.ResponseWriter, code int, r response) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(r)
}

// Client submits revocations through a relay.
type Client struct {
	URL  string // base URL, e.g. http://127.0.0.1:4190
	HTTP *http.Client
}

// Revoke implements wallet.Revoker.
func (c Client) Revoke(ctx context.Context, secrets [][32]byte) (common.Hash, error) {
	req := request{}
	for _, s := range secrets {
		req.Secrets = append(req.Secrets, s[:])
	}
	body, _ := json.Marshal(req)
	hr, err := http.NewRequestWithContext(ctx, "POST", c.URL+"/v1/revoke", bytes.NewReader(body))
	if err != nil {
		return common.Hash{}, err
	}
	hr.Header.Set("Content-Type", "application/json")
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 3 * time.Minute}
	}
	resp, err := hc.Do(hr)
	if err != nil {
		return common.Hash{}, fmt.Errorf("%w: relay %s unreachable: %v", ErrRelay, c.URL, err)
	}
	defer resp.Body.Close()
	var out response
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&out); err != nil {
		return common.Hash{}, fmt.Errorf("%w: relay answered %s", ErrRelay, resp.Status)
	}
	if resp.StatusCode != http.StatusOK {
		return common.Hash{}, fmt.Errorf("%w: %s", ErrRelay, out.Error)
	}
	// A relay's 200 is only its word; the wallet confirms on its own RPC.
	// Without a transaction hash there is nothing to confirm.
	tx, err := hexutil.Decode(out.Tx)
	if err != nil || len(tx) != common.HashLength {
		return common.Hash{}, fmt.Errorf("%w: relay answered %s without a transaction hash", ErrRelay, resp.Status)
	}
	return common.BytesToHash(tx), nil
}
