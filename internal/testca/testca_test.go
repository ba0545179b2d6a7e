package testca

import (
	"crypto/tls"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
)

// TestServeAndTrust: a server with an issued certificate is trusted by a
// client holding the CA's pool and by no other; WriteFiles' files load.
func TestServeAndTrust(t *testing.T) {
	ca, err := New()
	if err != nil {
		t.Fatal(err)
	}
	cert, err := ca.Issue("127.0.0.1", "localhost")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "trusted") }))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.StartTLS()
	defer srv.Close()
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: ca.ClientConfig()}}
	resp, err := c.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "trusted" {
		t.Fatalf("body %q", b)
	}
	other, _ := New()
	oc := &http.Client{Transport: &http.Transport{TLSClientConfig: other.ClientConfig()}}
	if _, err := oc.Get(srv.URL); err == nil {
		t.Fatal("a client trusting another CA accepted the certificate")
	}
	if _, err := ca.Issue(); err != ErrNoHosts {
		t.Fatalf("no hosts: %v", err)
	}

	f, err := ca.WriteFiles(t.TempDir(), "localhost")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tls.LoadX509KeyPair(f.Cert, f.Key); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(f.CA); err != nil || string(b) != string(ca.PEM()) {
		t.Fatalf("CA file: %v", err)
	}
}
