package revocation_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/accounts/abi/bind/v2"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/ethclient"

	"github.com/healthwallet/healthwallet/share/devnet"
	"github.com/healthwallet/healthwallet/share/registry"
	"github.com/healthwallet/healthwallet/share/revocation"
)

// rpcProxy stands between the mirror and a real go-ethereum node and
// misbehaves on demand, the way a flaky, overloaded or load-balanced RPC
// provider does.
type rpcProxy struct {
	target string

	mu sync.Mutex
	// blocks: "" passes eth_getBlockByNumber for numbered blocks through,
	// "error" answers 502, "null" answers a JSON-RPC null (the node
	// confirms it has no such block).
	blocks string
	// lagTo, when non-zero, makes the proxy a backend whose head is block
	// lagTo: "latest" is that block, and higher blocks are null.
	lagTo uint64
	// logsDown answers eth_getLogs with 502.
	logsDown bool
}

func (p *rpcProxy) set(fn func(p *rpcProxy)) {
	p.mu.Lock()
	fn(p)
	p.mu.Unlock()
}

type rpcRequest struct {
	ID     json.RawMessage   `json:"id"`
	Method string            `json:"method"`
	Params []json.RawMessage `json:"params"`
}

func (p *rpcProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var req rpcRequest
	if json.Unmarshal(body, &req) == nil {
		p.mu.Lock()
		blocks, lagTo, logsDown := p.blocks, p.lagTo, p.logsDown
		p.mu.Unlock()
		switch req.Method {
		case "eth_getLogs":
			if logsDown {
				http.Error(w, "upstream overloaded", http.StatusBadGateway)
				return
			}
		case "eth_getBlockByNumber":
			var tag string
			json.Unmarshal(req.Params[0], &tag)
			if tag == "latest" && lagTo != 0 {
				req.Params[0], _ = json.Marshal(hexutil.EncodeUint64(lagTo))
				body, _ = json.Marshal(map[string]any{"jsonrpc": "2.0", "id": req.ID, "method": req.Method, "params": req.Params})
				break
			}
			if tag == "latest" {
				break
			}
			n, err := hexutil.DecodeUint64(tag)
			if err != nil {
				break
			}
			switch {
			case blocks == "error":
				http.Error(w, "upstream timed out", http.StatusBadGateway)
				return
			case blocks == "null" || (lagTo != 0 && n > lagTo):
				w.Header().Set("Content-Type", "application/json")
				fmt.Fprintf(w, `{"jsonrpc":"2.0","id":%s,"result":null}`, req.ID)
				return
			}
		}
	}
	resp, err := http.Post(p.target, "application/json", bytes.NewReader(body))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(resp.StatusCode)
	io.Copy(w, resp.Body)
}

// TestRealChainBehindFlakyRPC runs the mirror against a real go-ethereum
// node (the devnet) through a proxy that fails block and log queries, and
// checks that a revoked grant stays revoked: a flaky RPC never wipes the
// mirror, a node that says "no such block" (a reorg, as far as the mirror
// can tell) leaves it stale rather than fresh, and a lagging backend never
// rewinds it.
func TestRealChainBehindFlakyRPC(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	d, err := devnet.Start(ctx, devnet.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	info := d.Info()
	proxy := &rpcProxy{target: info.RPC}
	srv := httptest.NewServer(proxy)
	t.Cleanup(srv.Close)
	client, err := ethclient.DialContext(ctx, srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(client.Close)

	// Revocations are sent straight to the node, not through the proxy.
	key, err := info.Accounts[1].Key()
	if err != nil {
		t.Fatal(err)
	}
	direct := registry.NewClient(d.Client(), info.Registry)
	opts := bind.NewKeyedTransactor(key, new(big.Int).SetUint64(info.ChainID))
	chainID := new(big.Int).SetUint64(info.ChainID)
	revoke := func(secret [32]byte) [32]byte {
		t.Helper()
		tx, err := direct.Revoke(ctx, opts, secret)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := direct.WaitMined(ctx, tx); err != nil {
			t.Fatal(err)
		}
		return registry.RevocationID(chainID, info.Registry, secret)
	}
	var secret [32]byte
	copy(secret[:], "flaky-rpc-mirror-test-secret-001")
	id := revoke(secret)

	now := time.Unix(1795000000, 0)
	m, err := revocation.Open(filepath.Join(t.TempDir(), "revocations.db"),
		revocation.RegistrySource{Client: registry.NewClient(client, info.Registry), Backend: client},
		info.ChainID, info.Registry, revocation.Config{Depth: 4, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	check := func(when string) revocation.Status {
		t.Helper()
		at, err := m.RevokedAt(ctx, [][32]byte{id})
		if err != nil {
			t.Fatalf("%s: %v", when, err)
		}
		if at[0] == 0 {
			t.Fatalf("%s: the revoked grant reads as not revoked", when)
		}
		st, err := m.Status()
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	synced := check("first sync")
	if synced.Events != 1 || synced.SyncedAt.IsZero() {
		t.Fatalf("first sync: %+v", synced)
	}

	// 1. Block queries fail (502): no reorg, nothing forgotten.
	proxy.set(func(p *rpcProxy) { p.blocks = "error" })
	var other [32]byte
	copy(other[:], "flaky-rpc-mirror-test-secret-002")
	revoke(other) // a new block, so the sync has work to do
	now = now.Add(time.Minute)
	if st := check("block queries failing"); st != synced {
		t.Fatalf("block queries failing changed the mirror: %+v, was %+v", st, synced)
	}

	// 2. A lagging backend (head a block back): the mirror never rewinds.
	proxy.set(func(p *rpcProxy) { p.blocks = ""; p.lagTo = synced.SyncedBlock - 1 })
	now = now.Add(time.Minute)
	if st := check("lagging backend"); st != synced {
		t.Fatalf("lagging backend changed the mirror: %+v, was %+v", st, synced)
	}

	// 3. The node says it has none of the remembered blocks (as after a
	// reorg) and log queries fail: the mirror resets and is no longer fresh,
	// so the registry itself answers, and the grant is still revoked.
	proxy.set(func(p *rpcProxy) { p.lagTo = 0; p.blocks = "null"; p.logsDown = true })
	now = now.Add(time.Minute)
	if err := m.Sync(ctx); !errors.Is(err, revocation.ErrUnreachable) {
		t.Fatalf("sync with logs down: %v", err)
	}
	st := check("after a reset with logs down")
	if !st.SyncedAt.IsZero() {
		t.Fatalf("mirror counts as fresh after a reset: %+v", st)
	}

	// 4. Everything back: a full sync finds both revocations again.
	proxy.set(func(p *rpcProxy) { p.blocks = ""; p.logsDown = false })
	if st := check("recovered"); st.Events != 2 || st.SyncedAt.IsZero() {
		t.Fatalf("after recovery: %+v", st)
	}
}
