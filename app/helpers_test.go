package app

import (
	"context"
	"math/big"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
	"github.com/ethereum/go-ethereum/accounts/abi/bind/v2"
	"github.com/ethereum/go-ethereum/ethclient"

	"github.com/healthwallet/healthwallet/internal/fixtures"
	"github.com/healthwallet/healthwallet/internal/testclock"
	"github.com/healthwallet/healthwallet/ipfs"
	"github.com/healthwallet/healthwallet/share/devnet"
	"github.com/healthwallet/healthwallet/share/registry"
	"github.com/healthwallet/healthwallet/share/relay"
	"github.com/healthwallet/healthwallet/wallet"
	"github.com/healthwallet/healthwallet/wallet/identity"
)

// One local chain serves every test that shares, redeems or revokes.
var testChain struct {
	once    sync.Once
	dir     string
	devnet  *devnet.Devnet
	cfg     wallet.ChainConfig
	revoker wallet.Revoker
	err     error
}

// migratedApp is a test app that declares the fyneDo migration, as
// FyneApp.toml does for the real one: fyne.Do then runs in place on every
// build (the mobile test driver would otherwise defer it and log).
type migratedApp struct{ fyne.App }

func (migratedApp) Metadata() fyne.AppMetadata {
	return fyne.AppMetadata{Migrations: map[string]bool{"fyneDo": true}}
}

func TestMain(m *testing.M) {
	testclock.Fix() // every date renders in one fixed time zone
	fyne.SetCurrentApp(migratedApp{test.NewApp()})
	fyne.Do(func() {}) // fyne reads the migration once, now
	runInline = true
	code := m.Run()
	if testChain.devnet != nil {
		testChain.devnet.Close()
		os.RemoveAll(testChain.dir)
	}
	os.Exit(code)
}

// startChain returns the shared devnet's chain and a revoker that pays
// with a funded dev account (what `healthwallet relay` does for phones).
func startChain(t *testing.T) (wallet.ChainConfig, wallet.Revoker) {
	t.Helper()
	testChain.once.Do(func() {
		c := &testChain
		if c.dir, c.err = os.MkdirTemp("", "hw-app-devnet-"); c.err != nil {
			return
		}
		if c.devnet, c.err = devnet.Start(context.Background(), devnet.Config{DataDir: c.dir}); c.err != nil {
			return
		}
		info := c.devnet.Info()
		c.cfg = wallet.ChainConfig{RPC: info.RPC, ChainID: info.ChainID, Registry: info.Registry}
		key, err := info.Accounts[1].Key()
		if err != nil {
			c.err = err
			return
		}
		client, err := ethclient.Dial(info.RPC)
		if err != nil {
			c.err = err
			return
		}
		c.revoker = &relay.Direct{Client: registry.NewClient(client, info.Registry), Opts: bind.NewKeyedTransactor(key, new(big.Int).SetUint64(info.ChainID))}
	})
	if testChain.err != nil {
		t.Fatalf("devnet: %v", testChain.err)
	}
	return testChain.cfg, testChain.revoker
}

// hermetic keeps a test UI away from this machine's devnet file,
// environment, network interfaces and date: its clock is the test clock
// (internal/testclock), so every screen shows the same dates on any day.
func hermetic(t *testing.T, opts *Options) {
	if opts.Chain == nil && opts.ChainFile == "" {
		opts.ChainFile = filepath.Join(t.TempDir(), "no-devnet.json")
	}
	if opts.Listen == nil {
		opts.Listen = ipfs.LoopbackListen
	}
	if opts.RedeemListen == nil {
		opts.RedeemListen = ipfs.LoopbackListen
	}
	if opts.Getenv == nil {
		opts.Getenv = func(string) string { return "" }
	}
	if opts.Now == nil {
		opts.Now = testclock.Now
	}
}

// testWindowSize is the window of the layout under test.
func testWindowSize() fyne.Size {
	if isMobile() {
		return phoneSize
	}
	return desktopSize
}

// layoutDir is where the markup masters of the layout under test live.
func layoutDir() string {
	if isMobile() {
		return "mobile"
	}
	return "desktop"
}

// Fixed recovery phrases (BIP-39 test vectors) for the wallets of tests
// with markup masters: their DIDs and addresses are then the same on every
// run. Each is used by one test only: a wallet's revocation secrets derive
// from its phrase, and the test chain is shared, so a grant one test
// revokes must not be another test's.
const (
	phraseSharer     = "legal winner thank year wave sausage worth useful legal winner thank yellow"
	phraseSpecialist = "letter advice cage absurd amount doctor acoustic avoid letter advice cage above"
	phraseRevoker    = "scheme spot photo card baby mountain device kick cradle pact join borrow"
	phraseRevokee    = "zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo wrong"
	phraseRedeemer   = "cat swing flag economy stadium alone churn speed unique patch report train"
	phrasePatient    = "vessel ladder alter error federal sibling chat ability sun glass valve picture"
)

// openTestWallet unlocks a wallet in a new UI: of the known phrase without
// a chain, of a fresh phrase on the shared test chain.
func openTestWallet(t *testing.T, opts Options) *UI {
	t.Helper()
	phrase := knownPhrase
	if opts.Chain != nil {
		p, _ := identity.NewPhrase()
		phrase = strings.Join(p.Words(), " ")
	}
	return openTestWalletOf(t, phrase, opts)
}

// openTestWalletOf unlocks a wallet of phrase in a new UI.
func openTestWalletOf(t *testing.T, phrase string, opts Options) *UI {
	t.Helper()
	w := newPeerWalletOf(t, phrase)
	home := w.Home()
	w.Lock()
	u := newTestUI(t, home, opts)
	test.Type(u.ul.pass, goodPass)
	test.Tap(u.ul.button)
	wantScreen(t, u, "wallet")
	return u
}

// newPeerWallet is another person's wallet (a specialist, family), driven
// through the wallet API.
func newPeerWallet(t *testing.T) *wallet.Wallet {
	t.Helper()
	p, _ := identity.NewPhrase()
	return newPeerWalletOf(t, strings.Join(p.Words(), " "))
}

// newPeerWalletOf is newPeerWallet with a given phrase.
func newPeerWalletOf(t *testing.T, phrase string) *wallet.Wallet {
	t.Helper()
	p, err := identity.ParsePhrase(phrase)
	if err != nil {
		t.Fatal(err)
	}
	w, err := wallet.Create(filepath.Join(t.TempDir(), "w"), p, goodPass, fastWallet)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Lock() })
	return w
}

// fixtureFile writes a FHIR fixture to a temp file named name.
func fixtureFile(t testing.TB, fixture, name string) string {
	t.Helper()
	data, err := fixtures.Named(fixture).Read()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// importFixture imports a fixture through the records tab, as the file
// dialog's callback does.
func importFixture(t *testing.T, u *UI, fixture string) {
	t.Helper()
	u.selectTab(tabRecords)
	u.records.importPaths([]string{fixtureFile(t, fixture, strings.ToLower(strings.SplitN(fixture, "_", 2)[0])+".json")})
	u.bg.Wait()
	if u.records.importResult.Importance == widget.DangerImportance {
		t.Fatalf("import: %s", u.records.importResult.Text)
	}
}

// assertScreen compares the window with the layout's markup master.
func assertScreen(t *testing.T, u *UI, name string) {
	t.Helper()
	u.bg.Wait()
	test.AssertRendersToMarkup(t, layoutDir()+"/"+name+".xml", u.win.Canvas())
}

// volatile are the parts of a screen that change from run to run (dates,
// hashes, addresses, ports, keys), replaced before comparing.
var volatile = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`healthwallet:(grant|bundle)/[A-Za-z0-9_-]+`), "LINK"},
	{regexp.MustCompile(`did:key:z[1-9A-HJ-NP-Za-km-z]+`), "DID"},
	{regexp.MustCompile(`0x[0-9a-fA-F]{4}…[0-9a-fA-F]{4}`), "ADDR"},
	{regexp.MustCompile(`0x[0-9a-fA-F]{40,64}`), "HEX"},
	{regexp.MustCompile(`did:key:z[1-9A-HJ-NP-Za-km-z]{10}…[1-9A-HJ-NP-Za-km-z]+`), "DID"},
	{regexp.MustCompile(`/ip4/[0-9.]+/(tcp|udp)/\d+[^\s<"]*`), "MULTIADDR"},
	{regexp.MustCompile(`12D3Koo[1-9A-HJ-NP-Za-km-z]+`), "PEER"},
	{regexp.MustCompile(`http://127\.0\.0\.1:\d+`), "RPC"},
	{regexp.MustCompile(`\d{1,2} [A-Z][a-z]{2} \d{4}( \d{2}:\d{2})?`), "DATE"},
	{regexp.MustCompile(`\d{1,2} (January|February|March|April|May|June|July|August|September|October|November|December) \d{4}`), "DATE"},
	{regexp.MustCompile(`\d+ (minute|hour|day)s?`), "DURATION"},
	{regexp.MustCompile(`block \d+`), "block N"},
	{regexp.MustCompile(`\d+(\.\d)? (bytes|[KMG]B)`), "SIZE"},
	{regexp.MustCompile(`/tmp/[^<"]*`), "PATH"},
}

// geometry is the position and size of a markup element.
var geometry = regexp.MustCompile(` (pos|size)="[^"]*"`)

// assertScreenNormalized is assertScreen for screens that show times,
// keys and addresses: those are replaced by placeholders first.
func assertScreenNormalized(t *testing.T, u *UI, name string) {
	t.Helper()
	u.bg.Wait()
	lines := strings.Split(test.RenderToMarkup(u.win.Canvas()), "\n")
	for i, l := range lines {
		n := l
		for _, v := range volatile {
			n = v.re.ReplaceAllString(n, v.with)
		}
		if n != l { // a placeholder's width is not the value's
			n = geometry.ReplaceAllString(n, "")
		}
		lines[i] = n
	}
	got := strings.Join(lines, "\n")
	master := filepath.Join("testdata", layoutDir(), name+".xml")
	want, err := os.ReadFile(master)
	if err == nil && string(want) == got {
		return
	}
	failed := filepath.Join("testdata", "failed", layoutDir(), name+".xml")
	os.MkdirAll(filepath.Dir(failed), 0o755)
	os.WriteFile(failed, []byte(got), 0o644)
	if err != nil {
		t.Errorf("master %s not found; markup written to %s might be used as master", master, failed)
		return
	}
	t.Errorf("markup differs from %s; actual markup written to %s", master, failed)
}

// markup is the window's markup, for looking for texts.
func markup(u *UI) string { return test.RenderToMarkup(u.win.Canvas()) }

func mustContain(t *testing.T, what, got string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(got, w) {
			if len(got) > 400 {
				got = got[:400] + "…"
			}
			t.Fatalf("%s %q lacks %q", what, got, w)
		}
	}
}

// tappable finds what a user taps to reach text on screen: the innermost
// tappable widget (a button, a tab) that shows it.
func tappable(t *testing.T, u *UI, text string) fyne.Tappable {
	t.Helper()
	var found fyne.Tappable
	walk(u.win.Canvas().Content(), func(o fyne.CanvasObject) {
		if tp, ok := o.(fyne.Tappable); ok && shows(o, text) {
			found = tp // later objects are deeper
		}
	})
	if found == nil {
		t.Fatalf("nothing to tap shows %q", text)
	}
	return found
}

// walk visits the visible objects of a live window, parents first. (Unlike
// test.LaidOutObjects it uses the widgets' own renderers, so it does not
// disturb lists and tabs.)
func walk(o fyne.CanvasObject, visit func(fyne.CanvasObject)) {
	if o == nil || !o.Visible() {
		return
	}
	visit(o)
	switch x := o.(type) {
	case *fyne.Container:
		for _, c := range x.Objects {
			walk(c, visit)
		}
	case fyne.Widget:
		for _, c := range test.WidgetRenderer(x).Objects() {
			walk(c, visit)
		}
	}
}

// shows reports whether o draws text.
func shows(o fyne.CanvasObject, text string) bool {
	switch x := o.(type) {
	case *canvas.Text:
		return x.Text == text
	case *fyne.Container:
		for _, c := range x.Objects {
			if shows(c, text) {
				return true
			}
		}
	case fyne.Widget:
		for _, c := range test.WidgetRenderer(x).Objects() {
			if shows(c, text) {
				return true
			}
		}
	}
	return false
}

// tapTab switches the wallet's tabs as a user does.
func tapTab(t *testing.T, u *UI, name string) {
	t.Helper()
	labels := map[string]string{tabRecords: "Records", tabShare: "Share", tabByMe: "Shared by me", tabWithMe: "Shared with me", tabSettings: "Settings"}
	if isMobile() {
		labels[tabByMe], labels[tabWithMe] = "By me", "With me"
	}
	test.Tap(tappable(t, u, labels[name]))
	u.bg.Wait()
	if u.tabNow() != name {
		t.Fatalf("tab %q after tapping %q", u.tabNow(), labels[name])
	}
}

// must stops the test when a setup step fails.
func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// mustPicture reads the picture at path as the picker hands it over.
func mustPicture(t *testing.T, path string) picture {
	t.Helper()
	p, err := pictureFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
