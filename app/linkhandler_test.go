package app

import (
	"bytes"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"
	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	"github.com/ethereum/go-ethereum/common"

	"github.com/healthwallet/healthwallet/app/handoff"
	"github.com/healthwallet/healthwallet/share/grant"
	"github.com/healthwallet/healthwallet/share/shl"
)

// sealedGrantLink is a well-formed grant link from fixed keys (a patient's
// to a specialist); no wallet in these tests can open it.
func sealedGrantLink(t *testing.T) string {
	t.Helper()
	key := func(b byte) *secp256k1.PrivateKey { return secp256k1.PrivKeyFromBytes(bytes.Repeat([]byte{b}, 32)) }
	patient, specialist := key(1), key(3)
	start := time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
	g := &grant.Grant{
		Domain:     grant.Domain{ChainID: 1337, Registry: common.HexToAddress("0x5FbDB2315678afecb367f032d93F642f64180aa3")},
		GranteeKey: specialist.PubKey().SerializeCompressed(),
		Packages:   [][]byte{[]byte("cid of the labs package")},
		Categories: []string{"labs"},
		Operations: grant.Read,
		NotBefore:  uint64(start.Unix()), ExpiresAt: uint64(start.Add(time.Hour).Unix()),
		RevocationID: [32]byte{1}, Nonce: 1,
	}
	must(t, g.Sign(patient))
	link, err := grant.Chain{g}.Link(patient.PubKey())
	must(t, err)
	return link
}

// fixedSHL is a well-formed SMART Health Link with fixed contents, behind
// viewer unless "".
func fixedSHL(t *testing.T, viewer string) string {
	t.Helper()
	link, err := shl.Payload{URL: "https://keeper.example.org/shl/manifest-abcdefgh", Key: base64.RawURLEncoding.EncodeToString(bytes.Repeat([]byte{9}, 32)),
		Flag: "P", Label: "Labs for Dr Okafor"}.Link(viewer)
	must(t, err)
	return link
}

// lockedTestUI is a new UI on the unlock screen of a wallet of the known
// phrase.
func lockedTestUI(t *testing.T) *UI {
	t.Helper()
	w := newPeerWalletOf(t, knownPhrase)
	home := w.Home()
	w.Lock()
	u := newTestUI(t, home, Options{})
	wantScreen(t, u, "unlock")
	return u
}

// unlockUI unlocks the wallet on the unlock screen, as the user does.
func unlockUI(t *testing.T, u *UI) {
	t.Helper()
	test.Type(u.ul.pass, goodPass)
	test.Tap(u.ul.button)
	wantScreen(t, u, "wallet")
}

// takeLinks lets u take links on its home's socket until the test ends.
func takeLinks(t *testing.T, u *UI, start ...string) {
	t.Helper()
	stop := u.listenLinks(start...)
	t.Cleanup(func() { stop(); u.bg.Wait() })
}

// wantRedeemBox checks that Shared with me is on show with link in its
// redeem box, and that nothing was redeemed.
func wantRedeemBox(t *testing.T, u *UI, link, verdict string) {
	t.Helper()
	u.bg.Wait()
	if tab := u.tabNow(); tab != tabWithMe {
		t.Fatalf("tab %q, want %q", tab, tabWithMe)
	}
	if got := u.withMe.link.Text; got != link {
		t.Fatalf("redeem box holds %.50q, want %.50q", got, link)
	}
	mustContain(t, "verdict", u.withMe.verdict.Text, verdict)
	if u.withMe.page != nil || u.withMe.shl != nil || len(u.withMe.grants) != 0 {
		t.Fatal("the link was redeemed without the user")
	}
}

// TestLinkHandoffOpensRedeem: a link handed over by `healthwallet open`
// through the socket shows on Shared with me, in the redeem box, ready for
// the user to tap Redeem; a viewer's link arrives as the bare shlink.
func TestLinkHandoffOpensRedeem(t *testing.T) {
	u := openTestWallet(t, Options{})
	takeLinks(t, u)
	fi, err := os.Stat(filepath.Join(u.home, handoff.SocketName))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("socket: %v", err)
	}
	if u.tabNow() != tabRecords {
		t.Fatalf("opened on %q", u.tabNow())
	}
	must(t, handoff.Send(t.Context(), u.home, fixedSHL(t, "https://viewer.example.org/view")))
	wantRedeemBox(t, u, fixedSHL(t, ""), "A SMART Health Link was opened with Health Wallet. Tap Redeem to open it.")
	assertScreenNormalized(t, u, "link-opened")

	// Another link replaces it, from any tab.
	tapTab(t, u, tabSettings)
	g := sealedGrantLink(t)
	must(t, handoff.Send(t.Context(), u.home, g))
	wantRedeemBox(t, u, g, "A grant link was opened with Health Wallet. Tap Redeem to check and fetch it.")
}

// TestLinkWaitsForUnlock: a link the app is started with, or that comes
// while the wallet is locked, shows once the user unlocks; the latest
// wins.
func TestLinkWaitsForUnlock(t *testing.T) {
	u := lockedTestUI(t)
	bare := fixedSHL(t, "")
	takeLinks(t, u, "not a link", bare)
	if u.links.pending != bare {
		t.Fatalf("pending %.40q", u.links.pending)
	}
	unlockUI(t, u)
	wantRedeemBox(t, u, bare, "Tap Redeem to open it.")

	u.lock()
	wantScreen(t, u, "unlock")
	g := sealedGrantLink(t)
	must(t, handoff.Send(t.Context(), u.home, g))
	u.bg.Wait()
	wantScreen(t, u, "unlock")
	unlockUI(t, u)
	wantRedeemBox(t, u, g, "Tap Redeem to check and fetch it.")
	if strings.Contains(markup(u), "Open the link on your clipboard?") {
		t.Fatal("a handed-over link and a clipboard offer at once")
	}
}
