package wallet

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"github.com/caddyserver/certmagic"
)

// ErrSHLConfig: an SHL endpoint is configured inconsistently.
var ErrSHLConfig = errors.New("SHL endpoint")

// SHLEndpoint configures an HTTPS endpoint serving SMART Health Link
// manifests, a keeper's (KeeperConfig) or the patient's own node's
// (ServeConfig). SHLListen is the TCP address (host:port) it listens on;
// SHLURL the public base URL links name (default: from the domain or the
// listen address). The certificate is either SHLCert and SHLKey (PEM
// files), or obtained by ACME (certmagic, Let's Encrypt) for SHLDomain
// (listening on :443 unless SHLListen says otherwise), or there is none:
// plain HTTP, only with SHLInsecureLoopback and only on a loopback address.
// The zero value serves nothing.
type SHLEndpoint struct {
	SHLListen           string
	SHLURL              string
	SHLCert, SHLKey     string
	SHLDomain           string
	SHLInsecureLoopback bool
}

// shlEndpoint is a running HTTPS server for SMART Health Link manifests.
type shlEndpoint struct {
	srv *http.Server
	ln  net.Listener
	url string
}

// wantsSHL reports whether cfg asks for an SHL endpoint.
func (cfg SHLEndpoint) wantsSHL() bool {
	return cfg.SHLListen != "" || cfg.SHLDomain != "" || cfg.SHLURL != "" || cfg.SHLCert != "" || cfg.SHLKey != "" || cfg.SHLInsecureLoopback
}

// startSHL starts an SHL endpoint as cfg says: certificate files (SHLCert,
// SHLKey), or ACME through certmagic for SHLDomain, or plain HTTP on a
// loopback address with SHLInsecureLoopback. handler makes the manifest
// server for the endpoint's public base URL.
func (w *Wallet) startSHL(ctx context.Context, cfg SHLEndpoint, handler func(base string) http.Handler) (*shlEndpoint, error) {
	modes := 0
	for _, on := range []bool{cfg.SHLCert != "" || cfg.SHLKey != "", cfg.SHLDomain != "", cfg.SHLInsecureLoopback} {
		if on {
			modes++
		}
	}
	if modes != 1 {
		return nil, fmt.Errorf("%w: give exactly one of a certificate and key, a domain (ACME), or insecure loopback", ErrSHLConfig)
	}
	listen := cfg.SHLListen
	if listen == "" {
		if cfg.SHLDomain == "" {
			return nil, fmt.Errorf("%w: no listen address", ErrSHLConfig)
		}
		listen = ":443"
	}
	var tlsConf *tls.Config
	scheme := "https"
	switch {
	case cfg.SHLInsecureLoopback:
		host, _, err := net.SplitHostPort(listen)
		if err != nil {
			return nil, fmt.Errorf("%w: listen address %q: %v", ErrSHLConfig, listen, err)
		}
		if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return nil, fmt.Errorf("%w: plain HTTP only on a loopback address, not %q", ErrSHLConfig, listen)
		}
		scheme = "http"
	case cfg.SHLDomain != "":
		magic := certmagic.NewDefault()
		magic.Storage = &certmagic.FileStorage{Path: filepath.Join(w.home, "certmagic")}
		magic.Issuers = []certmagic.Issuer{certmagic.NewACMEIssuer(magic, certmagic.ACMEIssuer{Agreed: true, CA: certmagic.LetsEncryptProductionCA})}
		if err := magic.ManageSync(ctx, []string{cfg.SHLDomain}); err != nil {
			return nil, fmt.Errorf("%w: certificate for %s: %v", ErrSHLConfig, cfg.SHLDomain, err)
		}
		tlsConf = magic.TLSConfig()
		tlsConf.NextProtos = append([]string{"h2", "http/1.1"}, tlsConf.NextProtos...)
	default:
		if cfg.SHLCert == "" || cfg.SHLKey == "" {
			return nil, fmt.Errorf("%w: a certificate needs its key and a key its certificate", ErrSHLConfig)
		}
		cert, err := tls.LoadX509KeyPair(cfg.SHLCert, cfg.SHLKey)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrSHLConfig, err)
		}
		tlsConf = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12, NextProtos: []string{"h2", "http/1.1"}}
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSHLConfig, err)
	}
	base := strings.TrimRight(cfg.SHLURL, "/")
	switch {
	case base == "" && cfg.SHLDomain != "":
		base = "https://" + cfg.SHLDomain
	case base == "":
		base = scheme + "://" + ln.Addr().String()
	}
	if u, err := url.Parse(base); err != nil || u.Host == "" || (u.Scheme != "https" && !(u.Scheme == "http" && cfg.SHLInsecureLoopback)) {
		ln.Close()
		return nil, fmt.Errorf("%w: public URL %q is not an https URL", ErrSHLConfig, base)
	}
	h := handler(base)
	e := &shlEndpoint{url: base, ln: ln, srv: &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout: 30 * time.Second, WriteTimeout: time.Minute, IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 16 << 10,
		ErrorLog: log.New(io.Discard, "", 0)}} // handshakes of scanners and strangers
	if tlsConf != nil {
		e.ln = tls.NewListener(ln, tlsConf)
	}
	go e.srv.Serve(e.ln)
	return e, nil
}

func (e *shlEndpoint) close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return e.srv.Shutdown(ctx)
}
