// Package netlab gives tests a real network on one machine: three Linux
// network namespaces made by scripts/netlab.sh.
//
//	public      10.213.0.1   open to all: the chain RPC, the revocation relay, a keeper
//	patient     10.213.0.2   firewalled: drops every inbound connection it did not open
//	specialist  10.213.0.3   firewalled the same way
//
// patient and specialist each run an nftables ruleset whose input chain
// accepts loopback and conntrack's established/related packets and drops the
// rest, TCP and UDP (QUIC) alike, like a phone behind a stateful firewall or
// carrier NAT. No namespace has a link to the machine's own network or a
// default route, so test traffic stays inside the lab.
//
// [Up] makes a lab with a run id unique to the test process, so parallel
// test runs do not collide, and removes it (`netlab.sh down`) when the test
// ends. [Lab.Command] runs a program inside one host. The lab needs root,
// iproute2 and nftables; without them [Require] skips the test, except
// under CI=1, where it fails.
package netlab

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// The lab's hosts.
const (
	Public     = "public"
	Patient    = "patient"
	Specialist = "specialist"
)

// Hosts lists the lab's hosts.
var Hosts = []string{Public, Patient, Specialist}

// ErrUnavailable is returned by [Available] when this machine cannot run
// the lab.
var ErrUnavailable = errors.New("netlab: network lab unavailable")

// Available returns nil when this machine can run the lab: root, `ip` and
// `nft` on the PATH, and scripts/netlab.sh found. Otherwise the error (an
// [ErrUnavailable]) says what is missing.
func Available() error {
	if os.Geteuid() != 0 {
		return fmt.Errorf("%w: needs root (network namespaces and nftables)", ErrUnavailable)
	}
	for _, tool := range []struct{ name, pkg string }{{"ip", "iproute2"}, {"nft", "nftables"}} {
		if _, err := exec.LookPath(tool.name); err != nil {
			return fmt.Errorf("%w: no %s on the PATH (apt-get install %s)", ErrUnavailable, tool.name, tool.pkg)
		}
	}
	if _, err := Script(); err != nil {
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	return nil
}

// Require skips t when [Available] reports that the lab cannot run here,
// and fails it instead when CI is set: CI must run the network tests.
func Require(t testing.TB) {
	t.Helper()
	if err := Available(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%v; CI runs as root with nftables installed (.ci/run)", err)
		}
		t.Skip(err)
	}
}

// Script returns the path of scripts/netlab.sh, found by walking up from
// the working directory to the module root.
func Script() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil &&
			bytes.HasPrefix(b, []byte("module github.com/healthwallet/healthwallet\n")) {
			return filepath.Join(dir, "scripts", "netlab.sh"), nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("scripts/netlab.sh not found: not inside the healthwallet module")
		}
		dir = parent
	}
}

// Lab is one running lab.
type Lab struct {
	// ID is the run id: every namespace is named hwlab-ID-HOST.
	ID string
	// UpTook is how long `netlab.sh up` took; DownTook how long `down` took
	// (zero until the lab is down).
	UpTook, DownTook time.Duration

	script string
	addrs  map[string]string
	down   atomic.Bool
}

var seq atomic.Int32

// Up makes a fresh lab and registers its removal with t.Cleanup. Cleanup
// first reports any process still running inside the lab as a test error
// (every test stops what it starts), then runs `netlab.sh down`, which stops
// such stragglers and deletes the namespaces.
func Up(t testing.TB) *Lab {
	t.Helper()
	Require(t)
	script, _ := Script()
	l := &Lab{
		ID:     "t" + strconv.FormatInt(int64(os.Getpid()), 36) + "x" + strconv.Itoa(int(seq.Add(1))),
		script: script,
		addrs:  map[string]string{},
	}
	start := time.Now()
	out, err := l.run("up")
	l.UpTook = time.Since(start)
	if err != nil {
		t.Fatalf("netlab.sh up: %v", err)
	}
	t.Cleanup(func() {
		for _, h := range Hosts {
			if pids, err := l.Pids(h); err == nil && len(pids) > 0 {
				t.Errorf("netlab: processes %v still run in %s at the end of the test", pids, h)
			}
		}
		if err := l.Down(); err != nil {
			t.Errorf("netlab.sh down: %v", err)
		}
	})
	// One line per host: HOST NAMESPACE ADDRESS.
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if f := strings.Fields(line); len(f) == 3 {
			l.addrs[f[0]] = f[2]
		}
	}
	for _, h := range Hosts {
		if l.addrs[h] == "" {
			t.Fatalf("netlab.sh up printed no address for %s: %q", h, out)
		}
	}
	return l
}

// Down removes the lab (`netlab.sh down`). Only the first call does
// anything.
func (l *Lab) Down() error {
	if l.down.Swap(true) {
		return nil
	}
	start := time.Now()
	_, err := l.run("down")
	l.DownTook = time.Since(start)
	return err
}

// Addr is host's IPv4 address in the lab.
func (l *Lab) Addr(host string) string { return l.addrs[host] }

// Namespace is host's network namespace name.
func (l *Lab) Namespace(host string) string { return "hwlab-" + l.ID + "-" + host }

// Env is the environment that addresses this lab in netlab.sh.
func (l *Lab) Env() []string { return append(os.Environ(), "NETLAB_ID="+l.ID) }

// Command runs name with args inside host's namespace (`netlab.sh exec`).
// Its Env is [Lab.Env]; append to it rather than replace it.
func (l *Lab) Command(host, name string, args ...string) *exec.Cmd {
	cmd := exec.Command(l.script, append([]string{"exec", host, name}, args...)...)
	cmd.Env = l.Env()
	return cmd
}

// Dropped reads host's firewall counter: how many inbound packets its
// nftables ruleset has dropped so far.
func (l *Lab) Dropped(host string) (uint64, error) {
	out, err := l.Command(host, "nft", "list", "counter", "inet", "hwlab", "dropped").CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("nft list counter in %s: %v: %s", host, err, out)
	}
	// ... counter dropped { packets N bytes M } ...
	f := strings.Fields(string(out))
	for i := 0; i+1 < len(f); i++ {
		if f[i] == "packets" {
			return strconv.ParseUint(f[i+1], 10, 64)
		}
	}
	return 0, fmt.Errorf("nft list counter in %s: no packet count in %q", host, out)
}

// Pids lists the processes running inside host's namespace.
func (l *Lab) Pids(host string) ([]int, error) {
	out, err := exec.Command("ip", "netns", "pids", l.Namespace(host)).Output()
	if err != nil {
		return nil, err
	}
	var pids []int
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if p, err := strconv.Atoi(strings.TrimSpace(sc.Text())); err == nil {
			pids = append(pids, p)
		}
	}
	return pids, nil
}

func (l *Lab) run(verb string) (string, error) {
	cmd := exec.Command(l.script, verb)
	cmd.Env = l.Env()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("%v: %s", err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}
