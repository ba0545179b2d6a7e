package netlab

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const passphrase = "correct horse battery staple"

var built struct {
	once sync.Once
	dir  string
	bin  string
	err  error
}

// buildHealthwallet builds the CLI without cgo, once per test binary, into
// a temporary directory that TestMain removes (removeBuilt).
func buildHealthwallet(t *testing.T) string {
	t.Helper()
	built.once.Do(func() {
		script, err := Script()
		if err != nil {
			built.err = err
			return
		}
		goBin, err := exec.LookPath("go")
		if err != nil {
			built.err = fmt.Errorf("no go on the PATH to build healthwallet: %v", err)
			return
		}
		if built.dir, built.err = os.MkdirTemp("", "netlab-healthwallet-"); built.err != nil {
			return
		}
		bin := filepath.Join(built.dir, "healthwallet")
		start := time.Now()
		cmd := exec.Command(goBin, "build", "-tags", "ci", "-o", bin, ".")
		cmd.Dir = filepath.Dir(filepath.Dir(script))
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			built.err = fmt.Errorf("go build: %v\n%s", err, out)
			return
		}
		built.bin = bin
		t.Logf("built healthwallet in %v", time.Since(start).Round(time.Millisecond))
	})
	if built.err != nil {
		t.Fatal(built.err)
	}
	return built.bin
}

// removeBuilt deletes what buildHealthwallet built.
func removeBuilt() {
	if built.dir != "" {
		os.RemoveAll(built.dir)
	}
}

// hwRun runs the healthwallet binary inside host to completion.
func hwRun(t *testing.T, lab *Lab, host string, env []string, bin string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	cmd := lab.Command(host, bin, args...)
	cmd.Env = append(cmd.Env, env...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	return o.String(), e.String(), err
}

// hwMust is hwRun that fails the test on a non-zero exit.
func hwMust(t *testing.T, lab *Lab, host string, env []string, bin string, args ...string) string {
	t.Helper()
	out, errOut, err := hwRun(t, lab, host, env, bin, args...)
	if err != nil {
		t.Fatalf("healthwallet %s in %s: %v\n%s", strings.Join(args, " "), host, err, errOut)
	}
	return out
}

// hwStart runs a long-lived healthwallet command (devnet, node) inside
// host, decodes the JSON line it prints when ready into v, and returns a
// stop function: Ctrl-C (SIGINT), then SIGKILL after 10 s, and reaped. The
// test's cleanup stops it too if the test has not.
func hwStart(t *testing.T, lab *Lab, host string, env []string, v any, bin string, args ...string) (stop func()) {
	t.Helper()
	cmd := lab.Command(host, bin, args...)
	cmd.Env = append(cmd.Env, env...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var errOut bytes.Buffer
	cmd.Stderr = &errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			default:
			}
		}
		cmd.Wait()
		close(exited)
	}()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cmd.Process.Signal(syscall.SIGINT)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			t.Errorf("healthwallet %s in %s ignored Ctrl-C for 10 s", args[len(args)-1], host)
			cmd.Process.Kill()
			<-exited
		}
	}
	t.Cleanup(stop)
	select {
	case line := <-lines:
		if err := json.Unmarshal([]byte(line), v); err != nil {
			t.Fatalf("healthwallet %s in %s printed %q: %v", strings.Join(args, " "), host, line, err)
		}
	case <-exited:
		t.Fatalf("healthwallet %s in %s exited: %s", strings.Join(args, " "), host, errOut.String())
	case <-time.After(60 * time.Second):
		t.Fatalf("healthwallet %s in %s printed nothing within 60 s: %s", strings.Join(args, " "), host, errOut.String())
	}
	return stop
}

type nodeLine struct {
	PeerID string   `json:"peerId"`
	Addrs  []string `json:"addrs"`
}

// TestHealthwalletAcrossLab runs healthwallet's real libp2p node across the
// lab. A patient wallet's node on the public host serves a grant that a
// specialist, behind its firewall, redeems over TCP/QUIC with the full
// local checks against the chain on the public host. Then the same node on
// the firewalled patient host cannot be reached: the redeem fails naming the
// node, and the patient's firewall counts the dropped dials. That is today's
// behaviour that keepers and relays (issue 13) are to change.
func TestHealthwalletAcrossLab(t *testing.T) {
	lab := Up(t)
	bin := buildHealthwallet(t)
	work := t.TempDir()
	pub, pat := lab.Addr(Public), lab.Addr(Patient)

	// public: the chain, and a forwarder that makes its loopback-only
	// JSON-RPC reachable at public's lab address.
	devnetFile := filepath.Join(work, "devnet.json")
	onPublic := []string{"HW_PASSPHRASE=" + passphrase, "HW_DEVNET_FILE=" + devnetFile, "LANG=C.UTF-8"}
	var chain struct {
		RPC      string `json:"rpc"`
		Registry string `json:"registry"`
	}
	hwStart(t, lab, Public, onPublic, &chain, bin, "devnet", "--port", "0", "--datadir", filepath.Join(work, "chain"))
	fwd := startProbe(t, lab, Public, "forward", pub+":0", strings.TrimPrefix(chain.RPC, "http://"))
	// Everyone else reaches the chain across the lab.
	remote := []string{"HW_PASSPHRASE=" + passphrase, "HW_DEVNET_FILE=" + filepath.Join(work, "no-devnet.json"),
		"HW_CHAIN_RPC=http://" + fwd.Addr, "HW_REGISTRY=" + chain.Registry, "LANG=C.UTF-8"}

	patient, specialist := filepath.Join(work, "patient"), filepath.Join(work, "specialist")
	hwMust(t, lab, Public, onPublic, bin, "--home", patient, "init")
	hwMust(t, lab, Specialist, remote, bin, "--home", specialist, "init")
	var who struct {
		DID string `json:"did"`
	}
	if err := json.Unmarshal([]byte(hwMust(t, lab, Specialist, remote, bin, "--home", specialist, "whoami", "--json")), &who); err != nil {
		t.Fatal(err)
	}
	script, _ := Script()
	bundle := filepath.Join(filepath.Dir(filepath.Dir(script)), "testdata", "fhir", "ips", "bundle-minimal.json")
	hwMust(t, lab, Public, onPublic, bin, "--home", patient, "import", bundle)
	selection := []string{"--category", "medications", "--category", "allergies"}
	expected := filepath.Join(work, "expected.json")
	hwMust(t, lab, Public, onPublic, bin, append([]string{"--home", patient, "export", "--out", expected}, selection...)...)
	var exp struct {
		Entry []json.RawMessage `json:"entry"`
	}
	if b, err := os.ReadFile(expected); err != nil || json.Unmarshal(b, &exp) != nil || len(exp.Entry) == 0 {
		t.Fatalf("export: %v, %d entries", err, len(exp.Entry))
	}

	// 1. The patient's node on public, TCP and QUIC; the specialist redeems.
	var node nodeLine
	stopNode := hwStart(t, lab, Public, onPublic, &node, bin, "--home", patient, "node", "--json",
		"--listen", "/ip4/"+pub+"/tcp/0", "--listen", "/ip4/"+pub+"/udp/0/quic-v1")
	for _, a := range node.Addrs {
		if !strings.HasPrefix(a, "/ip4/"+pub+"/") {
			t.Fatalf("the node announces %s, outside public's address %s", a, pub)
		}
	}
	// One grant per transport (grant --provider), so that both TCP and
	// QUIC (UDP) are shown to cross the specialist's firewall.
	var g struct {
		Link string `json:"link"`
	}
	transports := map[string]bool{}
	for _, addr := range node.Addrs {
		transport := "tcp"
		if strings.Contains(addr, "/quic-v1/") {
			transport = "quic"
		}
		transports[transport] = true
		if err := json.Unmarshal([]byte(hwMust(t, lab, Public, onPublic, bin,
			append([]string{"--home", patient, "grant", "--to", who.DID, "--for", "1h", "--provider", addr, "--json"}, selection...)...)), &g); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		var r struct {
			Resources int    `json:"resources"`
			File      string `json:"file"`
		}
		if err := json.Unmarshal([]byte(hwMust(t, lab, Specialist, remote, bin, "--home", specialist, "redeem", g.Link,
			"--out", filepath.Join(work, "received-"+transport), "--json")), &r); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(r.File); err != nil {
			t.Fatalf("over %s the redeemed bundle is missing: %v", transport, err)
		}
		if r.Resources != len(exp.Entry) {
			t.Fatalf("over %s the specialist redeemed %d resources, want the package's %d", transport, r.Resources, len(exp.Entry))
		}
		t.Logf("specialist → public over %s: redeemed %d resources from %s in %v", transport, r.Resources, addr, time.Since(start).Round(time.Millisecond))
	}
	if !transports["tcp"] || !transports["quic"] {
		t.Fatalf("the node listens on %v, want TCP and QUIC", node.Addrs)
	}
	stopNode()

	// 2. The same wallet's node on the firewalled patient host: nobody can
	// dial it, so the redeem fails and names the node.
	var node2 nodeLine
	stopNode = hwStart(t, lab, Patient, remote, &node2, bin, "--home", patient, "node", "--json",
		"--listen", "/ip4/"+pat+"/tcp/0", "--listen", "/ip4/"+pat+"/udp/0/quic-v1")
	var g2 struct {
		Link string `json:"link"`
	}
	if err := json.Unmarshal([]byte(hwMust(t, lab, Patient, remote, bin,
		append([]string{"--home", patient, "grant", "--to", who.DID, "--for", "1h", "--json"}, selection...)...)), &g2); err != nil {
		t.Fatal(err)
	}
	before, err := lab.Dropped(Patient)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, errOut, err := hwRun(t, lab, Specialist, remote, bin, "--home", specialist, "redeem", g2.Link, "--json")
	if err == nil {
		t.Fatal("the specialist redeemed from a node behind the patient's firewall")
	}
	if !strings.Contains(errOut, node2.PeerID) {
		t.Errorf("the failed redeem does not name the patient's node %s: %s", node2.PeerID, errOut)
	}
	after, err := lab.Dropped(Patient)
	if err != nil {
		t.Fatal(err)
	}
	if after <= before {
		t.Errorf("the patient's firewall dropped nothing (counter %d) while the specialist dialled its node", before)
	}
	t.Logf("specialist → patient: refused after %v, %d packets dropped by the patient's firewall: %s",
		time.Since(start).Round(time.Millisecond), after-before, strings.TrimSpace(errOut))
	stopNode()
}
