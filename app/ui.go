package app

import (
	"context"
	"net/http"
	"os"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/widget"

	"github.com/healthwallet/healthwallet/wallet"
)

// Preference keys (fyne preferences hold UI settings only, never secrets).
const (
	prefLockMinutes = "lockTimeoutMinutes"
	prefTheme       = "theme"
)

// DefaultBackgroundGrace is how long a desktop window may stay in the
// background before the wallet locks. On a phone it locks at once.
const DefaultBackgroundGrace = time.Minute

// Options tune the UI; the zero value is the product's behaviour.
type Options struct {
	// Wallet tunes wallet creation (tests lower the scrypt work factor).
	Wallet wallet.Options
	// IdleTimeout overrides the saved lock timeout.
	IdleTimeout time.Duration
	// BackgroundGrace overrides DefaultBackgroundGrace on desktop; a
	// negative value locks at once.
	BackgroundGrace time.Duration

	// Chain is the chain grants are signed for and checked against. Nil
	// loads it as the CLI does: ChainFile, overridden by $HW_CHAIN_RPC and
	// $HW_REGISTRY.
	Chain *wallet.ChainConfig
	// ChainFile is the devnet info file; "" means wallet.DefaultDevnetFile
	// (through Getenv).
	ChainFile string
	// Revoker publishes revocations. Nil means the relay at $HW_RELAY, or
	// at http://127.0.0.1:4190 (`healthwallet relay`), so the wallet needs
	// no ETH.
	Revoker wallet.Revoker
	// Listen is where the wallet's node listens; nil means
	// ipfs.DefaultListen, or any free port when that is taken.
	Listen []string
	// RedeemListen is where the short-lived node of a redemption listens;
	// nil means the wallet's default (loopback).
	RedeemListen []string
	// Getenv reads the environment; nil means os.Getenv.
	Getenv func(string) string
	// Now is the clock statuses are shown against; nil means time.Now.
	Now func() time.Time
	// SHLURL is the HTTPS base URL that serves the SMART Health Links
	// this wallet makes; "" means the first keeper that serves them.
	SHLURL string
	// SHLHTTP fetches SMART Health Links opened on Shared with me; nil
	// means the default client (tests pass one trusting a test CA).
	SHLHTTP *http.Client
}

// UI is the running interface for one wallet home.
type UI struct {
	app  fyne.App
	win  fyne.Window
	home string
	opts Options

	mu     sync.Mutex
	wallet *wallet.Wallet
	locker *wallet.IdleLocker

	// bg counts background operations (key derivation) so tests can wait.
	bg sync.WaitGroup

	// The wallet's node and chain, while unlocked (see node.go).
	node     *wallet.Serving
	nodeErr  error // why node is nil
	chain    wallet.ChainConfig
	chainErr error // why there is no chain
	nodeStop context.CancelFunc

	// session is the context of the unlocked wallet; locking cancels it
	// (endSession), so long operations stop with the lock.
	session       context.Context
	endSessionCtx context.CancelFunc

	ob       *onboarding       // the create or restore flow in progress
	ul       *unlockView       // the unlock screen, while shown
	wv       *walletView       // identity and security, on the settings tab
	sh       *shell            // the tabs of the unlocked wallet
	records  *recordsView      // the records tab
	share    *shareView        // the share tab
	byMe     *sharedByMeView   // the shared-by-me tab
	withMe   *sharedWithMeView // the shared-with-me tab
	settings *settingsView     // the settings tab

	links linkState // links handed over or on the clipboard (linkhandler.go)

	// current screen, for tests and for background callbacks to check
	// they still own the window.
	screen string
}

// New builds the UI into w: onboarding when home holds no wallet, the unlock
// screen otherwise.
func New(a fyne.App, w fyne.Window, home string, opts Options) *UI {
	u := &UI{app: a, win: w, home: home, opts: opts}
	if choice := u.app.Preferences().String(prefTheme); choice == themeLight || choice == themeDark {
		u.applyTheme(choice)
	}
	a.Lifecycle().SetOnExitedForeground(u.onBackground)
	a.Lifecycle().SetOnEnteredForeground(u.onForeground)
	if wallet.Exists(home) {
		u.showUnlock()
	} else {
		u.showWelcome()
	}
	return u
}

// Close locks the wallet; the window is going away.
func (u *UI) Close() { u.lock() }

func (u *UI) setScreen(name string, content fyne.CanvasObject) {
	u.mu.Lock()
	u.screen = name
	u.mu.Unlock()
	u.win.SetContent(content)
}

// screenNow names the screen on show.
func (u *UI) screenNow() string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.screen
}

// page lays out a screen: a heading, a body that scrolls, and buttons at the
// bottom.
func page(title string, body fyne.CanvasObject, buttons ...fyne.CanvasObject) fyne.CanvasObject {
	heading := widget.NewRichTextFromMarkdown("# " + title)
	var bottom fyne.CanvasObject
	if len(buttons) > 0 {
		bottom = container.NewPadded(container.NewHBox(append([]fyne.CanvasObject{layout.NewSpacer()}, buttons...)...))
	}
	return container.NewBorder(container.NewPadded(heading), bottom, nil, nil, container.NewVScroll(container.NewPadded(body)))
}

func isMobile() bool { return fyne.CurrentDevice().IsMobile() }

func (u *UI) getenv(key string) string {
	if u.opts.Getenv != nil {
		return u.opts.Getenv(key)
	}
	return os.Getenv(key)
}

func (u *UI) now() time.Time {
	if u.opts.Now != nil {
		return u.opts.Now()
	}
	return time.Now()
}

// openWallet returns the unlocked wallet, or nil once it is locked.
func (u *UI) openWallet() *wallet.Wallet {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.wallet
}

// walletCtx is the context long operations (redeem, share, import,
// backup, chain checks) run under: the unlocked session's, which locking
// cancels. Take it on the UI thread before handing work to run. While the
// wallet is locked it is already cancelled.
func (u *UI) walletCtx() context.Context {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.session == nil {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		return ctx
	}
	return u.session
}

// endSession cancels the session's context: every operation running under
// walletCtx stops.
func (u *UI) endSession() {
	u.mu.Lock()
	cancel := u.endSessionCtx
	u.session, u.endSessionCtx = nil, nil
	u.mu.Unlock()
	if cancel != nil {
		cancel()
	}
}

// runInline makes run do its work in place. Tests set it: fyne's test
// driver runs fyne.Do on the calling goroutine, so work finishing in the
// background would race with the test driving the widgets.
var runInline bool

// run performs work off the UI thread and hands its result to done on the
// UI thread. Key derivation takes about half a second: the window stays
// responsive meanwhile.
func (u *UI) run(work func() error, done func(error)) {
	if runInline {
		done(work())
		return
	}
	u.bg.Add(1)
	go func() {
		err := work()
		fyne.Do(func() {
			defer u.bg.Done()
			done(err)
		})
	}()
}

// touch records user activity for the idle lock.
func (u *UI) touch() {
	u.mu.Lock()
	l := u.locker
	u.mu.Unlock()
	if l != nil {
		l.Touch()
	}
}

// act wraps a button callback so that using it counts as activity.
func (u *UI) act(fn func()) func() {
	return func() { u.touch(); fn() }
}

func (u *UI) idleTimeout() time.Duration {
	if u.opts.IdleTimeout != 0 {
		return u.opts.IdleTimeout
	}
	return time.Duration(u.app.Preferences().IntWithFallback(prefLockMinutes, int(wallet.DefaultIdleTimeout/time.Minute))) * time.Minute
}

// opened is called on the UI thread with a freshly unlocked wallet. The
// lock hook is in place before anything can lock it, and the idle countdown
// starts once the wallet is on screen.
func (u *UI) opened(w *wallet.Wallet) {
	if u.opts.Now != nil {
		w.SetClock(u.opts.Now)
	}
	u.endSession() // a session left from a wallet locked elsewhere
	session, endSession := context.WithCancel(context.Background())
	u.mu.Lock()
	u.wallet = w
	u.session, u.endSessionCtx = session, endSession
	u.mu.Unlock()
	w.OnLock(func() {
		endSession() // however the wallet locked
		fyne.Do(func() {
			u.mu.Lock()
			if u.wallet == w {
				u.wallet = nil
			}
			u.mu.Unlock()
			if wallet.Exists(u.home) {
				u.showUnlock()
			}
		})
	})
	u.startNode(w)
	u.showWallet()
	u.linksOnOpen()
	u.mu.Lock()
	if u.wallet == w {
		u.locker = wallet.NewIdleLocker(u.idleTimeout(), u.lock)
	}
	u.mu.Unlock()
}

// lock locks the open wallet, if any; its OnLock hook shows the unlock
// screen.
func (u *UI) lock() {
	u.mu.Lock()
	w, l := u.wallet, u.locker
	u.locker = nil
	u.mu.Unlock()
	if l != nil {
		l.Stop()
	}
	u.endSession()
	u.stopNode()
	if w != nil {
		w.Lock()
	}
}

func (u *UI) onBackground() {
	u.mu.Lock()
	l := u.locker
	u.mu.Unlock()
	if l == nil {
		return
	}
	grace := DefaultBackgroundGrace
	if u.opts.BackgroundGrace != 0 {
		grace = u.opts.BackgroundGrace
	}
	if isMobile() || grace < 0 {
		l.LockNow()
		return
	}
	l.SetTimeout(min(grace, u.idleTimeout()))
}

func (u *UI) onForeground() {
	u.mu.Lock()
	l := u.locker
	u.mu.Unlock()
	if l != nil {
		l.SetTimeout(u.idleTimeout())
	}
}
