package ipfs

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/healthwallet/healthwallet/internal/netlab"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
)

// reachRoleEnv makes a re-executed test binary run one node of
// TestReachAcrossLab instead of the tests: the test binary is the one
// program sure to be at hand in every namespace.
const reachRoleEnv = "HW_REACH_ROLE"

func TestMain(m *testing.M) {
	if role := os.Getenv(reachRoleEnv); role != "" {
		if err := reachRole(role, os.Getenv("HW_REACH_ARGS")); err != nil {
			fmt.Println("error", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// reachArgs are a lab node's inputs.
type reachArgs struct {
	Listen string     // multiaddr to listen on
	Relay  string     // the keeper's full multiaddr (patient)
	Via    string     // the patient's circuit address (fetcher)
	Direct string     // the patient's direct address (fetcher)
	Ref    *ObjectRef `json:",omitempty"` // what to fetch (fetcher)
	Size   int        // pattern size
}

// reachRole runs one lab node: "relay" (keeper on public), "patient"
// (forced private, reservation on the relay, serving a pattern object to the
// fetcher's seed-0xc3 identity) or "fetcher" (dials the patient directly,
// which the firewall must stop, then fetches through the circuit). Nodes
// print one "ready"/"result" line and run until stdin closes.
func reachRole(role, argJSON string) error {
	var a reachArgs
	if err := json.Unmarshal([]byte(argJSON), &a); err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "hw-reach-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	store, err := OpenStore(dir, StoreOptions{})
	if err != nil {
		return err
	}
	defer store.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	seed := map[string]byte{"relay": 0xc1, "patient": 0xc2, "fetcher": 0xc3}[role]
	key, _ := PeerKeyFromSeed(bytes.Repeat([]byte{seed}, 32))
	cfg := NodeConfig{Key: key, Listen: []string{a.Listen}, StallTimeout: 10 * time.Second}
	emit := func(v any) {
		b, _ := json.Marshal(v)
		fmt.Println("ready", string(b))
	}
	wait := func() { io.Copy(io.Discard, os.Stdin) }
	switch role {
	case "relay":
		cfg.RelayService, cfg.Reachability = true, ReachabilityPublic
		n, err := StartNode(ctx, store, cfg)
		if err != nil {
			return err
		}
		defer n.Close()
		emit(n.Addrs()[0].String())
		wait()
	case "patient":
		relay, err := peer.AddrInfoFromString(a.Relay)
		if err != nil {
			return err
		}
		fk, _ := PeerKeyFromSeed(bytes.Repeat([]byte{0xc3}, 32))
		fid, _ := peer.IDFromPrivateKey(fk)
		allow := NewAllowList()
		allow.AllowEverything(fid)
		cfg.Gate, cfg.Relays = allow, []peer.AddrInfo{*relay}
		n, err := StartNode(ctx, store, cfg)
		if err != nil {
			return err
		}
		defer n.Close()
		ref, err := store.Import(ctx, bytes.NewReader(pattern(a.Size)), int64(a.Size), nil)
		if err != nil {
			return err
		}
		if err := n.WaitReservation(ctx); err != nil {
			return err
		}
		emit(reachArgs{Via: n.RelayAddrs()[0].String(), Direct: n.Addrs()[0].String(), Ref: &ref})
		wait()
	case "fetcher":
		n, err := StartNode(ctx, store, cfg)
		if err != nil {
			return err
		}
		defer n.Close()
		direct, _ := peer.AddrInfoFromString(a.Direct)
		via, _ := peer.AddrInfoFromString(a.Via)
		dctx, dcancel := context.WithTimeout(ctx, 3*time.Second)
		derr := n.Connect(dctx, []peer.AddrInfo{*direct})
		dcancel()
		var got bytes.Buffer
		ferr := n.Fetch(ctx, *a.Ref, []peer.AddrInfo{*via}, &got, nil)
		emit(map[string]any{
			"directBlocked": derr != nil,
			"fetchError":    fmt.Sprint(ferr),
			"equal":         bytes.Equal(got.Bytes(), pattern(a.Size)),
			"relayed":       n.Relayed(via.ID),
		})
	default:
		return fmt.Errorf("unknown role %q", role)
	}
	return nil
}

// startReachRole runs role inside host and returns its ready line's JSON.
func startReachRole(t *testing.T, lab *netlab.Lab, host, role string, a reachArgs, v any) {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(a)
	cmd := lab.Command(host, self)
	cmd.Env = append(cmd.Env, reachRoleEnv+"="+role, "HW_REACH_ARGS="+string(b))
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close()
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		io.Copy(io.Discard, stdout)
	}()
	select {
	case line, ok := <-lines:
		js, found := strings.CutPrefix(line, "ready ")
		if !ok || !found {
			t.Fatalf("%s in %s: %q", role, host, line)
		}
		if err := json.Unmarshal([]byte(js), v); err != nil {
			t.Fatalf("%s in %s: %q: %v", role, host, line, err)
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("%s in %s did not answer within 60 s", role, host)
	}
}

// TestReachAcrossLab is the real thing: a keeper relay on the public host, a
// patient behind a firewall that drops every inbound connection it did not
// open, and a specialist behind the same kind of firewall. The specialist
// cannot dial the patient directly, and fetches from it through the
// patient's /p2p-circuit address. The lab's addresses are private
// (10.213.0.0/24), so DCUtR does not start (libp2p punches holes only for
// hosts with public addresses) and the connection stays relayed.
func TestReachAcrossLab(t *testing.T) {
	lab := netlab.Up(t)
	const size = 3*ChunkSize + 777
	var relayAddr string
	startReachRole(t, lab, netlab.Public, "relay", reachArgs{Listen: "/ip4/" + lab.Addr(netlab.Public) + "/tcp/0"}, &relayAddr)
	var p reachArgs
	startReachRole(t, lab, netlab.Patient, "patient", reachArgs{Listen: "/ip4/" + lab.Addr(netlab.Patient) + "/tcp/0", Relay: relayAddr, Size: size}, &p)
	if via, err := ma.NewMultiaddr(p.Via); err != nil || !isCircuit(via) || !strings.HasPrefix(p.Via, relayAddr+"/p2p-circuit/p2p/") {
		t.Fatalf("patient's relay address %q does not go through %s", p.Via, relayAddr)
	}
	var got struct {
		DirectBlocked bool
		FetchError    string
		Equal         bool
		Relayed       bool
	}
	startReachRole(t, lab, netlab.Specialist, "fetcher", reachArgs{Listen: "/ip4/" + lab.Addr(netlab.Specialist) + "/tcp/0", Via: p.Via, Direct: p.Direct, Ref: p.Ref, Size: size}, &got)
	if !got.DirectBlocked {
		t.Fatalf("the specialist dialled the firewalled patient directly at %s", p.Direct)
	}
	if got.FetchError != "<nil>" || !got.Equal || !got.Relayed {
		t.Fatalf("fetch through %s: error %s, bytes equal %v, relayed %v", p.Via, got.FetchError, got.Equal, got.Relayed)
	}
	if d, err := lab.Dropped(netlab.Patient); err != nil || d == 0 {
		t.Fatalf("patient's firewall dropped %d packets (%v): the direct dial was not stopped by it", d, err)
	}
}
