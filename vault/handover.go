package vault

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/vault/api"
)

// Kinds of handover payload. Any kind matching [a-z][a-z0-9-]{0,31} is
// accepted; these are the wallet's.
const (
	// KindKeystore is a passphrase-sealed keystore backup.
	KindKeystore = "keystore"
	// KindDelegation is a delegated-access bundle for a family member.
	KindDelegation = "delegation"
)

const (
	handoverFormat  = "healthwallet-handover"
	handoverVersion = 1
	// DefaultHandoverTTL is the wrapping TTL Wrap uses when given 0.
	DefaultHandoverTTL = 15 * time.Minute
	// MaxHandoverPayload bounds what Wrap accepts.
	MaxHandoverPayload = 1 << 20

	// HandoverPrefix starts every handover link.
	HandoverPrefix = "healthwallet:handover/"
	// MaxHandoverLink bounds the length of a link ParseHandoverLink reads.
	MaxHandoverLink = 2048
	maxTokenLen     = 512
	maxAddrLen      = 512
)

// ErrInvalidLink: text that is not a (complete) handover link.
var ErrInvalidLink = errors.New("not a healthwallet handover link")

var kindRE = regexp.MustCompile(`^[a-z][a-z0-9-]{0,31}$`)

// Wrap puts payload into Vault's response wrapping (sys/wrapping/wrap) and
// returns the single-use wrapping token. Whoever holds the token can unwrap
// the payload once, within ttl (0 means [DefaultHandoverTTL]; at least 1 s);
// after that the token is worthless. Vault's audit log records the wrap and
// the unwrap. Hand the token over with [HandoverLink].
func (c *Client) Wrap(ctx context.Context, payload []byte, kind string, ttl time.Duration) (token string, err error) {
	const op = "wrap handover"
	if !kindRE.MatchString(kind) {
		return "", invalid(op, "invalid handover kind %q", kind)
	}
	if len(payload) == 0 || len(payload) > MaxHandoverPayload {
		return "", invalid(op, "a handover payload is 1 byte to %d KiB, not %d bytes", MaxHandoverPayload>>10, len(payload))
	}
	if ttl == 0 {
		ttl = DefaultHandoverTTL
	}
	if ttl < time.Second {
		return "", invalid(op, "a handover must live at least 1 s, not %v", ttl)
	}
	secs := strconv.FormatInt(int64((ttl+time.Second-1)/time.Second), 10) + "s"
	client := c.api.WithRequestCallbacks(func(r *api.Request) { r.WrapTTL = secs })
	s, err := client.Logical().WriteWithContext(ctx, "sys/wrapping/wrap", map[string]any{
		"format":  handoverFormat,
		"version": handoverVersion,
		"kind":    kind,
		"payload": base64.StdEncoding.EncodeToString(payload),
	})
	if err != nil {
		return "", c.fail(ctx, op, "handover", err)
	}
	if s == nil || s.WrapInfo == nil || s.WrapInfo.Token == "" {
		return "", &Error{Op: op, Addr: c.Addr(), Err: errors.New("no wrapping token in answer"),
			Detail: "vault at " + c.Addr() + " did not wrap the handover"}
	}
	return s.WrapInfo.Token, nil
}

// Unwrap opens a handover made by [Client.Wrap]. It needs no login: the
// wrapping token is the credential, and it works once. A second unwrap, or
// one after the TTL, fails with [ErrWrapUsed]; Vault cannot tell "used" from
// "expired" (nor from a token that never existed). If the user did not
// unwrap it before, someone else may have: the sender should be told.
func Unwrap(ctx context.Context, cfg Config, token string) (payload []byte, kind string, err error) {
	const op = "open handover"
	cfg = cfg.withDefaults()
	token = strings.TrimSpace(token)
	if !validToken(token) {
		return nil, "", &Error{Op: op, Addr: cfg.Addr, Err: ErrInvalidLink, Detail: "that is not a handover token: scan or copy the link again"}
	}
	ac, err := newAPIClient(cfg)
	if err != nil {
		return nil, "", invalid(op, "bad vault configuration: %v", err)
	}
	s, err := ac.Logical().UnwrapWithContext(ctx, token)
	ac.ClearToken()
	if err != nil {
		return nil, "", classify(ctx, ac.Address(), failure{op: op, what: "handover"}, err, nil)
	}
	bad := func(why string) error {
		return &Error{Op: op, Addr: ac.Address(), Err: ErrCorrupt,
			Detail: "the handover from vault at " + ac.Address() + " is not a healthwallet handover (" + why + "): ask the sender for a new one"}
	}
	if s == nil || s.Data == nil {
		return nil, "", bad("empty")
	}
	if f, _ := s.Data["format"].(string); f != handoverFormat {
		return nil, "", bad("unknown format")
	}
	if v, _ := intOf(s.Data["version"]); v != handoverVersion {
		return nil, "", bad("unsupported version")
	}
	kind, _ = s.Data["kind"].(string)
	if !kindRE.MatchString(kind) {
		return nil, "", bad("invalid kind")
	}
	payload, err = b64Field(s.Data, "payload")
	if err != nil || len(payload) == 0 {
		return nil, "", bad("no payload")
	}
	return payload, kind, nil
}

// handoverLink is the JSON inside a link.
type handoverLink struct {
	Addr  string `json:"addr"`
	Token string `json:"token"`
	Kind  string `json:"kind"`
}

// HandoverLink is the text to show as a QR code or send as a link:
// "healthwallet:handover/" followed by the unpadded base64url of
// {"addr":…,"token":…,"kind":…}. It carries a live credential for its TTL:
// show it only to its recipient.
func HandoverLink(addr, token, kind string) string {
	b, _ := json.Marshal(handoverLink{Addr: addr, Token: token, Kind: kind}) // cannot fail for strings
	return HandoverPrefix + base64.RawURLEncoding.EncodeToString(b)
}

// ParseHandoverLink reads a link made by [HandoverLink]. Errors unwrap to
// [ErrInvalidLink]. The address comes from whoever made the link: show it
// to the user before unwrapping.
func ParseHandoverLink(s string) (addr, token, kind string, err error) {
	const op = "read handover link"
	fail := func(why string) (string, string, string, error) {
		return "", "", "", &Error{Op: op, Err: ErrInvalidLink,
			Detail: "this is not a healthwallet handover link (" + why + "): scan or copy it again"}
	}
	s = strings.TrimSpace(s)
	if len(s) > MaxHandoverLink {
		return fail("too long")
	}
	rest, ok := strings.CutPrefix(s, HandoverPrefix)
	if !ok {
		return fail("wrong prefix")
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(rest)
	if err != nil {
		return fail("damaged encoding")
	}
	var l handoverLink
	if err := json.Unmarshal(raw, &l); err != nil {
		return fail("damaged content")
	}
	if err := checkAddr(l.Addr); err != nil {
		return fail(err.Error())
	}
	if !validToken(l.Token) {
		return fail("bad token")
	}
	if !kindRE.MatchString(l.Kind) {
		return fail("bad kind")
	}
	return l.Addr, l.Token, l.Kind, nil
}

// validToken accepts a Vault or OpenBao token: printable ASCII, no spaces.
func validToken(t string) bool {
	if t == "" || len(t) > maxTokenLen {
		return false
	}
	for i := 0; i < len(t); i++ {
		if t[i] <= ' ' || t[i] > '~' {
			return false
		}
	}
	return true
}

// checkAddr accepts http(s)://host[:port][/] and nothing fancier.
func checkAddr(addr string) error {
	if addr == "" || len(addr) > maxAddrLen {
		return errors.New("bad address")
	}
	for i := 0; i < len(addr); i++ {
		if addr[i] <= ' ' || addr[i] > '~' {
			return errors.New("bad address")
		}
	}
	u, err := url.Parse(addr)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Hostname() == "" ||
		u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.Contains(addr, "#") ||
		(u.Path != "" && u.Path != "/") || u.Opaque != "" {
		return fmt.Errorf("bad address")
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return errors.New("bad port")
		}
	}
	return nil
}
