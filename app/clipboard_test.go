package app

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/healthwallet/healthwallet/wallet"
)

const clipboardQuestion = "Open the link on your clipboard?"

// TestClipboardOffer: a link on the clipboard is offered when the wallet
// opens, not opened: Open fills in the redeem box, and the same link is
// not offered again.
func TestClipboardOffer(t *testing.T) {
	u := lockedTestUI(t)
	bare := fixedSHL(t, "")
	u.app.Clipboard().SetContent("  " + fixedSHL(t, "https://viewer.example.org/view") + "\n")
	unlockUI(t, u)
	if u.links.banner == nil || !strings.Contains(markup(u), clipboardQuestion) || !strings.Contains(markup(u), "You copied a SMART Health Link.") {
		t.Fatal("no offer of the clipboard's link")
	}
	if strings.Contains(markup(u), bare[len("shlink:/"):][:12]) {
		t.Fatal("the offer shows the link")
	}
	if u.tabNow() != tabRecords || u.withMe.link.Text != "" {
		t.Fatalf("the link opened without the user: tab %q", u.tabNow())
	}
	assertScreenNormalized(t, u, "clipboard-offer")

	test.Tap(u.links.banner.open)
	wantRedeemBox(t, u, bare, "Tap Redeem to open it.")
	if u.links.banner != nil || strings.Contains(markup(u), clipboardQuestion) {
		t.Fatal("the offer stays after Open")
	}

	u.lock()
	unlockUI(t, u)
	if u.links.banner != nil || strings.Contains(markup(u), clipboardQuestion) {
		t.Fatal("the same link offered twice")
	}
}

// TestClipboardOfferNotNow: Not now takes the offer away and opens
// nothing; what is not a well-formed link is never offered.
func TestClipboardOfferNotNow(t *testing.T) {
	u := lockedTestUI(t)
	for _, text := range []string{
		"https://example.org/menu-of-the-day",
		"shlink:/eyJ1cmwiOiJodHRwczovL2tl", // cut off
		sealedGrantLink(t)[:60],            // cut off
		"correct horse battery staple",
	} {
		u.app.Clipboard().SetContent(text)
		unlockUI(t, u)
		if u.links.banner != nil || strings.Contains(markup(u), clipboardQuestion) {
			t.Fatalf("offered %.30q", text)
		}
		u.lock()
		wantScreen(t, u, "unlock")
	}

	g := sealedGrantLink(t)
	u.app.Clipboard().SetContent(g)
	unlockUI(t, u)
	if u.links.banner == nil || !strings.Contains(markup(u), "You copied a grant link.") {
		t.Fatal("a grant link is not offered")
	}
	test.Tap(u.links.banner.dismiss)
	if u.links.banner != nil || strings.Contains(markup(u), clipboardQuestion) || u.tabNow() != tabRecords || u.withMe.link.Text != "" {
		t.Fatalf("after Not now: tab %q, box %.20q", u.tabNow(), u.withMe.link.Text)
	}
	// The wallet's screen is whole again: its tabs work.
	tapTab(t, u, tabWithMe)
	if u.withMe.link.Text != "" {
		t.Fatal("Not now filled in the link")
	}
}

// TestKnownLink: the links this wallet made or received, in whatever form
// they were kept, are known; others are not.
func TestKnownLink(t *testing.T) {
	g := sealedGrantLink(t)
	bare, viewed := fixedSHL(t, ""), fixedSHL(t, "https://viewer.example.org/view")
	grants := []wallet.GrantRecord{{Direction: wallet.Issued, Link: g[:50] + "\n" + g[50:]}, {Direction: wallet.Received, Link: ""}}
	shls := []wallet.SHLRecord{{Link: viewed}}
	if !knownLink(g, grants, shls) || !knownLink(bare, grants, shls) {
		t.Fatal("a link of this wallet is not known")
	}
	if knownLink(g, grants[1:], nil) || knownLink(bare, grants, nil) || knownLink(sealedGrantLink(t), grants, shls) {
		t.Fatal("another link is known")
	}
}
