package cli

import (
	"errors"
	"fmt"

	"github.com/healthwallet/healthwallet/app/handoff"
)

// isLinkArg reports whether a first argument is a link to open rather
// than a command: `healthwallet LINK` is what the desktop runs for the
// healthwallet: and shlink: URL schemes (assets/healthwallet.desktop).
func isLinkArg(s string) bool { return handoff.LooksLikeLink(s) }

// runOpen puts a grant link or SMART Health Link in the redeem screen of
// the app open on the wallet, or opens the app with it when none is.
// Nothing is redeemed until the user taps Redeem.
func runOpen(c *ctx, args []string) error {
	fs := c.flags("open")
	pos, err := c.parseWithArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("%w: give one link", errUsage)
	}
	link, kind, err := handoff.Normalize(pos[0])
	if err != nil {
		return err
	}
	home, err := c.resolveHome()
	if err != nil {
		home = "" // the app keeps the wallet in its own storage
	}
	if home != "" {
		switch err := handoff.Send(c.Context, home, link); {
		case err == nil:
			fmt.Fprintf(c.Stdout, "The %s is open in Health Wallet: check it there and tap Redeem.\n", kind)
			return nil
		case !errors.Is(err, handoff.ErrNoApp):
			return err
		}
	}
	if c.OpenAppWithLink == nil {
		if kind == handoff.Health {
			return errors.New("this build has no app; open the link with 'healthwallet shl open LINK'")
		}
		return errors.New("this build has no app; redeem the link with 'healthwallet redeem LINK'")
	}
	return c.OpenAppWithLink(home, link)
}
