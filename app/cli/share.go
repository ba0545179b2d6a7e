package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ethereum/go-ethereum/common/hexutil"

	"github.com/healthwallet/healthwallet/internal/atomicfile"
	"github.com/healthwallet/healthwallet/share/grant"
	"github.com/healthwallet/healthwallet/wallet"
	"github.com/healthwallet/healthwallet/wallet/fhir"
)

// grantJSON is `grant --json`.
type grantJSON struct {
	ID        string      `json:"id"`
	Hash      string      `json:"hash"`
	Link      string      `json:"link"`
	TypedData interface{} `json:"typedData"` // eth_signTypedData_v4 form
	Signature string      `json:"signature"`
	ExpiresAt time.Time   `json:"expiresAt"`
	QR        string      `json:"qr,omitempty"`
	// AvailableAt says where the grant's packages are: this wallet's node
	// and each keeper or Kubo replica (ok: it holds them now).
	AvailableAt []wallet.Availability `json:"availableAt"`
}

func runGrant(c *ctx, args []string) error {
	fs := c.flags("grant")
	var sel selectionArgs
	selectionFlags(fs, &sel)
	var ca chainArgs
	addChainFlags(fs, &ca)
	to := fs.String("to", "", "the grantee's did:key")
	dur := fs.String("for", "", "how long: 1h, 24h, 7d, 30d, or any Go duration")
	delegable := fs.Uint("delegable", 0, "how many times the grantee may re-share (0: never)")
	qrFile := fs.String("qr", "", "also write the link as a QR code PNG here")
	viewOnly := fs.Bool("view-only", false, "the grantee may read the records but not export them (redeem --out is refused)")
	liveGrant := fs.Bool("live", false, "a live grant: it follows the selection as new records are imported (the grantee's redeem --follow sees them)")
	var providers stringList
	fs.Var(&providers, "provider", "multiaddr (with /p2p/) where the grantee fetches (default: your node's addresses)")
	asJSON := fs.Bool("json", false, "print JSON with the EIP-712 typed data and signature")
	if err := c.parse(fs, args); err != nil {
		return err
	}
	if *to == "" || *dur == "" {
		return fmt.Errorf("%w: healthwallet grant --to DID --for DURATION (--records IDS | --category C...)", errUsage)
	}
	if *delegable > 8 {
		return fmt.Errorf("%w: --delegable at most 8", errUsage)
	}
	if *liveGrant && *delegable > 0 {
		return fmt.Errorf("%w: a live grant cannot be delegated (--live with --delegable)", errUsage)
	}
	d, err := parseDuration(*dur)
	if err != nil {
		return err
	}
	cfg, err := c.chainConfig(c.Context, ca)
	if err != nil {
		return err
	}
	w, err := c.unlock()
	if err != nil {
		return err
	}
	defer w.Lock()
	if len(providers) == 0 {
		n, err := readNodeInfo(w.Home())
		if err != nil {
			return errNoProviders
		}
		providers = n.Addrs
		// Keepers, this node through their relays, Kubo replicas.
		extra, err := w.KeeperProviders()
		if err != nil {
			return err
		}
		providers = append(providers, extra...)
	}
	s, err := sel.resolve(w)
	if err != nil {
		return err
	}
	g, err := w.IssueGrant(c.Context, wallet.GrantRequest{To: *to, Selection: s, Duration: d, Delegable: uint8(*delegable), Providers: providers, ViewOnly: *viewOnly, Live: *liveGrant}, cfg)
	if err != nil {
		return err
	}
	if *qrFile != "" {
		if err := c.writeQR(w, g.Link, providers, *qrFile); err != nil {
			return err
		}
	}
	// Every keeper gets the packages before grant returns; one that is down
	// gets them on the next sync (node syncs every 30 s, or keepers sync).
	avail, err := w.PushToKeepers(c.Context, g.Record)
	if err != nil {
		return err
	}
	if *asJSON {
		leaf := g.Chain.Leaf()
		return c.printJSON(grantJSON{ID: g.Record.ID.String(), Hash: "0x" + g.Record.Hash, Link: g.Link, TypedData: leaf.PrintedTypedData(),
			Signature: hexutil.Encode(leaf.Signature), ExpiresAt: g.Record.ExpiresAt, QR: *qrFile, AvailableAt: avail})
	}
	fmt.Fprintln(c.Stdout, g.Link)
	fmt.Fprintf(c.Stderr, "grant %s: %s, until %s\n", g.Record.ID, g.Record.Summary, g.Record.ExpiresAt.Local().Format(time.DateTime))
	if g.Record.Live {
		fmt.Fprintf(c.Stderr, "live: new records the selection covers reach the grantee as version 2, 3, … (live name %s)\n", g.Record.LiveName)
	}
	fmt.Fprintln(c.Stderr, availableText(avail))
	return nil
}

// availableText is the line saying where a grant's packages are.
func availableText(avail []wallet.Availability) string {
	var at, pending []string
	for _, a := range avail {
		switch {
		case a.OK && a.Kind == wallet.KeeperKubo:
			at = append(at, a.Name+" (stock IPFS replica: ciphertext, no grant checks)")
		case a.OK:
			at = append(at, a.Name)
		default:
			pending = append(pending, a.Name+" ("+a.Error+")")
		}
	}
	line := "available at: " + strings.Join(at, ", ")
	if len(pending) > 0 {
		line += "; not yet at: " + strings.Join(pending, ", ") + ", retried on the next sync"
	}
	return line
}

// writeQR writes the QR code of a link; a link too long for a QR code goes
// through a key bundle served by the node at providers.
func (c *ctx) writeQR(w *wallet.Wallet, link string, providers []string, file string) error {
	png, text, err := w.ShareQR(c.Context, link, providers)
	if err != nil {
		return err
	}
	if text != link {
		fmt.Fprintln(c.Stderr, "the grant is too long for a QR code: the QR code points to a key bundle your node serves; keep it running")
	}
	abs, _ := filepath.Abs(file)
	return atomicfile.WriteFile(abs, png, 0o600)
}

type grantRowJSON struct {
	wallet.GrantRecord
	ID       string `json:"id"`
	Status   string `json:"status"`
	Accesses int    `json:"accesses"`
}

func runGrants(c *ctx, args []string) error {
	fs := c.flags("grants")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := c.parse(fs, args); err != nil {
		return err
	}
	w, err := c.unlock()
	if err != nil {
		return err
	}
	defer w.Lock()
	gs, err := w.Grants()
	if err != nil {
		return err
	}
	log, err := w.AccessLog()
	if err != nil {
		return fmt.Errorf("cannot read the access log: %w", err)
	}
	now := w.Now()
	rows := make([]grantRowJSON, len(gs))
	for i, g := range gs {
		rows[i] = grantRowJSON{GrantRecord: g, ID: g.ID.String(), Status: g.Status(now)}
		for _, e := range log {
			if e.Granted && (e.Root == g.Hash || e.Grant == g.Hash) {
				rows[i].Accesses++
			}
		}
	}
	if *asJSON {
		return c.printJSON(rows) // links: shl list --json
	}
	links, err := shlRows(w, log)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(c.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tDIRECTION\tSTATUS\tEXPIRES\tWHO\tACCESSES\tSUMMARY")
	for _, r := range rows {
		who := r.Grantee
		if r.Direction == wallet.Received {
			who = "from " + r.Issuer
		}
		summary := r.Summary
		if r.Live {
			summary = fmt.Sprintf("live (version %d) %s", r.LiveSeq, summary)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\n", r.ID, r.Direction, r.Status, r.ExpiresAt.Local().Format("2006-01-02 15:04"), shorten(who), r.Accesses, summary)
	}
	for _, l := range links {
		what := fmt.Sprintf("%d records", l.Records)
		if l.Label != "" {
			what += ": " + l.Label
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\n", l.ID[:12], "shl", l.Status, l.Expires.Local().Format("2006-01-02 15:04"), "anyone with the link", l.Accesses, what)
	}
	return tw.Flush()
}

func shorten(s string) string {
	if len(s) > 24 {
		return s[:14] + "…" + s[len(s)-6:]
	}
	return s
}

func runRevoke(c *ctx, args []string) error {
	fs := c.flags("revoke")
	var ca chainArgs
	addChainFlags(fs, &ca)
	relayURL := fs.String("relay", "", "relay URL that pays the gas (env HW_RELAY; default http://"+DefaultRelay+")")
	keyHex := fs.String("key", "", "pay with this funded key instead of a relay (env HW_REVOKE_KEY)")
	pos, err := c.parseWithArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("%w: healthwallet revoke GRANT", errUsage)
	}
	cfg, err := c.chainConfig(c.Context, ca)
	if err != nil {
		return err
	}
	w, err := c.unlock()
	if err != nil {
		return err
	}
	defer w.Lock()
	r, done, err := c.revoker(cfg, *relayURL, *keyHex)
	if err != nil {
		return err
	}
	defer done()
	if rec, ok, err := findSHLArg(w, pos[0]); err != nil {
		return err
	} else if ok {
		fmt.Fprintf(c.Stderr, "revoking link %s (%d records)…\n", rec.ID, rec.Records)
		rec, err = w.RevokeSHL(c.Context, rec, r, cfg)
		if err != nil {
			return err
		}
		fmt.Fprintf(c.Stdout, "revoked link %s in transaction %s\n", rec.ID, rec.RevokeTx)
		return nil
	}
	if strings.HasPrefix(strings.TrimSpace(pos[0]), grant.LinkPrefix) {
		// A grant link: works on a wallet restored from its phrase too.
		tx, err := w.RevokeLink(c.Context, pos[0], r, cfg)
		if err != nil {
			return err
		}
		fmt.Fprintf(c.Stdout, "revoked the grant in transaction %s\n", tx.Hex())
		return nil
	}
	g, err := w.FindGrant(pos[0])
	if err != nil {
		return err
	}
	fmt.Fprintf(c.Stderr, "revoking %s (%s)…\n", g.ID, g.Summary)
	g, err = w.Revoke(c.Context, g, r, cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.Stdout, "revoked %s in transaction %s\n", g.ID, g.RevokeTx)
	return nil
}

// readLink takes a link, or a file holding one (text, or a QR code PNG read
// with zbarimg when installed).
func readLink(arg string) (string, error) {
	if strings.HasPrefix(strings.TrimSpace(arg), grant.LinkPrefix) {
		return arg, nil
	}
	b, err := os.ReadFile(arg)
	if err != nil {
		return "", fmt.Errorf("%w: %q is neither a grant link nor a readable file", errUsage, arg)
	}
	if s := strings.TrimSpace(string(b)); strings.HasPrefix(s, grant.LinkPrefix) {
		return s, nil
	}
	return wallet.ReadLinkQR(arg)
}

type redeemJSON struct {
	Grant     string    `json:"grant"`
	Issuer    string    `json:"issuer"`
	Links     int       `json:"links"`
	ExpiresAt time.Time `json:"expiresAt"`
	Resources int       `json:"resources"`
	File      string    `json:"file,omitempty"`
	// Provider is the multiaddr or gateway URL that served the package;
	// Via is how: "direct", "relay", "replica" or "gateway".
	Provider string `json:"provider"`
	Via      string `json:"via"`
}

func runRedeem(c *ctx, args []string) error {
	fs := c.flags("redeem")
	var ca chainArgs
	addChainFlags(fs, &ca)
	outDir := fs.String("out", "", "directory to write the shared FHIR Bundle to")
	skip := fs.Bool("skip-local-checks", false, "diagnostics: present the grant to the patient's node without verifying it here first")
	asJSON := fs.Bool("json", false, "print JSON")
	follow := fs.Bool("follow", false, "a live grant: after redeeming, fetch each new version as it appears, one line each, until interrupted")
	every := fs.Duration("every", 30*time.Second, "with --follow: how often to look for a new version")
	pos, err := c.parseWithArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("%w: healthwallet redeem LINK [--follow [--every D]]", errUsage)
	}
	if *follow && *every < time.Second {
		return fmt.Errorf("%w: --every at least 1s", errUsage)
	}
	link, err := readLink(pos[0])
	if err != nil {
		return err
	}
	cfg, err := c.chainConfig(c.Context, ca)
	if err != nil {
		return err
	}
	w, err := c.unlock()
	if err != nil {
		return err
	}
	defer w.Lock()
	// The progress line is ended before anything else is printed: a
	// provider that fails mid-fetch leaves it open, and the error (or the
	// next provider's progress) must not be written onto it.
	line := progressLine{w: c.Stderr}
	progress := func(done, total int64) {
		if total > 0 && !*asJSON {
			line.show(done, total, "fetching: %3d%%", done*100/total)
		}
	}
	red, err := w.Redeem(c.Context, link, cfg, wallet.RedeemOptions{Progress: progress, SkipLocalChecks: *skip, Export: *outDir != ""})
	line.end()
	if *outDir != "" && errors.Is(err, grant.ErrNotGranted) {
		return refused(w, fmt.Errorf("%w; this grant is view only: redeem it without --out to read it in the wallet", err))
	}
	if err != nil {
		return refused(w, err)
	}
	doc, err := fhir.Parse(red.Bundle)
	if err != nil {
		return err
	}
	out := redeemJSON{Grant: red.Record.ID.String(), Issuer: red.Record.Issuer, Links: red.Record.Links,
		ExpiresAt: red.Record.ExpiresAt, Resources: len(doc.Resources), Provider: red.Provider, Via: red.Via}
	if !*asJSON {
		fmt.Fprintf(c.Stderr, "served by %s (%s)\n", red.Provider, wallet.ViaPhrase(red.Via))
	}
	if *outDir != "" {
		if err := os.MkdirAll(*outDir, 0o700); err != nil {
			return err
		}
		out.File = filepath.Join(*outDir, "shared-"+red.Record.Hash[:12]+".json")
		abs, _ := filepath.Abs(out.File)
		if err := atomicfile.WriteFile(abs, red.Bundle, 0o600); err != nil {
			return err
		}
	}
	if *asJSON {
		return c.printJSON(out)
	}
	fmt.Fprintf(c.Stdout, "verified: grant from %s (%d link%s), valid until %s\n", out.Issuer, out.Links, plural(out.Links), out.ExpiresAt.Local().Format(time.DateTime))
	fmt.Fprintf(c.Stdout, "received %d FHIR resources\n", out.Resources)
	if out.File != "" {
		fmt.Fprintf(c.Stdout, "saved to %s\n", out.File)
	}
	if red.Record.Live {
		fmt.Fprintf(c.Stdout, "live grant: version %d\n", red.Record.LiveSeq)
	}
	if !*follow {
		return nil
	}
	if !red.Record.Live {
		return errors.New("--follow: this grant is not live (its link has no #live=)")
	}
	return followLive(c, w, red.Record.Hash, *every)
}

// followLive prints one line per new version of the live grant hash until
// the command's context ends (SIGINT).
func followLive(c *ctx, w *wallet.Wallet, hash string, every time.Duration) error {
	fmt.Fprintf(c.Stderr, "following: a new version is looked for every %s; Ctrl-C stops\n", every)
	err := w.FollowLive(c.Context, every, wallet.RedeemOptions{}, func(u wallet.LiveUpdate, err error) {
		switch {
		case err != nil:
			fmt.Fprintf(c.Stderr, "no new version this round: %v\n", refused(w, err))
		case u.Grant.Hash == hash:
			fmt.Fprintln(c.Stdout, u.VersionLine())
		}
	})
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func runDelegate(c *ctx, args []string) error {
	fs := c.flags("delegate")
	var ca chainArgs
	addChainFlags(fs, &ca)
	to := fs.String("to", "", "the new grantee's did:key")
	dur := fs.String("for", "", "how long (at most until the grant you hold expires)")
	delegable := fs.Uint("delegable", 0, "how many further re-shares to allow")
	var cats stringList
	fs.Var(&cats, "category", "narrow to this category (repeatable)")
	var sensitive stringList
	fs.Var(&sensitive, "include-sensitive", "when narrowing, a sensitive category to pass on (repeatable); others are left out")
	qrFile := fs.String("qr", "", "also write the link as a QR code PNG here")
	viewOnly := fs.Bool("view-only", false, "the new grantee may read the records but not export them")
	pos, err := c.parseWithArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || *to == "" || *dur == "" {
		return fmt.Errorf("%w: healthwallet delegate LINK --to DID --for DURATION", errUsage)
	}
	link, err := readLink(pos[0])
	if err != nil {
		return err
	}
	d, err := parseDuration(*dur)
	if err != nil {
		return err
	}
	req := wallet.DelegateRequest{To: *to, Duration: d, Delegable: uint8(min(*delegable, 8)), ViewOnly: *viewOnly}
	for _, s := range cats {
		cat, err := parseCategory(s)
		if err != nil {
			return err
		}
		req.Categories = append(req.Categories, cat)
	}
	for _, name := range sensitive {
		sv, ok := fhir.ParseSensitive(name)
		if !ok {
			return fmt.Errorf("%w: unknown sensitive category %q", errUsage, name)
		}
		req.Sensitive = append(req.Sensitive, sv)
	}
	cfg, err := c.chainConfig(c.Context, ca)
	if err != nil {
		return err
	}
	w, err := c.unlock()
	if err != nil {
		return err
	}
	defer w.Lock()
	g, err := w.Delegate(c.Context, link, req, cfg)
	if err != nil {
		return err
	}
	if *qrFile != "" {
		// A bundle for a long chain is served by this wallet's own node.
		n, _ := readNodeInfo(w.Home())
		if err := c.writeQR(w, g.Link, n.Addrs, *qrFile); err != nil {
			return err
		}
	}
	fmt.Fprintln(c.Stdout, g.Link)
	fmt.Fprintf(c.Stderr, "delegated %s until %s\n", g.Record.ID, g.Record.ExpiresAt.Local().Format(time.DateTime))
	return nil
}

func runAccess(c *ctx, args []string) error {
	fs := c.flags("access")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := c.parse(fs, args); err != nil {
		return err
	}
	w, err := c.unlock()
	if err != nil {
		return err
	}
	defer w.Lock()
	log, err := w.AccessLog()
	if err != nil {
		return err
	}
	if *asJSON {
		return c.printJSON(log)
	}
	tw := tabwriter.NewWriter(c.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tGRANTEE\tGRANT\tLINKS\tRESULT")
	for _, e := range log {
		result := "served"
		if !e.Granted {
			result = "refused: " + e.Reason
		}
		who, what := e.Grantee, e.Grant[:min(12, len(e.Grant))]
		if e.SHL != "" { // a SMART Health Link: who the viewer said it is
			who, what = e.Recipient, "shl "+e.SHL[:min(12, len(e.SHL))]
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\n", e.Time.Local().Format(time.DateTime), who, what, e.Links, result)
	}
	return tw.Flush()
}
