package ipfs

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/ipfs/boxo/blockservice"
	"github.com/ipfs/boxo/gateway"
	"github.com/prometheus/client_golang/prometheus"
)

// DefaultGatewayAddr is where the optional gateway listens: loopback only.
const DefaultGatewayAddr = "127.0.0.1:4180"

// ErrGatewayNotLoopback: the gateway was asked to listen beyond this
// machine. It answers every stored block to whoever asks, without the grant
// gate, so it listens on loopback only.
var ErrGatewayNotLoopback = errors.New("the gateway serves every stored block without the grant gate, so it listens on loopback only (127.0.0.1, [::1] or localhost)")

// Gateway is a trustless HTTP gateway over the local store
// (https://specs.ipfs.tech/http-gateways/trustless-gateway/): it answers
// only verifiable responses, ?format=raw blocks and ?format=car DAGs, and
// never fetches from the network. Everything it can serve is ciphertext.
type Gateway struct {
	srv *http.Server
	ln  net.Listener
}

// StartGateway serves store on addr ("" means DefaultGatewayAddr), which
// must be a loopback address (else ErrGatewayNotLoopback).
func StartGateway(store *Store, addr string) (*Gateway, error) {
	if addr == "" {
		addr = DefaultGatewayAddr
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("gateway address %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("%w: %q", ErrGatewayNotLoopback, addr)
	}
	backend, err := gateway.NewBlocksBackend(blockservice.New(store.blocks, nil),
		gateway.WithPrometheusRegistry(prometheus.NewRegistry()))
	if err != nil {
		return nil, fmt.Errorf("failed to create gateway backend: %w", err)
	}
	handler := gateway.NewHandler(gateway.Config{
		DeserializedResponses: false, // trustless: raw and CAR only
		NoDNSLink:             true,
		DisableHTMLErrors:     true,
		MetricsRegistry:       prometheus.NewRegistry(),
		RetrievalTimeout:      10 * time.Second,
	}, backend)
	mux := http.NewServeMux()
	mux.Handle("/ipfs/", handler)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("failed to listen for the gateway on %s: %w", addr, err)
	}
	if ta, ok := ln.Addr().(*net.TCPAddr); !ok || !ta.IP.IsLoopback() {
		ln.Close() // "localhost" resolved beyond this machine
		return nil, fmt.Errorf("%w: %q listens on %s", ErrGatewayNotLoopback, addr, ln.Addr())
	}
	g := &Gateway{srv: &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}, ln: ln}
	go g.srv.Serve(ln)
	return g, nil
}

// URL returns the gateway's base URL.
func (g *Gateway) URL() string { return "http://" + g.ln.Addr().String() }

// Close stops the gateway.
func (g *Gateway) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := g.srv.Shutdown(ctx)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}
