package shl

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Limits of the link format.
const (
	// MaxLink bounds a whole link, viewer prefix included, in bytes. The
	// specification keeps payload URLs to 128 characters; this leaves room
	// for long labels and viewer URLs.
	MaxLink = 16 << 10
	// MaxLabel is the specification's limit on Payload.Label, in characters.
	MaxLabel = 80
	// KeySize is the length of a link's key in bytes (AES-256).
	KeySize = 32
)

// Flags of a payload (the "flag" string holds any of them, in any order).
const (
	FlagLongTerm = 'L' // the link is long-lived; the manifest may change
	FlagPasscode = 'P' // the manifest POST needs a passcode
	FlagDirect   = 'U' // the url is the single file itself (GET ?recipient=)
)

// Prefix starts every bare link.
const Prefix = "shlink:/"

// Payload is the JSON object inside a shlink:/ link.
type Payload struct {
	URL   string `json:"url"`
	Key   string `json:"key"`
	Exp   int64  `json:"exp,omitempty"`
	Flag  string `json:"flag,omitempty"`
	Label string `json:"label,omitempty"`
	V     int    `json:"v,omitempty"`
}

var b64 = base64.RawURLEncoding

// NewKey returns a fresh link key: 32 random bytes, base64url without
// padding (43 characters).
func NewKey() (string, error) { return random32() }

// NewID returns a fresh manifest id: 33 random bytes, base64url without
// padding (44 characters), never starting with '-': an id is typed on
// command lines (`healthwallet revoke ID`), where a leading '-' reads as a
// flag. The specification asks for at least 256 bits of entropy; this has
// more than 263.
func NewID() (string, error) {
	for {
		id, err := randomText(33)
		if err != nil || id[0] != '-' {
			return id, err
		}
	}
}

func random32() (string, error) { return randomText(32) }

// randomText is n random bytes, base64url without padding.
func randomText(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("shl: reading randomness: %w", err)
	}
	return b64.EncodeToString(b), nil
}

// KeyBytes decodes Key. It fails with ErrKey unless Key is base64url of
// exactly 32 bytes.
func (p Payload) KeyBytes() ([]byte, error) {
	k, err := b64.DecodeString(strings.TrimRight(p.Key, "="))
	if err != nil {
		return nil, fmt.Errorf("shl: payload key is not base64url: %w", ErrKey)
	}
	if len(k) != KeySize {
		return nil, fmt.Errorf("shl: payload key is %d bytes, want %d: %w", len(k), KeySize, ErrKey)
	}
	return k, nil
}

// Has reports whether the payload carries flag (one of 'L', 'P', 'U').
func (p Payload) Has(flag byte) bool { return strings.IndexByte(p.Flag, flag) >= 0 }

// Check validates the payload against the specification; it does not look at
// the clock (see [Payload.Expired]).
func (p Payload) Check() error {
	if err := checkURL(p.URL); err != nil {
		return fmt.Errorf("shl: payload url: %w", err)
	}
	if _, err := p.KeyBytes(); err != nil {
		return err
	}
	for i := 0; i < len(p.Flag); i++ {
		switch c := p.Flag[i]; c {
		case FlagLongTerm, FlagPasscode, FlagDirect:
			if strings.IndexByte(p.Flag[:i], c) >= 0 {
				return fmt.Errorf("shl: payload flag %q repeats %q: %w", p.Flag, c, ErrFlag)
			}
		default:
			return fmt.Errorf("shl: payload flag %q has unknown flag %q: %w", p.Flag, rune(c), ErrFlag)
		}
	}
	if p.Has(FlagPasscode) && p.Has(FlagDirect) {
		return fmt.Errorf("shl: payload flags P and U exclude each other: %w", ErrFlag)
	}
	if !utf8.ValidString(p.Label) {
		return fmt.Errorf("shl: payload label is not UTF-8: %w", ErrMalformed)
	}
	if n := utf8.RuneCountInString(p.Label); n > MaxLabel {
		return fmt.Errorf("shl: payload label is %d characters, at most %d allowed: %w", n, MaxLabel, ErrMalformed)
	}
	if p.V != 0 && p.V != 1 {
		return fmt.Errorf("shl: payload version %d is not supported (want 1): %w", p.V, ErrMalformed)
	}
	if p.Exp < 0 {
		return fmt.Errorf("shl: payload exp %d is negative: %w", p.Exp, ErrMalformed)
	}
	return nil
}

// checkURL accepts https URLs, and http URLs whose host is loopback.
func checkURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return fmt.Errorf("%q is not an absolute URL: %w", oneLine(s), ErrMalformed)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if isLoopback(u.Hostname()) {
			return nil
		}
		return fmt.Errorf("%q is plain http to a non-loopback host: %w", oneLine(s), ErrMalformed)
	}
	return fmt.Errorf("%q: scheme %q is not https: %w", oneLine(s), u.Scheme, ErrMalformed)
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Expired reports whether the payload has an exp at or before now.
func (p Payload) Expired(now time.Time) bool {
	return p.Exp > 0 && now.Unix() >= p.Exp
}

// Link encodes the payload as "shlink:/…", or as viewer+"#shlink:/…" when
// viewer is not empty. The payload must pass [Payload.Check]; the viewer must
// be an https (or loopback http) URL without a fragment.
func (p Payload) Link(viewer string) (string, error) {
	if err := p.Check(); err != nil {
		return "", err
	}
	js, err := json.Marshal(p)
	if err != nil {
		return "", fmt.Errorf("shl: encoding payload: %w", err)
	}
	link := Prefix + b64.EncodeToString(js)
	if viewer == "" {
		return link, nil
	}
	if strings.Contains(viewer, "#") {
		return "", fmt.Errorf("shl: viewer URL %q already has a fragment: %w", oneLine(viewer), ErrMalformed)
	}
	if err := checkURL(viewer); err != nil {
		return "", fmt.Errorf("shl: viewer URL: %w", err)
	}
	return viewer + "#" + link, nil
}

// ParseLink decodes a link: bare ("shlink:/…") or behind a viewer URL
// ("https://viewer.example/#shlink:/…"), with surrounding white space. The
// payload must pass [Payload.Check]; expiry is left to the caller.
func ParseLink(s string) (Payload, error) {
	if len(s) > MaxLink {
		return Payload{}, fmt.Errorf("shl: link is %d bytes, at most %d allowed: %w", len(s), MaxLink, ErrTooLarge)
	}
	s = strings.TrimSpace(s)
	var enc string
	switch i := strings.Index(s, "#"+Prefix); {
	case strings.HasPrefix(s, Prefix):
		enc = s[len(Prefix):]
	case i >= 0:
		enc = s[i+1+len(Prefix):]
	default:
		return Payload{}, fmt.Errorf("shl: not a SMART Health Link (no %q): %w", Prefix, ErrMalformed)
	}
	js, err := b64.DecodeString(strings.TrimRight(enc, "="))
	if err != nil || len(enc) == 0 {
		return Payload{}, fmt.Errorf("shl: link payload is not base64url: %w", ErrMalformed)
	}
	return ParsePayload(js)
}

// ParsePayload decodes and checks the JSON payload of a link. Unknown members
// are ignored (the specification allows extensions). An "exp" written as a
// string of digits is accepted, and a value that can only be milliseconds
// (beyond the year 5000 in seconds) is converted to seconds, as found in a
// published example.
func ParsePayload(b []byte) (Payload, error) {
	if len(b) > MaxLink {
		return Payload{}, fmt.Errorf("shl: payload is %d bytes, at most %d allowed: %w", len(b), MaxLink, ErrTooLarge)
	}
	var raw struct {
		URL   *string         `json:"url"`
		Key   *string         `json:"key"`
		Exp   json.RawMessage `json:"exp"`
		Flag  string          `json:"flag"`
		Label string          `json:"label"`
		V     json.RawMessage `json:"v"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return Payload{}, fmt.Errorf("shl: payload is not a JSON object: %w", ErrMalformed)
	}
	if raw.URL == nil || raw.Key == nil {
		return Payload{}, fmt.Errorf("shl: payload lacks url or key: %w", ErrMalformed)
	}
	p := Payload{URL: *raw.URL, Key: *raw.Key, Flag: raw.Flag, Label: raw.Label}
	var err error
	if p.Exp, err = jsonInt(raw.Exp); err != nil {
		return Payload{}, fmt.Errorf("shl: payload exp: %w", err)
	}
	if p.Exp > 95617584000 { // 5000-01-01 in seconds: must be milliseconds
		p.Exp /= 1000
	}
	v, err := jsonInt(raw.V)
	if err != nil {
		return Payload{}, fmt.Errorf("shl: payload v: %w", err)
	}
	if v < 0 || v > 1<<20 {
		return Payload{}, fmt.Errorf("shl: payload version %d is not supported (want 1): %w", v, ErrMalformed)
	}
	p.V = int(v)
	if err := p.Check(); err != nil {
		return Payload{}, err
	}
	return p, nil
}

// jsonInt reads an absent/null value as 0, a JSON number or a string of
// digits as an integer. Fractions are truncated (exp is "epoch seconds").
func jsonInt(m json.RawMessage) (int64, error) {
	m = bytes.TrimSpace(m)
	if len(m) == 0 || string(m) == "null" {
		return 0, nil
	}
	s := string(m)
	if m[0] == '"' {
		if err := json.Unmarshal(m, &s); err != nil {
			return 0, fmt.Errorf("not a number: %w", ErrMalformed)
		}
	}
	if i := strings.IndexByte(s, '.'); i >= 0 && strings.Trim(s[i+1:], "0123456789") == "" {
		s = s[:i]
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not an integer: %w", oneLine(s), ErrMalformed)
	}
	return n, nil
}
