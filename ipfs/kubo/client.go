package kubo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/healthwallet/healthwallet/ipfs"
)

// Errors of the RPC client.
var (
	// ErrBadURL: an API or gateway URL is not an absolute http(s) URL.
	ErrBadURL = errors.New("not an http(s) URL")
	// ErrAPI: Kubo's RPC API answered with an error. The error is an
	// [*APIError] carrying Kubo's message.
	ErrAPI = errors.New("kubo RPC API error")
	// ErrNotPinned: after a dag/import, Kubo did not report a root as
	// pinned, or reported an error pinning it.
	ErrNotPinned = errors.New("kubo did not pin the root")
)

// APIError is an error answer of Kubo's RPC API. It matches [ErrAPI].
type APIError struct {
	Endpoint string // e.g. "dag/import"
	Status   int    // HTTP status; 200 for an error reported mid-stream
	Message  string // Kubo's message
}

func (e *APIError) Error() string {
	return fmt.Sprintf("kubo %s: HTTP %d: %s", e.Endpoint, e.Status, e.Message)
}

// Unwrap makes an APIError match ErrAPI.
func (e *APIError) Unwrap() error { return ErrAPI }

// DefaultTimeout bounds one RPC call of a Client made by NewClient.
const DefaultTimeout = 5 * time.Minute

// maxAnswer bounds what is read of an RPC answer that is not a stream.
const maxAnswer = 1 << 20

// Client calls one Kubo node's RPC API. It is safe for concurrent use.
type Client struct {
	api  string // base URL, no trailing slash
	http *http.Client
	// Authorization, if set, is sent as the Authorization header of every
	// call (Kubo's API.Authorizations: "Basic …" or "Bearer …").
	Authorization string
}

// NewClient returns a client of the RPC API at apiURL (e.g.
// "http://127.0.0.1:5001"). hc nil means a client with DefaultTimeout.
func NewClient(apiURL string, hc *http.Client) (*Client, error) {
	base, err := baseURL(apiURL)
	if err != nil {
		return nil, fmt.Errorf("kubo API URL: %w", err)
	}
	if hc == nil {
		hc = &http.Client{Timeout: DefaultTimeout}
	}
	return &Client{api: base, http: hc}, nil
}

// URL returns the API's base URL.
func (c *Client) URL() string { return c.api }

// baseURL validates an absolute http(s) URL and drops a trailing slash.
func baseURL(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil {
		return "", fmt.Errorf("%w: %q: %v", ErrBadURL, s, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("%w: %q", ErrBadURL, s)
	}
	return strings.TrimRight(u.String(), "/"), nil
}

// PeerInfo is what Kubo's id command says about the node.
type PeerInfo struct {
	ID        string   // peer ID
	Addresses []string // multiaddrs ending in /p2p/ID
}

// ID asks the node for its peer ID and addresses (POST /api/v0/id), e.g. to
// name it as a bitswap provider.
func (c *Client) ID(ctx context.Context) (PeerInfo, error) {
	var out PeerInfo
	err := c.call(ctx, "id", nil, nil, "", func(r io.Reader) error {
		return json.NewDecoder(io.LimitReader(r, maxAnswer)).Decode(&out)
	})
	if err == nil && out.ID == "" {
		err = &APIError{Endpoint: "id", Status: http.StatusOK, Message: "answer names no peer ID"}
	}
	return out, err
}

// Push exports the DAGs under roots from store as one CAR, imports it into
// Kubo with the roots pinned (see [Client.ImportCAR]) and returns once Kubo
// has pinned them all.
func (c *Client) Push(ctx context.Context, store *ipfs.Store, roots ...cid.Cid) error {
	if len(roots) == 0 {
		return errors.New("kubo push: no roots")
	}
	pr, pw := io.Pipe()
	exported := make(chan error, 1)
	go func() {
		err := store.ExportCAR(ctx, pw, roots...)
		exported <- err
		pw.CloseWithError(err)
	}()
	err := c.ImportCAR(ctx, pr, roots...)
	pr.CloseWithError(errUploadEnded) // unblocks the exporter if Kubo stopped reading
	if xerr := <-exported; xerr != nil && !errors.Is(xerr, errUploadEnded) {
		// A failed export is the cause of whatever the upload says.
		return fmt.Errorf("kubo push: %w", xerr)
	}
	return err
}

var errUploadEnded = errors.New("kubo push: upload ended")

// importEvent is one line of dag/import's answer.
type importEvent struct {
	Root *struct {
		Cid         map[string]string // {"/": "bafy…"}
		PinErrorMsg string
	}
}

// ImportCAR uploads a CAR to Kubo (POST /api/v0/dag/import?pin-roots=true,
// as a multipart file) and checks Kubo's answer: each root in want must be
// reported pinned without error, else ErrNotPinned. With want empty, every
// root Kubo reports must be pinned.
func (c *Client) ImportCAR(ctx context.Context, car io.Reader, want ...cid.Cid) error {
	body, ctype := multipartFile(car, "package.car")
	defer body.Close()
	pinned := map[cid.Cid]bool{}
	var failed []string
	err := c.call(ctx, "dag/import", url.Values{"pin-roots": {"true"}}, body, ctype, func(r io.Reader) error {
		dec := json.NewDecoder(r)
		for {
			var ev importEvent
			if err := dec.Decode(&ev); err == io.EOF {
				return nil
			} else if err != nil {
				return fmt.Errorf("kubo dag/import: unreadable answer: %w", err)
			}
			if ev.Root == nil {
				continue // stats
			}
			rc, err := cid.Decode(ev.Root.Cid["/"])
			if err != nil {
				return fmt.Errorf("kubo dag/import: answer names an invalid root %q: %w", ev.Root.Cid["/"], err)
			}
			if ev.Root.PinErrorMsg != "" {
				failed = append(failed, fmt.Sprintf("%s: %s", rc, ev.Root.PinErrorMsg))
				continue
			}
			pinned[rc] = true
		}
	})
	if err != nil {
		return err
	}
	if len(failed) > 0 {
		return fmt.Errorf("%w: %s", ErrNotPinned, strings.Join(failed, "; "))
	}
	for _, w := range want {
		if !pinned[w] {
			return fmt.Errorf("%w: %s is not among the roots Kubo pinned (%d pinned)", ErrNotPinned, w, len(pinned))
		}
	}
	return nil
}

// Unpin removes the recursive pins of roots (POST /api/v0/pin/rm). The
// blocks stay in Kubo's repository until [Client.GC].
func (c *Client) Unpin(ctx context.Context, roots ...cid.Cid) error {
	for _, r := range roots {
		err := c.call(ctx, "pin/rm", url.Values{"arg": {r.String()}, "recursive": {"true"}}, nil, "", drain)
		if err != nil {
			return err
		}
	}
	return nil
}

// GC runs Kubo's garbage collector (POST /api/v0/repo/gc), which deletes
// every block no pin holds, this wallet's and anyone else's.
func (c *Client) GC(ctx context.Context) error {
	return c.call(ctx, "repo/gc", url.Values{"quiet": {"true"}}, nil, "", func(r io.Reader) error {
		dec := json.NewDecoder(r)
		for {
			var ev struct{ Error string }
			if err := dec.Decode(&ev); err == io.EOF {
				return nil
			} else if err != nil {
				return fmt.Errorf("kubo repo/gc: unreadable answer: %w", err)
			}
			if ev.Error != "" {
				return &APIError{Endpoint: "repo/gc", Status: http.StatusOK, Message: ev.Error}
			}
		}
	})
}

// multipartFile streams r as the one file of a multipart/form-data body.
func multipartFile(r io.Reader, name string) (io.ReadCloser, string) {
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		part, err := mw.CreateFormFile("file", name)
		if err == nil {
			_, err = io.Copy(part, r)
		}
		if err == nil {
			err = mw.Close()
		}
		pw.CloseWithError(err)
	}()
	return pr, mw.FormDataContentType()
}

func drain(r io.Reader) error {
	_, err := io.Copy(io.Discard, r)
	return err
}

// call POSTs to /api/v0/endpoint and hands a 200 answer's body to read.
// An error answer, or an error Kubo reports after the body (the
// X-Stream-Error trailer), is an *APIError.
func (c *Client) call(ctx context.Context, endpoint string, q url.Values, body io.Reader, ctype string, read func(io.Reader) error) error {
	u := c.api + "/api/v0/" + endpoint
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, body)
	if err != nil {
		return fmt.Errorf("kubo %s: %w", endpoint, err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if c.Authorization != "" {
		req.Header.Set("Authorization", c.Authorization)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("kubo %s at %s: %w", endpoint, c.api, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
		var kerr struct{ Message string }
		msg := strings.TrimSpace(string(b))
		if json.Unmarshal(b, &kerr) == nil && kerr.Message != "" {
			msg = kerr.Message
		}
		return &APIError{Endpoint: endpoint, Status: resp.StatusCode, Message: msg}
	}
	if err := read(resp.Body); err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxAnswer)) // to the trailer
	if msg := resp.Trailer.Get("X-Stream-Error"); msg != "" {
		return &APIError{Endpoint: endpoint, Status: resp.StatusCode, Message: msg}
	}
	return nil
}
