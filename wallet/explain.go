package wallet

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/healthwallet/healthwallet/ipfs"
	"github.com/healthwallet/healthwallet/share/grant"
	"github.com/healthwallet/healthwallet/share/live"
	"github.com/healthwallet/healthwallet/share/revocation"
	"github.com/healthwallet/healthwallet/share/shl"
	"github.com/healthwallet/healthwallet/wallet/identity"
)

// SharedByError is a share that could not be opened, with who shared it:
// Redeem and RefreshReceived wrap their errors in it once the grant names
// its issuer, so [Explain] can say "Darron withdrew this share".
type SharedByError struct {
	// Sharer is the grant's issuer as grants name people: an address
	// ("0x…").
	Sharer string
	Err    error
}

func (e *SharedByError) Error() string { return e.Err.Error() }

// Unwrap returns the reason.
func (e *SharedByError) Unwrap() error { return e.Err }

// Explanation is why a share, a SMART Health Link or a live share's new
// version could not be opened, told to a person.
type Explanation struct {
	// Sentence is one sentence a person understands, ending with what to
	// do: "Darron withdrew this share on 1 Dec 2026; ask for a new one."
	Sentence string
	// Details is the technical reason (the error's own text, one line),
	// for a "Details" toggle or a "details:" line.
	Details string
}

// Explain words a refusal of Redeem, OpenSHL or RefreshReceived / FollowLive
// for the person who met it. names, if not nil, turns who shared (an
// address, or a did:key) into a contact's name, or "" when the person is
// not a contact (see [Wallet.ContactNames] and [Names.Of]). An error it does not know
// gets a general sentence; Details always carries the error itself.
//
// Dates are written in UTC ("1 Dec 2026").
func Explain(err error, names func(who string) string) Explanation {
	if err == nil {
		return Explanation{}
	}
	who := ""
	var sb *SharedByError
	if errors.As(err, &sb) && names != nil {
		who = names(sb.Sharer)
	}
	return Explanation{Sentence: capitalise(sentence(err, who)), Details: strings.Join(strings.Fields(err.Error()), " ")}
}

// sentence picks the sentence for err; who is the sharer's name or "".
func sentence(err error, who string) string {
	sharer, sharers := "the person who shared it", "the sharer's"
	if who != "" {
		sharer, sharers = who, who+"'s"
	}
	var (
		ve    *grant.VerifyError
		pe    *shl.PasscodeError
		other *OtherPatientError
		rp    *RevokedByProviderError
		ne    net.Error
	)
	switch {
	// Who it is for.
	case errors.Is(err, grant.ErrNotAddressed), errors.Is(err, grant.ErrWrongGrantee):
		return "This link was made for someone else."
	case errors.As(err, &other):
		return fmt.Sprintf("These records are for %s, not for you.", Person{Name: other.Name, BirthDate: other.BirthDate}.Label())

	// Withdrawn, ended, not yet.
	case errors.As(err, &rp):
		return sharer + " withdrew this share; ask for a new one."
	case errors.As(err, &ve) && errors.Is(ve.Reason, grant.ErrRevoked):
		if d := detailDate(ve.Detail); d != "" {
			return fmt.Sprintf("%s withdrew this share on %s; ask for a new one.", sharer, d)
		}
		return sharer + " withdrew this share; ask for a new one."
	case errors.Is(err, grant.ErrRevoked):
		return sharer + " withdrew this share; ask for a new one."
	case errors.Is(err, shl.ErrRevoked):
		return sharer + " withdrew this link; ask for a new one."
	case errors.As(err, &ve) && errors.Is(ve.Reason, grant.ErrExpired):
		if d := detailDate(ve.Detail); d != "" {
			return fmt.Sprintf("This share ended on %s; ask %s for a new one.", d, sharer)
		}
		return "This share has ended; ask " + sharer + " for a new one."
	case errors.Is(err, grant.ErrExpired):
		return "This share has ended; ask " + sharer + " for a new one."
	case errors.Is(err, shl.ErrExpired):
		return "This link has expired; ask " + sharer + " for a new one."
	case errors.As(err, &ve) && errors.Is(ve.Reason, grant.ErrNotYetValid):
		if d := detailDate(ve.Detail); d != "" {
			return fmt.Sprintf("This share opens on %s; try again then.", d)
		}
		return "This share is not open yet; try again later."
	case errors.Is(err, grant.ErrNotYetValid):
		return "This share is not open yet; try again later."
	case errors.Is(err, grant.ErrTooLong):
		return "This share lasts longer than a share may (a year); ask " + sharer + " for a new one."

	// Passcodes.
	case errors.As(err, &pe) && pe.Remaining <= 0, errors.Is(err, shl.ErrLocked):
		return "Too many wrong passcodes: this link is locked; ask " + sharer + " for a new one."
	case errors.As(err, &pe) && pe.Remaining == 1:
		return "The passcode is wrong; 1 try is left."
	case errors.As(err, &pe):
		return fmt.Sprintf("The passcode is wrong; %d tries are left.", pe.Remaining)
	case errors.Is(err, ErrPasscodeNeeded), errors.Is(err, shl.ErrPasscode):
		return "This link needs its passcode; ask " + sharer + " for it."

	// Damaged or altered.
	case errors.Is(err, grant.ErrMalformed), errors.Is(err, shl.ErrMalformed), errors.Is(err, shl.ErrKey),
		errors.Is(err, shl.ErrFlag), errors.Is(err, identity.ErrBadAddress):
		return "The link looks cut off; copy all of it again."
	case errors.Is(err, grant.ErrBadSignature):
		return "This share's signature does not check out, so it may have been altered; ask " + sharer + " to share again."
	case errors.Is(err, grant.ErrBrokenChain), errors.Is(err, grant.ErrWidened):
		return "This re-shared link does not match the share it came from; ask " + sharer + " for a new one."
	case errors.Is(err, grant.ErrNotGranted):
		return "This share does not allow that (for example saving a copy outside the wallet); ask " + sharer + " for one that does."
	case errors.Is(err, grant.ErrWrongKey), errors.Is(err, ipfs.ErrTampered):
		return "The shared records arrived damaged or do not open with the share's key; ask " + sharer + " to share again."
	case errors.Is(err, live.ErrSignature), errors.Is(err, live.ErrBinding), errors.Is(err, live.ErrMalformed):
		return "The newest version of this live share does not check out; the last good one is kept. Tell " + sharer + "."
	case errors.Is(err, live.ErrStale):
		return "A keeper offered an older version of this live share than you have; yours is kept."

	// Networks and places.
	case errors.Is(err, grant.ErrWrongDomain):
		return "This share was made on another network than the one this wallet checks; ask " + sharer + " which one."
	case errors.Is(err, ErrNoChain):
		return "This wallet is not set up to check shares yet: choose a network under Settings, Advanced."
	case errors.Is(err, grant.ErrRevocationUnknown), errors.Is(err, revocation.ErrUnreachable):
		return "Could not check whether this share was withdrawn, because the network did not answer; try again later."
	case errors.Is(err, ErrNoProviderServed), errors.Is(err, ipfs.ErrNoPeers), errors.Is(err, ipfs.ErrPeerUnreachable), errors.Is(err, ipfs.ErrNotServed):
		return capitalise(sharers) + " phone and keepers are offline; try again later."
	case errors.Is(err, shl.ErrUnknown):
		return "The server holding this link does not know it (any more); ask " + sharer + " for a new one."
	case errors.Is(err, shl.ErrUnavailable):
		return "The server holding this link cannot answer right now; try again later."
	case errors.Is(err, shl.ErrTooLarge):
		return "This link holds more than this app can open at once."
	case errors.Is(err, context.DeadlineExceeded):
		return capitalise(sharers) + " phone and keepers did not answer in time; try again later."
	case errors.As(err, &ne):
		return "The server holding this link cannot be reached; check your connection and try again."
	}
	return "This share could not be opened."
}

// ErrPasscodeNeeded: a SMART Health Link that needs a passcode was opened
// without one.
var ErrPasscodeNeeded = errors.New("this link needs a passcode")

// detailDate reads the "at 2026-12-01T…" or "valid from …" time of a
// VerifyError's detail as "1 Dec 2026" (UTC), or "".
func detailDate(detail string) string {
	for f := range strings.FieldsSeq(detail) {
		if t, err := time.Parse(time.RFC3339, f); err == nil {
			return t.UTC().Format("2 Jan 2006")
		}
	}
	return ""
}

func capitalise(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 {
		return s
	}
	return string(unicode.ToUpper(r)) + s[n:]
}
