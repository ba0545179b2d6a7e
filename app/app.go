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
	"runtime"
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

// walletHome is where Run keeps the wallet: home when given, and the app's
// private storage when not, or on a real phone (android, ios), which has
// no home of its own to give. A `-tags mobile` build on a desktop honours
// --home like the desktop build (scripts/screenshots.sh relies on it).
func walletHome(home, goos string, storage func() string) string {
	if home == "" || goos == "android" || goos == "ios" {
		return filepath.Join(storage(), "wallet")
	}
	return home
}

// Run opens the desktop app on the wallet in home and returns when the
// window closes. A link (at most one is used) is shown in the redeem box
// of Shared with me once the wallet is open; while the app runs, more come
// through the socket in the home (linkhandler.go).
//
// Ctrl-C or SIGTERM closes the app as closing its window does: the wallet
// locks and its node stops. Fyne's driver watches those signals too and
// quits on its own, and once it has stopped, GLFW is gone: anything that
// then touches the window aborts the process ("GLFW library is not
// initialized"). So the UI is marked closed the moment the signal arrives,
// from which on it never touches the window (UI.Close), and the lock and
// the quit run on the main loop; if the driver has already stopped, the
// lock after ShowAndRun still runs, window untouched.
func Run(home string, link ...string) error {
	memlimit.Apply(memlimit.App)
	a := fyneapp.NewWithID(ID)
	a.SetIcon(Icon)
	home = walletHome(home, runtime.GOOS, func() string { return a.Storage().RootURI().Path() })
	a.Settings().SetTheme(newTheme(themeSystem)) // New applies a saved choice
	w := a.NewWindow("Health Wallet")
	ui := New(a, w, home, Options{})
	defer ui.listenLinks(link...)()
	if isMobile() {
		w.Resize(phoneSize)
	} else {
		w.Resize(desktopSize)
	}
	w.SetOnClosed(ui.Close)
	a.Lifecycle().SetOnStopped(ui.Close)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sig)
	defer onSignal(sig, func() {
		ui.quit(func() {
			a.Quit()
			if isMobile() {
				// Fyne's phone driver ignores Quit: the process ends
				// here, the wallet locked and its node stopped.
				os.Exit(0)
			}
		})
	})()
	driveForScreenshot(ui)
	w.ShowAndRun()
	ui.Close()
	return nil
}

// quit closes the UI for good and then calls quitDriver, both on the main
// loop; the UI is marked closed at once, on the caller's goroutine, so that
// nothing draws on the window from now on, even if the driver stops
// before the main loop gets to run the rest.
func (u *UI) quit(quitDriver func()) {
	u.markClosed()
	fyne.Do(func() {
		u.Close()
		quitDriver()
	})
}
