package shl

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Server defaults.
const (
	// DefaultAttempts is the number of wrong passcodes a link tolerates.
	DefaultAttempts = 10
	// DefaultLocationTTL is how long a manifest's file location stays valid.
	DefaultLocationTTL = 5 * time.Minute
	// maxRequest bounds a manifest POST body.
	maxRequest = 64 << 10
)

// StoredFile is one encrypted file of a served link.
type StoredFile struct {
	ContentType string
	JWE         string
	LastUpdated time.Time
}

// Entry is a served link as the [Store] holds it. Flags are the payload's
// flags; a zero Expires never expires; PasscodeHash (from [HashPasscode]) is
// checked when Flags has P.
type Entry struct {
	ID           string
	Flags        string
	Expires      time.Time
	RevocationID [32]byte
	PasscodeHash string
	Files        []StoredFile
}

// AccessEvent records one request for a link, served or refused. Reason says
// why it was refused ("" when OK).
type AccessEvent struct {
	ID        string
	Recipient string
	Remote    string
	At        time.Time
	OK        bool
	Reason    string
}

// Store holds the served links and their passcode counters, and takes the
// access log.
type Store interface {
	// Entry returns the link with this id, or an error wrapping ErrUnknown.
	Entry(ctx context.Context, id string) (Entry, error)
	// PasscodeFailed counts one wrong passcode and returns the attempts left.
	PasscodeFailed(ctx context.Context, id string) (remaining int, err error)
	// PasscodeRemaining returns the attempts left.
	PasscodeRemaining(ctx context.Context, id string) (int, error)
	// Access records every access, served or refused.
	Access(ctx context.Context, ev AccessEvent)
}

// Revocations answers whether a revocation id is revoked. An error makes the
// server fail closed (503).
type Revocations interface {
	Revoked(ctx context.Context, id [32]byte) (bool, error)
}

// ServerOptions configure [NewServer].
type ServerOptions struct {
	// BaseURL is the public https origin (and optional path prefix) the
	// server is reached at, without a trailing slash. Links live under
	// BaseURL+"/shl/".
	BaseURL string
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// LocationTTL is how long file locations stay valid (DefaultLocationTTL
	// when 0).
	LocationTTL time.Duration
	// MaxEmbedded caps the receiver's embeddedLengthMax (no cap when 0).
	MaxEmbedded int
	// Attempts caps the attempts left that the store reports
	// (DefaultAttempts when 0). The store counts the failures.
	Attempts int
}

// Server serves SMART Health Link manifests and files; it is an http.Handler.
//
//	POST {BaseURL}/shl/{id}              ManifestRequest → Manifest
//	GET  {BaseURL}/shl/{id}?recipient=R  a U link's single file (application/jose)
//	GET  {BaseURL}/shl/file/{token}      a file location from a manifest
//
// Errors are JSON {"error": "..."}: 400 for a bad request or missing
// recipient, 401 with "remainingAttempts" for a wrong passcode (error
// "locked" when none are left), 404 for unknown, expired or revoked links
// and stale locations, 503 when the revocation check fails.
type Server struct {
	st   Store
	rev  Revocations
	opt  ServerOptions
	base string // path prefix of BaseURL
	mux  *http.ServeMux

	mu   sync.Mutex
	locs map[string]location
}

type location struct {
	id        string
	file      int
	recipient string
	expires   time.Time
}

// NewServer returns a server for the links in st, checked against rev.
func NewServer(st Store, rev Revocations, opt ServerOptions) *Server {
	opt.BaseURL = strings.TrimRight(opt.BaseURL, "/")
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.LocationTTL <= 0 {
		opt.LocationTTL = DefaultLocationTTL
	}
	if opt.Attempts <= 0 {
		opt.Attempts = DefaultAttempts
	}
	s := &Server{st: st, rev: rev, opt: opt, mux: http.NewServeMux(), locs: map[string]location{}}
	if u, err := url.Parse(opt.BaseURL); err == nil {
		s.base = strings.TrimRight(u.EscapedPath(), "/")
	}
	s.mux.HandleFunc("POST "+s.base+"/shl/{id}", s.manifest)
	s.mux.HandleFunc("GET "+s.base+"/shl/{id}", s.direct)
	s.mux.HandleFunc("GET "+s.base+"/shl/file/{token}", s.file)
	return s
}

// URLFor returns the manifest URL of link id (the payload's url).
func (s *Server) URLFor(id string) string { return s.opt.BaseURL + "/shl/" + id }

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Access-Control-Allow-Origin", "*")
	if r.Method == http.MethodOptions {
		w.Header().Set("Access-Control-Allow-Methods", "GET, POST")
		w.Header().Set("Access-Control-Allow-Headers", "Content-Type")
		w.WriteHeader(http.StatusNoContent)
		return
	}
	s.mux.ServeHTTP(w, r)
}

type errorBody struct {
	Error             string `json:"error"`
	RemainingAttempts *int   `json:"remainingAttempts,omitempty"`
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func remoteHost(r *http.Request) string {
	if h, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return h
	}
	return r.RemoteAddr
}

// access logs ev and, when refused, answers with code and reason.
func (s *Server) refuse(w http.ResponseWriter, r *http.Request, id, recipient string, code int, reason string) {
	s.st.Access(r.Context(), AccessEvent{ID: id, Recipient: recipient, Remote: remoteHost(r), At: s.opt.Now(), Reason: reason})
	writeJSON(w, code, errorBody{Error: reason})
}

// open looks the link up and refuses unknown, expired and revoked links.
// It returns false after answering.
func (s *Server) open(w http.ResponseWriter, r *http.Request, id, recipient string) (Entry, bool) {
	e, err := s.st.Entry(r.Context(), id)
	switch {
	case errors.Is(err, ErrUnknown):
		s.refuse(w, r, id, recipient, http.StatusNotFound, "unknown link")
		return Entry{}, false
	case err != nil:
		s.refuse(w, r, id, recipient, http.StatusServiceUnavailable, "link store unavailable")
		return Entry{}, false
	}
	if !e.Expires.IsZero() && !s.opt.Now().Before(e.Expires) {
		s.refuse(w, r, id, recipient, http.StatusNotFound, "link expired")
		return Entry{}, false
	}
	revoked, err := s.rev.Revoked(r.Context(), e.RevocationID)
	if err != nil {
		s.refuse(w, r, id, recipient, http.StatusServiceUnavailable, "revocation status unavailable")
		return Entry{}, false
	}
	if revoked {
		s.refuse(w, r, id, recipient, http.StatusNotFound, "link revoked")
		return Entry{}, false
	}
	return e, true
}

func (s *Server) manifest(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	var req ManifestRequest
	body, err := io.ReadAll(io.LimitReader(r.Body, maxRequest+1))
	if err != nil || len(body) > maxRequest || json.Unmarshal(body, &req) != nil {
		s.refuse(w, r, id, "", http.StatusBadRequest, "request body is not a manifest request")
		return
	}
	if strings.TrimSpace(req.Recipient) == "" {
		s.refuse(w, r, id, "", http.StatusBadRequest, "missing recipient")
		return
	}
	if req.EmbeddedLengthMax < 0 {
		s.refuse(w, r, id, req.Recipient, http.StatusBadRequest, "negative embeddedLengthMax")
		return
	}
	e, ok := s.open(w, r, id, req.Recipient)
	if !ok {
		return
	}
	if e.Has(FlagPasscode) {
		if !s.passcode(w, r, e, req) {
			return
		}
	}
	limit := req.EmbeddedLengthMax
	if s.opt.MaxEmbedded > 0 && limit > s.opt.MaxEmbedded {
		limit = s.opt.MaxEmbedded
	}
	m := Manifest{Files: make([]ManifestFile, 0, len(e.Files))}
	for i, f := range e.Files {
		mf := ManifestFile{ContentType: f.ContentType}
		if !f.LastUpdated.IsZero() {
			mf.LastUpdated = f.LastUpdated.UTC().Format(time.RFC3339)
		}
		if limit > 0 && len(f.JWE) <= limit {
			mf.Embedded = f.JWE
		} else {
			tok, err := s.newLocation(e.ID, i, req.Recipient)
			if err != nil {
				s.refuse(w, r, id, req.Recipient, http.StatusServiceUnavailable, "no randomness")
				return
			}
			mf.Location = s.opt.BaseURL + "/shl/file/" + tok
		}
		m.Files = append(m.Files, mf)
	}
	s.st.Access(r.Context(), AccessEvent{ID: id, Recipient: req.Recipient, Remote: remoteHost(r), At: s.opt.Now(), OK: true})
	writeJSON(w, http.StatusOK, m)
}

// passcode checks req's passcode; it answers 401 and returns false when it
// is wrong or the link is locked.
func (s *Server) passcode(w http.ResponseWriter, r *http.Request, e Entry, req ManifestRequest) bool {
	ctx := r.Context()
	left, err := s.st.PasscodeRemaining(ctx, e.ID)
	if err != nil {
		s.refuse(w, r, e.ID, req.Recipient, http.StatusServiceUnavailable, "link store unavailable")
		return false
	}
	left = min(left, s.opt.Attempts)
	if left > 0 && req.Passcode != "" && CheckPasscode(e.PasscodeHash, req.Passcode) {
		return true
	}
	if left > 0 {
		if left, err = s.st.PasscodeFailed(ctx, e.ID); err != nil {
			s.refuse(w, r, e.ID, req.Recipient, http.StatusServiceUnavailable, "link store unavailable")
			return false
		}
		left = max(0, min(left, s.opt.Attempts))
	}
	reason := "wrong passcode"
	if left == 0 {
		reason = "locked"
	}
	s.st.Access(ctx, AccessEvent{ID: e.ID, Recipient: req.Recipient, Remote: remoteHost(r), At: s.opt.Now(), Reason: reason})
	writeJSON(w, http.StatusUnauthorized, errorBody{Error: reason, RemainingAttempts: &left})
	return false
}

// Has reports whether the entry's flags include flag.
func (e Entry) Has(flag byte) bool { return strings.IndexByte(e.Flags, flag) >= 0 }

func (s *Server) newLocation(id string, file int, recipient string) (string, error) {
	tok, err := random32()
	if err != nil {
		return "", err
	}
	now := s.opt.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, l := range s.locs {
		if !now.Before(l.expires) {
			delete(s.locs, k)
		}
	}
	s.locs[tok] = location{id: id, file: file, recipient: recipient, expires: now.Add(s.opt.LocationTTL)}
	return tok, nil
}

func writeJWE(w http.ResponseWriter, jwe string) {
	w.Header().Set("Content-Type", "application/jose")
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, jwe)
}

// direct serves the single file of a U link.
func (s *Server) direct(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	recipient := r.URL.Query().Get("recipient")
	if strings.TrimSpace(recipient) == "" {
		s.refuse(w, r, id, "", http.StatusBadRequest, "missing recipient")
		return
	}
	e, ok := s.open(w, r, id, recipient)
	if !ok {
		return
	}
	if !e.Has(FlagDirect) || e.Has(FlagPasscode) || len(e.Files) != 1 {
		s.refuse(w, r, id, recipient, http.StatusBadRequest, "not a direct-file link: POST the manifest")
		return
	}
	s.st.Access(r.Context(), AccessEvent{ID: id, Recipient: recipient, Remote: remoteHost(r), At: s.opt.Now(), OK: true})
	writeJWE(w, e.Files[0].JWE)
}

// file serves a location handed out in a manifest, while it is valid and the
// link is still live.
func (s *Server) file(w http.ResponseWriter, r *http.Request) {
	tok := r.PathValue("token")
	now := s.opt.Now()
	s.mu.Lock()
	l, ok := s.locs[tok]
	if ok && !now.Before(l.expires) {
		delete(s.locs, tok)
		ok = false
	}
	s.mu.Unlock()
	if !ok {
		s.refuse(w, r, "", "", http.StatusNotFound, "unknown or expired file location")
		return
	}
	e, ok := s.open(w, r, l.id, l.recipient)
	if !ok {
		return
	}
	if l.file >= len(e.Files) {
		s.refuse(w, r, l.id, l.recipient, http.StatusNotFound, "file no longer in the link")
		return
	}
	s.st.Access(r.Context(), AccessEvent{ID: l.id, Recipient: l.recipient, Remote: remoteHost(r), At: now, OK: true})
	writeJWE(w, e.Files[l.file].JWE)
}

var _ http.Handler = (*Server)(nil)

// String describes the server for logs.
func (s *Server) String() string { return fmt.Sprintf("shl server at %s", s.opt.BaseURL) }
