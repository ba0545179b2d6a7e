// Package app is healthwallet's Fyne user interface for desktop and mobile.
// It is the only package that imports fyne; it reaches the wallet through the
// wallet package's plain Go API, and every UI change made from another
// goroutine goes through fyne.Do.
//
// After onboarding or unlock the wallet opens on five tabs (layout.go):
// records (records.go, detail.go, import.go), share (share.go,
// shareresult.go, picker.go, pickers.go), shared by me (sharedbyme.go),
// shared with me (sharedwithme.go, receivedpage.go) and settings
// (settings.go, chainstatus.go, vault.go, backup.go). The wallet's node
// runs while the wallet is unlocked and a chain is configured (node.go).
package app

import (
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"

	"github.com/healthwallet/healthwallet/assets"
	"github.com/healthwallet/healthwallet/internal/memlimit"
)

// ID is the application ID (also in FyneApp.toml).
const ID = "org.healthwallet.app"

// Icon is the app icon as a fyne resource.
var Icon = fyne.NewStaticResource("icon.png", assets.Icon)

// Window sizes: a desktop window, and the phone-shaped window a
// `-tags mobile` build opens on a desktop.
var (
	desktopSize = fyne.NewSize(1000, 700)
	phoneSize   = fyne.NewSize(390, 780)
)

// onSignal calls quit, on its own goroutine, when a signal arrives on sig.
// The returned stop ends the watch: the goroutine ends too, rather than
// wait for a signal that will not come.
func onSignal(sig <-chan os.Signal, quit func()) (stop func()) {
	done := make(chan struct{})
	go func() {
		select {
		case <-sig:
			quit()
		case <-done:
		}
	}()
	return func() { close(done) }
}

// Run opens the desktop app on the wallet in home and returns when the
// window closes. A link (at most one is used) is shown in the redeem box
// of Shared with me once the wallet is open; while the app runs, more come
// through the socket in the home (linkhandler.go).
func Run(home string, link ...string) error {
	memlimit.Apply(memlimit.App)
	a := fyneapp.NewWithID(ID)
	a.SetIcon(Icon)
	if home == "" || isMobile() {
		// A phone keeps the wallet in the app's private storage.
		home = filepath.Join(a.Storage().RootURI().Path(), "wallet")
	}
	w := a.NewWindow("Health Wallet")
	ui := New(a, w, home, Options{})
	defer ui.listenLinks(link...)()
	if isMobile() {
		w.Resize(phoneSize)
	} else {
		w.Resize(desktopSize)
	}
	w.SetOnClosed(ui.Close)
	// Ctrl-C or SIGTERM closes the app as closing its window does: the
	// wallet locks and its node stops.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sig)
	defer onSignal(sig, func() {
		fyne.Do(func() {
			ui.Close()
			a.Quit()
		})
	})()
	driveForScreenshot(ui)
	w.ShowAndRun()
	ui.Close()
	return nil
}
