package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/healthwallet/healthwallet/internal/atomicfile"
	"github.com/healthwallet/healthwallet/internal/qrimage"
	"github.com/healthwallet/healthwallet/share/grant"
	"github.com/healthwallet/healthwallet/vault"
	"github.com/healthwallet/healthwallet/wallet"
	"github.com/healthwallet/healthwallet/wallet/identity"
)

// vaultConfig is Vault's address and mount from the global flags or, as the
// Vault CLI does, VAULT_ADDR.
func (c *ctx) vaultConfig() vault.Config {
	addr := c.vaultAddr
	if addr == "" {
		addr = c.Getenv("VAULT_ADDR")
	}
	return vault.Config{Addr: addr, Mount: c.vaultMount}
}

// vaultAuth picks how to log in: AppRole when HW_VAULT_ROLE_ID is set,
// userpass when HW_VAULT_USER is set (password from HW_VAULT_PASSWORD or a
// prompt), else the token in VAULT_TOKEN.
func (c *ctx) vaultAuth() (vault.Auth, error) {
	if role := c.Getenv("HW_VAULT_ROLE_ID"); role != "" {
		return vault.AppRole{RoleID: role, SecretID: c.Getenv("HW_VAULT_SECRET_ID")}, nil
	}
	if user := c.Getenv("HW_VAULT_USER"); user != "" {
		pw := c.Getenv("HW_VAULT_PASSWORD")
		if pw == "" && c.ReadPassphrase != nil {
			var err error
			if pw, err = c.ReadPassphrase("Vault password for " + user + ": "); err != nil {
				return nil, err
			}
		}
		return vault.UserPass{Username: user, Password: pw}, nil
	}
	if tok := c.Getenv("VAULT_TOKEN"); tok != "" {
		return vault.Token{Token: tok}, nil
	}
	return nil, errors.New("no Vault credentials: set VAULT_TOKEN, or HW_VAULT_ROLE_ID and HW_VAULT_SECRET_ID, or HW_VAULT_USER")
}

func (c *ctx) vaultLogin() (*vault.Client, error) {
	auth, err := c.vaultAuth()
	if err != nil {
		return nil, err
	}
	cfg := c.vaultConfig()
	if cfg.Addr == "" {
		return nil, errors.New("no Vault address: set VAULT_ADDR or --vault-addr")
	}
	return vault.Login(c.Context, cfg, auth)
}

// unlockFromVault opens a Vault-held wallet and locks it when the Vault
// token can no longer be renewed.
func (c *ctx) unlockFromVault(home string) (*wallet.Wallet, error) {
	vc, err := c.vaultLogin()
	if err != nil {
		return nil, err
	}
	w, err := wallet.UnlockFromVault(c.Context, home, vc)
	if err != nil {
		return nil, err
	}
	stop := vc.Watch(context.Background(), func(err error) {
		fmt.Fprintf(c.Stderr, "healthwallet: Vault token lost (%v): locking the wallet\n", err)
		w.Lock()
		if c.cancel != nil {
			c.cancel()
		}
	})
	w.OnLock(stop)
	return w, nil
}

func runVault(c *ctx, args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: healthwallet vault login|backup|restore|handover|receive", errUsage)
	}
	sub, rest := args[0], args[1:]
	switch sub {
	case "login":
		return vaultLoginCmd(c, rest)
	case "backup":
		return vaultBackup(c, rest)
	case "restore":
		return vaultRestore(c, rest)
	case "handover":
		return vaultHandover(c, rest)
	case "receive":
		return vaultReceive(c, rest)
	}
	return fmt.Errorf("%w: unknown vault command %q (login, backup, restore, handover, receive)", errUsage, sub)
}

func vaultLoginCmd(c *ctx, args []string) error {
	fs := c.flags("vault login")
	if err := c.parse(fs, args); err != nil {
		return err
	}
	vc, err := c.vaultLogin()
	if err != nil {
		return err
	}
	fmt.Fprintf(c.Stdout, "logged in to %s; token valid for %s\n", vc.Addr(), vc.TokenTTL())
	return nil
}

// backupName is the KV name of a wallet's escrowed keystore: its address.
func backupName(home string) string {
	if info, err := wallet.ReadInfo(home); err == nil {
		return strings.ToLower(info.Address)
	}
	return filepath.Base(home)
}

func vaultBackup(c *ctx, args []string) error {
	fs := c.flags("vault backup")
	name := fs.String("name", "", "name of the backup in Vault (default: the wallet's address)")
	cas := fs.Int("cas", -1, "check-and-set: the version you expect is current (0: only if none exists; -1: no check)")
	if err := c.parse(fs, args); err != nil {
		return err
	}
	home, err := c.resolveHome()
	if err != nil {
		return err
	}
	file, err := wallet.KeystoreFileBytes(home)
	if err != nil {
		return err
	}
	if *name == "" {
		*name = backupName(home)
	}
	vc, err := c.vaultLogin()
	if err != nil {
		return err
	}
	v, err := vc.Backup(c.Context, *name, file, *cas)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.Stdout, "backed up the passphrase-sealed keystore as %q, version %d\n", *name, v)
	return nil
}

func vaultRestore(c *ctx, args []string) error {
	fs := c.flags("vault restore")
	name := fs.String("name", "", "name of the backup in Vault")
	version := fs.Int("version", 0, "version to restore (0: latest)")
	if err := c.parse(fs, args); err != nil {
		return err
	}
	if *name == "" {
		return fmt.Errorf("%w: healthwallet --home NEWDIR vault restore --name NAME", errUsage)
	}
	home, err := c.resolveHome()
	if err != nil {
		return err
	}
	if wallet.Exists(home) {
		return fmt.Errorf("%w: %s", wallet.ErrExists, home)
	}
	vc, err := c.vaultLogin()
	if err != nil {
		return err
	}
	file, v, err := vc.Restore(c.Context, *name, *version)
	if err != nil {
		return err
	}
	return c.restoreKeystoreInto(home, file, fmt.Sprintf("restored version %d of %q", v, *name))
}

// restoreKeystoreInto writes a keystore backup into an empty home once the
// passphrase opens it.
func (c *ctx) restoreKeystoreInto(home string, file []byte, what string) error {
	pass, err := c.passphrase(false)
	if err != nil {
		return err
	}
	w, err := wallet.RestoreKeystore(home, file, pass)
	if err != nil {
		return err
	}
	defer w.Lock()
	fmt.Fprintf(c.Stdout, "%s\ndid      %s\naddress  %s\nhome     %s\n", what, w.Info().DID, w.Info().Address, home)
	return nil
}

func vaultHandover(c *ctx, args []string) error {
	fs := c.flags("vault handover")
	keystoreFlag := fs.Bool("backup", false, "hand over this wallet's passphrase-sealed keystore (a backup)")
	link := fs.String("link", "", "hand over a grant link (delegated access) instead")
	ttl := fs.Duration("ttl", 15*time.Minute, "how long the handover can be received (once)")
	qrFile := fs.String("qr", "", "also write the handover as a QR code PNG here")
	if err := c.parse(fs, args); err != nil {
		return err
	}
	var payload []byte
	var kind string
	switch {
	case *keystoreFlag == (*link != ""):
		return fmt.Errorf("%w: choose --backup or --link", errUsage)
	case *keystoreFlag:
		home, err := c.resolveHome()
		if err != nil {
			return err
		}
		if payload, err = wallet.KeystoreFileBytes(home); err != nil {
			return err
		}
		kind = vault.KindKeystore
	default:
		l, err := readLink(*link)
		if err != nil {
			return err
		}
		if err := grant.CheckLink(l); err != nil && !grant.IsBundleLink(l) {
			return err
		}
		payload, kind = []byte(l), vault.KindDelegation
	}
	vc, err := c.vaultLogin()
	if err != nil {
		return err
	}
	token, err := vc.Wrap(c.Context, payload, kind, *ttl)
	if err != nil {
		return err
	}
	out := vault.HandoverLink(vc.Addr(), token, kind)
	if *qrFile != "" {
		png, err := grant.QR(out)
		if err != nil {
			return err
		}
		abs, _ := filepath.Abs(*qrFile)
		if err := atomicfile.WriteFile(abs, png, 0o600); err != nil {
			return err
		}
	}
	fmt.Fprintln(c.Stdout, out)
	fmt.Fprintf(c.Stderr, "the %s can be received once, within %s\n", kind, *ttl)
	return nil
}

func vaultReceive(c *ctx, args []string) error {
	fs := c.flags("vault receive")
	pos, err := c.parseWithArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("%w: healthwallet vault receive LINK", errUsage)
	}
	text := pos[0]
	if !strings.HasPrefix(text, vault.HandoverPrefix) {
		if b, err := os.ReadFile(text); err == nil && strings.HasPrefix(strings.TrimSpace(string(b)), vault.HandoverPrefix) {
			text = strings.TrimSpace(string(b))
		} else if s, err := qrimage.Read(text, vault.HandoverPrefix); err == nil {
			text = s
		}
	}
	addr, token, _, err := vault.ParseHandoverLink(text)
	if err != nil {
		return err
	}
	cfg := c.vaultConfig()
	cfg.Addr = addr
	payload, kind, err := vault.Unwrap(c.Context, cfg, token)
	if err != nil {
		return err
	}
	switch kind {
	case vault.KindKeystore:
		home, err := c.resolveHome()
		if err != nil {
			return err
		}
		return c.restoreKeystoreInto(home, payload, "received a keystore from "+addr)
	case vault.KindDelegation:
		fmt.Fprintln(c.Stdout, string(payload))
		fmt.Fprintln(c.Stderr, "received a grant link: redeem it with 'healthwallet redeem LINK'")
		return nil
	}
	return fmt.Errorf("received an unknown kind of handover %q", kind)
}

// createInVault is init/restore with --keystore vault.
func (c *ctx) createInVault(home string, phrase identity.Phrase, name string) (*wallet.Wallet, error) {
	vc, err := c.vaultLogin()
	if err != nil {
		return nil, err
	}
	if name == "" {
		name = filepath.Base(home)
	}
	cfg := c.vaultConfig()
	return wallet.CreateInVault(c.Context, home, phrase, vc, wallet.VaultRef{Addr: vc.Addr(), Mount: cfg.Mount, Name: name}, c.Options)
}
