package app

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/healthwallet/healthwallet/wallet"
	"github.com/healthwallet/healthwallet/wallet/fhir"
)

// startKeeper runs a healthwallet keeper (another wallet's `keeper`) on
// loopback against the test chain; it stops with the test.
func startKeeper(t *testing.T) *wallet.Keeping {
	t.Helper()
	chain, _ := startChain(t)
	k, err := newPeerWallet(t).Keep(t.Context(), wallet.KeeperConfig{Listen: []string{"/ip4/127.0.0.1/tcp/0"}, Chain: chain})
	must(t, err)
	t.Cleanup(func() { k.Close() })
	return k
}

// grantProviders are the provider multiaddrs an issued grant names.
func grantProviders(t *testing.T, g *wallet.IssuedGrant) []string {
	t.Helper()
	var out []string
	for _, b := range g.Chain.Leaf().Providers {
		m, err := ma.NewMultiaddrBytes(b)
		must(t, err)
		out = append(out, m.String())
	}
	return out
}

// tapInDialog taps the button showing text in the topmost dialog.
func tapInDialog(t *testing.T, u *UI, text string) {
	t.Helper()
	top := u.win.Canvas().Overlays().Top()
	if top == nil {
		t.Fatalf("no dialog to tap %q in", text)
	}
	var found fyne.Tappable
	walk(top, func(o fyne.CanvasObject) {
		if tp, ok := o.(fyne.Tappable); ok && shows(o, text) {
			found = tp
		}
	})
	if found == nil {
		t.Fatalf("the dialog has no %q", text)
	}
	test.Tap(found)
	u.bg.Wait()
}

// TestKeepersInSettingsAndShare: Settings lists a keeper enrolled through
// the wallet API and one added with the form; a bad address gets a
// one-line message; a share names the keepers as providers and the result
// says where the grant is available (a keeper that is down: "will retry");
// with the node stopped, sharing still works through the keeper alone and
// the grantee redeems from it; Sync now and Remove (confirmed) work.
func TestKeepersInSettingsAndShare(t *testing.T) {
	u := openSharingWallet(t, "")
	w := u.openWallet()
	mum, office := startKeeper(t), startKeeper(t)
	specialist := newPeerWallet(t)

	tapTab(t, u, tabSettings)
	u.settings.advanced.Open(0) // keepers sit under Advanced
	s := u.settings.keepers
	if len(s.rows) != 0 || !s.sync.Disabled() {
		t.Fatalf("%d keepers listed, sync enabled %v, before any was added", len(s.rows), !s.sync.Disabled())
	}
	mustContain(t, "settings", markup(u), "No keepers yet")

	// Enrolled through the wallet API: listed when Settings shows again.
	if _, err := w.AddKeeper(t.Context(), mum.Addrs()[0], "Mum's PC"); err != nil {
		t.Fatal(err)
	}
	tapTab(t, u, tabRecords)
	tapTab(t, u, tabSettings)
	if len(s.rows) != 1 {
		t.Fatalf("%d keepers listed", len(s.rows))
	}
	mustContain(t, "keeper", s.rows[0].text.Text, "Mum's PC · keeper · reachable · holds 0 packages · last sync ")

	// A bad address: one line, nothing added.
	test.Type(s.addr, "/ip4/127.0.0.1/tcp/4101")
	test.Tap(s.add)
	u.bg.Wait()
	mustContain(t, "status", s.status.Text, "A keeper address is a multiaddr ending in /p2p/PEERID")
	if strings.Contains(s.status.Text, "\n") || len(s.rows) != 1 {
		t.Fatalf("status %q, %d keepers", s.status.Text, len(s.rows))
	}
	// The form adds the office keeper.
	s.addr.SetText("")
	test.Type(s.addr, office.Addrs()[0])
	test.Type(s.name, "Office")
	test.Tap(s.add)
	u.bg.Wait()
	mustContain(t, "status", s.status.Text, "Added Office")
	if len(s.rows) != 2 || s.rows[1].keeper.Name != "Office" || s.rows[1].keeper.PeerID != office.PeerID() || s.addr.Text != "" {
		t.Fatalf("keepers %+v, address box %q", s.rows, s.addr.Text)
	}

	// The office goes down; a share is available from this device and
	// Mum's PC, and the office gets it later.
	officeAddr := office.Addrs()[0]
	office.Close()
	g := shareWith(t, u, specialist.Info().DID, fhir.Labs)
	if got, want := u.share.result.avail.Text, "Available from: this device, Mum's PC, Office (will retry)"; got != want {
		t.Fatalf("share result says %q, want %q", got, want)
	}
	shown := false
	walk(u.share.result.content, func(o fyne.CanvasObject) { shown = shown || o == u.share.result.avail })
	if !shown {
		t.Fatal("the share result does not show where the grant is available")
	}
	providers := grantProviders(t, g)
	for _, p := range []string{mum.Addrs()[0], mum.Addrs()[0] + "/p2p-circuit/p2p/" + w.Info().PeerID} {
		if !slices.Contains(providers, p) {
			t.Fatalf("grant providers %v lack %s", providers, p)
		}
	}
	test.Tap(u.share.result.again)

	// Sync now: Mum's PC holds the grant's packages, the office is not
	// reached.
	tapTab(t, u, tabSettings)
	test.Tap(s.sync)
	u.bg.Wait()
	mustContain(t, "status", s.status.Text, "not reached: Office")
	ks, err := w.Keepers()
	must(t, err)
	if ks[0].Held == 0 || ks[1].Reachable {
		t.Fatalf("keepers after sync %+v", ks)
	}
	mustContain(t, "keeper", s.rows[0].text.Text, fmt.Sprintf("holds %d package", ks[0].Held), "last sync "+dateTime(ks[0].LastSync))
	mustContain(t, "keeper", s.rows[1].text.Text, "Office · keeper · not reachable")

	// The phone locks its node: sharing still works, from Mum's PC only,
	// and the specialist redeems from there.
	u.stopNode()
	g = shareWith(t, u, specialist.Info().DID, fhir.Medications)
	if got := u.share.result.avail.Text; got != "Available from: Mum's PC, Office (will retry)" {
		t.Fatalf("share result with the node stopped says %q", got)
	}
	for _, p := range grantProviders(t, g) {
		if !strings.HasPrefix(p, mum.Addrs()[0]) && !strings.HasPrefix(p, officeAddr) {
			t.Fatalf("grant with the node stopped names provider %s", p)
		}
	}
	var bundle bytes.Buffer
	if _, err := specialist.Redeem(t.Context(), g.Link, testChain.cfg, wallet.RedeemOptions{Out: &bundle, Listen: u.opts.RedeemListen}); err != nil {
		t.Fatalf("redeem from the keeper: %v", err)
	}
	if !bytes.Contains(bundle.Bytes(), []byte("Hydrochlorothiazide")) {
		t.Fatal("the bundle fetched from the keeper is not the selection")
	}
	test.Tap(u.share.result.again)

	// Remove asks first; Mum's PC forgets this wallet.
	tapTab(t, u, tabSettings)
	test.Tap(s.rows[0].remove)
	tapInDialog(t, u, "Yes")
	mustContain(t, "status", s.status.Text, "Removed Mum's PC")
	if len(s.rows) != 1 || s.rows[0].keeper.Name != "Office" {
		t.Fatalf("keepers after removal %+v", s.rows)
	}
}
