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
//
// A relay is open to anyone, so [NewHandler] bounds what it spends (see
// [Limits]): each client address has a token bucket of requests (429 when
// empty), the relay has a gas budget per window (503 when spent, until the
// window ends), and a cap on requests waiting for mining at once (503).
// A wallet never takes a relay's 200 as the revocation: it confirms on its
// own RPC.
package relay

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/accounts/abi/bind/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"golang.org/x/time/rate"

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

	mu sync.Mutex // one submission at a time: nonces
}

// Revoke implements wallet.Revoker.
func (d *Direct) Revoke(ctx context.Context, secrets [][32]byte) (common.Hash, error) {
	h, _, err := d.revoke(ctx, secrets)
	return h, err
}

// revoke submits and waits until mined; it returns the gas the
// transaction used (its gas limit if no receipt came, 0 if nothing was
// sent). The lock covers only the submission (the nonce), never the wait:
// one slow block does not stall every other client.
func (d *Direct) revoke(ctx context.Context, secrets [][32]byte) (common.Hash, uint64, error) {
	if len(secrets) == 0 || len(secrets) > MaxBatch {
		return common.Hash{}, 0, fmt.Errorf("%d secrets: between 1 and %d", len(secrets), MaxBatch)
	}
	d.mu.Lock()
	tx, err := d.Client.Revoke(ctx, d.Opts, secrets...)
	d.mu.Unlock()
	if err != nil {
		return common.Hash{}, 0, err
	}
	rcpt, err := d.Client.WaitMined(ctx, tx)
	if rcpt == nil {
		return tx.Hash(), tx.Gas(), err
	}
	return tx.Hash(), rcpt.GasUsed, err
}

// Limits bound what a relay spends for its clients. Zero fields take the
// defaults of DefaultLimits.
type Limits struct {
	// ClientRate is how many requests per second one client address may
	// make in the long run, ClientBurst how many in a row.
	ClientRate  float64
	ClientBurst int
	// Gas is the most gas the relay spends per Window, all clients
	// together. A request is refused when what it may cost (its estimate)
	// does not fit in what is left.
	Gas    uint64
	Window time.Duration
	// InFlight caps requests submitted and waiting for mining at once.
	InFlight int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// DefaultLimits: 6 requests a minute per client (bursts of 5), 10 million
// gas an hour (about 200 single revocations), 32 waiting at once.
var DefaultLimits = Limits{ClientRate: 0.1, ClientBurst: 5, Gas: 10_000_000, Window: time.Hour, InFlight: 32}

// GasEstimate is what a request of n secrets is assumed to cost until its
// receipt says: above the measured cost (package registry), never below.
func GasEstimate(n int) uint64 { return 30_000 + 30_000*uint64(n) }

// Refusals of the limits; the response's error text wraps these lines.
var (
	ErrTooManyRequests = errors.New("too many revocation requests from this address; wait and try again")
	ErrBudgetSpent     = errors.New("this relay's gas budget is spent for now; try again later, or revoke with a funded key (--key)")
	ErrBusy            = errors.New("this relay is busy; try again in a minute")
)

// limiter is the relay's bookkeeping of Limits.
type limiter struct {
	l Limits

	mu       sync.Mutex
	clients  map[string]*rate.Limiter
	start    time.Time // of the current gas window
	spent    uint64    // gas used or reserved in it
	inFlight int
}

func (l *limiter) now() time.Time {
	if l.l.Now != nil {
		return l.l.Now()
	}
	return time.Now()
}

// admit takes a token of client's bucket.
func (l *limiter) admit(client string) bool {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.clients[client]
	if b == nil {
		if len(l.clients) >= 1<<16 {
			l.clients = map[string]*rate.Limiter{} // bounded; the gas budget still holds
		}
		b = rate.NewLimiter(rate.Limit(l.l.ClientRate), l.l.ClientBurst)
		l.clients[client] = b
	}
	return b.AllowN(now, 1)
}

// reserve books est gas in the window and a waiting slot, or says why not.
// The returned time is when the window ends.
func (l *limiter) reserve(est uint64) (time.Time, error) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.start) >= l.l.Window || now.Before(l.start) {
		l.start, l.spent = now, 0
	}
	end := l.start.Add(l.l.Window)
	if l.spent+est > l.l.Gas {
		return end, ErrBudgetSpent
	}
	if l.inFlight >= l.l.InFlight {
		return end, ErrBusy
	}
	l.spent += est
	l.inFlight++
	return end, nil
}

// settle replaces a reservation by what was spent.
func (l *limiter) settle(est, used uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.inFlight--
	l.spent = l.spent - min(est, l.spent) + used
}

type request struct {
	Secrets []hexutil.Bytes `json:"secrets"`
}

type response struct {
	Tx    string `json:"tx,omitempty"`
	Error string `json:"error,omitempty"`
}

// Handler serves the relay API with a Direct submitter under
// DefaultLimits.
func Handler(d *Direct) http.Handler { return NewHandler(d, Limits{}) }

// NewHandler serves the relay API with a Direct submitter under l (zero
// fields: DefaultLimits).
func NewHandler(d *Direct, l Limits) http.Handler {
	def := DefaultLimits
	if l.ClientRate <= 0 {
		l.ClientRate = def.ClientRate
	}
	if l.ClientBurst <= 0 {
		l.ClientBurst = def.ClientBurst
	}
	if l.Gas == 0 {
		l.Gas = def.Gas
	}
	if l.Window <= 0 {
		l.Window = def.Window
	}
	if l.InFlight <= 0 {
		l.InFlight = def.InFlight
	}
	lim := &limiter{l: l, clients: map[string]*rate.Limiter{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/revoke", func(w http.ResponseWriter, r *http.Request) {
		client, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			client = r.RemoteAddr
		}
		if !lim.admit(client) {
			w.Header().Set("Retry-After", strconv.Itoa(int(1/l.ClientRate)+1))
			reply(w, http.StatusTooManyRequests, response{Error: ErrTooManyRequests.Error()})
			return
		}
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
		if len(secrets) == 0 || len(secrets) > MaxBatch {
			reply(w, http.StatusBadRequest, response{Error: fmt.Sprintf("between 1 and %d secrets", MaxBatch)})
			return
		}
		est := GasEstimate(len(secrets))
		if end, err := lim.reserve(est); err != nil {
			w.Header().Set("Retry-After", strconv.Itoa(int(max(end.Sub(lim.now()), time.Second)/time.Second)))
			reply(w, http.StatusServiceUnavailable, response{Error: err.Error()})
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Minute)
		defer cancel()
		tx, used, err := d.revoke(ctx, secrets)
		lim.settle(est, used)
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
