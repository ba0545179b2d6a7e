package vault

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"syscall"
	"testing"

	"github.com/hashicorp/vault/api"
)

// TestClassifyRules pins the error rules of the package doc on the shapes of
// error the api client returns. The integration tests provoke each of them
// for real; this covers the branches a current Vault does not take (a bare
// 403 for a dead token, as older servers send).
func TestClassifyRules(t *testing.T) {
	const addr = "http://127.0.0.1:8200"
	resp := func(code int, msgs ...string) error {
		return fmt.Errorf("error writing secret: %w", &api.ResponseError{
			HTTPMethod: "PUT", URL: addr + "/v1/secret/data/healthwallet/escrow/p", StatusCode: code, Errors: msgs,
		})
	}
	valid := func(ok bool) func() (bool, error) { return func() (bool, error) { return ok, nil } }
	refused := &url.Error{Op: "Put", URL: addr, Err: &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}}
	for _, c := range []struct {
		name       string
		err        error
		login      bool
		tokenValid func() (bool, error)
		want       error
		msg        string
	}{
		{"sealed", resp(503, "Vault is sealed"), false, nil, ErrSealed, "is sealed: unseal it"},
		{"openbao sealed", resp(503, "OpenBao is sealed"), false, nil, ErrSealed, "unseal"},
		{"standby", resp(503, "node is in standby"), false, nil, ErrUnreachable, "not ready"},
		{"invalid token", resp(403, "2 errors occurred:\n\t* permission denied\n\t* invalid token\n\n"), false, valid(true), ErrTokenExpired, "log in again"},
		{"bare 403, token dead", resp(403, "permission denied"), false, valid(false), ErrTokenExpired, "log in again"},
		{"bare 403, token fine", resp(403, "permission denied"), false, valid(true), ErrPermissionDenied, "denied access to secret/data/healthwallet/escrow/p"},
		{"bare 403, lookup fails", resp(403, "permission denied"), false, func() (bool, error) { return false, errors.New("x") }, ErrPermissionDenied, "policy"},
		{"login 400", resp(400, "invalid username or password"), true, nil, ErrPermissionDenied, "refused the login"},
		{"login 403", resp(403, "permission denied"), true, nil, ErrPermissionDenied, "refused the login"},
		{"cas", resp(400, "check-and-set parameter did not match the current version"), false, nil, ErrCASConflict, "changed"},
		{"wrap used", resp(400, "wrapping token is not valid or does not exist"), false, nil, ErrWrapUsed, "cannot tell which"},
		{"404", resp(404), false, nil, ErrNotFound, "not found"},
		{"transit key", resp(400, "encryption key not found"), false, nil, ErrNotFound, "transit key"},
		{"kv not found", fmt.Errorf("%w: at secret/data/x", api.ErrSecretNotFound), false, nil, ErrNotFound, "not found"},
		{"refused", refused, false, nil, ErrUnreachable, "connection refused"},
		{"dns", &url.Error{Op: "Get", URL: addr, Err: &net.DNSError{Name: "vault.invalid", IsNotFound: true}}, false, nil, ErrUnreachable, "unknown host vault.invalid"},
		{"deadline", context.DeadlineExceeded, false, nil, ErrUnreachable, "in time"},
		{"canceled", context.Canceled, false, nil, context.Canceled, "canceled"},
	} {
		err := classify(context.Background(), addr, failure{op: "backup", what: `backup "p"`, login: c.login}, c.err, c.tokenValid)
		var e *Error
		if !errors.As(err, &e) {
			t.Errorf("%s: %T is not *Error", c.name, err)
			continue
		}
		if !errors.Is(err, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, err, c.want)
		}
		for _, s := range sentinels {
			if s != c.want && errors.Is(err, s) {
				t.Errorf("%s: also matches %v", c.name, s)
			}
		}
		if msg := err.Error(); !strings.Contains(msg, c.msg) || strings.ContainsAny(msg, "\n\t") || !strings.HasPrefix(msg, "vault backup: ") {
			t.Errorf("%s: message %q, want one line containing %q", c.name, msg, c.msg)
		}
		if e.Cause == nil {
			t.Errorf("%s: no cause kept", c.name)
		}
	}
}

var sentinels = []error{ErrUnreachable, ErrSealed, ErrPermissionDenied, ErrTokenExpired, ErrCASConflict, ErrWrapUsed, ErrNotFound, ErrCorrupt, ErrInvalidLink}

func TestSentinelsDistinct(t *testing.T) {
	seen := map[string]bool{}
	for _, s := range sentinels {
		if seen[s.Error()] {
			t.Errorf("two sentinels say %q", s)
		}
		seen[s.Error()] = true
	}
}

func TestValidationWithoutServer(t *testing.T) {
	ac, err := newAPIClient(Config{Addr: "http://127.0.0.1:1"}.withDefaults())
	if err != nil {
		t.Fatal(err)
	}
	c := &Client{cfg: Config{}.withDefaults(), api: ac, login: &api.Secret{Auth: &api.SecretAuth{}}}
	ctx := context.Background()
	for name, err := range map[string]error{
		"plain keystore": func() error { _, err := c.Backup(ctx, "p", []byte(`{"entropy":"00"}`), NoCAS); return err }(),
		"empty keystore": func() error { _, err := c.Backup(ctx, "p", nil, NoCAS); return err }(),
		"bad cas":        func() error { _, err := c.Backup(ctx, "p", fakeKeystore(t, "x"), -2); return err }(),
		"slash name":     func() error { _, err := c.Backup(ctx, "a/b", fakeKeystore(t, "x"), NoCAS); return err }(),
		"dotdot name":    func() error { _, _, err := c.Restore(ctx, "a..b", 0); return err }(),
		"short seed":     c.StoreSeed(ctx, "c", make([]byte, 12)),
		"odd seed":       c.StoreSeed(ctx, "c", make([]byte, 17)),
		"long seed":      c.StoreSeed(ctx, "c", make([]byte, 36)),
	} {
		var e *Error
		if !errors.As(err, &e) {
			t.Errorf("%s: err %v, want a validation *Error", name, err)
			continue
		}
		for _, s := range sentinels {
			if errors.Is(err, s) {
				t.Errorf("%s: validation error matches %v", name, s)
			}
		}
	}
	if _, err := Login(ctx, Config{Addr: "http://127.0.0.1:1", Retries: -1}, nil); err == nil {
		t.Error("Login without auth succeeded")
	}
}
