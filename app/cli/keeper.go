package cli

import (
	"flag"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/healthwallet/healthwallet/internal/memlimit"
	"github.com/healthwallet/healthwallet/wallet"
)

// keeperSyncEvery is how often `healthwallet node` syncs with the keepers.
const keeperSyncEvery = 30 * time.Second

func runKeeper(c *ctx, args []string) error {
	fs := c.flags("keeper")
	var listen stringList
	fs.Var(&listen, "listen", "multiaddr to listen on (repeatable; default TCP and QUIC on port 4101)")
	var ca chainArgs
	addChainFlags(fs, &ca)
	asJSON := fs.Bool("json", false, "print one JSON line (peerId, addrs, shlUrl) when ready")
	var sc wallet.KeeperConfig
	addSHLFlags(fs, &sc.SHLEndpoint)
	if err := c.parse(fs, args); err != nil {
		return err
	}
	memlimit.Apply(memlimit.Keeper)
	// A keeper without a chain could only refuse every grant: it does not
	// start (fail closed).
	chain, err := c.chainConfig(c.Context, ca)
	if err != nil {
		return err
	}
	w, err := c.unlock()
	if err != nil {
		return err
	}
	defer w.Lock()
	cfg := sc
	cfg.Listen, cfg.Chain = listen, chain
	cfg.OnError = func(err error) { fmt.Fprintf(c.Stderr, "healthwallet: warning: %v\n", err) }
	k, err := w.Keep(c.Context, cfg)
	if err != nil {
		return err
	}
	defer k.Close()
	c.printServing(nodeJSON{PeerID: k.PeerID(), Addrs: k.Addrs(), SHLURL: k.SHLURL()}, *asJSON)
	fmt.Fprintln(c.Stderr, "keeping; patients enrol with 'healthwallet keepers add ADDRESS'; press Ctrl-C to stop")
	<-c.Context.Done()
	served, denied := k.BlockStats()
	fmt.Fprintf(c.Stderr, "stopped: %d blocks served, %d requests refused\n", served, denied)
	return nil
}

// addSHLFlags adds the flags of a SMART Health Link endpoint (keeper and
// node).
func addSHLFlags(fs *flag.FlagSet, e *wallet.SHLEndpoint) {
	fs.StringVar(&e.SHLListen, "shl-listen", "", "serve SMART Health Link manifests over HTTPS on this host:port")
	fs.StringVar(&e.SHLURL, "shl-url", "", "the public base URL of the SHL endpoint (default: from --shl-domain or --shl-listen)")
	fs.StringVar(&e.SHLCert, "shl-cert", "", "the SHL endpoint's certificate (PEM file; with --shl-key)")
	fs.StringVar(&e.SHLKey, "shl-key", "", "the SHL endpoint's private key (PEM file; with --shl-cert)")
	fs.StringVar(&e.SHLDomain, "shl-domain", "", "get the SHL endpoint's certificate for this domain by ACME (Let's Encrypt; listens on :443 unless --shl-listen)")
	fs.BoolVar(&e.SHLInsecureLoopback, "shl-insecure-loopback", false, "serve SHLs over plain HTTP (only on a loopback --shl-listen; for local tests)")
}

// keeperSyncJSON is one keeper's line of `keepers sync --json`.
type keeperSyncJSON struct {
	wallet.Keeper
	Pushed  int    `json:"pushed"`
	Dropped int    `json:"dropped"`
	Records int    `json:"records"`
	Error   string `json:"error,omitempty"`
}

func runKeepers(c *ctx, args []string) error {
	const use = "healthwallet keepers add MULTIADDR/p2p/PEERID [--name TEXT] | add --kubo-api URL [--gateway URL] [--name TEXT] | list [--json] | remove ID | sync [--json]"
	if len(args) == 0 {
		return fmt.Errorf("%w: %s", errUsage, use)
	}
	fs := c.flags("keepers " + args[0])
	asJSON := fs.Bool("json", false, "print JSON")
	var name, kuboAPI, gateway *string
	if args[0] == "add" {
		name = fs.String("name", "", "what to call it (default: from its address)")
		kuboAPI = fs.String("kubo-api", "", "a stock Kubo node's RPC API URL: push the ciphertext there (it checks no grant)")
		gateway = fs.String("gateway", "", "with --kubo-api: the Kubo node's gateway URL, named in grants")
	}
	pos, err := c.parseWithArgs(fs, args[1:])
	if err != nil {
		return err
	}
	w, err := c.unlock()
	if err != nil {
		return err
	}
	defer w.Lock()
	switch args[0] {
	case "add":
		var k wallet.Keeper
		switch {
		case *kuboAPI != "" && len(pos) == 0:
			k, err = w.AddKuboReplica(c.Context, *kuboAPI, *gateway, *name)
		case *kuboAPI == "" && *gateway == "" && len(pos) == 1:
			k, err = w.AddKeeper(c.Context, pos[0], *name)
		default:
			return fmt.Errorf("%w: %s", errUsage, use)
		}
		if err != nil {
			return err
		}
		if *asJSON {
			return c.printJSON(k)
		}
		fmt.Fprintf(c.Stdout, "added %s %s (%s): holds %d packages", k.Kind, k.ID, k.Name, k.Held)
		if k.LastError != "" {
			fmt.Fprintf(c.Stdout, "; push failed, retried on the next sync: %s", k.LastError)
		}
		fmt.Fprintln(c.Stdout)
		return nil
	case "list":
		if len(pos) != 0 {
			return fmt.Errorf("%w: %s", errUsage, use)
		}
		ks, err := w.Keepers()
		if err != nil {
			return err
		}
		if *asJSON {
			if ks == nil {
				ks = []wallet.Keeper{}
			}
			return c.printJSON(ks)
		}
		tw := tabwriter.NewWriter(c.Stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tKIND\tNAME\tREACHABLE\tHELD\tPENDING\tLAST SYNC")
		for _, k := range ks {
			last := "never"
			if !k.LastSync.IsZero() {
				last = k.LastSync.Local().Format(time.DateTime)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%s\n", k.ID, k.Kind, k.Name, yesNo(k.Reachable), k.Held, k.Pending, last)
		}
		return tw.Flush()
	case "remove":
		if len(pos) != 1 {
			return fmt.Errorf("%w: %s", errUsage, use)
		}
		if err := w.RemoveKeeper(c.Context, pos[0]); err != nil {
			return err
		}
		fmt.Fprintf(c.Stdout, "removed %s: it deleted what it held for you\n", pos[0])
		return nil
	case "sync":
		if len(pos) != 0 {
			return fmt.Errorf("%w: %s", errUsage, use)
		}
		s, err := w.SyncKeepers(c.Context)
		if err != nil {
			return err
		}
		rows := make([]keeperSyncJSON, len(s.Keepers))
		failed := 0
		for i, r := range s.Keepers {
			rows[i] = keeperSyncJSON{Keeper: r.Keeper, Pushed: r.Pushed, Dropped: r.Dropped, Records: r.Records}
			if r.Err != nil {
				rows[i].Error, failed = r.Err.Error(), failed+1
			}
		}
		if *asJSON {
			if err := c.printJSON(rows); err != nil {
				return err
			}
		} else {
			for _, r := range rows {
				fmt.Fprintf(c.Stdout, "%s (%s): pushed %d, dropped %d, %d access records", r.Name, r.Kind, r.Pushed, r.Dropped, r.Records)
				if r.Error != "" {
					fmt.Fprintf(c.Stdout, "; failed: %s", r.Error)
				}
				fmt.Fprintln(c.Stdout)
			}
		}
		if failed > 0 {
			return fmt.Errorf("%d of %d keepers could not be synced", failed, len(rows))
		}
		return nil
	}
	return fmt.Errorf("%w: %s", errUsage, use)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
