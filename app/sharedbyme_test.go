package app

import (
	"errors"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/healthwallet/healthwallet/share/grant"
	"github.com/healthwallet/healthwallet/wallet"
	"github.com/healthwallet/healthwallet/wallet/fhir"
)

func TestSharedByMeAccessLogAndRevoke(t *testing.T) {
	u := openSharingWallet(t, phraseRevoker)
	specialist := newPeerWalletOf(t, phraseRevokee)
	issued := shareWith(t, u, specialist.Info().DID, fhir.Labs)
	opts := wallet.RedeemOptions{Listen: u.opts.RedeemListen}
	if _, err := specialist.Redeem(t.Context(), issued.Link, testChain.cfg, opts); err != nil {
		t.Fatalf("redeem: %v", err)
	}

	tapTab(t, u, tabByMe)
	v := u.byMe
	if len(v.rows) != 1 || v.grants[0].ID != issued.Record.ID {
		t.Fatalf("%d shares listed", len(v.rows))
	}
	// The access log comes first; the specialist is not a contact yet, so
	// the log and the group name them by key, with "Add as contact".
	list := labelTexts(v.master)
	newcomer := "Someone new (" + shortDID(specialist.Info().DID) + ")"
	mustContain(t, "list", list, "active", issued.Record.Summary, newcomer+" opened · "+issued.Record.Summary,
		newcomer+" · 1 share", "Add as contact", "opens from this device only")
	if strings.Index(list, "Access log") > strings.Index(list, "\n"+issued.Record.Summary+"\n") {
		t.Fatal("the access log does not come first")
	}
	test.Tap(v.rows[0])
	u.bg.Wait()
	p := v.detail
	mustContain(t, "status", p.status.Text, "Active: until")
	// What it covers, where it opens, and who used it.
	mustContain(t, "where", p.where.where.Text, "Can be opened now from: this device.")
	mustContain(t, "lock warning", p.where.warning.Text, "Only this device serves it", "after 5 minutes without use", "Add a keeper")
	if !p.where.warning.Visible() {
		t.Fatal("the lock warning is hidden")
	}
	mustContain(t, "grant page", labelTexts(p.content), "Records it covers", "Access log", "Where it can be opened", newcomer+" opened")
	if len(p.records.Objects) == 0 {
		t.Fatal("no records listed")
	}
	assertScreenNormalized(t, u, "shared-by-me")

	// Named from the access log: every list says the name from then on.
	tapTab(t, u, tabRecords)
	tapTab(t, u, tabByMe)
	tapTextIn(t, u, v.recent, "Add as contact")
	form := u.win.Canvas().Overlays().Top()
	var name *widget.Entry
	walk(form, func(o fyne.CanvasObject) {
		if e, ok := o.(*widget.Entry); ok {
			name = e
		}
	})
	test.Type(name, "Dr Osei, endocrinology")
	tapInDialog(t, u, "Save")
	u.bg.Wait()
	list = labelTexts(v.master)
	mustContain(t, "named list", list, "Dr Osei, endocrinology opened · "+issued.Record.Summary, "Dr Osei, endocrinology · 1 share")
	if strings.Contains(list, "Someone new") || strings.Contains(list, "Add as contact") {
		t.Fatal("still named by key after saving the contact")
	}
	test.Tap(v.rows[0])
	u.bg.Wait()
	p = v.detail
	mustContain(t, "named page", labelTexts(p.content), "Dr Osei, endocrinology opened")

	// Revoke asks first; cancelling changes nothing.
	test.Tap(p.revoke)
	if p.confirm == nil {
		t.Fatal("no confirmation asked")
	}
	p.confirm.Dismiss()
	u.bg.Wait()
	if g, _ := u.openWallet().FindGrant(issued.Record.Hash); !g.RevokedAt.IsZero() {
		t.Fatal("revoked without confirmation")
	}
	test.Tap(p.revoke)
	p.confirm.Confirm()
	u.bg.Wait()
	mustContain(t, "revocation", p.step.Text, "The registry confirmed the revocation")
	mustContain(t, "status", p.status.Text, "Revoked")
	if !p.revoke.Disabled() {
		t.Fatal("Revoke still enabled")
	}
	if p.where.where.Text != "Nobody can open it any more: it is revoked." || p.where.warning.Visible() {
		t.Fatalf("where after revoke: %q, warning shown %v", p.where.where.Text, p.where.warning.Visible())
	}
	if g, _ := u.openWallet().FindGrant(issued.Record.Hash); g.RevokedAt.IsZero() || g.RevokeTx == "" {
		t.Fatalf("wallet grant after revoke: %+v", g)
	}
	// The list follows, and the grantee is refused from now on.
	u.bg.Wait()
	if v.grants[0].Status(u.now()) != "revoked" {
		t.Fatalf("list status %q", v.grants[0].Status(u.now()))
	}
	if _, err := specialist.Redeem(t.Context(), issued.Link, testChain.cfg, opts); !errors.Is(err, grant.ErrRevoked) {
		t.Fatalf("redeem after revoke: %v", err)
	}
}

// TestRevokeFailureIsShown: when the relay cannot be reached, the page says
// so in one line, and the grant is pending (the patient's node refuses it
// already; the chain does not), with Revoke still there to retry.
func TestRevokeFailureIsShown(t *testing.T) {
	chain, _ := startChain(t)
	u := openTestWallet(t, Options{Chain: &chain, Getenv: func(k string) string {
		if k == "HW_RELAY" {
			return "127.0.0.1:1"
		}
		return ""
	}})
	importFixture(t, u, "Liz_Conn")
	shareWith(t, u, newPeerWallet(t).Info().DID, fhir.Vitals)
	tapTab(t, u, tabByMe)
	test.Tap(u.byMe.rows[0])
	p := u.byMe.detail
	test.Tap(p.revoke)
	p.confirm.Confirm()
	u.bg.Wait()
	mustContain(t, "failure", p.step.Text, "relay", "unreachable")
	if strings.Contains(p.step.Text, "\n") || p.revoke.Disabled() || !strings.HasPrefix(p.status.Text, "Revocation pending") {
		t.Fatalf("after a failed revoke: %q, %q", p.step.Text, p.status.Text)
	}
}

// tapTextIn taps the button showing text inside o.
func tapTextIn(t *testing.T, u *UI, o fyne.CanvasObject, text string) {
	t.Helper()
	var found fyne.Tappable
	walk(o, func(c fyne.CanvasObject) {
		if b, ok := c.(*widget.Button); ok && b.Text == text && found == nil {
			found = b
		}
	})
	if found == nil {
		t.Fatalf("no %q button", text)
	}
	test.Tap(found)
	u.bg.Wait()
}

// labelTexts is the text of every label and card title under o, one a
// line (the markup splits wrapped labels into lines).
func labelTexts(o fyne.CanvasObject) string {
	var out []string
	walk(o, func(c fyne.CanvasObject) {
		switch x := c.(type) {
		case *widget.Label:
			out = append(out, x.Text)
		case *widget.Card:
			out = append(out, x.Title)
		case *widget.Button:
			out = append(out, x.Text)
		}
	})
	return strings.Join(out, "\n")
}
