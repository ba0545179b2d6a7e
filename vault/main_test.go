package vault

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/vault/api"
)

// The integration tests run against a real Vault dev server, built once by
// scripts/vault-dev.sh build. TestMain finds the binary; the server is
// started by the first test that needs it and stopped (its whole process
// group) when the tests end. Without the binary the integration tests skip,
// except when $CI is set: then the run fails.

var (
	vaultBin     string // path of the server binary, "" if missing
	vaultMissing string // why it is missing

	mainOnce   sync.Once
	mainSrv    *devServer
	mainErr    error
	serversMu  sync.Mutex
	allServers []*devServer
)

const vaultVersion = "1.21.1"

func findVaultBin() (string, string) {
	if p := os.Getenv("HW_VAULT_BIN"); p != "" {
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p, ""
		}
		return "", "HW_VAULT_BIN=" + p + " does not exist"
	}
	cache := os.Getenv("XDG_CACHE_HOME")
	if cache == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", "no home directory to find the vault cache"
		}
		cache = filepath.Join(home, ".cache")
	}
	p := filepath.Join(cache, "healthwallet", "vault", vaultVersion, "vault")
	if st, err := os.Stat(p); err == nil && !st.IsDir() {
		return p, ""
	}
	return "", "no vault server binary at " + p + " (run scripts/vault-dev.sh build, or set HW_VAULT_BIN)"
}

func TestMain(m *testing.M) {
	vaultBin, vaultMissing = findVaultBin()
	if vaultBin == "" && os.Getenv("CI") != "" {
		fmt.Fprintln(os.Stderr, "vault integration tests: "+vaultMissing)
		os.Exit(1)
	}
	code := m.Run()
	serversMu.Lock()
	for _, s := range allServers {
		s.stop()
	}
	serversMu.Unlock()
	os.Exit(code)
}

// devServer is one `vault server -dev` process.
type devServer struct {
	addr      string
	token     string // root token
	unsealKey string
	dir       string
	cmd       *exec.Cmd
	done      chan struct{}
	stopOnce  sync.Once
	auditLog  string
}

// needVault skips (or, under CI, fails) a test when there is no server
// binary.
func needVault(t *testing.T) {
	t.Helper()
	if vaultBin == "" {
		if os.Getenv("CI") != "" {
			t.Fatal(vaultMissing)
		}
		t.Skip("vault integration test skipped: " + vaultMissing)
	}
}

// shared is the server most tests use, configured by setupServer.
func shared(t *testing.T) *devServer {
	t.Helper()
	needVault(t)
	mainOnce.Do(func() {
		mainSrv, mainErr = startDevServer()
		if mainErr == nil {
			mainErr = setupServer(mainSrv)
		}
	})
	if mainErr != nil {
		t.Fatal(mainErr)
	}
	return mainSrv
}

// freePortPair finds a port p such that p and p+1 are free on 127.0.0.1
// (the dev server's cluster listener takes p+1).
func freePortPair() (int, error) {
	for range 50 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		p := l.Addr().(*net.TCPAddr).Port
		if p >= 65535 {
			l.Close()
			continue
		}
		l2, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p+1))
		l.Close()
		if err != nil {
			continue
		}
		l2.Close()
		return p, nil
	}
	return 0, errors.New("no free pair of ports")
}

func startDevServer() (*devServer, error) {
	var lastErr error
	for range 3 { // a port may be taken between the check and the bind
		s, err := startDevServerOnce()
		if err == nil {
			return s, nil
		}
		lastErr = err
	}
	return nil, lastErr
}

func startDevServerOnce() (*devServer, error) {
	port, err := freePortPair()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "hw-vault-test-")
	if err != nil {
		return nil, err
	}
	tok := make([]byte, 16)
	_, _ = rand.Read(tok)
	s := &devServer{
		addr:     "http://127.0.0.1:" + strconv.Itoa(port),
		token:    "hw-test-" + hex.EncodeToString(tok),
		dir:      dir,
		done:     make(chan struct{}),
		auditLog: filepath.Join(dir, "audit.log"),
	}
	logf, err := os.Create(filepath.Join(dir, "server.log"))
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	cmd := exec.Command(vaultBin, "server", "-dev",
		"-dev-root-token-id="+s.token,
		"-dev-listen-address=127.0.0.1:"+strconv.Itoa(port),
		"-dev-no-store-token",
		"-log-level=warn",
	)
	cmd.Dir = dir
	cmd.Env = []string{"HOME=" + dir, "PATH=" + os.Getenv("PATH"), "VAULT_DISABLE_USER_LOCKOUT=true"}
	cmd.Stdout = logf
	cmd.Stderr = logf
	inOwnGroup(cmd)
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s.cmd = cmd
	go func() { _ = cmd.Wait(); close(s.done) }()
	serversMu.Lock()
	allServers = append(allServers, s)
	serversMu.Unlock()

	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case <-s.done:
			out, _ := os.ReadFile(filepath.Join(dir, "server.log"))
			s.stop()
			return nil, fmt.Errorf("vault dev server exited: %s", tail(out))
		default:
		}
		if key := findUnsealKey(filepath.Join(dir, "server.log")); key != "" && healthy(s.addr) {
			s.unsealKey = key
			return s, nil
		}
		if time.Now().After(deadline) {
			out, _ := os.ReadFile(filepath.Join(dir, "server.log"))
			s.stop()
			return nil, fmt.Errorf("vault dev server not ready after 30s: %s", tail(out))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func tail(b []byte) string {
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(b)
}

func findUnsealKey(log string) string {
	f, err := os.Open(log)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "Unseal Key: "); ok {
			return strings.TrimSpace(k)
		}
	}
	return ""
}

func healthy(addr string) bool {
	c := &http.Client{Timeout: time.Second}
	resp, err := c.Get(addr + "/v1/sys/health")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// stop kills the server's process group and removes its directory.
func (s *devServer) stop() {
	s.stopOnce.Do(func() {
		if s.cmd != nil && s.cmd.Process != nil {
			stopGroup(s.cmd, s.done, 5*time.Second)
		}
		os.RemoveAll(s.dir)
	})
}

// root is an api client with the root token.
func (s *devServer) root(t testing.TB) *api.Client {
	t.Helper()
	c, err := rootClient(s)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func rootClient(s *devServer) (*api.Client, error) {
	cfg := api.DefaultConfig()
	cfg.Address = s.addr
	cfg.MaxRetries = 0
	c, err := api.NewClient(cfg)
	if err != nil {
		return nil, err
	}
	c.SetToken(s.token)
	return c, nil
}

func (s *devServer) cfg() Config {
	return Config{Addr: s.addr, Retries: -1, Timeout: 10 * time.Second}
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
	c, err := rootClient(s)
	if err != nil {
		return err
	}
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
	admin, err := Login(ctx, s.cfg(), Token{s.token})
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
