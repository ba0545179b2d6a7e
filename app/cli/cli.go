// Package cli is healthwallet's command line. It imports no GUI code: the
// desktop app is reached through [Env.OpenApp], so the CLI builds and tests
// without cgo.
//
// The command contract (names, flags, exit codes, one-line errors) is in the
// repository's DESIGN.md and README.md. Every command exits 0 on success and
// non-zero with a single line "healthwallet: <reason>" on stderr otherwise.
package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/healthwallet/healthwallet/wallet"
)

// Exit codes.
const (
	ExitOK    = 0
	ExitError = 1
	ExitUsage = 2
)

// Env is everything a command touches outside its arguments.
type Env struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// Getenv reads the environment (os.Getenv in production).
	Getenv func(string) string
	// ReadPassphrase asks for a passphrase without echo. Nil means no
	// terminal is available.
	ReadPassphrase func(prompt string) (string, error)
	// StdinIsTerminal is true when a person types into stdin; restore then
	// prompts for the words.
	StdinIsTerminal bool
	// OpenApp opens the desktop app on a wallet home. Nil in builds and
	// tests without a GUI.
	OpenApp func(home string) error
	// OpenAppWithLink opens the app with a link in its redeem screen
	// (open.go). Nil as OpenApp is.
	OpenAppWithLink func(home, link string) error
	// Options tune wallet creation (tests lower the scrypt work factor).
	Options wallet.Options
	// Context ends long-running commands such as node; main cancels it on
	// SIGINT or SIGTERM. Nil means context.Background().
	Context context.Context
}

// errUsage marks a usage error: the command line ends with exit code 2 and
// one line, the reason and the command's usage line (a reason that is
// itself a usage line, "healthwallet show RECORD", is printed alone).
var errUsage = errors.New("usage")

type command struct {
	name, args, summary string
	run                 func(c *ctx, args []string) error
}

var commands []command

func init() {
	commands = []command{
		{"init", "[--json]", "create a new wallet: prints its DID, address and the 24-word recovery phrase", runInit},
		{"restore", "[--json]", "restore a wallet from a recovery phrase read from stdin", runRestore},
		{"whoami", "[--json]", "print this wallet's DID, address and IPFS peer ID", runWhoami},
		{"import", "FILE... [--other-patient] [--json]", "import FHIR JSON, SMART Health Cards, PDFs and images; progress on stderr; prints record ids; another person's file only with --other-patient", runImport},
		{"records", "[--type T] [--category C] [--from D] [--to D] [--search TEXT] [--json]", "list records: id, type, date, category, summary", runRecords},
		{"show", "RECORD [--json] [--attachment FILE]", "show one record (id or a unique prefix of it)", runShow},
		{"export", "(--records IDS | --category C... | --ips) [--since D] [--until D] [--include-sensitive S...] [--out FILE]", "write a FHIR Bundle of the selection (the share package a grant would carry)", runExport},
		{"grant", "--to DID (--records IDS | --category C... | --ips) --for DURATION [--delegable N] [--view-only] [--qr FILE.png] [--json]", "share records for a limited time; prints the link (--json: id, link, typedData, signature)", runGrant},
		{"grants", "[--json]", "list grants issued and received, with status and accesses", runGrants},
		{"revoke", "GRANT|SHL|LINK [--relay URL | --key HEX]", "revoke a grant or SMART Health Link you made, by id or by its link (through a relay: no ETH needed)", runRevoke},
		{"open", "LINK", "show a grant link or SMART Health Link in the app's redeem screen: the app open on this wallet, else a new one (what the desktop runs for healthwallet: and shlink: links, as 'healthwallet LINK')", runOpen},
		{"redeem", "LINK|FILE [--out DIR] [--json]", "verify a grant, fetch and decrypt what it shares", runRedeem},
		{"delegate", "LINK --to DID --for DURATION [--delegable N] [--category C...] [--include-sensitive S...] [--view-only]", "re-share a grant you hold, within its limits (narrowed: only those objects and keys)", runDelegate},
		{"shl", "create (--records IDS | --category C... | --ips) --for DURATION [--passcode P] [--live] [--label TEXT] [--viewer URL] [--qr FILE] [--json] | open LINK|QR.png [--passcode P] [--out DIR] [--import] [--ca-file PEM] | list [--json]", "SMART Health Links: share records with any SHL viewer through your keeper, or open a link someone gave you", runSHL},
		{"access", "[--json]", "the access log: who presented your grants, and what they got", runAccess},
		{"node", "[--listen MA]... [--allow PEER]... [--gateway ADDR] [--shl-listen ADDR (--shl-cert F --shl-key F | --shl-domain D)] [--json]", "serve this wallet's shared packages to grantees until interrupted", runNode},
		{"keeper", "[--listen MA]... [--json]", "keep and serve the encrypted share packages of patients who enrol this wallet as their keeper, until interrupted", runKeeper},
		{"keepers", "add MULTIADDR/p2p/PEERID [--name TEXT] | add --kubo-api URL [--gateway URL] [--name TEXT] | list [--json] | remove ID | sync [--json]", "the keepers and Kubo replicas that hold your shares while your node is away", runKeepers},
		{"vault", "login|backup|restore|handover|receive", "Vault custody: log in, escrow the keystore, restore it, hand it (or a grant) over once", runVault},
		{"devnet", "[--datadir DIR] [--port N]", "run a local chain with the registry; prints one JSON line (rpc, chainId, registry) when ready", runDevnet},
		{"relay", "[--listen ADDR] [--key HEX] [--gas-per-hour N]", "submit revocations for wallets that hold no ETH", runRelay},
		{"registry", "deploy --chain-rpc URL --key HEX [--json]", "deploy the revocation registry on a chain from a funded key; prints registry, chainId, tx", runRegistry},
		{"gc", "[--json]", "delete stored blocks no catalog entry references", runGC},
		{"backup", "[--out DIR] [--json]", "the wallet's backup (keystore, info, catalog, CAR), as the app makes it, into a new folder (default ./healthwallet-backup-DATE-TIME)", runBackup},
		{"car", "export|import FILE", "copy every stored object to a CAR file, or bring its blocks back (e.g. on a new device)", runCAR},
		{"help", "", "show this help", func(c *ctx, _ []string) error { usage(c.Stdout); return nil }},
	}
}

// ctx carries the environment and the global flags into a command.
type ctx struct {
	Env
	home       string
	keystore   string // "file" or "vault": where init/restore put the secret
	vaultAddr  string
	vaultMount string
	vaultName  string
	cancel     context.CancelFunc
	cmd        *command // the command running
}

// Main runs the command line and returns the process exit code.
func Main(args []string, env Env) int {
	if env.Getenv == nil {
		env.Getenv = os.Getenv
	}
	if env.Context == nil {
		env.Context = context.Background()
	}
	c := &ctx{Env: env}
	c.Context, c.cancel = context.WithCancel(env.Context)
	defer c.cancel()
	global := flag.NewFlagSet("healthwallet", flag.ContinueOnError)
	global.SetOutput(io.Discard)
	global.StringVar(&c.home, "home", "", "wallet home directory")
	addGlobalVaultFlags(global, c)
	if err := global.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			usage(env.Stdout)
			return ExitOK
		}
		fmt.Fprintf(env.Stderr, "healthwallet: %v\n", err)
		return ExitUsage
	}
	rest := global.Args()
	if len(rest) == 0 {
		if env.OpenApp == nil {
			usage(env.Stderr)
			return ExitUsage
		}
		// Without a usable home (a phone has no config directory) the app
		// keeps the wallet in its own storage.
		home, err := c.resolveHome()
		if err != nil {
			home = ""
		}
		return c.finish(env.OpenApp(home))
	}
	for i := range commands {
		if cmd := &commands[i]; cmd.name == rest[0] {
			c.cmd = cmd
			return c.finish(cmd.run(c, rest[1:]))
		}
	}
	if isLinkArg(rest[0]) { // healthwallet LINK: the desktop's URL handler
		return c.finish(runOpen(c, rest))
	}
	if rest[0] == "dev" { // hidden: demo and test tools
		return c.finish(runDev(c, rest[1:]))
	}
	fmt.Fprintf(env.Stderr, "healthwallet: unknown command %q; run 'healthwallet help'\n", rest[0])
	return ExitUsage
}

func (c *ctx) finish(err error) int {
	switch {
	case err == nil:
		return ExitOK
	case errors.Is(err, flag.ErrHelp):
		return ExitOK
	case errors.Is(err, errUsage):
		fmt.Fprintf(c.Stderr, "healthwallet: %s\n", c.usageError(err))
		return ExitUsage
	}
	fmt.Fprintf(c.Stderr, "healthwallet: %s\n", explain(err))
	return ExitError
}

// usageError is the line a usage error prints: its reason, then the usage
// line of the command that failed.
func (c *ctx) usageError(err error) string {
	reason := strings.TrimPrefix(strings.ReplaceAll(err.Error(), "\n", " "), errUsage.Error()+": ")
	switch {
	case strings.HasPrefix(reason, "healthwallet "):
		return "usage: " + reason
	case c.cmd == nil:
		return reason
	}
	return reason + "; usage: " + c.cmd.usageLine()
}

// usageLine is how the command is called, as help shows it.
func (cmd *command) usageLine() string {
	return strings.TrimSpace("healthwallet [--home DIR] " + cmd.name + " " + cmd.args)
}

// explain turns an error into the one line a user reads, with what to do.
func explain(err error) string {
	msg := strings.ReplaceAll(err.Error(), "\n", " ")
	switch {
	case errors.Is(err, wallet.ErrKeystoreCorrupt), errors.Is(err, wallet.ErrKeystoreTrunc):
		return msg + "; restore from your recovery phrase with 'healthwallet --home NEWDIR restore'"
	case errors.Is(err, wallet.ErrExists):
		return msg + "; choose another --home to create or restore a second wallet"
	case errors.Is(err, wallet.ErrNoWallet):
		return msg + "; run 'healthwallet init' or 'healthwallet restore'"
	case errors.Is(err, wallet.ErrCatalogInUse), errors.Is(err, wallet.ErrStoreInUse):
		return msg + "; close the other healthwallet window or command first"
	case errors.Is(err, wallet.ErrNoChain):
		return msg + "; run 'healthwallet devnet', or give --chain-rpc and --registry"
	case errors.Is(err, wallet.ErrChainIDMismatch):
		return msg + "; restart 'healthwallet devnet' or give --chain-rpc and --registry"
	case errors.Is(err, wallet.ErrVaultHeld):
		return msg + "; set VAULT_ADDR and VAULT_TOKEN (or HW_VAULT_ROLE_ID and HW_VAULT_SECRET_ID, or HW_VAULT_USER)"
	}
	return msg
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "healthwallet: a patient-held personal health wallet")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Usage:")
	fmt.Fprintln(w, "  healthwallet [--home DIR]                open the desktop app")
	for _, cmd := range commands {
		fmt.Fprintf(w, "  %s\n      %s\n", cmd.usageLine(), cmd.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "The wallet home is --home, else $HW_HOME, else ~/.config/healthwallet.")
	fmt.Fprintln(w, "The passphrase comes from $HW_PASSPHRASE or a no-echo prompt on the terminal.")
}

// flags returns a FlagSet for a command that also accepts --home after the
// command name.
func (c *ctx) flags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(c.Stderr)
	fs.StringVar(&c.home, "home", c.home, "wallet home directory")
	addGlobalVaultFlags(fs, c)
	return fs
}

// addGlobalVaultFlags adds the flags every command takes for Vault, before
// or after the command name.
func addGlobalVaultFlags(fs *flag.FlagSet, c *ctx) {
	if c.keystore == "" {
		c.keystore = "file"
	}
	fs.StringVar(&c.keystore, "keystore", c.keystore, "where init and restore keep the recovery secret: file (passphrase-sealed, in the home) or vault")
	fs.StringVar(&c.vaultAddr, "vault-addr", c.vaultAddr, "Vault (or OpenBao) address (env VAULT_ADDR)")
	fs.StringVar(&c.vaultMount, "vault-mount", c.vaultMount, "Vault KV v2 mount (default secret)")
	fs.StringVar(&c.vaultName, "vault-name", c.vaultName, "name of a Vault-held identity (default: the home directory's name)")
}

func (c *ctx) parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	return nil
}

// parseWithArgs parses flags anywhere among the positional arguments
// ("import a.json --json b.json") and returns the positionals. "--" ends
// flag parsing.
func (c *ctx) parseWithArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, fmt.Errorf("%w: %v", errUsage, err)
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if len(args) > len(rest) && args[len(args)-len(rest)-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

func (c *ctx) resolveHome() (string, error) {
	if c.home != "" {
		return c.home, nil
	}
	if h := c.Getenv("HW_HOME"); h != "" {
		return h, nil
	}
	return wallet.DefaultHome(c.Getenv)
}

// passphrase returns $HW_PASSPHRASE or asks on the terminal; confirm asks
// twice, for a new passphrase.
func (c *ctx) passphrase(confirm bool) (string, error) {
	if p := c.Getenv("HW_PASSPHRASE"); p != "" {
		return p, nil
	}
	if c.ReadPassphrase == nil {
		return "", errors.New("no passphrase: set HW_PASSPHRASE or run in a terminal")
	}
	prompt := "Passphrase: "
	if confirm {
		prompt = "New passphrase (at least 8 characters; four or more random words is best): "
	}
	p, err := c.ReadPassphrase(prompt)
	if err != nil {
		return "", fmt.Errorf("failed to read passphrase: %w", err)
	}
	if confirm {
		again, err := c.ReadPassphrase("Repeat the passphrase: ")
		if err != nil {
			return "", fmt.Errorf("failed to read passphrase: %w", err)
		}
		if again != p {
			return "", errors.New("the two passphrases differ; nothing was created")
		}
	}
	return p, nil
}

// unlock opens the wallet in the resolved home: with the passphrase, or by
// logging in to Vault for a Vault-held identity.
func (c *ctx) unlock() (*wallet.Wallet, error) {
	w, err := c.unlockWallet()
	if err == nil && c.Options.Now != nil {
		w.SetClock(c.Options.Now)
	}
	return w, err
}

func (c *ctx) unlockWallet() (*wallet.Wallet, error) {
	home, err := c.resolveHome()
	if err != nil {
		return nil, err
	}
	if !wallet.Exists(home) {
		return nil, fmt.Errorf("%w in %s", wallet.ErrNoWallet, home)
	}
	if _, err := wallet.ReadVaultRef(home); err == nil {
		return c.unlockFromVault(home)
	} else if c.keystore == "vault" {
		return nil, err
	}
	pass, err := c.passphrase(false)
	if err != nil {
		return nil, err
	}
	return wallet.Unlock(home, pass)
}

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

func (c *ctx) printJSON(v any) error {
	enc := json.NewEncoder(c.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// jsonLine marshals v as one line of JSON.
func jsonLine(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	return append(b, '\n'), err
}
