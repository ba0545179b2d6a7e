package vault

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/hashicorp/vault/api"
)

// Sentinel errors. Every error this package returns is an [*Error] that
// unwraps to at most one of them, so a front end can tell the user what to do
// with errors.Is. None of them means anything local was changed or lost: this
// package never touches local files, and a failed call leaves Vault's stored
// data as it was.
var (
	// ErrUnreachable: Vault could not be reached (connection refused, DNS,
	// TLS, timeout) or is not ready to serve (standby, uninitialized).
	ErrUnreachable = errors.New("vault is unreachable")
	// ErrSealed: Vault is sealed; an operator must unseal it.
	ErrSealed = errors.New("vault is sealed")
	// ErrPermissionDenied: the token is valid but its policies do not allow
	// the request, or a login was rejected (wrong password, secret ID, role).
	ErrPermissionDenied = errors.New("permission denied")
	// ErrTokenExpired: the token expired, reached its max TTL or was revoked.
	// The user must log in again.
	ErrTokenExpired = errors.New("vault token expired or revoked")
	// ErrCASConflict: a check-and-set write lost a race (the entry changed
	// since the version the caller had), or a create-only write found an
	// existing entry.
	ErrCASConflict = errors.New("check-and-set conflict")
	// ErrWrapUsed: a response-wrapping token was already unwrapped, has
	// expired, or never existed. Vault cannot tell these apart.
	ErrWrapUsed = errors.New("wrapped token already used or expired")
	// ErrNotFound: no such entry, version or Transit key.
	ErrNotFound = errors.New("not found")
	// ErrCorrupt: an entry read back from Vault fails its integrity check
	// (altered in Vault, or not written by this package).
	ErrCorrupt = errors.New("vault entry is corrupted")
)

// Error is the error type of this package.
//
// Err is the sentinel (one of the Err* variables) when one applies, otherwise
// the underlying error. Cause is the underlying error of the Vault client
// (an *api.ResponseError, a *url.Error, ...), kept for logs. Error() is a
// single line that tells the user what happened and what to do.
type Error struct {
	Op     string // what was attempted: "login", "load seed", "backup", ...
	Addr   string // the Vault address
	Err    error  // sentinel, or the underlying error when none applies
	Detail string // one line for the user: what happened and what to do
	Cause  error  // underlying error, may be nil
}

func (e *Error) Error() string {
	d := e.Detail
	if d == "" && e.Err != nil {
		d = e.Err.Error()
	}
	return "vault " + e.Op + ": " + oneLine(d)
}

// Unwrap returns the sentinel and the underlying cause, so errors.Is works for
// both (for example context.Canceled).
func (e *Error) Unwrap() []error {
	out := make([]error, 0, 2)
	if e.Err != nil {
		out = append(out, e.Err)
	}
	if e.Cause != nil && e.Cause != e.Err {
		out = append(out, e.Cause)
	}
	return out
}

// oneLine squeezes a message onto one line of reasonable length.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	const max = 300
	if len(s) > max {
		s = s[:max] + "…"
	}
	return s
}

// responseError extracts the Vault response error from err, if any.
func responseError(err error) *api.ResponseError {
	var re *api.ResponseError
	if errors.As(err, &re) {
		return re
	}
	return nil
}

func messages(re *api.ResponseError) string {
	return strings.ToLower(strings.Join(re.Errors, " "))
}

// requestPath is the Vault path of a failed request, without /v1/.
func requestPath(re *api.ResponseError) string {
	u, err := url.Parse(re.URL)
	if err != nil {
		return re.URL
	}
	return strings.TrimPrefix(u.Path, "/v1/")
}

// failure describes an error being classified.
type failure struct {
	op   string // Op of the resulting *Error
	what string // the thing acted upon, for messages: `identity "clinic"`
	// login is set while logging in: a 400 from an auth method means the
	// credentials were rejected.
	login bool
}

// classify turns any error of the Vault client into an *Error. tokenValid,
// if not nil, is asked whether the client's token is still valid when Vault
// answers 403 without saying why (see the package doc's error rules).
func classify(ctx context.Context, addr string, f failure, err error, tokenValid func() (bool, error)) error {
	if err == nil {
		return nil
	}
	var already *Error
	if errors.As(err, &already) {
		return already
	}
	e := &Error{Op: f.op, Addr: addr, Cause: err}
	where := "vault at " + addr
	if errors.Is(err, api.ErrSecretNotFound) {
		e.Err = ErrNotFound
		e.Detail = f.what + " not found in " + where
		return e
	}
	if re := responseError(err); re != nil {
		msg := messages(re)
		path := requestPath(re)
		switch {
		case strings.Contains(msg, "is sealed"):
			e.Err = ErrSealed
			e.Detail = where + " is sealed: unseal it (vault operator unseal) and retry"
		case re.StatusCode == http.StatusServiceUnavailable || (re.StatusCode == http.StatusTooManyRequests && strings.Contains(msg, "standby")):
			e.Err = ErrUnreachable
			e.Detail = where + " is not ready to serve (" + firstError(re) + "): retry later or ask its operator"
		case re.StatusCode == http.StatusForbidden && f.login:
			e.Err = ErrPermissionDenied
			e.Detail = where + " refused the login: check the credentials and the auth method's mount"
		case re.StatusCode == http.StatusForbidden:
			expired := strings.Contains(msg, "invalid token")
			if !expired && tokenValid != nil {
				// Vault answers a revoked or expired token with a bare
				// "permission denied" in some versions: ask it about the
				// token itself.
				if ok, lerr := tokenValid(); lerr == nil && !ok {
					expired = true
				}
			}
			if expired {
				e.Err = ErrTokenExpired
				e.Detail = "your session with " + where + " has expired or was revoked: log in again"
			} else {
				e.Err = ErrPermissionDenied
				e.Detail = where + " denied access to " + path + ": ask its administrator for a policy that allows it"
			}
		case re.StatusCode == http.StatusBadRequest && f.login:
			e.Err = ErrPermissionDenied
			e.Detail = where + " refused the login (" + firstError(re) + "): check the credentials"
		case strings.Contains(msg, "check-and-set parameter did not match"):
			e.Err = ErrCASConflict
			e.Detail = f.what + " changed in vault since the version you had: read the current version and retry"
		case strings.Contains(msg, "wrapping token is not valid"):
			e.Err = ErrWrapUsed
			e.Detail = wrapUsedDetail
		case strings.Contains(msg, "encryption key not found"):
			e.Err = ErrNotFound
			e.Detail = "the transit key for " + f.what + " does not exist in " + where + ": ask its administrator to create it"
		case re.StatusCode == http.StatusNotFound:
			e.Err = ErrNotFound
			e.Detail = f.what + " not found in " + where + " (" + path + ")"
		default:
			e.Err = err
			e.Detail = fmt.Sprintf("%s answered %d for %s: %s", where, re.StatusCode, path, firstError(re))
		}
		return e
	}

	switch {
	case errors.Is(err, context.Canceled):
		e.Err = context.Canceled
		e.Detail = "canceled; nothing was changed"
		return e
	case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		e.Err = ErrUnreachable
		e.Detail = where + " did not answer in time: check your network and retry"
		return e
	}
	var certErr *tls.CertificateVerificationError
	var unknownCA x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	if errors.As(err, &certErr) || errors.As(err, &unknownCA) || errors.As(err, &hostErr) {
		e.Err = ErrUnreachable
		e.Detail = "the TLS certificate of " + where + " is not trusted: check the address or configure its CA certificate"
		return e
	}
	var urlErr *url.Error
	var netErr net.Error
	var opErr *net.OpError
	var dnsErr *net.DNSError
	if errors.As(err, &opErr) || errors.As(err, &dnsErr) || errors.As(err, &netErr) || errors.As(err, &urlErr) {
		e.Err = ErrUnreachable
		e.Detail = "cannot reach " + where + " (" + netReason(err) + "): check the address and your network, then retry"
		return e
	}
	e.Err = err
	e.Detail = err.Error()
	return e
}

const wrapUsedDetail = "this handover was already opened or has expired (vault cannot tell which): " +
	"ask the sender for a new one, and tell them if you did not open it yourself"

func firstError(re *api.ResponseError) string {
	for _, m := range re.Errors {
		if m = oneLine(m); m != "" {
			return m
		}
	}
	return http.StatusText(re.StatusCode)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// netReason is a short reason for a network failure.
func netReason(err error) string {
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return "unknown host " + dnsErr.Name
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) && opErr.Err != nil {
		s := opErr.Err.Error()
		if i := strings.LastIndex(s, ": "); i >= 0 {
			s = s[i+2:]
		}
		return s
	}
	var urlErr *url.Error
	if errors.As(err, &urlErr) && urlErr.Err != nil {
		return oneLine(urlErr.Err.Error())
	}
	return oneLine(err.Error())
}

// validation errors are not about Vault, but share the type.
func invalid(op, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	return &Error{Op: op, Err: errors.New(msg), Detail: msg}
}

// lookupTimeout bounds the token lookup used to tell an expired token from a
// missing permission.
const lookupTimeout = 5 * time.Second
