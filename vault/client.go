package vault

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/vault/api"
	"github.com/hashicorp/vault/api/auth/approle"
	"github.com/hashicorp/vault/api/auth/userpass"
)

// Defaults of [Config].
const (
	DefaultMount        = "secret"
	DefaultTransitMount = "transit"
	DefaultTransitKey   = "healthwallet"
	DefaultPrefix       = "healthwallet"
	DefaultTimeout      = 30 * time.Second
	DefaultRetries      = 2
)

// Config says which Vault (or OpenBao) to talk to and where the wallet's data
// lives in it. The zero value of every field but Addr has a default.
type Config struct {
	// Addr is the server's address, e.g. "https://vault.clinic.example:8200".
	// Empty means $VAULT_ADDR, as the vault CLI does.
	Addr string
	// Mount is the KV version 2 mount (default "secret").
	Mount string
	// TransitMount is the Transit secrets engine's mount (default "transit").
	TransitMount string
	// TransitKey names the Transit key that seals identities (default
	// "healthwallet").
	TransitKey string
	// Prefix is the KV path under which everything is kept (default
	// "healthwallet").
	Prefix string
	// Namespace is a Vault Enterprise or OpenBao namespace; empty for none.
	Namespace string
	// CACert is a PEM file of CA certificates to trust for Addr; empty uses
	// the system's roots (and $VAULT_CACERT).
	CACert string
	// Timeout bounds each request (default 30 s).
	Timeout time.Duration
	// Retries is how often a request is retried on a connection error or a
	// 5xx answer other than 503 (default 2; negative: never).
	Retries int
}

func (cfg Config) withDefaults() Config {
	if cfg.Mount == "" {
		cfg.Mount = DefaultMount
	}
	if cfg.TransitMount == "" {
		cfg.TransitMount = DefaultTransitMount
	}
	if cfg.TransitKey == "" {
		cfg.TransitKey = DefaultTransitKey
	}
	if cfg.Prefix == "" {
		cfg.Prefix = DefaultPrefix
	}
	cfg.Mount = strings.Trim(cfg.Mount, "/")
	cfg.TransitMount = strings.Trim(cfg.TransitMount, "/")
	cfg.Prefix = strings.Trim(cfg.Prefix, "/")
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	switch {
	case cfg.Retries == 0:
		cfg.Retries = DefaultRetries
	case cfg.Retries < 0:
		cfg.Retries = 0
	}
	return cfg
}

// newAPIClient makes a Vault API client without a token (the environment's
// VAULT_TOKEN is ignored: the caller says how to authenticate).
func newAPIClient(cfg Config) (*api.Client, error) {
	ac := api.DefaultConfig()
	if ac.Error != nil {
		return nil, ac.Error
	}
	if cfg.Addr != "" {
		ac.Address = cfg.Addr
	}
	if cfg.CACert != "" {
		if err := ac.ConfigureTLS(&api.TLSConfig{CACert: cfg.CACert}); err != nil {
			return nil, err
		}
	}
	ac.Timeout = cfg.Timeout
	ac.MaxRetries = cfg.Retries
	ac.MinRetryWait = 250 * time.Millisecond
	ac.MaxRetryWait = time.Second
	ac.CheckRetry = retryPolicy
	ac.CloneHeaders = true
	ac.CloneTLSConfig = true
	c, err := api.NewClient(ac)
	if err != nil {
		return nil, err
	}
	c.ClearToken()
	if cfg.Namespace != "" {
		c.SetNamespace(cfg.Namespace)
	}
	return c, nil
}

// retryPolicy is the api's, except that a 503 (sealed, standby,
// uninitialized) is not retried: it does not heal in a second, and the user
// should hear about it at once.
func retryPolicy(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	if err == nil && resp != nil && resp.StatusCode == http.StatusServiceUnavailable {
		return false, nil
	}
	return api.DefaultRetryPolicy(ctx, resp, err)
}

// Auth is a way to log in to Vault. [Token], [AppRole] and [UserPass] are
// provided; any other api.AuthMethod (Kubernetes, JWT, ...) works too.
type Auth interface {
	Login(ctx context.Context, client *api.Client) (*api.Secret, error)
}

// Token logs in with an existing token (for scripts and operators). The
// token is checked with a lookup of itself; Logout does not revoke it.
type Token struct {
	Token string
}

// Login implements [Auth].
func (t Token) Login(ctx context.Context, client *api.Client) (*api.Secret, error) {
	if t.Token == "" {
		return nil, errors.New("empty token")
	}
	client.SetToken(t.Token)
	s, err := client.Auth().Token().LookupSelfWithContext(ctx)
	if err != nil {
		client.ClearToken()
		return nil, err
	}
	if s == nil {
		client.ClearToken()
		return nil, errors.New("empty answer to token lookup")
	}
	ttl, _ := s.TokenTTL()
	renewable, _ := s.TokenIsRenewable()
	accessor, _ := s.TokenAccessor()
	policies, _ := s.TokenPolicies()
	return &api.Secret{Auth: &api.SecretAuth{
		ClientToken:   t.Token,
		Accessor:      accessor,
		Policies:      policies,
		LeaseDuration: int(ttl / time.Second),
		Renewable:     renewable,
	}}, nil
}

// AppRole logs in with a role ID and secret ID (for services). Mount
// defaults to "approle".
type AppRole struct {
	RoleID, SecretID string
	Mount            string
}

// Login implements [Auth].
func (a AppRole) Login(ctx context.Context, client *api.Client) (*api.Secret, error) {
	var opts []approle.LoginOption
	if a.Mount != "" {
		opts = append(opts, approle.WithMountPath(strings.Trim(a.Mount, "/")))
	}
	m, err := approle.NewAppRoleAuth(a.RoleID, &approle.SecretID{FromString: a.SecretID}, opts...)
	if err != nil {
		return nil, err
	}
	return m.Login(ctx, client)
}

// UserPass logs in with a username and password (for people). Mount
// defaults to "userpass".
type UserPass struct {
	Username, Password string
	Mount              string
}

// Login implements [Auth].
func (u UserPass) Login(ctx context.Context, client *api.Client) (*api.Secret, error) {
	var opts []userpass.LoginOption
	if u.Mount != "" {
		opts = append(opts, userpass.WithMountPath(strings.Trim(u.Mount, "/")))
	}
	m, err := userpass.NewUserpassAuth(u.Username, &userpass.Password{FromString: u.Password}, opts...)
	if err != nil {
		return nil, err
	}
	return m.Login(ctx, client)
}

// Client is a logged-in session with Vault. It is safe for concurrent use.
type Client struct {
	cfg    Config
	api    *api.Client
	login  *api.Secret // what the login returned; the watcher renews it
	ownTok bool        // the token came from a login here: Logout revokes it

	mu       sync.Mutex
	watchers map[*watcher]struct{}
}

// Login authenticates to Vault and returns a session. Its errors are
// [*Error]s: ErrUnreachable, ErrSealed, ErrPermissionDenied (credentials
// rejected), ErrTokenExpired (a [Token] that is no longer valid).
func Login(ctx context.Context, cfg Config, auth Auth) (*Client, error) {
	cfg = cfg.withDefaults()
	if auth == nil {
		return nil, invalid("login", "no authentication method given")
	}
	ac, err := newAPIClient(cfg)
	if err != nil {
		return nil, invalid("login", "bad vault configuration: %v", err)
	}
	_, isToken := auth.(Token)
	if p, ok := auth.(*Token); ok && p != nil {
		auth, isToken = *p, true
	}
	s, err := auth.Login(ctx, ac)
	if err != nil {
		// A token is not a login: a 403 for it means it is expired or revoked
		// (or was never valid), not that a password was wrong.
		var tokenValid func() (bool, error)
		if isToken {
			// The failed request was the token's lookup of itself, which
			// every token may do: a 403 means the token is not valid.
			tokenValid = func() (bool, error) { return false, nil }
		}
		return nil, classify(ctx, ac.Address(), failure{op: "login", what: "login", login: !isToken}, err, tokenValid)
	}
	if s == nil || s.Auth == nil || s.Auth.ClientToken == "" {
		msg := "vault at " + ac.Address() + " did not return a token"
		if s != nil && s.Auth != nil && s.Auth.MFARequirement != nil {
			msg = "vault at " + ac.Address() + " requires multi-factor login, which this wallet does not support yet"
		}
		return nil, &Error{Op: "login", Addr: ac.Address(), Err: ErrPermissionDenied, Detail: msg}
	}
	ac.SetToken(s.Auth.ClientToken)
	return &Client{cfg: cfg, api: ac, login: s, ownTok: !isToken}, nil
}

// Addr is the address of the Vault server.
func (c *Client) Addr() string { return c.api.Address() }

// Config is the client's configuration, defaults filled in.
func (c *Client) Config() Config { return c.cfg }

// TokenTTL is the token's time to live when it was issued; 0 means it does
// not expire (a root token).
func (c *Client) TokenTTL() time.Duration {
	return time.Duration(c.login.Auth.LeaseDuration) * time.Second
}

// Logout ends the session: a token obtained by logging in (AppRole,
// userpass) is revoked; a [Token] given by the caller is only forgotten.
// Watchers are stopped without calling onLost.
func (c *Client) Logout(ctx context.Context) error {
	c.mu.Lock()
	ws := c.watchers
	c.watchers = nil
	c.mu.Unlock()
	for w := range ws {
		w.stop()
	}
	var err error
	if c.ownTok && c.api.Token() != "" {
		err = c.api.Auth().Token().RevokeSelfWithContext(ctx, "")
		if err != nil {
			err = classify(ctx, c.Addr(), failure{op: "logout", what: "session"}, err, nil)
			if errors.Is(err, ErrTokenExpired) {
				err = nil // already gone: that is what we wanted
			}
		}
	}
	c.api.ClearToken()
	return err
}

// fail classifies err for op, and tells the watchers when it shows the
// token is gone.
func (c *Client) fail(ctx context.Context, op, what string, err error) error {
	e := classify(ctx, c.Addr(), failure{op: op, what: what}, err, func() (bool, error) { return c.tokenValid(ctx) })
	if errors.Is(e, ErrTokenExpired) {
		c.lost(e)
	}
	return e
}

// tokenValid asks Vault whether the client's token still exists. Every token
// can look itself up under Vault's default policy, so a 403 here means the
// token is expired or revoked.
func (c *Client) tokenValid(ctx context.Context) (bool, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), lookupTimeout)
	defer cancel()
	_, err := c.api.Auth().Token().LookupSelfWithContext(ctx)
	if err == nil {
		return true, nil
	}
	if re := responseError(err); re != nil && re.StatusCode == http.StatusForbidden {
		return false, nil
	}
	return false, err
}

// watcher is one Watch call.
type watcher struct {
	mu     sync.Mutex
	done   bool
	onLost func(error)
	cancel context.CancelFunc
}

// fire calls onLost once, from its own goroutine, unless stopped.
func (w *watcher) fire(err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return
	}
	w.done = true
	w.cancel()
	if w.onLost != nil {
		go w.onLost(err)
	}
}

func (w *watcher) stop() {
	w.mu.Lock()
	w.done = true
	w.mu.Unlock()
	w.cancel()
}

func (c *Client) lost(err error) {
	c.mu.Lock()
	ws := make([]*watcher, 0, len(c.watchers))
	for w := range c.watchers {
		ws = append(ws, w)
	}
	c.mu.Unlock()
	for _, w := range ws {
		w.fire(err)
	}
}

// Watch keeps the session's token alive with the api's LifetimeWatcher and
// calls onLost (once, from its own goroutine) when the session is lost: the
// token reached its max TTL, could not be renewed before it expired, or an
// operation found it expired or revoked. The error given to onLost unwraps
// to [ErrTokenExpired]; the wallet should lock. A token that does not expire
// (TTL 0, e.g. root) needs no renewal; onLost is then only called when an
// operation finds the token revoked.
//
// Vault counts TTLs in whole seconds, so near a max TTL the token may live
// up to a second longer than the max TTL says; onLost comes shortly before
// the token's real end.
//
// stop ends the watch; onLost is not called after stop returns (unless it was
// already running). Cancelling ctx stops it too.
func (c *Client) Watch(ctx context.Context, onLost func(error)) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	w := &watcher{onLost: onLost, cancel: cancel}
	c.mu.Lock()
	if c.watchers == nil {
		c.watchers = make(map[*watcher]struct{})
	}
	c.watchers[w] = struct{}{}
	c.mu.Unlock()
	remove := func() {
		c.mu.Lock()
		delete(c.watchers, w)
		c.mu.Unlock()
	}

	var lw *api.LifetimeWatcher
	if c.login.Auth.LeaseDuration > 0 {
		var err error
		lw, err = c.api.NewLifetimeWatcher(&api.LifetimeWatcherInput{
			Secret:        c.login,
			RenewBehavior: api.RenewBehaviorIgnoreErrors,
		})
		if err != nil {
			// Only for a missing secret, which Login never leaves.
			w.fire(&Error{Op: "renew", Addr: c.Addr(), Err: ErrTokenExpired, Cause: err,
				Detail: "cannot renew your session with vault at " + c.Addr() + ": log in again"})
			remove()
			return w.stop
		}
		go lw.Start()
	}
	go func() {
		defer remove()
		if lw == nil {
			<-ctx.Done()
			return
		}
		defer lw.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-lw.RenewCh():
			case err := <-lw.DoneCh():
				if ctx.Err() != nil {
					return
				}
				detail := "your session with vault at " + c.Addr() + " reached its maximum lifetime or can no longer be renewed: log in again"
				if err != nil {
					detail = fmt.Sprintf("could not renew your session with vault at %s before it expired (%s): log in again",
						c.Addr(), netOrVaultReason(err))
				}
				w.fire(&Error{Op: "renew", Addr: c.Addr(), Err: ErrTokenExpired, Detail: detail, Cause: err})
				return
			}
		}
	}()
	return w.stop
}

// netOrVaultReason is a short reason for a renewal failure.
func netOrVaultReason(err error) string {
	var e *Error
	if errors.As(classify(context.Background(), "", failure{op: "renew", what: "session"}, err, nil), &e) && e.Err != err {
		return e.Err.Error()
	}
	return oneLine(err.Error())
}

// names of identities and backups: one path segment, no surprises.
var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

func checkName(op, name string) error {
	if !nameRE.MatchString(name) || strings.Contains(name, "..") {
		return invalid(op, "invalid name %q: use 1 to 128 letters, digits, '.', '_' or '-'", name)
	}
	return nil
}
