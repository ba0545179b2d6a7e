package shl

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors. Every error this package returns wraps one of them, so
// callers branch with errors.Is.
var (
	// ErrMalformed: a link, payload, manifest or JWE that does not parse.
	ErrMalformed = errors.New("malformed")
	// ErrKey: a key that is not 32 bytes, or a file that does not decrypt
	// with the link's key.
	ErrKey = errors.New("bad key")
	// ErrExpired: the link's exp has passed.
	ErrExpired = errors.New("link expired")
	// ErrFlag: an unknown flag, or P and U together.
	ErrFlag = errors.New("bad flag")
	// ErrTooLarge: input or output above MaxLink, MaxJWE, MaxPlain or
	// MaxManifest.
	ErrTooLarge = errors.New("too large")
	// ErrUnknown: no such link (the server's 404).
	ErrUnknown = errors.New("unknown link")
	// ErrRevoked: the link's revocation id is revoked.
	ErrRevoked = errors.New("link revoked")
	// ErrLocked: the link's passcode attempts are used up.
	ErrLocked = errors.New("link locked")
	// ErrPasscode: a missing or wrong passcode.
	ErrPasscode = errors.New("wrong passcode")
	// ErrUnavailable: the server could not decide (for example the
	// revocation check failed); it answers 503 and the client may retry.
	ErrUnavailable = errors.New("unavailable")
)

// PasscodeError reports a refused passcode and the attempts that remain. It
// matches ErrPasscode, and ErrLocked as well when Remaining is 0.
type PasscodeError struct {
	Remaining int
}

func (e *PasscodeError) Error() string {
	if e.Remaining <= 0 {
		return "shl: link locked: no passcode attempts left"
	}
	if e.Remaining == 1 {
		return "shl: wrong passcode, 1 attempt left"
	}
	return fmt.Sprintf("shl: wrong passcode, %d attempts left", e.Remaining)
}

// Is reports whether target is ErrPasscode, or ErrLocked with no attempts
// left.
func (e *PasscodeError) Is(target error) bool {
	return target == ErrPasscode || (target == ErrLocked && e.Remaining <= 0)
}

// StatusError is an HTTP answer from an SHL server that the client could not
// use. It matches ErrUnknown for 404 (and ErrExpired or ErrRevoked when the
// server says so), ErrUnavailable for 5xx and ErrMalformed for 400.
type StatusError struct {
	Code int
	Msg  string
}

func (e *StatusError) Error() string {
	if e.Msg == "" {
		return fmt.Sprintf("shl: server answered %d", e.Code)
	}
	return fmt.Sprintf("shl: server answered %d: %s", e.Code, e.Msg)
}

// Is maps the status code (and the server's message for 404) to a sentinel.
func (e *StatusError) Is(target error) bool {
	switch {
	case e.Code == 404:
		m := strings.ToLower(e.Msg)
		return target == ErrUnknown ||
			(target == ErrExpired && strings.Contains(m, "expired")) ||
			(target == ErrRevoked && strings.Contains(m, "revoked"))
	case e.Code >= 500:
		return target == ErrUnavailable
	case e.Code == 400:
		return target == ErrMalformed
	case e.Code == 413:
		return target == ErrTooLarge
	}
	return false
}

// oneLine trims an error text from elsewhere (a server, a library) to one
// short line.
func oneLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = s[:i]
	}
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}
