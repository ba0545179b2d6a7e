package netlab

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/healthwallet/healthwallet/internal/procgroup"
)

// AnvilPort is the port [Lab.StartAnvil] serves JSON-RPC on. Each lab host
// is a network namespace of its own, so a fixed port cannot collide with
// anything on the machine or in another lab.
const AnvilPort = 8545

// AnvilKeys are anvil's first two dev accounts (the public test mnemonic),
// funded at genesis: the reach demo deploys the registry with the first and
// pays the relay's revocations with the second.
var AnvilKeys = []string{
	"0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
	"0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
}

// AnvilPath returns the pinned anvil binary (npm ci --prefix
// share/registry/anvil installs it with its native build for this machine).
func AnvilPath() (string, error) {
	script, err := Script()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(filepath.Dir(filepath.Dir(script)), "share", "registry", "anvil", "node_modules",
		"@foundry-rs", "anvil-"+runtime.GOOS+"-"+runtime.GOARCH, "bin", "anvil")
	if _, err := os.Stat(bin); err != nil {
		return "", fmt.Errorf("no anvil (%v): run npm ci --prefix share/registry/anvil", err)
	}
	return bin, nil
}

// StartAnvil runs anvil, an EVM node independent of go-ethereum (chain id
// 31337), on the public host at its lab address and [AnvilPort], and
// returns its JSON-RPC URL once it listens (60 s at most). Without anvil the
// test skips, except under CI, where it fails. anvil is stopped when the
// test ends, before the lab is removed.
func (l *Lab) StartAnvil(t testing.TB) string {
	t.Helper()
	bin, err := AnvilPath()
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%v; CI installs it (.ci/run)", err)
		}
		t.Skip(err)
	}
	addr := l.Addr(Public) + ":" + strconv.Itoa(AnvilPort)
	cmd := l.Command(Public, bin, "--host", l.Addr(Public), "--port", strconv.Itoa(AnvilPort), "--chain-id", "31337")
	procgroup.InOwnGroup(cmd)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var errOut bytes.Buffer
	cmd.Stderr = &errOut
	if err := cmd.Start(); err != nil {
		t.Fatalf("anvil: %v", err)
	}
	done := make(chan struct{})
	listening := make(chan error, 1)
	go func() {
		// anvil prints "Listening on ADDR:PORT" once it serves.
		sc := bufio.NewScanner(out)
		sent := false
		for sc.Scan() {
			if a, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "Listening on "); ok && !sent {
				sent = true
				if a != addr {
					listening <- fmt.Errorf("anvil listens on %s, want %s", a, addr)
				} else {
					listening <- nil
				}
			}
		}
		if !sent {
			listening <- errors.New("anvil exited without listening")
		}
		_ = cmd.Wait()
		close(done)
	}()
	// Registered before Up's cleanup runs (cleanups run last first), so the
	// lab finds nothing still running in public.
	t.Cleanup(func() { procgroup.Stop(cmd, done, 5*time.Second) })
	select {
	case err := <-listening:
		if err != nil {
			t.Fatalf("%v: %s", err, errOut.String())
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("anvil did not listen within 60 s: %s", errOut.String())
	}
	return "http://" + addr
}
