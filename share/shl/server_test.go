package shl

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// testClock is a settable clock for server and client.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type fixture struct {
	srv    *Server
	store  *MemStore
	rev    *MemRevocations
	ts     *httptest.Server
	clock  *testClock
	client *Client
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{store: NewMemStore(), rev: &MemRevocations{},
		clock: &testClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}}
	f.ts = httptest.NewUnstartedServer(nil)
	f.ts.StartTLS()
	t.Cleanup(f.ts.Close)
	f.srv = NewServer(f.store, f.rev, ServerOptions{BaseURL: f.ts.URL, Now: f.clock.Now})
	f.ts.Config.Handler = f.srv
	f.client = &Client{HTTP: f.ts.Client(), Recipient: "Dr. Example, Example Clinic", Now: f.clock.Now}
	return f
}

// add serves plaintexts under a new link and returns its payload.
func (f *fixture) add(t *testing.T, flags, passcode string, plains ...string) (Payload, Entry) {
	t.Helper()
	id, err := NewID()
	if err != nil {
		t.Fatal(err)
	}
	key := testKey(t)
	e := Entry{ID: id, Flags: flags, Expires: f.clock.Now().Add(24 * time.Hour)}
	copy(e.RevocationID[:], id) // distinct per link
	if passcode != "" {
		if e.PasscodeHash, err = HashPasscode(passcode); err != nil {
			t.Fatal(err)
		}
	}
	for i, p := range plains {
		jwe, err := Encrypt(key, "application/fhir+json", []byte(p))
		if err != nil {
			t.Fatal(err)
		}
		e.Files = append(e.Files, StoredFile{ContentType: "application/fhir+json", JWE: jwe,
			LastUpdated: f.clock.Now().Add(time.Duration(-i) * time.Hour)})
	}
	f.store.Put(e)
	return Payload{URL: f.srv.URLFor(id), Key: b64.EncodeToString(key), Flag: flags, Exp: e.Expires.Unix(), V: 1}, e
}

func (f *fixture) post(t *testing.T, url string, body string) (int, map[string]any) {
	t.Helper()
	resp, err := f.ts.Client().Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	b, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(b, &m)
	return resp.StatusCode, m
}

const (
	plainA = `{"resourceType":"Bundle","id":"small-one"}`
)

var plainB = `{"resourceType":"Bundle","id":"big-one","entry":[` + strings.Repeat(`{"fullUrl":"urn:uuid:1"},`, 400) + `{}]}`

func TestServerManifestEmbeddedAndLocation(t *testing.T) {
	f := newFixture(t)
	p, e := f.add(t, "L", "", plainA, plainB)
	if len(e.Files[0].JWE) >= len(e.Files[1].JWE) {
		t.Fatal("fixture: file A should be the smaller JWE")
	}
	limit := len(e.Files[0].JWE) // A fits, B does not

	code, m := f.post(t, p.URL, `{"recipient":"Dr. Example","embeddedLengthMax":`+itoa(limit)+`}`)
	if code != 200 {
		t.Fatalf("POST manifest: %d %v", code, m)
	}
	b, _ := json.Marshal(m)
	man, err := ParseManifest(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(man.Files) != 2 || man.Files[0].Embedded != e.Files[0].JWE || man.Files[0].Location != "" ||
		man.Files[1].Embedded != "" || !strings.HasPrefix(man.Files[1].Location, f.ts.URL+"/shl/file/") ||
		man.Files[0].LastUpdated != "2026-03-01T12:00:00Z" || man.Files[1].LastUpdated != "2026-03-01T11:00:00Z" {
		t.Fatalf("manifest %+v", man)
	}
	// The location serves file B while it is valid, then 404.
	resp, err := f.ts.Client().Get(man.Files[1].Location)
	if err != nil {
		t.Fatal(err)
	}
	jwe, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/jose" || string(jwe) != e.Files[1].JWE {
		t.Fatalf("GET location: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	f.clock.Add(DefaultLocationTTL)
	resp, err = f.ts.Client().Get(man.Files[1].Location)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Errorf("GET location after its TTL: %d, want 404", resp.StatusCode)
	}

	// The client, with and without embedding, gets both files decrypted.
	for _, max := range []int{0, limit, 1 << 20} {
		c := *f.client
		c.EmbeddedLengthMax = max
		files, err := c.Open(t.Context(), p, "")
		if err != nil {
			t.Fatalf("Open (embeddedLengthMax %d): %v", max, err)
		}
		if len(files) != 2 || string(files[0].Plain) != plainA || string(files[1].Plain) != plainB ||
			files[0].ContentType != "application/fhir+json" {
			t.Errorf("Open (embeddedLengthMax %d): %d files", max, len(files))
		}
	}
	// Every access was logged with its recipient.
	ev := f.store.Events()
	// 3 above; then POST + 2 locations, POST + 1 location, POST.
	if len(ev) != 9 {
		t.Fatalf("%d access events, want 9: %+v", len(ev), ev)
	}
	if ev[0].Recipient != "Dr. Example" || !ev[0].OK || ev[0].ID != e.ID || ev[0].Remote != "127.0.0.1" || !ev[0].At.Equal(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)) {
		t.Errorf("first event %+v", ev[0])
	}
	if ev[1].Recipient != "Dr. Example" || !ev[1].OK {
		t.Errorf("location event %+v", ev[1])
	}
	if ev[2].OK || ev[2].Reason != "unknown or expired file location" {
		t.Errorf("stale location event %+v", ev[2])
	}
	if ev[3].Recipient != "Dr. Example, Example Clinic" || !ev[3].OK {
		t.Errorf("client event %+v", ev[3])
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func TestServerDirectGET(t *testing.T) {
	f := newFixture(t)
	p, e := f.add(t, "LU", "", plainB)
	files, err := f.client.Open(t.Context(), p, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 1 || string(files[0].Plain) != plainB || files[0].ContentType != "application/fhir+json" {
		t.Fatalf("files %+v", files)
	}
	resp, err := f.ts.Client().Get(p.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Errorf("GET without recipient: %d, want 400", resp.StatusCode)
	}
	ev := f.store.Events()
	if len(ev) != 2 || !ev[0].OK || ev[0].Recipient != f.client.Recipient || ev[0].ID != e.ID ||
		ev[1].OK || ev[1].Reason != "missing recipient" {
		t.Errorf("events %+v", ev)
	}
	// A non-U link is not served by GET.
	p2, _ := f.add(t, "", "", plainA)
	resp, err = f.ts.Client().Get(p2.URL + "?recipient=x")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Errorf("GET of a manifest link: %d, want 400", resp.StatusCode)
	}
}

func TestServerPasscodeLocks(t *testing.T) {
	f := newFixture(t)
	f.store.Attempts = 3
	p, _ := f.add(t, "P", "open sesame", plainA)

	if _, err := f.client.Open(t.Context(), p, ""); !errors.Is(err, ErrPasscode) {
		t.Errorf("no passcode: %v", err)
	}
	files, err := f.client.Open(t.Context(), p, "open sesame")
	if err != nil || len(files) != 1 || string(files[0].Plain) != plainA {
		t.Fatalf("right passcode: %v", err)
	}
	for want := 2; want >= 0; want-- {
		_, err := f.client.Open(t.Context(), p, "guess")
		var pe *PasscodeError
		if !errors.As(err, &pe) || pe.Remaining != want || !errors.Is(err, ErrPasscode) || errors.Is(err, ErrLocked) != (want == 0) {
			t.Fatalf("wrong passcode, want %d left: %v", want, err)
		}
	}
	// Locked: the right passcode no longer opens it.
	code, m := f.post(t, p.URL, `{"recipient":"r","passcode":"open sesame"}`)
	if code != 401 || m["error"] != "locked" || m["remainingAttempts"] != float64(0) {
		t.Errorf("locked link: %d %v", code, m)
	}
	_, err = f.client.Open(t.Context(), p, "open sesame")
	if !errors.Is(err, ErrLocked) || err.Error() != "shl: link locked: no passcode attempts left" {
		t.Errorf("locked link via client: %v", err)
	}
	code, m = f.post(t, p.URL, `{"passcode":"open sesame"}`)
	if code != 400 || m["error"] != "missing recipient" {
		t.Errorf("missing recipient: %d %v", code, m)
	}
}

func TestServerRefusals(t *testing.T) {
	f := newFixture(t)
	p, e := f.add(t, "", "", plainA)

	unknown := p
	unknown.URL = f.srv.URLFor("no-such-link")
	_, err := f.client.Open(t.Context(), unknown, "")
	var se *StatusError
	if !errors.As(err, &se) || se.Code != 404 || !errors.Is(err, ErrUnknown) {
		t.Errorf("unknown: %v", err)
	}

	// Expired on the server (the payload itself carries no exp here).
	noExp := p
	noExp.Exp = 0
	f.clock.Add(25 * time.Hour)
	_, err = f.client.Open(t.Context(), noExp, "")
	if !errors.As(err, &se) || se.Code != 404 || !errors.Is(err, ErrExpired) || !errors.Is(err, ErrUnknown) {
		t.Errorf("expired: %v", err)
	}
	// Expired in the payload: refused before any request.
	n := len(f.store.Events())
	if _, err := f.client.Open(t.Context(), p, ""); !errors.Is(err, ErrExpired) || len(f.store.Events()) != n {
		t.Errorf("payload expired: %v (events %d → %d)", err, n, len(f.store.Events()))
	}
	f.clock.Add(-25 * time.Hour)

	f.rev.SetErr(errors.New("registry unreachable"))
	_, err = f.client.Open(t.Context(), p, "")
	if !errors.As(err, &se) || se.Code != 503 || !errors.Is(err, ErrUnavailable) {
		t.Errorf("revocation check failing: %v", err)
	}
	f.rev.SetErr(nil)
	f.rev.Revoke(e.RevocationID)
	_, err = f.client.Open(t.Context(), p, "")
	if !errors.As(err, &se) || se.Code != 404 || !errors.Is(err, ErrRevoked) {
		t.Errorf("revoked: %v", err)
	}
	var reasons []string
	for _, ev := range f.store.Events() {
		if ev.OK || ev.Recipient != f.client.Recipient {
			t.Errorf("event %+v", ev)
		}
		reasons = append(reasons, ev.Reason)
	}
	if got := strings.Join(reasons, "|"); got != "unknown link|link expired|revocation status unavailable|link revoked" {
		t.Errorf("reasons %q", got)
	}

	// Malformed request bodies.
	for _, body := range []string{"", "{", `{"recipient":"r","embeddedLengthMax":-1}`, strings.Repeat(" ", maxRequest+1)} {
		if code, _ := f.post(t, p.URL, body); code != 400 {
			t.Errorf("POST %.20q: %d, want 400", body, code)
		}
	}
}

func TestClientRefusesPlainHTTP(t *testing.T) {
	p := Payload{URL: "http://keeper.example.org/shl/x", Key: "rxTgYlOaKJPFtcEd0qcceN8wEU4p94SqAwIWQe6uX7Q"}
	if _, err := new(Client).Open(t.Context(), p, ""); !errors.Is(err, ErrMalformed) {
		t.Errorf("plain http: %v", err)
	}
	// A manifest that points a file at plain http is refused as well.
	if _, err := ParseManifest([]byte(`{"files":[{"contentType":"a/b","location":"http://evil.example/x"}]}`)); !errors.Is(err, ErrMalformed) {
		t.Errorf("manifest with http location: %v", err)
	}
}

func TestServerBasePath(t *testing.T) {
	st := NewMemStore()
	srv := NewServer(st, &MemRevocations{}, ServerOptions{BaseURL: "https://keeper.example.org/p/"})
	if got := srv.URLFor("abc"); got != "https://keeper.example.org/p/shl/abc" {
		t.Errorf("URLFor %q", got)
	}
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, httptest.NewRequest("POST", "https://keeper.example.org/p/shl/abc", bytes.NewReader([]byte(`{"recipient":"r"}`))))
	if rec.Code != 404 || !strings.Contains(rec.Body.String(), `"error":"unknown link"`) {
		t.Errorf("POST under base path: %d %s", rec.Code, rec.Body)
	}
}

var _ http.Handler = (*Server)(nil)
