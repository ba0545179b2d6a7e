package relay

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/accounts/abi/bind/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/eth/ethconfig"
	"github.com/ethereum/go-ethereum/ethclient/simulated"
	"github.com/ethereum/go-ethereum/node"
	"github.com/ethereum/go-ethereum/params"

	"github.com/healthwallet/healthwallet/share/devnet"
	"github.com/healthwallet/healthwallet/share/registry"
)

// chain is a simulated chain with a registry and a funded relay key.
type chain struct {
	sim    *simulated.Backend
	direct *Direct
	payer  common.Address
}

func newChain(t *testing.T) *chain {
	t.Helper()
	key, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	id := big.NewInt(devnet.ChainID)
	addr := crypto.PubkeyToAddress(key.PublicKey)
	sim := simulated.NewBackend(types.GenesisAlloc{addr: {Balance: new(big.Int).Mul(big.NewInt(1000), big.NewInt(params.Ether))}},
		func(_ *node.Config, ec *ethconfig.Config) { ec.Genesis.Config = devnet.ChainConfig(id.Uint64()) })
	t.Cleanup(func() { sim.Close() })
	opts := bind.NewKeyedTransactor(key, id)
	_, tx, err := registry.Deploy(t.Context(), sim.Client(), opts)
	if err != nil {
		t.Fatal(err)
	}
	sim.Commit()
	rcpt, err := registry.WaitDeployed(t.Context(), sim.Client(), tx)
	if err != nil {
		t.Fatal(err)
	}
	return &chain{sim: sim, payer: addr, direct: &Direct{Client: registry.NewClient(sim.Client(), rcpt.ContractAddress), Opts: opts}}
}

// mine commits a block every 10 ms until the test ends.
func (c *chain) mine(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			c.sim.Commit()
			time.Sleep(10 * time.Millisecond)
		}
	}()
	t.Cleanup(func() { cancel(); <-done })
}

func secret(i int) [32]byte {
	var s [32]byte
	copy(s[:], fmt.Sprintf("relay test secret number %06d", i))
	return s
}

// post sends one request from client (an IP address) and returns the
// status and the error text.
func post(h http.Handler, client string, secrets ...[32]byte) (int, string) {
	var req request
	for _, s := range secrets {
		req.Secrets = append(req.Secrets, s[:])
	}
	body, _ := json.Marshal(req)
	if len(secrets) == 0 {
		body = []byte("not json")
	}
	r := httptest.NewRequest("POST", "/v1/revoke", bytes.NewReader(body))
	r.RemoteAddr = client + ":40000"
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	var out response
	json.Unmarshal(w.Body.Bytes(), &out)
	return w.Code, out.Error
}

type fixedClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fixedClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fixedClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestRelayBoundsEachClient(t *testing.T) {
	clock := &fixedClock{t: time.Date(2031, 1, 2, 3, 4, 5, 0, time.UTC)}
	h := NewHandler(&Direct{}, Limits{ClientRate: 0.5, ClientBurst: 2, Now: clock.Now})
	// Even bad requests take a token.
	for i := range 2 {
		if code, _ := post(h, "192.0.2.7"); code != http.StatusBadRequest {
			t.Fatalf("request %d: %d", i, code)
		}
	}
	code, msg := post(h, "192.0.2.7")
	if code != http.StatusTooManyRequests || !strings.Contains(msg, "too many revocation requests") {
		t.Fatalf("third request in a row: %d %q", code, msg)
	}
	if code, _ := post(h, "192.0.2.8"); code != http.StatusBadRequest {
		t.Fatalf("another client: %d", code)
	}
	clock.Add(2 * time.Second) // rate 0.5/s: one more token
	if code, _ := post(h, "192.0.2.7"); code != http.StatusBadRequest {
		t.Fatalf("after refill: %d", code)
	}
}

func TestRelayGasBudget(t *testing.T) {
	c := newChain(t)
	c.mine(t)
	clock := &fixedClock{t: time.Date(2031, 1, 2, 3, 4, 5, 0, time.UTC)}
	// Room for one estimate and what one revocation really costs.
	h := NewHandler(c.direct, Limits{ClientBurst: 100, Gas: GasEstimate(1) + 30_000, Window: time.Hour, Now: clock.Now})
	if code, msg := post(h, "192.0.2.7", secret(1)); code != http.StatusOK {
		t.Fatalf("first revocation: %d %s", code, msg)
	}
	code, msg := post(h, "192.0.2.9", secret(2))
	if code != http.StatusServiceUnavailable || !strings.Contains(msg, "gas budget is spent") {
		t.Fatalf("over the budget: %d %q", code, msg)
	}
	clock.Add(time.Hour)
	if code, msg := post(h, "192.0.2.9", secret(2)); code != http.StatusOK {
		t.Fatalf("next window: %d %s", code, msg)
	}
}

func TestRelayDoesNotHoldTheLockWhileMining(t *testing.T) {
	c := newChain(t)
	h := NewHandler(c.direct, Limits{ClientBurst: 100})
	var wg sync.WaitGroup
	codes := make([]int, 2)
	for i := range 2 {
		wg.Go(func() { codes[i], _ = post(h, fmt.Sprintf("192.0.2.%d", i+1), secret(10+i)) })
	}
	// Nothing is mined yet: both transactions must reach the pool.
	ctx := t.Context()
	deadline := time.Now().Add(10 * time.Second)
	var pending uint64
	for time.Now().Before(deadline) {
		pending, _ = c.sim.Client().PendingNonceAt(ctx, c.payer)
		if pending >= 3 { // deployment + two revocations
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	c.sim.Commit()
	if pending < 3 {
		c.mine(t)
		wg.Wait()
		t.Fatalf("pending nonce %d: the second request waited for the first to be mined", pending)
	}
	wg.Wait()
	if codes[0] != http.StatusOK || codes[1] != http.StatusOK {
		t.Fatalf("answers %v", codes)
	}
}
