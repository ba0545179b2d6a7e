package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/healthwallet/healthwallet/internal/atomicfile"
	"github.com/healthwallet/healthwallet/internal/memlimit"
	"github.com/healthwallet/healthwallet/ipfs"
	"github.com/healthwallet/healthwallet/wallet"
)

// nodeJSON is the line `node` (and, without a gateway, `keeper`) prints
// once it is serving.
type nodeJSON struct {
	PeerID  string   `json:"peerId"`
	Addrs   []string `json:"addrs"`
	Gateway string   `json:"gateway,omitempty"`
	SHLURL  string   `json:"shlUrl,omitempty"` // the node's or keeper's SMART Health Link endpoint
}

func runNode(c *ctx, args []string) error {
	fs := c.flags("node")
	var listen, allow stringList
	fs.Var(&listen, "listen", "multiaddr to listen on (repeatable; default TCP and QUIC on port 4101)")
	fs.Var(&allow, "allow", "peer ID allowed to fetch every stored object without a grant (repeatable)")
	gw := fs.String("gateway", "", "also serve a trustless gateway (raw and CAR only, ungated: loopback addresses only) on this address, e.g. "+ipfs.DefaultGatewayAddr)
	var ca chainArgs
	addChainFlags(fs, &ca)
	asJSON := fs.Bool("json", false, "print JSON")
	var se wallet.SHLEndpoint
	addSHLFlags(fs, &se)
	if err := c.parse(fs, args); err != nil {
		return err
	}
	memlimit.Apply(memlimit.Node)
	cfg := wallet.ServeConfig{Listen: listen, Gateway: *gw, SHLEndpoint: se}
	for _, a := range allow {
		id, err := peer.Decode(a)
		if err != nil {
			return fmt.Errorf("%w: --allow %q is not a peer ID", errUsage, a)
		}
		cfg.Allow = append(cfg.Allow, id)
	}
	chain, err := c.chainConfig(c.Context, ca)
	switch {
	case err == nil:
		cfg.Chain = chain
	case errors.Is(err, wallet.ErrNoChain):
		fmt.Fprintln(c.Stderr, "healthwallet: no chain configured: grants will be refused (revocation status unknown)")
	default:
		return err
	}
	w, err := c.unlock()
	if err != nil {
		return err
	}
	defer w.Lock()
	cfg.OnAccessLogError = func(err error) { fmt.Fprintf(c.Stderr, "healthwallet: warning: %v\n", err) }
	srv, err := w.Serve(c.Context, cfg)
	if err != nil {
		return err
	}
	defer srv.Close()
	out := nodeJSON{PeerID: srv.PeerID(), Addrs: srv.Addrs(), Gateway: srv.GatewayURL(), SHLURL: srv.SHLURL()}
	b, _ := json.MarshalIndent(nodeInfo{PeerID: out.PeerID, Addrs: out.Addrs, SHLURL: out.SHLURL}, "", "  ")
	if err := atomicfile.WriteFile(filepath.Join(w.Home(), nodeFile), b, 0o600); err != nil {
		return err
	}
	c.printServing(out, *asJSON)
	fmt.Fprintln(c.Stderr, "serving; press Ctrl-C to stop")
	// Keepers get what they lack, and give their access records, every
	// keeperSyncEvery; the loop ends before the wallet locks.
	synced := make(chan struct{})
	go func() {
		defer close(synced)
		w.SyncKeepersEvery(c.Context, keeperSyncEvery, func(s wallet.KeeperSync, err error) {
			if err != nil {
				fmt.Fprintf(c.Stderr, "healthwallet: warning: keeper sync: %v\n", err)
			}
			for _, r := range s.Keepers {
				if r.Err != nil {
					fmt.Fprintf(c.Stderr, "healthwallet: warning: keeper %s: %v\n", r.Keeper.Name, r.Err)
				}
			}
		})
	}()
	<-c.Context.Done()
	<-synced
	served, denied := srv.BlockStats()
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
		return c.printJSON(map[string]any{"roots": res.Roots, "blocks": res.Blocks, "stray": res.Stray, "deferred": res.Deferred})
	}
	fmt.Fprintf(c.Stdout, "removed %d objects (%d blocks, %d of them left by an interrupted import)\n", res.Roots, res.Blocks, res.Stray)
	if res.Deferred {
		fmt.Fprintln(c.Stdout, "an import was writing: blocks it may own are left for the next gc")
	}
	return nil
}

func runBackup(c *ctx, args []string) error {
	fs := c.flags("backup")
	out := fs.String("out", "", "the new backup folder (default: healthwallet-backup-DATE-TIME in the current directory)")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := c.parse(fs, args); err != nil {
		return err
	}
	w, err := c.unlock()
	if err != nil {
		return err
	}
	defer w.Lock()
	dir := *out
	if dir == "" {
		dir = wallet.BackupFolderName(w.Now().Local())
	}
	res, err := w.Backup(c.Context, dir)
	if err != nil {
		return err
	}
	if *asJSON {
		return c.printJSON(res)
	}
	fmt.Fprintf(c.Stdout, "backed up %d objects (%d bytes) to %s\n", res.Objects, res.Bytes, res.Dir)
	fmt.Fprintf(c.Stdout, "to restore, use the folder (or a copy of it) as the wallet home and unlock it, e.g. 'healthwallet --home %s records': the first unlock brings the records back\n", res.Dir)
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
	if args[0] == "export" {
		abs, _ := filepath.Abs(file)
		var n int
		err = atomicfile.Write(abs, 0o600, func(out io.Writer) (err error) {
			n, err = w.ExportCAR(c.Context, out)
			return err
		})
		if err != nil {
			return err
		}
		fmt.Fprintf(c.Stdout, "exported %d objects to %s\n", n, file)
		return nil
	}
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	n, err := w.ImportCAR(c.Context, f)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.Stdout, "imported %d DAGs from %s\n", n, file)
	return nil
}

// printServing prints where a node or keeper serves: one JSON line, or
// "peer id", "address" and "gateway" lines.
func (c *ctx) printServing(out nodeJSON, asJSON bool) {
	if asJSON {
		b, _ := jsonLine(out)
		c.Stdout.Write(b)
		return
	}
	fmt.Fprintf(c.Stdout, "peer id  %s\n", out.PeerID)
	for _, a := range out.Addrs {
		fmt.Fprintf(c.Stdout, "address  %s\n", a)
	}
	if out.Gateway != "" {
		fmt.Fprintf(c.Stdout, "gateway  %s\n", out.Gateway)
	}
	if out.SHLURL != "" {
		fmt.Fprintf(c.Stdout, "shl url  %s\n", out.SHLURL)
	}
}
