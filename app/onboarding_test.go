package app

import (
	"image/color"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/healthwallet/healthwallet/internal/testclock"
	"github.com/healthwallet/healthwallet/wallet"
	"github.com/healthwallet/healthwallet/wallet/identity"
)

const (
	goodPass    = "correct horse battery staple"
	knownPhrase = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about"
	knownAddr   = "0x9858EfFD232B4033E47d90003D41EC34EcaEda94"
)

var fastWallet = wallet.Options{WorkFactor: 10, Now: testclock.Now}

func newTestUI(t *testing.T, home string, opts Options) *UI {
	t.Helper()
	a := test.NewTempApp(t)
	w := test.NewTempWindow(t, nil)
	w.Resize(testWindowSize())
	opts.Wallet = fastWallet
	hermetic(t, &opts)
	u := New(a, w, home, opts)
	t.Cleanup(func() {
		u.Close()
		u.bg.Wait()
	})
	return u
}

func wantScreen(t *testing.T, u *UI, name string) {
	t.Helper()
	u.bg.Wait()
	if got := u.screenNow(); got != name {
		t.Fatalf("screen = %q, want %q", got, name)
	}
}

// typeConfirmWords types the requested words of phrase; wrong, if >= 0,
// names a box that gets a wrong (but valid) word.
func typeConfirmWords(u *UI, wrong int) {
	words := u.ob.phrase.Words()
	for i, pos := range u.ob.positions {
		w := words[pos]
		if i == wrong {
			w = "zoo"
			if words[pos] == "zoo" {
				w = "abandon"
			}
		}
		test.Type(u.ob.confirm[i], w)
	}
}

func setPassphrase(u *UI, p1, p2 string) {
	test.Type(u.ob.pass, p1)
	test.Type(u.ob.pass2, p2)
	test.Tap(u.ob.finish)
}

func TestCreateFlow(t *testing.T) {
	home := filepath.Join(t.TempDir(), "w")
	u := newTestUI(t, home, Options{})
	wantScreen(t, u, "welcome")

	test.Tap(u.ob.create)
	wantScreen(t, u, "words")
	phrase := u.ob.phrase
	if len(phrase.Words()) != 24 {
		t.Fatalf("shown %d words", len(phrase.Words()))
	}
	markup := test.RenderToMarkup(u.win.Canvas())
	for i, w := range phrase.Words() {
		if !strings.Contains(markup, w) {
			t.Fatalf("word %d %q is not on screen", i+1, w)
		}
	}

	test.Tap(u.ob.written)
	wantScreen(t, u, "confirm")
	if len(u.ob.positions) != 3 {
		t.Fatalf("asked for %d words, want 3", len(u.ob.positions))
	}
	typeConfirmWords(u, -1)
	test.Tap(u.ob.confirmNext)
	wantScreen(t, u, "passphrase")

	// Strength hint follows typing.
	test.Type(u.ob.pass, "abc")
	if !strings.Contains(u.ob.hint.Text, "Too short") || u.ob.strength.grade != wallet.VeryWeak {
		t.Fatalf("hint for abc: %q %v", u.ob.hint.Text, u.ob.strength.grade)
	}
	u.ob.pass.SetText("")
	test.Type(u.ob.pass, goodPass+" orbit lemon")
	if u.ob.strength.grade != wallet.VeryStrong {
		t.Fatalf("strength %v for a six-word phrase", u.ob.strength.grade)
	}
	u.ob.pass.SetText("")

	// Mismatch and weak passphrases are refused in place.
	setPassphrase(u, goodPass, goodPass+"x")
	wantScreen(t, u, "passphrase")
	if !strings.Contains(u.ob.passErr.Text, "differ") {
		t.Fatalf("mismatch error %q", u.ob.passErr.Text)
	}
	if wallet.Exists(home) {
		t.Fatal("wallet created despite mismatched passphrases")
	}
	u.ob.pass.SetText("")
	u.ob.pass2.SetText("")
	setPassphrase(u, goodPass, goodPass)
	wantScreen(t, u, "wallet")

	want, _ := identity.FromPhrase(phrase)
	if u.wv.did.Text != want.DID() || u.wv.address.Text != want.Address().String() {
		t.Fatalf("wallet screen shows %s %s, want %s %s", u.wv.did.Text, u.wv.address.Text, want.DID(), want.Address())
	}
	info, err := wallet.ReadInfo(home)
	if err != nil || info.DID != want.DID() {
		t.Fatalf("on disk: %+v %v", info, err)
	}
}

func TestWrongConfirmWordRejected(t *testing.T) {
	u := newTestUI(t, filepath.Join(t.TempDir(), "w"), Options{})
	test.Tap(u.ob.create)
	test.Tap(u.ob.written)
	typeConfirmWords(u, 1)
	test.Tap(u.ob.confirmNext)
	wantScreen(t, u, "confirm")
	wantMsg := "does not match"
	if !strings.Contains(u.ob.confirmErr.Text, wantMsg) || !strings.Contains(u.ob.confirmErr.Text, "#") {
		t.Fatalf("error %q lacks %q", u.ob.confirmErr.Text, wantMsg)
	}
	// A word that is not in the list gets its own message.
	u.ob.confirm[1].SetText("")
	test.Type(u.ob.confirm[1], "xyzzy")
	test.Tap(u.ob.confirmNext)
	if !strings.Contains(u.ob.confirmErr.Text, `"xyzzy" is not a recovery word`) {
		t.Fatalf("error %q", u.ob.confirmErr.Text)
	}
	wantScreen(t, u, "confirm")
}

func TestRestoreFlow(t *testing.T) {
	home := filepath.Join(t.TempDir(), "w")
	u := newTestUI(t, home, Options{})
	test.Tap(u.ob.restore)
	wantScreen(t, u, "restore")

	test.Type(u.ob.phraseEntry, strings.Replace(knownPhrase, "about", "abuot ", 1))
	if !strings.Contains(u.ob.phraseStatus.Text, `Word 12 "abuot" is not a recovery word`) {
		t.Fatalf("live status %q", u.ob.phraseStatus.Text)
	}
	test.Tap(u.ob.restoreNext)
	wantScreen(t, u, "restore")

	u.ob.phraseEntry.SetText(strings.Replace(knownPhrase, "about", "abandon", 1))
	test.Tap(u.ob.restoreNext)
	wantScreen(t, u, "restore")
	if !strings.Contains(u.ob.phraseStatus.Text, "checksum") {
		t.Fatalf("checksum status %q", u.ob.phraseStatus.Text)
	}

	u.ob.phraseEntry.SetText(knownPhrase)
	test.Tap(u.ob.restoreNext)
	wantScreen(t, u, "passphrase")
	if u.ob.finish.Text != "Restore wallet" {
		t.Fatalf("button reads %q", u.ob.finish.Text)
	}
	setPassphrase(u, goodPass, goodPass)
	wantScreen(t, u, "wallet")
	if u.wv.address.Text != knownAddr {
		t.Fatalf("restored address %s, want %s", u.wv.address.Text, knownAddr)
	}
}

func createWallet(t *testing.T) string {
	t.Helper()
	home := filepath.Join(t.TempDir(), "w")
	p, _ := identity.ParsePhrase(knownPhrase)
	w, err := wallet.Create(home, p, goodPass, fastWallet)
	if err != nil {
		t.Fatal(err)
	}
	w.Lock()
	return home
}

func TestUnlockFlow(t *testing.T) {
	home := createWallet(t)
	u := newTestUI(t, home, Options{})
	wantScreen(t, u, "unlock")
	if !strings.Contains(test.RenderToMarkup(u.win.Canvas()), shortAddress(knownAddr)) {
		t.Fatal("unlock screen does not name the wallet")
	}

	test.Type(u.ul.pass, "not it")
	test.Tap(u.ul.button)
	wantScreen(t, u, "unlock")
	if u.ul.errLabel.Text != "Wrong passphrase. Try again." {
		t.Fatalf("error %q", u.ul.errLabel.Text)
	}
	if u.ul.pass.Text != "" {
		t.Fatal("wrong passphrase left in the entry")
	}

	test.Type(u.ul.pass, goodPass)
	test.Tap(u.ul.button)
	wantScreen(t, u, "wallet")
	if u.wv.address.Text != knownAddr {
		t.Fatalf("address %s", u.wv.address.Text)
	}

	test.Tap(u.wv.lock)
	wantScreen(t, u, "unlock")
	if u.wallet != nil {
		t.Fatal("wallet still held after Lock")
	}
}

func TestLocksWhenIdle(t *testing.T) {
	home := createWallet(t)
	u := newTestUI(t, home, Options{IdleTimeout: 100 * time.Millisecond})
	test.Type(u.ul.pass, goodPass)
	test.Tap(u.ul.button)
	wantScreen(t, u, "wallet")
	deadline := time.Now().Add(3 * time.Second)
	for u.screenNow() != "unlock" && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if u.screenNow() != "unlock" {
		t.Fatal("wallet did not lock after the idle timeout")
	}
}

func TestLocksInBackground(t *testing.T) {
	home := createWallet(t)
	u := newTestUI(t, home, Options{BackgroundGrace: -1})
	test.Type(u.ul.pass, goodPass)
	test.Tap(u.ul.button)
	wantScreen(t, u, "wallet")
	lc, ok := u.app.Lifecycle().(interface{ OnExitedForeground() func() })
	if !ok {
		t.Fatal("test lifecycle cannot be triggered")
	}
	lc.OnExitedForeground()()
	wantScreen(t, u, "unlock")
}

func TestPhraseStatus(t *testing.T) {
	tests := []struct {
		in    string
		final bool
		want  string
	}{
		{"", false, ""},
		{"abandon aban", false, "2 words"},
		{"abandon abn ", false, `Word 2 "abn" is not a recovery word.`},
		{"abandon", true, "Got 1 words"},
		{knownPhrase, true, "12 words"},
	}
	for _, tc := range tests {
		if got := phraseStatus(tc.in, tc.final); !strings.HasPrefix(got, tc.want) {
			t.Errorf("phraseStatus(%q, %v) = %q, want prefix %q", tc.in, tc.final, got, tc.want)
		}
	}
}

// TestPassphraseMeter: the meter's colours mean something (red weak, amber
// fair, green strong, the theme's legible error, warning and success
// colours), the hint says the grade in words in the same colour, and the
// grade agrees with the advice: four random words are strong.
func TestPassphraseMeter(t *testing.T) {
	u := newTestUI(t, filepath.Join(t.TempDir(), "w"), Options{})
	test.Tap(u.ob.restore)
	u.ob.phraseEntry.SetText(knownPhrase)
	test.Tap(u.ob.restoreNext)
	wantScreen(t, u, "passphrase")
	m := u.ob.strength
	if m.filled() != 0 || u.ob.hint.Importance != widget.MediumImportance || !strings.Contains(u.ob.hint.Text, "four or more random words") {
		t.Fatalf("before typing: %d filled, hint %q in %v", m.filled(), u.ob.hint.Text, u.ob.hint.Importance)
	}
	for _, tc := range []struct {
		pass       string
		grade      wallet.Strength
		colour     fyne.ThemeColorName
		importance widget.Importance
		hint       string
	}{
		{"abc", wallet.VeryWeak, theme.ColorNameError, widget.DangerImportance, "Too short"},
		{"kitten42", wallet.Weak, theme.ColorNameError, widget.DangerImportance, "Weak"},
		{"maple river orbit", wallet.Fair, theme.ColorNameWarning, widget.WarningImportance, "Fair: a phrase of four or more random words"},
		{"maple river quiet lantern", wallet.Strong, theme.ColorNameSuccess, widget.SuccessImportance, "Strong."},
		{"maple river quiet lantern orbit lemon", wallet.VeryStrong, theme.ColorNameSuccess, widget.SuccessImportance, "Very strong."},
	} {
		u.ob.pass.SetText("")
		test.Type(u.ob.pass, tc.pass)
		if m.grade != tc.grade || u.ob.hint.Importance != tc.importance || !strings.HasPrefix(u.ob.hint.Text, tc.hint) {
			t.Errorf("%q: grade %v, hint %q in %v; want %v, %q in %v", tc.pass, m.grade, u.ob.hint.Text, u.ob.hint.Importance, tc.grade, tc.hint, tc.importance)
		}
		on := m.Theme().Color(tc.colour, fyne.CurrentApp().Settings().ThemeVariant())
		off := m.Theme().Color(theme.ColorNameInputBorder, fyne.CurrentApp().Settings().ThemeVariant())
		segs := test.WidgetRenderer(m).Objects()
		if len(segs) != meterSegments {
			t.Fatalf("%d segments", len(segs))
		}
		for i, o := range segs {
			want := off
			if i <= int(tc.grade) {
				want = on
			}
			if got := o.(*canvas.Rectangle).FillColor; !sameColour(got, want) {
				t.Errorf("%q: segment %d is %v, want %v (%s)", tc.pass, i, got, want, tc.colour)
			}
		}
	}
	// The colours differ: red, amber and green are three colours, in the
	// test theme and in the app's light and dark themes.
	for _, th := range []fyne.Theme{test.Theme(), newTheme(themeLight), newTheme(themeDark)} {
		v := fyne.CurrentApp().Settings().ThemeVariant()
		r, a, g := th.Color(theme.ColorNameError, v), th.Color(theme.ColorNameWarning, v), th.Color(theme.ColorNameSuccess, v)
		if sameColour(r, a) || sameColour(a, g) || sameColour(r, g) {
			t.Errorf("%T: red %v amber %v green %v", th, r, a, g)
		}
	}
	u.ob.pass.SetText("")
	test.Type(u.ob.pass, "maple river quiet lantern")
	assertScreen(t, u, "passphrase")
}

func sameColour(a, b color.Color) bool {
	return color.NRGBAModel.Convert(a) == color.NRGBAModel.Convert(b)
}
