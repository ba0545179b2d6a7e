package cli

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/healthwallet/healthwallet/internal/atomicfile"
	"github.com/healthwallet/healthwallet/ipfs"
)

// nodeJSON is the line `node` prints once it is serving.
type nodeJSON struct {
	PeerID  string   `json:"peerId"`
	Addrs   []string `json:"addrs"`
	Gateway string   `json:"gateway,omitempty"`
}

func runNode(c *ctx, args []string) error {
	fs := c.flags("node")
	var listen, allow stringList
	fs.Var(&listen, "listen", "multiaddr to listen on (repeatable; default TCP and QUIC on port 4101)")
	fs.Var(&allow, "allow", "peer ID allowed to fetch every stored object (repeatable; grants replace this)")
	gw := fs.String("gateway", "", "also serve a trustless gateway (raw and CAR only) on this address, e.g. "+ipfs.DefaultGatewayAddr)
	asJSON := fs.Bool("json", false, "print JSON")
	if err := c.parse(fs, args); err != nil {
		return err
	}
	gate := ipfs.NewAllowList()
	for _, a := range allow {
		id, err := peer.Decode(a)
		if err != nil {
			return fmt.Errorf("%w: --allow %q is not a peer ID", errUsage, a)
		}
		gate.AllowEverything(id)
	}
	if len(listen) == 0 {
		listen = ipfs.DefaultListen
	}
	w, err := c.unlock()
	if err != nil {
		return err
	}
	defer w.Lock()
	store, _ := w.Store()
	key, _ := w.PeerKey()
	node, err := ipfs.StartNode(c.Context, store, ipfs.NodeConfig{Key: key, Listen: listen, Gate: gate})
	if err != nil {
		return err
	}
	defer node.Close()
	out := nodeJSON{PeerID: node.ID().String()}
	for _, a := range node.Addrs() {
		out.Addrs = append(out.Addrs, a.String())
	}
	if *gw != "" {
		g, err := ipfs.StartGateway(store, *gw)
		if err != nil {
			return err
		}
		defer g.Close()
		out.Gateway = g.URL()
	}
	if *asJSON {
		b, _ := jsonLine(out)
		c.Stdout.Write(b)
	} else {
		fmt.Fprintf(c.Stdout, "peer id  %s\n", out.PeerID)
		for _, a := range out.Addrs {
			fmt.Fprintf(c.Stdout, "address  %s\n", a)
		}
		if out.Gateway != "" {
			fmt.Fprintf(c.Stdout, "gateway  %s\n", out.Gateway)
		}
	}
	fmt.Fprintln(c.Stderr, "serving; press Ctrl-C to stop")
	<-c.Context.Done()
	served, denied := node.Stats()
	fmt.Fprintf(c.Stderr, "stopped: %d blocks served, %d requests refused\n", served, denied)
	return nil
}

func runGC(c *ctx, args []string) error {
	fs := c.flags("gc")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := c.parse(fs, args); err != nil {
		return err
	}
	w, err := c.unlock()
	if err != nil {
		return err
	}
	defer w.Lock()
	res, err := w.GC(c.Context)
	if err != nil {
		return err
	}
	if *asJSON {
		return c.printJSON(map[string]int{"roots": res.Roots, "blocks": res.Blocks})
	}
	fmt.Fprintf(c.Stdout, "removed %d objects (%d blocks)\n", res.Roots, res.Blocks)
	return nil
}

func runCAR(c *ctx, args []string) error {
	if len(args) < 2 || (args[0] != "export" && args[0] != "import") {
		return fmt.Errorf("%w: healthwallet car export|import FILE", errUsage)
	}
	fs := c.flags("car " + args[0])
	if err := c.parse(fs, args[2:]); err != nil {
		return err
	}
	file := args[1]
	w, err := c.unlock()
	if err != nil {
		return err
	}
	defer w.Lock()
	store, _ := w.Store()
	if args[0] == "export" {
		roots, err := w.ObjectRoots()
		if err != nil {
			return err
		}
		abs, _ := filepath.Abs(file)
		err = atomicfile.Write(abs, 0o600, func(out io.Writer) error {
			return store.ExportCAR(c.Context, out, roots...)
		})
		if err != nil {
			return err
		}
		fmt.Fprintf(c.Stdout, "exported %d objects to %s\n", len(roots), file)
		return nil
	}
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	roots, err := store.ImportCAR(c.Context, f)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.Stdout, "imported %d DAGs from %s\n", len(roots), file)
	return nil
}
