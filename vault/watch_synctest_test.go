package vault

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hashicorp/vault/api"
)

// The renewal timing of Watch, on the fake clock of testing/synctest
// against a fake Vault in the same bubble, connected over net.Pipe. The
// real server's TestWatch cannot run in a bubble: the real Vault counts
// TTLs on its own clock, in another process, and a goroutine waiting on a
// real socket is not durably blocked, so the fake clock would not advance.

// pipeListener hands out the server ends of net.Pipe connections that its
// dial makes.
type pipeListener struct {
	conns     chan net.Conn
	closed    chan struct{}
	closeOnce sync.Once
}

func newPipeListener() *pipeListener {
	return &pipeListener{conns: make(chan net.Conn), closed: make(chan struct{})}
}

func (l *pipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.closed:
		return nil, net.ErrClosed
	}
}

func (l *pipeListener) Close() error {
	l.closeOnce.Do(func() { close(l.closed) })
	return nil
}

func (l *pipeListener) Addr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8200} }

func (l *pipeListener) dial(ctx context.Context, _, _ string) (net.Conn, error) {
	client, server := net.Pipe()
	select {
	case l.conns <- server:
		return client, nil
	case <-l.closed:
		return nil, net.ErrClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// fakeTokenVault answers renew-self for one token issued at start with a
// TTL and a max TTL, as Vault does: each renewal grants the TTL, cut at the
// max TTL (whole seconds); past the max TTL the token is gone.
type fakeTokenVault struct {
	token       string
	start       time.Time
	ttl, maxTTL time.Duration

	mu       sync.Mutex
	renewals []time.Duration // when, since start
}

func (f *fakeTokenVault) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/v1/auth/token/renew-self" || r.Header.Get("X-Vault-Token") != f.token {
		w.WriteHeader(http.StatusForbidden)
		w.Write([]byte(`{"errors":["permission denied"]}`))
		return
	}
	now := time.Since(f.start)
	f.mu.Lock()
	f.renewals = append(f.renewals, now)
	f.mu.Unlock()
	left := min(f.ttl, f.maxTTL-now).Truncate(time.Second)
	if left <= 0 {
		w.WriteHeader(http.StatusForbidden)
		w.Write([]byte(`{"errors":["permission denied"]}`))
		return
	}
	json.NewEncoder(w).Encode(map[string]any{"auth": map[string]any{
		"client_token": f.token, "lease_duration": int(left / time.Second), "renewable": true,
	}})
}

// fakeClient is a Client logged in to the fake Vault with its token.
func fakeClient(t *testing.T, f *fakeTokenVault, l *pipeListener) *Client {
	t.Helper()
	tr := &http.Transport{DialContext: l.dial}
	t.Cleanup(tr.CloseIdleConnections)
	ac := api.DefaultConfig()
	ac.Address = "http://vault.test:8200"
	ac.HttpClient = &http.Client{Transport: tr}
	ac.MaxRetries = 0
	c, err := api.NewClient(ac)
	if err != nil {
		t.Fatal(err)
	}
	c.SetToken(f.token)
	login := &api.Secret{Auth: &api.SecretAuth{ClientToken: f.token, LeaseDuration: int(f.ttl / time.Second), Renewable: true}}
	return &Client{cfg: Config{Addr: ac.Address}.withDefaults(), api: c, login: login}
}

// TestWatchRenewsUntilMaxTTL: a token with a 2 s TTL and a 4 s max TTL is
// renewed past its first 2 s and reported lost (ErrTokenExpired) before
// the max TTL; a stopped watcher never reports.
func TestWatchRenewsUntilMaxTTL(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newPipeListener()
		f := &fakeTokenVault{token: "hvs.fake-renewable-token", start: time.Now(), ttl: 2 * time.Second, maxTTL: 4 * time.Second}
		srv := &http.Server{Handler: f}
		go srv.Serve(l)
		defer srv.Close()
		c := fakeClient(t, f, l)

		lost := make(chan error, 1)
		stop := c.Watch(context.Background(), func(err error) { lost <- err })
		defer stop()
		stopped := make(chan error, 1)
		c.Watch(context.Background(), func(err error) { stopped <- err })()

		// Past the first TTL: without renewal the session would be gone.
		time.Sleep(f.ttl + 100*time.Millisecond)
		synctest.Wait()
		select {
		case err := <-lost:
			t.Fatalf("onLost(%v) within the first TTL: the token was not renewed", err)
		default:
		}

		err := <-lost
		at := time.Since(f.start)
		if !errors.Is(err, ErrTokenExpired) {
			t.Fatalf("onLost(%v), want ErrTokenExpired", err)
		}
		if at <= f.ttl || at > f.maxTTL {
			t.Fatalf("onLost after %v, want after the TTL %v (renewed) and by the max TTL %v", at, f.ttl, f.maxTTL)
		}
		f.mu.Lock()
		renewals := f.renewals
		f.mu.Unlock()
		if n := len(renewals); n < 2 || renewals[n-1] <= 0 {
			t.Fatalf("renewals at %v, want some after the start", renewals)
		}
		select {
		case err := <-stopped:
			t.Fatalf("stopped watcher called onLost(%v)", err)
		default:
		}
	})
}
