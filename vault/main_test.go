package vault

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/vault/api"

	"github.com/healthwallet/healthwallet/internal/vaulttest"
)

// The integration tests run against a real Vault dev server, run by
// internal/vaulttest (the binary scripts/vault-dev.sh build caches). The
// shared server is started by the first test that needs it and stopped
// when the tests end. Without the binary the integration tests skip,
// except when $CI is set: then the run fails.

var (
	mainOnce sync.Once
	mainSrv  *devServer
	mainErr  error
)

func TestMain(m *testing.M) { vaulttest.Main(m) }

// devServer is a dev server set up for these tests.
type devServer struct {
	*vaulttest.Server
	auditLog string // the file audit device's log, once setupServer ran
}

// needVault skips (or, under CI, fails) a test when there is no server
// binary.
func needVault(t *testing.T) {
	t.Helper()
	vaulttest.Need(t)
}

// startDevServer starts a server of the test's own, stopped when it ends.
func startDevServer(t *testing.T) *devServer {
	t.Helper()
	return &devServer{Server: vaulttest.Start(t)}
}

// shared is the server most tests use, configured by setupServer.
func shared(t *testing.T) *devServer {
	t.Helper()
	needVault(t)
	mainOnce.Do(func() {
		var s *vaulttest.Server
		s, mainErr = vaulttest.StartShared()
		if mainErr == nil {
			mainSrv = &devServer{Server: s}
			mainErr = setupServer(mainSrv)
		}
	})
	if mainErr != nil {
		t.Fatal(mainErr)
	}
	return mainSrv
}

// root is an api client with the root token.
func (s *devServer) root(t testing.TB) *api.Client {
	t.Helper()
	c, err := s.Client()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (s *devServer) cfg() Config {
	return Config{Addr: s.Addr, Retries: -1, Timeout: 10 * time.Second}
}

// Policies of the test server.
const (
	polClinic = "hw-clinic"  // everything the wallet needs
	polKVOnly = "hw-kv-only" // KV but no Transit
	polNone   = "hw-none"    // nothing but the default policy
)

const clinicPolicy = `
path "secret/data/healthwallet/*"     { capabilities = ["create", "read", "update"] }
path "secret/metadata/healthwallet/*" { capabilities = ["read", "list"] }
path "transit/datakey/plaintext/healthwallet" { capabilities = ["update"] }
path "transit/decrypt/healthwallet"           { capabilities = ["update"] }
`

const kvOnlyPolicy = `
path "secret/data/healthwallet/*"     { capabilities = ["create", "read", "update"] }
path "secret/metadata/healthwallet/*" { capabilities = ["read", "list"] }
`

// setupServer makes the server look like a clinic's: KV v2 at secret/ (the
// dev default, checked), Transit with the wallet's key, AppRole and userpass,
// policies, and a file audit device.
func setupServer(s *devServer) error {
	ctx := context.Background()
	c, err := s.Client()
	if err != nil {
		return err
	}
	s.auditLog = filepath.Join(s.Dir, "audit.log")
	mounts, err := c.Sys().ListMountsWithContext(ctx)
	if err != nil {
		return err
	}
	if m, ok := mounts["secret/"]; !ok || m.Type != "kv" || m.Options["version"] != "2" {
		if ok {
			if err := c.Sys().UnmountWithContext(ctx, "secret"); err != nil {
				return err
			}
		}
		if err := c.Sys().MountWithContext(ctx, "secret", &api.MountInput{Type: "kv", Options: map[string]string{"version": "2"}}); err != nil {
			return err
		}
	}
	if err := c.Sys().MountWithContext(ctx, "transit", &api.MountInput{Type: "transit"}); err != nil {
		return err
	}
	for _, a := range []string{"approle", "userpass"} {
		if err := c.Sys().EnableAuthWithOptionsWithContext(ctx, a, &api.EnableAuthOptions{Type: a}); err != nil {
			return err
		}
	}
	if err := c.Sys().EnableAuditWithOptionsWithContext(ctx, "file", &api.EnableAuditOptions{
		Type: "file", Options: map[string]string{"file_path": s.auditLog},
	}); err != nil {
		return err
	}
	for name, p := range map[string]string{polClinic: clinicPolicy, polKVOnly: kvOnlyPolicy, polNone: `path "sys/nothing" { capabilities = ["deny"] }`} {
		if err := c.Sys().PutPolicyWithContext(ctx, name, p); err != nil {
			return err
		}
	}
	admin, err := Login(ctx, s.cfg(), Token{s.Token})
	if err != nil {
		return err
	}
	return admin.EnsureTransitKey(ctx)
}

// childToken makes a token with the given policies and options.
func (s *devServer) childToken(t *testing.T, policies []string, ttl, maxTTL string) string {
	t.Helper()
	req := &api.TokenCreateRequest{Policies: policies, TTL: ttl, ExplicitMaxTTL: maxTTL}
	r := true
	req.Renewable = &r
	sec, err := s.root(t).Auth().Token().Create(req)
	if err != nil {
		t.Fatal(err)
	}
	return sec.Auth.ClientToken
}

func (s *devServer) login(t *testing.T, auth Auth) *Client {
	t.Helper()
	c, err := Login(context.Background(), s.cfg(), auth)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// randomBytes for seeds and names.
func randomBytes(t testing.TB, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func uniqueName(t testing.TB, base string) string {
	return base + "-" + hex.EncodeToString(randomBytes(t, 4))
}

// fakeKeystore looks like an age file, as Backup requires.
func fakeKeystore(t testing.TB, tag string) []byte {
	var b bytes.Buffer
	b.WriteString("age-encryption.org/v1\n-> scrypt c2FsdA 17\n" + tag + "\n--- mac\n")
	b.Write(randomBytes(t, 96))
	return b.Bytes()
}
