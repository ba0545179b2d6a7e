package app

import (
	"context"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/healthwallet/healthwallet/vault"
)

// vaultEnv are the environment variables Vault is reached with, as the
// vault CLI reads them.
var vaultEnv = []string{"VAULT_ADDR", "VAULT_TOKEN", "VAULT_NAMESPACE", "VAULT_CACERT"}

// vaultSection shows whether HashiCorp Vault is configured (through the
// environment, as for the vault CLI) and checks the connection. Backing up
// keys to Vault is the CLI's `healthwallet vault backup`.
type vaultSection struct {
	content fyne.CanvasObject
	state   *widget.Label
	env     *widget.Form
	check   *widget.Button
	result  *widget.Label
}

func (u *UI) newVaultSection() *vaultSection {
	s := &vaultSection{state: heading(""), env: widget.NewForm(), result: wrapped("")}
	for _, k := range vaultEnv {
		val := u.getenv(k)
		switch {
		case val == "":
			val = "not set"
		case k == "VAULT_TOKEN":
			val = "set (hidden)"
		}
		s.env.Append(k, widget.NewLabel(val))
	}
	s.check = widget.NewButtonWithIcon("Check connection", theme.ViewRefreshIcon(), u.act(func() { u.checkVault(s) }))
	addr, token := u.getenv("VAULT_ADDR"), u.getenv("VAULT_TOKEN")
	help := wrapped("Clinics and families can keep keys and key backups in HashiCorp Vault. Health Wallet finds it like the vault CLI does: " +
		"set VAULT_ADDR (e.g. https://vault.example:8200) and VAULT_TOKEN before starting the app; back up with 'healthwallet vault backup'.")
	help.Importance = widget.LowImportance
	switch {
	case addr == "":
		s.state.Importance = widget.MediumImportance
		s.state.SetText("Not configured: VAULT_ADDR is not set, so keys stay on this device only.")
		s.check.Disable()
	case token == "":
		s.state.Importance = widget.WarningImportance
		s.state.SetText("Vault at " + addr + ", but VAULT_TOKEN is not set: cannot log in.")
		s.check.Disable()
	default:
		s.state.Importance = widget.MediumImportance
		s.state.SetText("Configured: Vault at " + addr + ".")
	}
	s.content = section("HashiCorp Vault", s.state, s.env, help, container.NewVBox(buttonRow(s.check), s.result))
	return s
}

// checkVault logs in with VAULT_TOKEN (a lookup of the token itself) and
// reports; the token is not revoked afterwards.
func (u *UI) checkVault(s *vaultSection) {
	cfg := vault.Config{Addr: u.getenv("VAULT_ADDR"), Namespace: u.getenv("VAULT_NAMESPACE"), CACert: u.getenv("VAULT_CACERT"), Timeout: 10 * time.Second, Retries: -1}
	token := u.getenv("VAULT_TOKEN")
	s.check.Disable()
	s.result.SetText("Connecting…")
	var ttl time.Duration
	u.run(func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		c, err := vault.Login(ctx, cfg, vault.Token{Token: token})
		if err != nil {
			return err
		}
		ttl = c.TokenTTL()
		return c.Logout(ctx)
	}, func(err error) {
		s.check.Enable()
		if err != nil {
			s.result.Importance = widget.DangerImportance
			s.result.SetText(userMessage(err))
			return
		}
		s.result.Importance = widget.SuccessImportance
		if ttl == 0 {
			s.result.SetText("Connected: the token is valid and does not expire.")
		} else {
			s.result.SetText("Connected: the token is valid for " + durationText(ttl) + ".")
		}
	})
}
