package kubotest

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// post calls the daemon's RPC API and decodes the JSON answer into out.
func post(t *testing.T, n *Node, endpoint string, out any) {
	t.Helper()
	resp, err := http.Post(n.API+"/api/v0/"+endpoint, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: HTTP %d", endpoint, resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		t.Fatalf("%s: %v", endpoint, err)
	}
}

// TestDaemonStaysInside: the running daemon has the confining
// configuration, listens on loopback only, knows no peer, and is gone
// after Stop.
func TestDaemonStaysInside(t *testing.T) {
	n := Start(t)
	for _, u := range []string{n.API, n.Gateway} {
		if !strings.HasPrefix(u, "http://127.0.0.1:") {
			t.Fatalf("%s is not on loopback", u)
		}
	}
	var cfg struct {
		Bootstrap []string
		Routing   struct{ Type string }
		AutoConf  struct{ Enabled bool }
		Discovery struct{ MDNS struct{ Enabled bool } }
		AutoTLS   struct{ Enabled bool }
		Addresses struct{ Swarm []string }
		Swarm     struct {
			RelayClient  struct{ Enabled bool }
			RelayService struct{ Enabled bool }
		}
	}
	post(t, n, "config/show", &cfg)
	if len(cfg.Bootstrap) != 0 || cfg.Routing.Type != "none" || cfg.AutoConf.Enabled ||
		cfg.Discovery.MDNS.Enabled || cfg.AutoTLS.Enabled || cfg.Swarm.RelayClient.Enabled || cfg.Swarm.RelayService.Enabled {
		t.Fatalf("daemon config does not confine it: %+v", cfg)
	}
	for _, a := range cfg.Addresses.Swarm {
		if !strings.HasPrefix(a, "/ip4/127.0.0.1/") {
			t.Fatalf("swarm address %s is not loopback", a)
		}
	}
	var peers struct{ Peers []any }
	post(t, n, "swarm/peers", &peers)
	if len(peers.Peers) != 0 {
		t.Fatalf("daemon is connected to %d peers", len(peers.Peers))
	}
	if strings.Contains(n.Log(), "ERROR") {
		t.Fatalf("daemon logged errors:\n%s", n.Log())
	}

	n.Stop()
	select {
	case <-n.done:
	default:
		t.Fatal("daemon still running after Stop")
	}
	if resp, err := http.Post(n.API+"/api/v0/id", "", nil); err == nil {
		resp.Body.Close()
		t.Fatal("API still answers after Stop")
	}
}
