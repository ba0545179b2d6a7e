package shl

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// DefaultRecipient is sent when Client.Recipient is empty.
const DefaultRecipient = "healthwallet"

// Client opens SMART Health Links as a receiver.
type Client struct {
	// HTTP sends the requests (a client with a 60 s timeout when nil). Trust
	// a test CA by setting its transport's RootCAs.
	HTTP *http.Client
	// Recipient names the receiver to the server (DefaultRecipient when "").
	Recipient string
	// Now is the clock for exp (time.Now when nil).
	Now func() time.Time
	// EmbeddedLengthMax is sent in the manifest POST (0: always locations).
	EmbeddedLengthMax int
}

// File is one decrypted file of a link.
type File struct {
	ContentType string
	Plain       []byte
}

var defaultHTTP = &http.Client{Timeout: 60 * time.Second}

func (c *Client) http() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return defaultHTTP
}

func (c *Client) recipient() string {
	if c.Recipient != "" {
		return c.Recipient
	}
	return DefaultRecipient
}

// Open follows the specification's steps for p: for a U link it GETs the
// file (url?recipient=…); otherwise it POSTs the manifest request (with
// passcode for a P link), then takes each file embedded or GETs its
// location, and decrypts every file with the payload's key. Expired
// payloads fail with ErrExpired before any request; a wrong passcode gives a
// *PasscodeError; other refusals a *StatusError. Plain http is refused
// unless the host is loopback.
func (c *Client) Open(ctx context.Context, p Payload, passcode string) ([]File, error) {
	if err := p.Check(); err != nil {
		return nil, err
	}
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	if p.Expired(now()) {
		return nil, fmt.Errorf("shl: link expired at %s: %w", time.Unix(p.Exp, 0).UTC().Format(time.RFC3339), ErrExpired)
	}
	key, err := p.KeyBytes()
	if err != nil {
		return nil, err
	}
	if p.Has(FlagDirect) {
		u, err := url.Parse(p.URL)
		if err != nil {
			return nil, fmt.Errorf("shl: payload url: %w", ErrMalformed)
		}
		q := u.Query()
		q.Set("recipient", c.recipient())
		u.RawQuery = q.Encode()
		jwe, err := c.get(ctx, u.String())
		if err != nil {
			return nil, err
		}
		cty, plain, err := Decrypt(key, jwe)
		if err != nil {
			return nil, err
		}
		return []File{{ContentType: cty, Plain: plain}}, nil
	}
	if p.Has(FlagPasscode) && passcode == "" {
		return nil, fmt.Errorf("shl: this link needs a passcode: %w", ErrPasscode)
	}
	m, err := c.manifest(ctx, p.URL, ManifestRequest{Recipient: c.recipient(), Passcode: passcode, EmbeddedLengthMax: c.EmbeddedLengthMax})
	if err != nil {
		return nil, err
	}
	files := make([]File, 0, len(m.Files))
	for i, f := range m.Files {
		jwe := f.Embedded
		if jwe == "" {
			if jwe, err = c.get(ctx, f.Location); err != nil {
				return nil, fmt.Errorf("shl: file %d: %w", i, err)
			}
		}
		cty, plain, err := Decrypt(key, jwe)
		if err != nil {
			return nil, fmt.Errorf("shl: file %d: %w", i, err)
		}
		if cty == "" {
			cty = f.ContentType
		}
		files = append(files, File{ContentType: cty, Plain: plain})
	}
	return files, nil
}

func (c *Client) manifest(ctx context.Context, u string, req ManifestRequest) (Manifest, error) {
	if err := checkURL(u); err != nil {
		return Manifest{}, fmt.Errorf("shl: manifest url: %w", err)
	}
	body, _ := json.Marshal(req)
	r, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return Manifest{}, fmt.Errorf("shl: manifest request: %w", ErrMalformed)
	}
	r.Header.Set("Content-Type", "application/json")
	b, err := c.do(r, MaxManifest)
	if err != nil {
		return Manifest{}, err
	}
	return ParseManifest(b)
}

func (c *Client) get(ctx context.Context, u string) (string, error) {
	if err := checkURL(u); err != nil {
		return "", fmt.Errorf("shl: file location: %w", err)
	}
	r, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", fmt.Errorf("shl: file request: %w", ErrMalformed)
	}
	b, err := c.do(r, MaxJWE)
	return string(b), err
}

// do sends r and reads at most limit bytes of a 200 answer; other answers
// become *PasscodeError (401 with remainingAttempts) or *StatusError.
func (c *Client) do(r *http.Request, limit int64) ([]byte, error) {
	hc := *c.http()
	next := hc.CheckRedirect
	hc.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if err := checkURL(req.URL.String()); err != nil {
			return fmt.Errorf("shl: redirect: %w", err)
		}
		if next != nil {
			return next(req, via)
		}
		if len(via) >= 5 {
			return fmt.Errorf("shl: too many redirects: %w", ErrMalformed)
		}
		return nil
	}
	resp, err := hc.Do(r)
	if err != nil {
		return nil, fmt.Errorf("shl: %s %s: %s: %w", r.Method, redact(r.URL), oneLine(err.Error()), ErrUnavailable)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("shl: reading answer of %s: %w", redact(r.URL), ErrUnavailable)
	}
	if resp.StatusCode == http.StatusOK {
		if int64(len(b)) > limit {
			return nil, fmt.Errorf("shl: answer of %s exceeds %d bytes: %w", redact(r.URL), limit, ErrTooLarge)
		}
		return b, nil
	}
	var eb struct {
		Error             string `json:"error"`
		RemainingAttempts *int   `json:"remainingAttempts"`
	}
	_ = json.Unmarshal(b, &eb)
	if resp.StatusCode == http.StatusUnauthorized && eb.RemainingAttempts != nil {
		return nil, &PasscodeError{Remaining: max(0, *eb.RemainingAttempts)}
	}
	return nil, &StatusError{Code: resp.StatusCode, Msg: oneLine(eb.Error)}
}

// redact drops the path and query of a URL for error messages: the path of
// a manifest or file URL is a bearer secret.
func redact(u *url.URL) string { return u.Scheme + "://" + u.Host + "/…" }
