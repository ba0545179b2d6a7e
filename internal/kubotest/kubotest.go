// Package kubotest starts a stock Kubo daemon for tests: the binary built
// once by scripts/kubo-build.sh build and cached outside the repo.
//
// Each daemon has its own repository (IPFS_PATH) in a temporary directory
// and stays inside the machine, as DESIGN.md's "Tests stay inside" asks:
// `ipfs init --profile test`, then `ipfs bootstrap rm --all`, Routing.Type
// none, AutoConf off, MDNS off, AutoTLS, AutoNAT, relays, hole punching,
// providing and telemetry off, and the RPC API, the gateway and the swarm
// listen on 127.0.0.1 only, on ports the kernel picks (read back from the
// daemon's "listening on" lines, so no port is guessed).
//
// Without the binary a test skips, except when $CI is set: then it fails.
package kubotest

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/healthwallet/healthwallet/internal/procgroup"
	ma "github.com/multiformats/go-multiaddr"
	manet "github.com/multiformats/go-multiaddr/net"
)

// Version is the Kubo version scripts/kubo-build.sh builds.
const Version = "0.43.1"

// StartTimeout bounds how long Start waits for the daemon to be ready.
const StartTimeout = 90 * time.Second

// Bin returns the Kubo binary's path ($HW_KUBO_BIN, else the cache), or ""
// and why it is missing.
func Bin() (path, missing string) {
	if p := os.Getenv("HW_KUBO_BIN"); p != "" {
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p, ""
		}
		return "", "HW_KUBO_BIN=" + p + " does not exist"
	}
	cache := os.Getenv("XDG_CACHE_HOME")
	if cache == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", "no home directory to find the kubo cache"
		}
		cache = filepath.Join(home, ".cache")
	}
	p := filepath.Join(cache, "healthwallet", "kubo", Version, "ipfs")
	if st, err := os.Stat(p); err == nil && !st.IsDir() {
		return p, ""
	}
	return "", "no kubo binary at " + p + " (run scripts/kubo-build.sh build, or set HW_KUBO_BIN)"
}

// Need returns the binary's path. Without it, it skips the test, or fails
// it when $CI is set.
func Need(t testing.TB) string {
	t.Helper()
	bin, missing := Bin()
	if bin == "" {
		if os.Getenv("CI") != "" {
			t.Fatal(missing)
		}
		t.Skip("kubo test skipped: " + missing)
	}
	return bin
}

// Node is one running Kubo daemon.
type Node struct {
	Repo    string // IPFS_PATH: everything the daemon stores
	API     string // RPC API base URL, http://127.0.0.1:PORT
	Gateway string // gateway base URL, http://127.0.0.1:PORT
	PeerID  string

	bin  string
	env  []string
	cmd  *exec.Cmd
	done chan struct{}
	log  *lockedBuffer
	stop sync.Once
}

// Start initialises a fresh repository, starts the daemon, waits until its
// API answers and stops it when the test ends.
func Start(t testing.TB) *Node {
	t.Helper()
	n := &Node{bin: Need(t), Repo: t.TempDir(), log: &lockedBuffer{}}
	home := t.TempDir() // HOME, away from the repository that tests scan
	n.env = []string{
		"IPFS_PATH=" + n.Repo,
		"HOME=" + home,
		"PATH=" + os.Getenv("PATH"),
		"IPFS_TELEMETRY=off",
		"DO_NOT_TRACK=1",
		"GOLOG_LOG_LEVEL=error",
	}
	if err := n.init(); err != nil {
		t.Fatal(err)
	}
	if err := n.start(); err != nil {
		n.Stop()
		t.Fatalf("%v\ndaemon output:\n%s", err, n.log.tail())
	}
	t.Cleanup(n.Stop)
	return n
}

// run runs one ipfs command against the repository (daemon not needed).
func (n *Node) run(args ...string) error {
	cmd := exec.Command(n.bin, args...)
	cmd.Env = n.env
	cmd.Dir = n.Repo
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("ipfs %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return nil
}

// init creates the repository and confines the node to this machine.
func (n *Node) init() error {
	if err := n.run("init", "--profile", "test"); err != nil {
		return err
	}
	if err := n.run("bootstrap", "rm", "--all"); err != nil {
		return err
	}
	path := filepath.Join(n.Repo, "config")
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var cfg map[string]any
	if err := json.Unmarshal(b, &cfg); err != nil {
		return fmt.Errorf("kubo config: %w", err)
	}
	for key, v := range map[string]any{
		"Bootstrap":                          []string{},
		"Routing.Type":                       "none",
		"AutoConf.Enabled":                   false,
		"Discovery.MDNS.Enabled":             false,
		"AutoTLS.Enabled":                    false,
		"AutoNAT.ServiceMode":                "disabled",
		"Provide.Enabled":                    false,
		"Addresses.API":                      "/ip4/127.0.0.1/tcp/0",
		"Addresses.Gateway":                  "/ip4/127.0.0.1/tcp/0",
		"Addresses.Swarm":                    []string{"/ip4/127.0.0.1/tcp/0"},
		"Addresses.Announce":                 []string{},
		"Addresses.AppendAnnounce":           []string{},
		"Swarm.DisableNatPortMap":            true,
		"Swarm.EnableHolePunching":           false,
		"Swarm.RelayClient.Enabled":          false,
		"Swarm.RelayService.Enabled":         false,
		"Plugins.Plugins.telemetry.Config":   map[string]any{"Mode": "off"},
		"Plugins.Plugins.telemetry.Disabled": true,
		"Gateway.NoFetch":                    true,
		"Gateway.DeserializedResponses":      false,
		"Gateway.ExposeRoutingAPI":           false,
	} {
		set(cfg, strings.Split(key, "."), v)
	}
	b, err = json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o600)
}

// set puts v at path in a JSON object, creating objects on the way.
func set(m map[string]any, path []string, v any) {
	for _, k := range path[:len(path)-1] {
		next, ok := m[k].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[k] = next
		}
		m = next
	}
	m[path[len(path)-1]] = v
}

// start runs the daemon and waits for its API, gateway and "ready" line.
func (n *Node) start() error {
	cmd := exec.Command(n.bin, "daemon")
	cmd.Env = n.env
	cmd.Dir = n.Repo
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	cmd.Stderr = n.log
	procgroup.InOwnGroup(cmd)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("ipfs daemon: %w", err)
	}
	n.cmd, n.done = cmd, make(chan struct{})
	ready := make(chan error, 1)
	go func() {
		ready <- n.scan(stdout)
		io.Copy(n.log, stdout)
		_ = cmd.Wait()
		close(n.done)
	}()
	select {
	case err := <-ready:
		if err != nil {
			return err
		}
	case <-time.After(StartTimeout):
		return fmt.Errorf("ipfs daemon not ready after %s", StartTimeout)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	id, err := n.id(ctx)
	if err != nil {
		return fmt.Errorf("ipfs daemon API %s: %w", n.API, err)
	}
	n.PeerID = id
	return nil
}

// scan reads the daemon's stdout up to "Daemon is ready" and picks up the
// API and gateway addresses from the lines before it.
func (n *Node) scan(r io.Reader) error {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		n.log.Write([]byte(line + "\n"))
		var err error
		if a, ok := strings.CutPrefix(line, "RPC API server listening on "); ok {
			n.API, err = httpURL(a)
		} else if a, ok := strings.CutPrefix(line, "Gateway server listening on "); ok {
			n.Gateway, err = httpURL(a)
		} else if line == "Daemon is ready" {
			if n.API == "" || n.Gateway == "" {
				return errors.New("ipfs daemon ready without naming its API and gateway addresses")
			}
			return nil
		}
		if err != nil {
			return err
		}
	}
	return fmt.Errorf("ipfs daemon exited before it was ready (%v)", sc.Err())
}

// httpURL turns /ip4/127.0.0.1/tcp/PORT into http://127.0.0.1:PORT,
// refusing anything but loopback.
func httpURL(addr string) (string, error) {
	m, err := ma.NewMultiaddr(strings.TrimSpace(addr))
	if err != nil {
		return "", fmt.Errorf("ipfs daemon address %q: %w", addr, err)
	}
	na, err := manet.ToNetAddr(m)
	if err != nil {
		return "", fmt.Errorf("ipfs daemon address %q: %w", addr, err)
	}
	if !manet.IsIPLoopback(m) {
		return "", fmt.Errorf("ipfs daemon listens beyond loopback: %s", addr)
	}
	return "http://" + na.String(), nil
}

// id asks the API for the peer ID.
func (n *Node) id(ctx context.Context) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, n.API+"/api/v0/id", nil)
	if err != nil {
		return "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var out struct{ ID string }
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		return "", fmt.Errorf("HTTP %d: %s", resp.StatusCode, b)
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.ID == "" {
		return "", fmt.Errorf("unreadable id answer: %v", err)
	}
	return out.ID, nil
}

// Stop stops the daemon (its whole process group). Start registers it
// with t.Cleanup; calling it earlier is fine.
func (n *Node) Stop() {
	n.stop.Do(func() {
		if n.cmd != nil && n.cmd.Process != nil {
			procgroup.Stop(n.cmd, n.done, 10*time.Second)
		}
	})
}

// Log returns the end of the daemon's output.
func (n *Node) Log() string { return n.log.tail() }

// lockedBuffer collects the daemon's output, keeping the last 64 KiB.
type lockedBuffer struct {
	mu  sync.Mutex
	buf []byte
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	if len(b.buf) > 64<<10 {
		b.buf = b.buf[len(b.buf)-64<<10:]
	}
	return len(p), nil
}

func (b *lockedBuffer) tail() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}
