package app

import (
	"path/filepath"
	"testing"
)

// TestQuitLocksThenQuitsWithoutDrawing: the SIGTERM path (UI.quit) locks
// the wallet and stops its node before it quits the driver, and never
// draws on the window again: not the unlock screen the lock would bring
// up, nor any screen asked for later. A window drawn on after the driver
// stopped aborted the app ("GLFW library is not initialized").
func TestQuitLocksThenQuitsWithoutDrawing(t *testing.T) {
	u := openTestWallet(t, Options{})
	content := u.win.Content()
	quits := 0
	u.quit(func() {
		quits++
		if u.openWallet() != nil {
			t.Error("the driver quit before the wallet locked")
		}
		if _, err := u.nodeState(); err == nil {
			t.Error("the driver quit with the node running")
		}
	})
	if quits != 1 {
		t.Fatalf("driver quit %d times", quits)
	}
	if u.openWallet() != nil {
		t.Fatal("wallet still unlocked")
	}
	if got := u.screenNow(); got != "wallet" || u.win.Content() != content {
		t.Fatalf("the window was drawn on while quitting: screen %q", got)
	}
	u.showWelcome()
	u.showUnlock()
	if got := u.screenNow(); got != "wallet" || u.win.Content() != content {
		t.Fatalf("the window was drawn on after quitting: screen %q", got)
	}
}

// TestCloseWhileUnlocked: closing the window (or the driver stopping)
// locks the wallet without bringing up the unlock screen; locking with
// the lock button still does.
func TestCloseWhileUnlocked(t *testing.T) {
	u := openTestWallet(t, Options{})
	u.lock()
	wantScreen(t, u, "unlock")

	u = openTestWallet(t, Options{})
	u.Close()
	if u.openWallet() != nil {
		t.Fatal("Close left the wallet unlocked")
	}
	wantScreen(t, u, "wallet")
}

// TestWalletHome: --home is honoured by the desktop and the `-tags mobile`
// build alike (scripts/screenshots.sh drives the phone layout with it);
// only a real phone, or no home at all, uses the app's own storage.
func TestWalletHome(t *testing.T) {
	storage := func() string { return "/app/storage" }
	inStorage := filepath.Join("/app/storage", "wallet")
	for _, tc := range []struct{ home, goos, want string }{
		{"/tmp/patient", "linux", "/tmp/patient"},
		{"/tmp/patient", "darwin", "/tmp/patient"},
		{"", "linux", inStorage},
		{"/tmp/patient", "android", inStorage},
		{"/tmp/patient", "ios", inStorage},
	} {
		if got := walletHome(tc.home, tc.goos, storage); got != tc.want {
			t.Errorf("walletHome(%q, %s) = %q, want %q", tc.home, tc.goos, got, tc.want)
		}
	}
}
