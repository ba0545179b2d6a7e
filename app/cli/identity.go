package cli

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/healthwallet/healthwallet/wallet"
	"github.com/healthwallet/healthwallet/wallet/identity"
)

// identityJSON is the --json output of init, restore and whoami.
type identityJSON struct {
	DID            string `json:"did"`
	Address        string `json:"address"`
	PeerID         string `json:"peerId"`
	Home           string `json:"home"`
	Created        string `json:"created"`
	RecoveryPhrase string `json:"recoveryPhrase,omitempty"`
}

func infoJSON(home string, info wallet.Info) identityJSON {
	return identityJSON{DID: info.DID, Address: info.Address, PeerID: info.PeerID, Home: home, Created: info.Created.Format("2006-01-02T15:04:05Z07:00")}
}

// newWallet is the shared half of init and restore: refuse an existing
// wallet, get the phrase, then keep the secret where --keystore says: sealed
// under a new passphrase in the home, or in Vault.
func newWallet(c *ctx, name string, args []string, getPhrase func() (identity.Phrase, error)) (w *wallet.Wallet, phrase identity.Phrase, asJSON bool, err error) {
	fs := c.flags(name)
	jsonFlag := fs.Bool("json", false, "print JSON")
	if err = c.parse(fs, args); err != nil {
		return
	}
	home, err := c.resolveHome()
	if err != nil {
		return
	}
	if wallet.Exists(home) {
		err = fmt.Errorf("%w: %s", wallet.ErrExists, home)
		return
	}
	if phrase, err = getPhrase(); err != nil {
		return
	}
	switch c.keystore {
	case "vault":
		w, err = c.createInVault(home, phrase, c.vaultName)
		return w, phrase, *jsonFlag, err
	case "file":
	default:
		err = fmt.Errorf("%w: --keystore is file or vault", errUsage)
		return
	}
	pass, err := c.passphrase(true)
	if err != nil {
		return
	}
	if err = wallet.CheckPassphrase(pass); err != nil {
		return
	}
	w, err = wallet.Create(home, phrase, pass, c.Options)
	return w, phrase, *jsonFlag, err
}

func runInit(c *ctx, args []string) error {
	w, phrase, asJSON, err := newWallet(c, "init", args, identity.NewPhrase)
	if err != nil {
		return err
	}
	defer w.Lock()
	out := infoJSON(w.Home(), w.Info())
	if asJSON {
		out.RecoveryPhrase = phrase.String()
		return c.printJSON(out)
	}
	fmt.Fprintf(c.Stdout, "did      %s\naddress  %s\nhome     %s\n\n", out.DID, out.Address, out.Home)
	fmt.Fprintln(c.Stdout, "Recovery phrase: write these 24 words on paper, in order, and keep them safe.")
	fmt.Fprintln(c.Stdout, "Anyone with them holds your wallet; without them a lost device means lost records.")
	for i, word := range phrase.Words() {
		fmt.Fprintf(c.Stdout, "%3d %-10s", i+1, word)
		if i%6 == 5 {
			fmt.Fprintln(c.Stdout)
		}
	}
	return nil
}

func runRestore(c *ctx, args []string) error {
	w, _, asJSON, err := newWallet(c, "restore", args, func() (identity.Phrase, error) {
		if c.StdinIsTerminal {
			fmt.Fprintln(c.Stderr, "Type your recovery phrase (12 to 24 words), then press Enter on an empty line:")
		}
		return readPhrase(c.Stdin)
	})
	if err != nil {
		return err
	}
	defer w.Lock()
	out := infoJSON(w.Home(), w.Info())
	if asJSON {
		return c.printJSON(out)
	}
	fmt.Fprintf(c.Stdout, "restored\ndid      %s\naddress  %s\nhome     %s\n", out.DID, out.Address, out.Home)
	return nil
}

// readPhrase reads the recovery phrase from stdin: every line up to EOF, or
// up to the first empty line after some words (so a person can type it and
// press Enter twice).
func readPhrase(r io.Reader) (identity.Phrase, error) {
	if r == nil {
		return identity.Phrase{}, errors.New("no recovery phrase: pipe the words into stdin")
	}
	var words []string
	sc := bufio.NewScanner(io.LimitReader(r, 64<<10))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" && len(words) > 0 {
			break
		}
		words = append(words, strings.Fields(line)...)
		if len(words) >= 24 {
			break
		}
	}
	if err := sc.Err(); err != nil {
		return identity.Phrase{}, fmt.Errorf("failed to read recovery phrase: %w", err)
	}
	return identity.ParsePhrase(strings.Join(words, " "))
}

func runWhoami(c *ctx, args []string) error {
	fs := c.flags("whoami")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := c.parse(fs, args); err != nil {
		return err
	}
	home, err := c.resolveHome()
	if err != nil {
		return err
	}
	info, err := wallet.ReadInfo(home)
	if err != nil {
		return err
	}
	out := infoJSON(home, info)
	if *asJSON {
		return c.printJSON(out)
	}
	fmt.Fprintf(c.Stdout, "did      %s\naddress  %s\npeer id  %s\n", out.DID, out.Address, out.PeerID)
	return nil
}
