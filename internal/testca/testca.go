// Package testca is a local certificate authority for tests: HTTPS servers
// in tests present certificates it issues, and clients trust it explicitly
// (Pool, or PEM for NODE_EXTRA_CA_CERTS); nothing trusts it by default.
//
// Keys are fresh ECDSA P-256 keys (crypto/ecdsa); certificates are valid
// from 2000-01-01 to 2099-12-31, so no test depends on today's date.
package testca

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"path/filepath"
	"time"

	"github.com/healthwallet/healthwallet/internal/atomicfile"
)

// The validity window of every certificate.
var (
	NotBefore = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	NotAfter  = time.Date(2099, 12, 31, 23, 59, 59, 0, time.UTC)
)

// ErrNoHosts: a certificate must name at least one host.
var ErrNoHosts = errors.New("testca: a certificate needs at least one host")

// CA is a test certificate authority.
type CA struct {
	cert *x509.Certificate
	der  []byte
	key  *ecdsa.PrivateKey
}

// Files are the paths WriteFiles wrote: the CA's certificate, and a leaf
// certificate and its key, all PEM.
type Files struct {
	CA, Cert, Key string
}

// New makes a CA with a fresh key.
func New() (*CA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "healthwallet test CA"},
		NotBefore:             NotBefore,
		NotAfter:              NotAfter,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &CA{cert: cert, der: der, key: key}, nil
}

// PEM is the CA certificate in PEM.
func (ca *CA) PEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.der})
}

// Pool is a certificate pool holding only the CA.
func (ca *CA) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.cert)
	return p
}

// ClientConfig is a TLS client configuration trusting only the CA.
func (ca *CA) ClientConfig() *tls.Config {
	return &tls.Config{RootCAs: ca.Pool(), MinVersion: tls.VersionTLS12}
}

// Issue issues a server certificate for hosts (DNS names or IP addresses)
// with a fresh key.
func (ca *CA) Issue(hosts ...string) (tls.Certificate, error) {
	certPEM, keyPEM, err := ca.issuePEM(hosts)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.X509KeyPair(certPEM, keyPEM)
}

func (ca *CA) issuePEM(hosts []string) (certPEM, keyPEM []byte, err error) {
	if len(hosts) == 0 {
		return nil, nil, ErrNoHosts
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial.Add(serial, big.NewInt(2)),
		Subject:      pkix.Name{CommonName: hosts[0]},
		NotBefore:    NotBefore,
		NotAfter:     NotAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		return nil, nil, err
	}
	kb, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb}), nil
}

// WriteFiles writes the CA certificate (ca.pem), and a certificate for
// hosts (cert.pem) with its key (key.pem, mode 0600), into dir.
func (ca *CA) WriteFiles(dir string, hosts ...string) (Files, error) {
	certPEM, keyPEM, err := ca.issuePEM(hosts)
	if err != nil {
		return Files{}, err
	}
	f := Files{CA: filepath.Join(dir, "ca.pem"), Cert: filepath.Join(dir, "cert.pem"), Key: filepath.Join(dir, "key.pem")}
	for _, w := range []struct {
		path string
		b    []byte
	}{{f.CA, ca.PEM()}, {f.Cert, certPEM}, {f.Key, keyPEM}} {
		if err := atomicfile.WriteFile(w.path, w.b, 0o600); err != nil {
			return Files{}, fmt.Errorf("testca: %w", err)
		}
	}
	return f, nil
}
