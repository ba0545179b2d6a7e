package ipfs

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/healthwallet/healthwallet/internal/procgroup"
)

// killingGate lets two block requests through and kills its own process
// (SIGKILL) at the third: a node that dies mid-fetch.
type killingGate struct {
	*AllowList
	asked atomic.Int64
}

func (g *killingGate) Allowed(p peer.ID, root cid.Cid) bool {
	if g.asked.Add(1) > 2 {
		syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {}
	}
	return g.AllowList.Allowed(p, root)
}

// TestFetchKillServerChild is the serving node of TestFetchFromNoticesKilledNode,
// run in a child process: it stores an 8 MiB object, serves it to anyone,
// prints its ref and addresses, and kills itself at the third block
// request.
func TestFetchKillServerChild(t *testing.T) {
	if os.Getenv("HW_FETCH_KILL_SERVER") == "" {
		t.Skip("child process of TestFetchFromNoticesKilledNode")
	}
	gate := &killingGate{AllowList: NewAllowList()}
	n := startTestNode(t, 1, gate)
	data := pattern(8 << 20)
	ref, err := n.store.Import(context.Background(), bytes.NewReader(data), int64(len(data)), nil)
	if err != nil {
		t.Fatal(err)
	}
	gate.AllowAnyone(ref.Root)
	b, _ := json.Marshal(struct {
		Ref   ObjectRef
		Addrs []string
	}{ref, strings.Fields(fmt.Sprint(n.Addrs()))})
	fmt.Printf("serving %s\n", b)
	select {}
}

// TestFetchFromNoticesKilledNode: the serving node's process dies (SIGKILL:
// no goodbye on the wire) after two blocks of nine, over TCP and over
// QUIC. The fetch fails within 5 s of the death with a ClosedError naming
// the node, not after the 30 s stall timeout.
func TestFetchFromNoticesKilledNode(t *testing.T) {
	if os.Getenv("HW_FETCH_KILL_SERVER") != "" {
		t.Skip("inside the child")
	}
	for _, transport := range []string{"tcp", "quic-v1"} {
		t.Run(transport, func(t *testing.T) {
			ctx := context.Background()
			cmd := exec.Command(os.Args[0], "-test.run=^TestFetchKillServerChild$", "-test.count=1")
			cmd.Env = append(os.Environ(), "HW_FETCH_KILL_SERVER=1")
			procgroup.InOwnGroup(cmd)
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer cmd.Process.Kill()
			var info struct {
				Ref   ObjectRef
				Addrs []string
			}
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				if l, ok := strings.CutPrefix(sc.Text(), "serving "); ok {
					if err := json.Unmarshal([]byte(l), &info); err != nil {
						t.Fatal(err)
					}
					break
				}
			}
			var ai peer.AddrInfo
			for _, a := range info.Addrs {
				a = strings.Trim(a, "[]")
				m, err := ma.NewMultiaddr(a)
				if err != nil {
					t.Fatalf("child address %q: %v", a, err)
				}
				if !strings.Contains(a, "/"+transport+"/") && !strings.HasSuffix(a, "/"+transport) && !strings.Contains(a, "/"+transport) {
					continue
				}
				p, err := peer.AddrInfoFromP2pAddr(m)
				if err != nil {
					t.Fatal(err)
				}
				ai.ID = p.ID
				ai.Addrs = append(ai.Addrs, p.Addrs...)
			}
			if ai.ID == "" || !info.Ref.Root.Defined() {
				t.Fatalf("the child gave no %s address or ref: %+v", transport, info)
			}
			s, _ := openTestStore(t)
			key, _ := PeerKeyFromSeed(seedKey(t, 2))
			client, err := StartNode(ctx, s, NodeConfig{Key: key, StallTimeout: DefaultStallTimeout})
			if err != nil {
				t.Fatal(err)
			}
			defer client.Close()
			died := make(chan time.Time, 1)
			go func() { cmd.Wait(); died <- time.Now() }()
			err = client.FetchFrom(ctx, info.Ref, ai, &bytes.Buffer{}, nil)
			end := time.Now()
			var took time.Duration
			select {
			case at := <-died:
				took = max(end.Sub(at), 0) // < 0: noticed before the parent reaped the child
			case <-time.After(10 * time.Second):
				t.Fatalf("the node never died: %v", err)
			}
			var closed *ClosedError
			if !errors.Is(err, ErrConnectionClosed) || !errors.As(err, &closed) || closed.Peer != ai.ID {
				t.Fatalf("node killed mid-fetch: %v (after %s), want a ClosedError naming %s", err, took, ai.ID)
			}
			if took >= 5*time.Second {
				t.Fatalf("noticed %s after the kill, want < 5 s", took)
			}
			t.Logf("noticed %s after the kill: %v", took.Round(time.Millisecond), err)
		})
	}
}
