package app

import (
	"errors"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

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
	if v.list.Length() != 1 || v.grants[0].ID != issued.Record.ID {
		t.Fatalf("%d grants listed", v.list.Length())
	}
	mustContain(t, "list", markup(u), "active", issued.Record.Summary)
	v.list.Select(0)
	u.bg.Wait()
	p := v.detail
	mustContain(t, "status", p.status.Text, "Active: until")
	page := markup(u)
	// What it covers, and who used it.
	mustContain(t, "grant page", page, "Records it covers", "Access log", "served", shortAddress(specialist.Info().Address))
	if len(p.records.Objects) == 0 {
		t.Fatal("no records listed")
	}
	assertScreenNormalized(t, u, "shared-by-me")

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
	u.byMe.list.Select(0)
	p := u.byMe.detail
	test.Tap(p.revoke)
	p.confirm.Confirm()
	u.bg.Wait()
	mustContain(t, "failure", p.step.Text, "relay", "unreachable")
	if strings.Contains(p.step.Text, "\n") || p.revoke.Disabled() || !strings.HasPrefix(p.status.Text, "Revocation pending") {
		t.Fatalf("after a failed revoke: %q, %q", p.step.Text, p.status.Text)
	}
}
