package grant

import (
	"errors"
	"fmt"
)

// Reasons a grant is refused. Verify returns a [*VerifyError] wrapping one
// of them, so callers branch with errors.Is and users read Error().
var (
	ErrMalformed         = errors.New("grant is malformed")
	ErrBadSignature      = errors.New("bad grant signature")
	ErrWrongDomain       = errors.New("grant is for another chain or registry")
	ErrNotYetValid       = errors.New("grant is not valid yet")
	ErrExpired           = errors.New("grant expired")
	ErrTooLong           = errors.New("grant lifetime is over the maximum")
	ErrWrongGrantee      = errors.New("grant belongs to another wallet")
	ErrNotGranted        = errors.New("not granted")
	ErrBrokenChain       = errors.New("delegation chain is broken")
	ErrWidened           = errors.New("delegation widens what its parent granted")
	ErrRevoked           = errors.New("grant revoked")
	ErrRevocationUnknown = errors.New("revocation status unknown")
	ErrWrongKey          = errors.New("package key does not open")
)

// VerifyError says which link of a chain failed and why.
type VerifyError struct {
	Link   int   // 0 is the patient's grant; the presented grant is last
	Reason error // one of the Err* values above
	Detail string
}

func (e *VerifyError) Error() string {
	msg := e.Reason.Error()
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	if e.Link > 0 {
		msg = fmt.Sprintf("%s (delegation %d)", msg, e.Link)
	}
	return msg
}

func (e *VerifyError) Unwrap() error { return e.Reason }

func refuse(link int, reason error, format string, args ...any) error {
	return &VerifyError{Link: link, Reason: reason, Detail: fmt.Sprintf(format, args...)}
}
