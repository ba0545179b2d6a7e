package cli

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/healthwallet/healthwallet/internal/testca"
)

// TestKeeperSHLFlags: `keeper --shl-listen --shl-cert --shl-key` serves
// manifests over HTTPS and prints shlUrl; plain HTTP off loopback does not
// start.
func TestKeeperSHLFlags(t *testing.T) {
	dir, env, _ := devnetEnv(t)
	keeper := newHome(t)
	if r := run(t, "", env, "--home", keeper, "keeper", "--listen", "/ip4/127.0.0.1/tcp/0", "--shl-listen", "0.0.0.0:0", "--shl-insecure-loopback"); r.code != ExitError || !strings.Contains(r.stderr, "loopback") {
		t.Fatalf("plain HTTP off loopback: %+v", r)
	}
	ca, err := testca.New()
	if err != nil {
		t.Fatal(err)
	}
	files, err := ca.WriteFiles(dir, "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	line, stop := background(t, env, "--home", keeper, "keeper", "--json", "--listen", "/ip4/127.0.0.1/tcp/0",
		"--shl-listen", "127.0.0.1:0", "--shl-cert", files.Cert, "--shl-key", files.Key)
	defer stop()
	var kj nodeJSON
	if err := json.Unmarshal([]byte(line), &kj); err != nil || !strings.HasPrefix(kj.SHLURL, "https://127.0.0.1:") {
		t.Fatalf("keeper line %q: %v", line, err)
	}
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: ca.ClientConfig()}}
	resp, err := c.Post(kj.SHLURL+"/shl/"+strings.Repeat("A", 43), "application/json", strings.NewReader(`{"recipient":"test"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("unknown link: %s", resp.Status)
	}
}
