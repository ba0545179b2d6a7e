// Package vaulttest runs a real HashiCorp Vault dev server for the
// integration tests of package vault and of the CLI. It is code for tests
// only: nothing but _test.go files imports it.
//
// The server binary is the one scripts/vault-dev.sh build compiles and
// caches outside the repository ($XDG_CACHE_HOME or ~/.cache, then
// healthwallet/vault/VERSION/vault; HW_VAULT_BIN and HW_VAULT_VERSION
// override it as they do for the script). Without the binary the tests
// that need it skip, except when $CI is set: then they fail, so CI cannot
// pass without running them.
//
// Each server is `vault server -dev` on a free pair of loopback ports (the
// dev server binds PORT+1 for its cluster listener), in memory, TLS off,
// with a random root token, in its own temporary directory and process
// group. It is ready when it has printed its unseal key and answers its
// health check.
//
//	func TestMain(m *testing.M) { vaulttest.Main(m) } // stops shared servers
//
//	s := vaulttest.Start(t) // stopped when t ends
//	c, err := s.Client()    // root token
package vaulttest

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
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
	"github.com/healthwallet/healthwallet/internal/procgroup"
)

// DefaultVersion is the Vault version scripts/vault-dev.sh builds unless
// HW_VAULT_VERSION says otherwise.
const DefaultVersion = "1.21.1"

// ReadyTimeout bounds how long a server may take to come up.
const ReadyTimeout = 30 * time.Second

// ErrNoBinary: there is no Vault server binary to run.
var ErrNoBinary = errors.New("no vault server binary")

// Bin returns the path of the Vault server binary, or an error wrapping
// ErrNoBinary that says where it looked and how to get one.
func Bin() (string, error) {
	if p := os.Getenv("HW_VAULT_BIN"); p != "" {
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p, nil
		}
		return "", fmt.Errorf("%w: HW_VAULT_BIN=%s does not exist", ErrNoBinary, p)
	}
	version := os.Getenv("HW_VAULT_VERSION")
	if version == "" {
		version = DefaultVersion
	}
	cache := os.Getenv("XDG_CACHE_HOME")
	if cache == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("%w: no home directory to find the cache in", ErrNoBinary)
		}
		cache = filepath.Join(home, ".cache")
	}
	p := filepath.Join(cache, "healthwallet", "vault", version, "vault")
	if st, err := os.Stat(p); err == nil && !st.IsDir() {
		return p, nil
	}
	return "", fmt.Errorf("%w at %s: run scripts/vault-dev.sh build (make vault-build), or set HW_VAULT_BIN", ErrNoBinary, p)
}

// Need returns the binary's path. Without one it skips t, or fails it when
// $CI is set.
func Need(t testing.TB) string {
	t.Helper()
	bin, err := Bin()
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal(err)
		}
		t.Skipf("vault integration test skipped: %v", err)
	}
	return bin
}

var (
	serversMu sync.Mutex
	servers   []*Server
)

// Main runs a package's tests (call it from TestMain) and then stops every
// server StartShared started. When $CI is set and there is no binary it
// fails at once.
func Main(m *testing.M) {
	if _, err := Bin(); err != nil && os.Getenv("CI") != "" {
		fmt.Fprintln(os.Stderr, "vault integration tests:", err)
		os.Exit(1)
	}
	code := m.Run()
	StopAll()
	os.Exit(code)
}

// StopAll stops every server started so far.
func StopAll() {
	serversMu.Lock()
	all := servers
	servers = nil
	serversMu.Unlock()
	for _, s := range all {
		s.Stop()
	}
}

// Server is one running `vault server -dev`.
type Server struct {
	Addr      string // http://127.0.0.1:PORT
	Token     string // root token
	UnsealKey string // the dev server's single unseal key
	Dir       string // the server's working directory, removed by Stop; server.log is its output

	cmd      *exec.Cmd
	done     chan struct{} // closed when the process has exited
	output   chan struct{} // closed when its output is all in server.log
	stopOnce sync.Once
}

// Start starts a server for t (skipping or failing t as Need does) and
// stops it when t and its subtests end.
func Start(t testing.TB) *Server {
	t.Helper()
	bin := Need(t)
	s, err := start(bin)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s
}

// StartShared starts a server that outlives the test that asked for it,
// for a package's tests to share; Main (or StopAll) stops it. Call Need
// first: without a binary it returns an error wrapping ErrNoBinary.
func StartShared() (*Server, error) {
	bin, err := Bin()
	if err != nil {
		return nil, err
	}
	return start(bin)
}

func start(bin string) (*Server, error) {
	var lastErr error
	for range 3 { // a port may be taken between the check and the bind
		s, err := startOnce(bin)
		if err == nil {
			return s, nil
		}
		lastErr = err
	}
	return nil, lastErr
}

// freePortPair finds a port p such that p and p+1 are free on 127.0.0.1.
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
	return 0, errors.New("no free pair of loopback ports")
}

func startOnce(bin string) (*Server, error) {
	port, err := freePortPair()
	if err != nil {
		return nil, err
	}
	tok := make([]byte, 16)
	if _, err := rand.Read(tok); err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "hw-vault-test-")
	if err != nil {
		return nil, err
	}
	logf, err := os.Create(filepath.Join(dir, "server.log"))
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	r, w, err := os.Pipe()
	if err != nil {
		logf.Close()
		os.RemoveAll(dir)
		return nil, err
	}
	s := &Server{
		Addr:   "http://127.0.0.1:" + strconv.Itoa(port),
		Token:  "hw-test-" + hex.EncodeToString(tok),
		Dir:    dir,
		done:   make(chan struct{}),
		output: make(chan struct{}),
	}
	cmd := exec.Command(bin, "server", "-dev",
		"-dev-root-token-id="+s.Token,
		"-dev-listen-address=127.0.0.1:"+strconv.Itoa(port),
		"-dev-no-store-token",
		"-log-level=warn",
	)
	cmd.Dir = dir
	// Nothing of the developer's environment (VAULT_ADDR, VAULT_TOKEN, ~/.vault-token).
	cmd.Env = []string{"HOME=" + dir, "PATH=" + os.Getenv("PATH"), "VAULT_DISABLE_USER_LOCKOUT=true"}
	cmd.Stdout, cmd.Stderr = w, w
	procgroup.InOwnGroup(cmd)
	err = cmd.Start()
	w.Close() // the server holds the write end now
	if err != nil {
		r.Close()
		logf.Close()
		os.RemoveAll(dir)
		return nil, err
	}
	s.cmd = cmd
	go func() { _ = cmd.Wait(); close(s.done) }()
	serversMu.Lock()
	servers = append(servers, s)
	serversMu.Unlock()

	// Copy the output to server.log and catch the unseal key, which the
	// dev server prints once it is initialized and unsealed.
	unseal := make(chan string, 1)
	go func() {
		defer close(s.output)
		defer logf.Close()
		defer r.Close()
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			line := sc.Text()
			fmt.Fprintln(logf, line)
			if k, ok := strings.CutPrefix(strings.TrimSpace(line), "Unseal Key: "); ok {
				select {
				case unseal <- strings.TrimSpace(k):
				default:
				}
			}
		}
		_, _ = io.Copy(logf, r) // after an over-long line: keep draining
	}()

	timeout := time.NewTimer(ReadyTimeout)
	defer timeout.Stop()
	select {
	case s.UnsealKey = <-unseal:
	case <-s.done:
		return nil, s.failed("vault dev server exited")
	case <-timeout.C:
		return nil, s.failed(fmt.Sprintf("vault dev server printed no unseal key in %v", ReadyTimeout))
	}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !healthy(s.Addr) {
		select {
		case <-s.done:
			return nil, s.failed("vault dev server exited")
		case <-timeout.C:
			return nil, s.failed(fmt.Sprintf("vault dev server not healthy in %v", ReadyTimeout))
		case <-tick.C:
		}
	}
	return s, nil
}

// failed stops s and returns why, with the end of its output.
func (s *Server) failed(why string) error {
	s.stopProcess()
	out, _ := os.ReadFile(filepath.Join(s.Dir, "server.log"))
	s.Stop()
	if len(out) > 2000 {
		out = out[len(out)-2000:]
	}
	return fmt.Errorf("%s: %s", why, out)
}

// healthy reports whether the server answers its health check as
// initialized, unsealed and active.
func healthy(addr string) bool {
	c := &http.Client{Timeout: time.Second}
	resp, err := c.Get(addr + "/v1/sys/health")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// stopProcess stops the server's process group and waits for its output.
func (s *Server) stopProcess() {
	if s.cmd != nil && s.cmd.Process != nil {
		procgroup.Stop(s.cmd, s.done, 5*time.Second)
		<-s.output
	}
}

// Stop stops the server (its whole process group) and removes its
// directory. It may be called more than once.
func (s *Server) Stop() {
	s.stopOnce.Do(func() {
		s.stopProcess()
		os.RemoveAll(s.Dir)
	})
}

// Client returns an API client for the server with the root token and no
// retries.
func (s *Server) Client() (*api.Client, error) {
	cfg := api.DefaultConfig()
	cfg.Address = s.Addr
	cfg.MaxRetries = 0
	c, err := api.NewClient(cfg)
	if err != nil {
		return nil, err
	}
	c.SetToken(s.Token)
	return c, nil
}
