// Package app is healthwallet's Fyne user interface for desktop and mobile.
// It is the only package that imports fyne; it reaches the wallet through the
// wallet package's plain Go API, and every UI change made from another
// goroutine goes through fyne.Do.
package app

import (
	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"

	"github.com/healthwallet/healthwallet/assets"
)

// ID is the application ID (also in FyneApp.toml).
const ID = "org.healthwallet.app"

// Icon is the app icon as a fyne resource.
var Icon = fyne.NewStaticResource("icon.png", assets.Icon)

// Run opens the desktop app on the wallet in home and returns when the
// window closes.
func Run(home string) error {
	a := fyneapp.NewWithID(ID)
	a.SetIcon(Icon)
	w := a.NewWindow("Health Wallet")
	ui := New(a, w, home, Options{})
	w.Resize(fyne.NewSize(760, 620))
	w.SetOnClosed(ui.Close)
	w.ShowAndRun()
	return nil
}
