package cli

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/healthwallet/healthwallet/internal/atomicfile"
	"github.com/healthwallet/healthwallet/share/grant"
	"github.com/healthwallet/healthwallet/share/shl"
	"github.com/healthwallet/healthwallet/wallet"
)

const shlUse = "healthwallet shl create (--records IDS | --category C... | --ips) --for DURATION [--passcode P] [--live] [--label TEXT] [--viewer URL] [--qr FILE] [--json] | open LINK|QR.png [--passcode P] [--out DIR] [--import] [--ca-file PEM] [--json] | list [--json]"

// shlCreateJSON is `shl create --json`.
type shlCreateJSON struct {
	ID      string `json:"id"`
	Link    string `json:"link"`
	Expires string `json:"expires"` // RFC 3339
	Flags   string `json:"flags,omitempty"`
	URL     string `json:"url"`
	QR      string `json:"qr,omitempty"`
	// Warning says the serving keeper did not take the link yet, or that
	// only this wallet's node serves it.
	Warning string `json:"warning,omitempty"`
}

func runSHL(c *ctx, args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: %s", errUsage, shlUse)
	}
	switch args[0] {
	case "create":
		return runSHLCreate(c, args[1:])
	case "open":
		return runSHLOpen(c, args[1:])
	case "list":
		return runSHLList(c, args[1:])
	}
	return fmt.Errorf("%w: unknown shl command %q; %s", errUsage, args[0], shlUse)
}

func runSHLCreate(c *ctx, args []string) error {
	fs := c.flags("shl create")
	var sel selectionArgs
	selectionFlags(fs, &sel)
	var ca chainArgs
	addChainFlags(fs, &ca)
	dur := fs.String("for", "", "how long the link works: 1h, 24h, 7d, 30d, or any Go duration")
	passcode := fs.String("passcode", "", "a passcode the viewer must give (the keeper locks the link after 10 wrong ones)")
	live := fs.Bool("live", false, "the link follows the selection as records are imported")
	label := fs.String("label", "", "a label viewers show (at most 80 characters)")
	viewer := fs.String("viewer", "", "a viewer URL to prefix the link with (VIEWER#shlink:/…)")
	url := fs.String("shl-url", "", "the HTTPS base URL serving the manifest (default: the first keeper serving SMART Health Links)")
	qrFile := fs.String("qr", "", "also write the link as a QR code PNG here")
	asJSON := fs.Bool("json", false, "print JSON: id, link, expires")
	if err := c.parse(fs, args); err != nil {
		return err
	}
	if *dur == "" {
		return fmt.Errorf("%w: --for DURATION is required", errUsage)
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
	s, err := sel.resolve(w)
	if err != nil {
		return err
	}
	opts := wallet.SHLOptions{Selection: s, For: d, Passcode: *passcode, Live: *live, Label: *label, Viewer: *viewer, URL: *url}
	rec, err := w.CreateSHL(c.Context, opts, cfg)
	warning := ""
	if errors.Is(err, wallet.ErrNoSHLServer) && *url == "" {
		// No keeper serves links: this wallet's own node does, while it
		// runs (`healthwallet node --shl-listen …`).
		if n, nerr := readNodeInfo(w.Home()); nerr == nil && n.SHLURL != "" {
			opts.URL = n.SHLURL
			rec, err = w.CreateSHL(c.Context, opts, cfg)
			warning = "no keeper serves links: this one opens only while this wallet's node runs (" + n.SHLURL + ")"
		}
	}
	if errors.Is(err, wallet.ErrSHLNotPushed) {
		warning, err = err.Error(), nil
	}
	if err != nil {
		return err
	}
	if *qrFile != "" {
		png, err := grant.QR(rec.Link)
		if err != nil {
			return err
		}
		abs, _ := filepath.Abs(*qrFile)
		if err := atomicfile.WriteFile(abs, png, 0o600); err != nil {
			return err
		}
	}
	if *asJSON {
		return c.printJSON(shlCreateJSON{ID: rec.ID, Link: rec.Link, Expires: rec.Expires.UTC().Format(time.RFC3339), Flags: rec.Flags, URL: rec.URL, QR: *qrFile, Warning: warning})
	}
	fmt.Fprintln(c.Stdout, rec.Link)
	fmt.Fprintf(c.Stderr, "link %s: %d records, until %s, served at %s\n", rec.ID, rec.Records, rec.Expires.Local().Format(time.DateTime), rec.URL)
	if warning != "" {
		fmt.Fprintln(c.Stderr, "warning: "+warning)
	}
	return nil
}

func runSHLOpen(c *ctx, args []string) error {
	fs := c.flags("shl open")
	passcode := fs.String("passcode", "", "the link's passcode (flag P)")
	outDir := fs.String("out", "", "write the decrypted files to this directory (plaintext: your export)")
	doImport := fs.Bool("import", false, "import the files into this wallet")
	caFile := fs.String("ca-file", "", "a PEM CA certificate to trust besides the system's (env HW_SHL_CA_FILE; for a test keeper)")
	recipient := fs.String("recipient", "healthwallet", "who you are, as the patient's access log shows it")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := c.parseWithArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("%w: healthwallet shl open LINK|QR.png", errUsage)
	}
	if *caFile == "" {
		*caFile = c.Getenv("HW_SHL_CA_FILE")
	}
	client, err := shlHTTPClient(*caFile)
	if err != nil {
		return err
	}
	w, err := c.unlock()
	if err != nil {
		return err
	}
	defer w.Lock()
	res, err := w.OpenSHL(c.Context, pos[0], *passcode, wallet.OpenSHLOptions{Out: *outDir, Import: *doImport, HTTP: client, Recipient: *recipient})
	if err != nil && len(res.Files) == 0 {
		return refused(w, err)
	}
	if *asJSON {
		if perr := c.printJSON(res); perr != nil {
			return perr
		}
		return err
	}
	if res.Label != "" {
		fmt.Fprintf(c.Stdout, "%s\n", res.Label)
	}
	for _, f := range res.Files {
		line := fmt.Sprintf("%s, %d bytes", f.ContentType, f.Size)
		if f.Resources > 0 {
			line += fmt.Sprintf(", %d FHIR resources", f.Resources)
		}
		if len(f.Cards) > 0 {
			line += ", cards: " + strings.Join(f.Cards, "; ")
		}
		if f.Path != "" {
			line += ", saved to " + f.Path
		}
		fmt.Fprintln(c.Stdout, line)
	}
	if res.Cards.Verified+res.Cards.Unverified > 0 {
		fmt.Fprintf(c.Stdout, "SMART Health Cards: %d verified, %d not verified\n", res.Cards.Verified, res.Cards.Unverified)
	}
	if *doImport {
		fmt.Fprintf(c.Stdout, "imported %d records\n", res.Imported)
	}
	return err
}

// shlHTTPClient trusts the system's CAs and, if caFile is set, that PEM
// CA too. Nil (no caFile) leaves the choice to shl.Client's default.
func shlHTTPClient(caFile string) (*http.Client, error) {
	if caFile == "" {
		return nil, nil
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("--ca-file: %w", err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("--ca-file %s holds no PEM certificate", caFile)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	return &http.Client{Transport: tr, Timeout: time.Minute}, nil
}

type shlRowJSON struct {
	wallet.SHLRecord
	Status   string `json:"status"`
	Accesses int    `json:"accesses"`
}

// shlRows are the wallet's links with their status and accesses.
func shlRows(w *wallet.Wallet, log []wallet.AccessEntry) ([]shlRowJSON, error) {
	recs, err := w.SHLs()
	if err != nil {
		return nil, err
	}
	served := map[string]int{} // link id → requests served
	for _, e := range log {
		if e.Granted && e.SHL != "" {
			served[e.SHL]++
		}
	}
	now := w.Now()
	rows := make([]shlRowJSON, len(recs))
	for i, r := range recs {
		rows[i] = shlRowJSON{SHLRecord: r, Status: r.Status(now), Accesses: served[r.ID]}
	}
	return rows, nil
}

func runSHLList(c *ctx, args []string) error {
	fs := c.flags("shl list")
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
		return fmt.Errorf("cannot read the access log: %w", err)
	}
	rows, err := shlRows(w, log)
	if err != nil {
		return err
	}
	if *asJSON {
		return c.printJSON(rows)
	}
	tw := tabwriter.NewWriter(c.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATUS\tEXPIRES\tFLAGS\tACCESSES\tRECORDS\tLABEL")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%s\n", r.ID[:12], r.Status, r.Expires.Local().Format("2006-01-02 15:04"), r.Flags, r.Accesses, r.Records, r.Label)
	}
	return tw.Flush()
}

// findSHLArg finds the link an argument of revoke names: a SMART Health
// Link (bare or behind a viewer URL) this wallet made, or the id (or a
// unique prefix) of one. ok is false when the argument names no link.
func findSHLArg(w *wallet.Wallet, arg string) (wallet.SHLRecord, bool, error) {
	arg = strings.TrimSpace(arg)
	if strings.Contains(arg, "shlink:/") {
		p, err := shl.ParseLink(arg)
		if err != nil {
			return wallet.SHLRecord{}, false, err
		}
		recs, err := w.SHLs()
		if err != nil {
			return wallet.SHLRecord{}, false, err
		}
		for _, r := range recs {
			if r.URL == p.URL {
				return r, true, nil
			}
		}
		return wallet.SHLRecord{}, false, errors.New("this wallet did not make that SMART Health Link")
	}
	if strings.HasPrefix(arg, grant.LinkPrefix) || strings.HasPrefix(arg, grant.BundlePrefix) {
		return wallet.SHLRecord{}, false, nil
	}
	rec, err := w.FindSHL(arg)
	if err != nil {
		return wallet.SHLRecord{}, false, nil // a grant's id, perhaps
	}
	return rec, true, nil
}
