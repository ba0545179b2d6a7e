package wallet

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"

	"github.com/healthwallet/healthwallet/ipfs"
	"github.com/healthwallet/healthwallet/share/grant"
	"github.com/healthwallet/healthwallet/share/live"
	"github.com/healthwallet/healthwallet/share/revocation"
	"github.com/healthwallet/healthwallet/share/serve"
	"github.com/healthwallet/healthwallet/share/shl"
	"github.com/healthwallet/healthwallet/wallet/identity"
)

const darronAddr = "0x03D8aC9e1A0d6D6b9f6f1b32E7a1c0F2d4E5b6A7"

func darronNames(who string) string {
	if who == darronAddr {
		return "Darron"
	}
	return ""
}

// TestExplainEveryReason: every refusal of redeem, SHL open and live
// follow reads as its own sentence, with the error itself as the details.
func TestExplainEveryReason(t *testing.T) {
	by := func(err error) error { return &SharedByError{Sharer: darronAddr, Err: err} }
	revokedAt := &grant.VerifyError{Reason: grant.ErrRevoked, Detail: "at 2026-12-01T09:30:00Z"}
	for _, c := range []struct {
		err  error
		want string
	}{
		{grant.ErrNotAddressed, "This link was made for someone else."},
		{by(&grant.VerifyError{Link: 1, Reason: grant.ErrWrongGrantee, Detail: "this wallet is not the grantee"}), "This link was made for someone else."},
		{&OtherPatientError{Name: "Martha DeLarosa", BirthDate: "1972-05-01", Own: Person{Name: "Jane Doe"}}, "These records are for Martha DeLarosa, born 1 May 1972, not for you."},
		{by(&RevokedByProviderError{Provider: "the patient's node 12D3KooW", Err: fmt.Errorf("%w: grant revoked", serve.ErrRefused)}), "Darron withdrew this share; ask for a new one."},
		{by(revokedAt), "Darron withdrew this share on 1 Dec 2026; ask for a new one."},
		{fmt.Errorf("live grant x: %w", by(revokedAt)), "Darron withdrew this share on 1 Dec 2026; ask for a new one."},
		{revokedAt, "The person who shared it withdrew this share on 1 Dec 2026; ask for a new one."},
		{grant.ErrRevoked, "The person who shared it withdrew this share; ask for a new one."},
		{&shl.StatusError{Code: 404, Msg: "link revoked"}, "The person who shared it withdrew this link; ask for a new one."},
		{by(&grant.VerifyError{Reason: grant.ErrExpired, Detail: "at 2026-11-30T23:00:00Z"}), "This share ended on 30 Nov 2026; ask Darron for a new one."},
		{grant.ErrExpired, "This share has ended; ask the person who shared it for a new one."},
		{shl.ErrExpired, "This link has expired; ask the person who shared it for a new one."},
		{&grant.VerifyError{Reason: grant.ErrNotYetValid, Detail: "valid from 2027-01-02T08:00:00Z"}, "This share opens on 2 Jan 2027; try again then."},
		{grant.ErrNotYetValid, "This share is not open yet; try again later."},
		{by(grant.ErrTooLong), "This share lasts longer than a share may (a year); ask Darron for a new one."},
		{&shl.PasscodeError{Remaining: 0}, "Too many wrong passcodes: this link is locked; ask the person who shared it for a new one."},
		{shl.ErrLocked, "Too many wrong passcodes: this link is locked; ask the person who shared it for a new one."},
		{&shl.PasscodeError{Remaining: 1}, "The passcode is wrong; 1 try is left."},
		{&shl.PasscodeError{Remaining: 4}, "The passcode is wrong; 4 tries are left."},
		{ErrPasscodeNeeded, "This link needs its passcode; ask the person who shared it for it."},
		{shl.ErrPasscode, "This link needs its passcode; ask the person who shared it for it."},
		{fmt.Errorf("%w: truncated", grant.ErrMalformed), "The link looks cut off; copy all of it again."},
		{fmt.Errorf("shl: %w: payload", shl.ErrMalformed), "The link looks cut off; copy all of it again."},
		{shl.ErrKey, "The link looks cut off; copy all of it again."},
		{shl.ErrFlag, "The link looks cut off; copy all of it again."},
		{identity.ErrBadAddress, "The link looks cut off; copy all of it again."},
		{by(grant.ErrBadSignature), "This share's signature does not check out, so it may have been altered; ask Darron to share again."},
		{grant.ErrBrokenChain, "This re-shared link does not match the share it came from; ask the person who shared it for a new one."},
		{grant.ErrOtherProviders, "This re-shared link does not match the share it came from; ask the person who shared it for a new one."},
		{by(grant.ErrNotGranted), "This share does not allow that (for example saving a copy outside the wallet); ask Darron for one that does."},
		{grant.ErrWrongKey, "The shared records arrived damaged or do not open with the share's key; ask the person who shared it to share again."},
		{&ipfs.ObjectError{Err: ipfs.ErrTampered}, "The shared records arrived damaged or do not open with the share's key; ask the person who shared it to share again."},
		{by(live.ErrSignature), "The newest version of this live share does not check out; the last good one is kept. Tell Darron."},
		{live.ErrBinding, "The newest version of this live share does not check out; the last good one is kept. Tell the person who shared it."},
		{live.ErrMalformed, "The newest version of this live share does not check out; the last good one is kept. Tell the person who shared it."},
		{live.ErrStale, "A keeper offered an older version of this live share than you have; yours is kept."},
		{by(grant.ErrWrongDomain), "This share was made on another network than the one this wallet checks; ask Darron which one."},
		{ErrNoChain, "This wallet is not set up to check shares yet: choose a network under Settings, Advanced."},
		{grant.ErrRevocationUnknown, "Could not check whether this share was withdrawn, because the network did not answer; try again later."},
		{revocation.ErrBehind, "Could not check whether this share was withdrawn, because the network did not answer; try again later."},
		{by(&ProvidersError{Tried: []ProviderFailure{{Provider: "the patient's node 12D3KooW", Reason: "unreachable: no route", Err: ipfs.ErrPeerUnreachable}}}), "Darron's phone and keepers are offline; try again later."},
		{&ProvidersError{}, "The sharer's phone and keepers are offline; try again later."},
		{ipfs.ErrNoPeers, "The sharer's phone and keepers are offline; try again later."},
		{ipfs.ErrNotServed, "The sharer's phone and keepers are offline; try again later."},
		{by(fmt.Errorf("fetching: %w", context.DeadlineExceeded)), "Darron's phone and keepers did not answer in time; try again later."},
		{&shl.StatusError{Code: 404}, "The server holding this link does not know it (any more); ask the person who shared it for a new one."},
		{&shl.StatusError{Code: 503, Msg: "revocation check failed"}, "The server holding this link cannot answer right now; try again later."},
		{&shl.StatusError{Code: 413}, "This link holds more than this app can open at once."},
		{&net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}, "The server holding this link cannot be reached; check your connection and try again."},
		{errors.New("something new\nand odd"), "This share could not be opened."},
	} {
		got := Explain(c.err, darronNames)
		if got.Sentence != c.want {
			t.Errorf("%v:\n got %q\nwant %q", c.err, got.Sentence, c.want)
		}
		if got.Details != strings.Join(strings.Fields(c.err.Error()), " ") || got.Details == "" || strings.Contains(got.Details, "\n") {
			t.Errorf("%v: details %q", c.err, got.Details)
		}
	}
	if e := Explain(nil, darronNames); e != (Explanation{}) {
		t.Fatalf("nil error explained as %+v", e)
	}
	if e := Explain(&SharedByError{Sharer: darronAddr, Err: grant.ErrRevoked}, nil); e.Sentence != "The person who shared it withdrew this share; ask for a new one." {
		t.Fatalf("without names: %q", e.Sentence)
	}
}

// TestContactNames: a contact is found by did:key and by address, in any
// case; a stranger is "".
func TestContactNames(t *testing.T) {
	w := newWallet(t)
	p, _ := identity.NewPhrase()
	k, err := identity.FromPhrase(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.SaveContact(Contact{Name: "Darron Feeney", DID: k.DID()}); err != nil {
		t.Fatal(err)
	}
	names, err := w.ContactNames()
	if err != nil {
		t.Fatal(err)
	}
	addr := k.Address().String()
	for _, who := range []string{k.DID(), addr, strings.ToLower(addr)} {
		if got := names.Of(who); got != "Darron Feeney" {
			t.Errorf("names(%q) = %q", who, got)
		}
	}
	if got := names.Of(darronAddr); got != "" {
		t.Errorf("a stranger is %q", got)
	}
	e := Explain(&SharedByError{Sharer: addr, Err: &ProvidersError{}}, names.Of)
	if e.Sentence != "Darron Feeney's phone and keepers are offline; try again later." {
		t.Errorf("with contact names: %q", e.Sentence)
	}
}
