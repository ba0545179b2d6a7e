package vault

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/vault/api"
)

// roles logs in each way the wallet supports, with the clinic policy.
func roles(t *testing.T, s *devServer) map[string]Auth {
	t.Helper()
	root := s.root(t)
	if _, err := root.Logical().Write("auth/approle/role/clinic", map[string]any{
		"token_policies": polClinic, "token_ttl": "10m", "token_max_ttl": "30m",
	}); err != nil {
		t.Fatal(err)
	}
	rid, err := root.Logical().Read("auth/approle/role/clinic/role-id")
	if err != nil {
		t.Fatal(err)
	}
	sid, err := root.Logical().Write("auth/approle/role/clinic/secret-id", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := root.Logical().Write("auth/userpass/users/dr-alice", map[string]any{
		"password": "correct horse battery staple", "token_policies": polClinic, "token_ttl": "10m",
	}); err != nil {
		t.Fatal(err)
	}
	return map[string]Auth{
		"token":    Token{s.childToken(t, []string{polClinic}, "10m", "")},
		"approle":  AppRole{RoleID: rid.Data["role_id"].(string), SecretID: sid.Data["secret_id"].(string)},
		"userpass": UserPass{Username: "dr-alice", Password: "correct horse battery staple"},
	}
}

func TestRolesRoundTrip(t *testing.T) {
	t.Parallel()
	s := shared(t)
	ctx := context.Background()
	for role, auth := range roles(t, s) {
		t.Run(role, func(t *testing.T) {
			c := s.login(t, auth)
			if c.TokenTTL() <= 0 {
				t.Errorf("token TTL %v, want a lease", c.TokenTTL())
			}

			name := uniqueName(t, role)
			seed := randomBytes(t, 32)
			if err := c.StoreSeed(ctx, name, seed); err != nil {
				t.Fatal(err)
			}
			got, err := c.LoadSeed(ctx, name)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, seed) {
				t.Fatalf("LoadSeed = %x, want %x", got, seed)
			}

			ks := fakeKeystore(t, role)
			v, err := c.Backup(ctx, name, ks, CreateOnly)
			if err != nil || v != 1 {
				t.Fatalf("Backup = %d, %v; want 1", v, err)
			}
			back, v, err := c.Restore(ctx, name, 0)
			if err != nil || v != 1 || !bytes.Equal(back, ks) {
				t.Fatalf("Restore = %d, %v (equal %v)", v, err, bytes.Equal(back, ks))
			}

			tok, err := c.Wrap(ctx, ks, KindKeystore, time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			payload, kind, err := Unwrap(ctx, s.cfg(), tok)
			if err != nil || kind != KindKeystore || !bytes.Equal(payload, ks) {
				t.Fatalf("Unwrap = %q, %v", kind, err)
			}
		})
	}
}

func TestLoginRejected(t *testing.T) {
	t.Parallel()
	s := shared(t)
	ctx := context.Background()
	roles(t, s) // creates the users
	for name, auth := range map[string]Auth{
		"password":  UserPass{Username: "dr-alice", Password: "wrong"},
		"no user":   UserPass{Username: "nobody", Password: "x"},
		"secret id": AppRole{RoleID: "not-a-role", SecretID: "not-a-secret"},
	} {
		_, err := Login(ctx, s.cfg(), auth)
		if !errors.Is(err, ErrPermissionDenied) {
			t.Errorf("%s: Login err = %v, want ErrPermissionDenied", name, err)
		}
	}
	_, err := Login(ctx, s.cfg(), Token{"hvs.not-a-token"})
	if !errors.Is(err, ErrTokenExpired) {
		t.Errorf("bad token: Login err = %v, want ErrTokenExpired", err)
	}
}

// TestSeedEnvelope checks that KV holds only the envelope and that Transit
// decrypt is needed to open it.
func TestSeedEnvelope(t *testing.T) {
	t.Parallel()
	s := shared(t)
	ctx := context.Background()
	c := s.login(t, Token{s.childToken(t, []string{polClinic}, "10m", "")})
	name := uniqueName(t, "clinic")
	seed := randomBytes(t, 16)
	if err := c.StoreSeed(ctx, name, seed); err != nil {
		t.Fatal(err)
	}

	// The raw KV entry, read with the root token.
	raw, err := s.root(t).Logical().Read("secret/data/healthwallet/identities/" + name)
	if err != nil || raw == nil {
		t.Fatalf("raw read: %v", err)
	}
	js, _ := json.Marshal(raw)
	entry := string(js)
	for enc, form := range map[string]string{
		"raw":          string(seed),
		"hex":          hex.EncodeToString(seed),
		"HEX":          strings.ToUpper(hex.EncodeToString(seed)),
		"base64":       base64.StdEncoding.EncodeToString(seed),
		"base64 raw":   base64.RawStdEncoding.EncodeToString(seed),
		"base64url":    base64.RawURLEncoding.EncodeToString(seed),
		"base64 inner": base64.StdEncoding.EncodeToString(seed)[4:16],
	} {
		if strings.Contains(entry, form) {
			t.Errorf("raw KV entry contains the seed (%s)", enc)
		}
	}
	data := raw.Data["data"].(map[string]any)
	if w, _ := data["wrapped_key"].(string); !strings.HasPrefix(w, "vault:v1:") {
		t.Errorf("wrapped_key = %q, want a transit ciphertext", w)
	}
	for _, k := range []string{"nonce", "ciphertext", "key_version", "transit_key"} {
		if _, ok := data[k]; !ok {
			t.Errorf("entry lacks %s", k)
		}
	}
	if len(data) != 9 {
		t.Errorf("entry has %d fields, want 9: %v", len(data), data)
	}

	// Create-only: a second StoreSeed does not overwrite.
	other := randomBytes(t, 24)
	if err := c.StoreSeed(ctx, name, other); !errors.Is(err, ErrCASConflict) {
		t.Fatalf("StoreSeed over existing = %v, want ErrCASConflict", err)
	}
	if got, err := c.LoadSeed(ctx, name); err != nil || !bytes.Equal(got, seed) {
		t.Fatalf("after refused overwrite LoadSeed = %x, %v", got, err)
	}
	if err := c.ReplaceSeed(ctx, name, other); err != nil {
		t.Fatal(err)
	}
	if got, err := c.LoadSeed(ctx, name); err != nil || !bytes.Equal(got, other) {
		t.Fatalf("after ReplaceSeed LoadSeed = %x, %v", got, err)
	}

	// KV read alone is not enough: a token without Transit rights.
	kvOnly := s.login(t, Token{s.childToken(t, []string{polKVOnly}, "10m", "")})
	if _, err := kvOnly.LoadSeed(ctx, name); !errors.Is(err, ErrPermissionDenied) {
		t.Fatalf("LoadSeed without transit = %v, want ErrPermissionDenied", err)
	} else if !strings.Contains(err.Error(), "transit/decrypt/healthwallet") {
		t.Errorf("message does not name the denied path: %v", err)
	}

	// The envelope is bound to its name: copied elsewhere it does not open.
	moved := uniqueName(t, "moved")
	if _, err := s.root(t).Logical().Write("secret/data/healthwallet/identities/"+moved,
		map[string]any{"data": data}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.LoadSeed(ctx, moved); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("LoadSeed of a copied envelope = %v, want ErrCorrupt", err)
	}

	if _, err := c.LoadSeed(ctx, uniqueName(t, "absent")); !errors.Is(err, ErrNotFound) {
		t.Fatalf("LoadSeed of absent identity = %v, want ErrNotFound", err)
	}
	if err := c.StoreSeed(ctx, "x", make([]byte, 15)); err == nil {
		t.Fatal("StoreSeed accepted 15 bytes")
	}
	if err := c.StoreSeed(ctx, "../x", seed); err == nil {
		t.Fatal("StoreSeed accepted a path as name")
	}

	// Vault's audit log recorded the Transit decrypts.
	audit, err := os.ReadFile(s.auditLog)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(audit, []byte(`"path":"transit/decrypt/healthwallet"`)) {
		t.Error("audit log has no transit/decrypt entry")
	}
}

// TestSeedTransitKeyDeleted: with the Transit key gone, the envelope cannot
// be opened.
func TestSeedTransitKeyDeleted(t *testing.T) {
	t.Parallel()
	s := shared(t)
	ctx := context.Background()
	cfg := s.cfg()
	cfg.TransitKey = uniqueName(t, "doomed")
	admin, err := Login(ctx, cfg, Token{s.Token})
	if err != nil {
		t.Fatal(err)
	}
	if err := admin.EnsureTransitKey(ctx); err != nil {
		t.Fatal(err)
	}
	name := uniqueName(t, "clinic")
	if err := admin.StoreSeed(ctx, name, randomBytes(t, 32)); err != nil {
		t.Fatal(err)
	}
	root := s.root(t)
	if _, err := root.Logical().Write("transit/keys/"+cfg.TransitKey+"/config", map[string]any{"deletion_allowed": true}); err != nil {
		t.Fatal(err)
	}
	if _, err := root.Logical().Delete("transit/keys/" + cfg.TransitKey); err != nil {
		t.Fatal(err)
	}
	_, err = admin.LoadSeed(ctx, name)
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "transit key") {
		t.Fatalf("LoadSeed after key deletion = %v, want ErrNotFound about the transit key", err)
	}
}

func TestBackupRestore(t *testing.T) {
	t.Parallel()
	s := shared(t)
	ctx := context.Background()
	c := s.login(t, Token{s.childToken(t, []string{polClinic}, "10m", "")})
	name := uniqueName(t, "patient")

	if _, err := c.Versions(ctx, name); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Versions of nothing = %v, want ErrNotFound", err)
	}
	if _, _, err := c.Restore(ctx, name, 0); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Restore of nothing = %v, want ErrNotFound", err)
	}

	ks := [][]byte{fakeKeystore(t, "one"), fakeKeystore(t, "two"), fakeKeystore(t, "three")}
	for i, cas := range []int{CreateOnly, 1, NoCAS} {
		v, err := c.Backup(ctx, name, ks[i], cas)
		if err != nil || v != i+1 {
			t.Fatalf("Backup %d (cas %d) = %d, %v", i, cas, v, err)
		}
	}
	vs, err := c.Versions(ctx, name)
	if err != nil || len(vs) != 3 || vs[0] != 1 || vs[2] != 3 {
		t.Fatalf("Versions = %v, %v", vs, err)
	}
	for v, want := range map[int][]byte{0: ks[2], 1: ks[0], 2: ks[1], 3: ks[2]} {
		got, gotV, err := c.Restore(ctx, name, v)
		if err != nil || !bytes.Equal(got, want) || (v != 0 && gotV != v) || (v == 0 && gotV != 3) {
			t.Fatalf("Restore(%d) = v%d, %v, equal %v", v, gotV, err, bytes.Equal(got, want))
		}
	}

	// A device that last saw version 1 tries to back up: conflict, nothing
	// changes.
	stale := fakeKeystore(t, "stale")
	_, err = c.Backup(ctx, name, stale, 1)
	if !errors.Is(err, ErrCASConflict) {
		t.Fatalf("stale Backup = %v, want ErrCASConflict", err)
	}
	if !strings.Contains(err.Error(), "version 3, not 1") {
		t.Errorf("conflict message does not give the versions: %v", err)
	}
	if _, err := c.Backup(ctx, name, stale, CreateOnly); !errors.Is(err, ErrCASConflict) {
		t.Fatalf("create-only Backup over existing = %v, want ErrCASConflict", err)
	}
	got, v, err := c.Restore(ctx, name, 0)
	if err != nil || v != 3 || !bytes.Equal(got, ks[2]) {
		t.Fatalf("after conflicts Restore = v%d, %v", v, err)
	}
	if vs, _ := c.Versions(ctx, name); len(vs) != 3 {
		t.Fatalf("after conflicts Versions = %v", vs)
	}

	// A deleted version is not restorable, the others still are.
	if err := s.root(t).KVv2("secret").DeleteVersions(ctx, "healthwallet/escrow/"+name, []int{3}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Restore(ctx, name, 0); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Restore of deleted latest = %v, want ErrNotFound", err)
	}
	if vs, _ := c.Versions(ctx, name); len(vs) != 2 || vs[1] != 2 {
		t.Fatalf("Versions after delete = %v", vs)
	}
	if got, _, err := c.Restore(ctx, name, 2); err != nil || !bytes.Equal(got, ks[1]) {
		t.Fatalf("Restore(2) after delete: %v", err)
	}
	if _, _, err := c.Restore(ctx, name, 9); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Restore(9) = %v, want ErrNotFound", err)
	}

	// Tampered in Vault (a new version with another file under the old
	// digest): caught by the digest.
	good, _, err := c.Restore(ctx, name, 2)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := s.root(t).KVv2("secret").GetVersion(ctx, "healthwallet/escrow/"+name, 2)
	if err != nil {
		t.Fatal(err)
	}
	evil := raw.Data
	evil["keystore"] = base64.StdEncoding.EncodeToString(append(good[:len(good):len(good)], 'x'))
	if _, err := s.root(t).KVv2("secret").Put(ctx, "healthwallet/escrow/"+name, evil); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Restore(ctx, name, 0); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Restore of tampered backup = %v, want ErrCorrupt", err)
	}

	if _, err := c.Backup(ctx, name, []byte(`{"entropy":"00112233"}`), NoCAS); err == nil {
		t.Fatal("Backup accepted a keystore that is not an age file")
	}
}

func TestHandover(t *testing.T) {
	t.Parallel()
	s := shared(t)
	ctx := context.Background()
	c := s.login(t, Token{s.childToken(t, []string{polNone}, "10m", "")}) // the default policy allows wrapping
	bundle := []byte(`{"grant":"delegated access to records","to":"family"}`)
	tok, err := c.Wrap(ctx, bundle, KindDelegation, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	link := HandoverLink(s.Addr, tok, KindDelegation)
	addr, tok2, kind, err := ParseHandoverLink(link)
	if err != nil || addr != s.Addr || tok2 != tok || kind != KindDelegation {
		t.Fatalf("ParseHandoverLink = %q %q %q %v", addr, tok2, kind, err)
	}
	got, kind, err := Unwrap(ctx, Config{Addr: addr}, tok2)
	if err != nil || kind != KindDelegation || !bytes.Equal(got, bundle) {
		t.Fatalf("Unwrap = %q %q %v", got, kind, err)
	}
	_, _, err = Unwrap(ctx, Config{Addr: addr}, tok2)
	if !errors.Is(err, ErrWrapUsed) {
		t.Fatalf("second Unwrap = %v, want ErrWrapUsed", err)
	}
	if !strings.Contains(err.Error(), "already opened or has expired") {
		t.Errorf("message: %v", err)
	}

	short, err := c.Wrap(ctx, bundle, KindKeystore, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	// The TTL runs on the server's clock, in another process, so neither a
	// fixed sleep nor testing/synctest fits: wait until the server says the
	// token is gone (a lookup does not consume it), then try to open it.
	waitWrapExpired(t, s, short, 5*time.Second)
	if _, _, err := Unwrap(ctx, Config{Addr: addr}, short); !errors.Is(err, ErrWrapUsed) {
		t.Fatalf("Unwrap after TTL = %v, want ErrWrapUsed", err)
	}

	if _, err := c.Wrap(ctx, bundle, "Bad Kind", time.Minute); err == nil {
		t.Error("Wrap accepted a bad kind")
	}
	if _, err := c.Wrap(ctx, bundle, KindKeystore, time.Millisecond); err == nil {
		t.Error("Wrap accepted a TTL under 1s")
	}
}

// waitWrapExpired polls sys/wrapping/lookup until the server no longer
// knows the wrapping token, failing t after limit.
func waitWrapExpired(t *testing.T, s *devServer, token string, limit time.Duration) {
	t.Helper()
	root := s.root(t)
	deadline := time.NewTimer(limit)
	defer deadline.Stop()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		_, err := root.Logical().Write("sys/wrapping/lookup", map[string]any{"token": token})
		var re *api.ResponseError
		if errors.As(err, &re) && re.StatusCode == http.StatusBadRequest {
			return // "wrapping token is not valid or does not exist"
		}
		if err != nil {
			t.Fatalf("wrapping lookup: %v", err)
		}
		select {
		case <-deadline.C:
			t.Fatalf("wrapping token still valid after %v", limit)
		case <-tick.C:
		}
	}
}

func TestErrorsPermissionAndToken(t *testing.T) {
	t.Parallel()
	s := shared(t)
	ctx := context.Background()

	none := s.login(t, Token{s.childToken(t, []string{polNone}, "10m", "")})
	_, err := none.Backup(ctx, "p", fakeKeystore(t, "x"), NoCAS)
	if !errors.Is(err, ErrPermissionDenied) || errors.Is(err, ErrTokenExpired) {
		t.Fatalf("Backup without rights = %v, want ErrPermissionDenied", err)
	}
	if !strings.Contains(err.Error(), "secret/data/healthwallet/escrow/p") || strings.Contains(err.Error(), "\n") {
		t.Errorf("message: %q", err)
	}
	if err := none.StoreSeed(ctx, "c", randomBytes(t, 16)); !errors.Is(err, ErrPermissionDenied) {
		t.Fatalf("StoreSeed without rights = %v, want ErrPermissionDenied", err)
	}

	// Revoked: the same call now says the session is over.
	tok := s.childToken(t, []string{polClinic}, "10m", "")
	c := s.login(t, Token{tok})
	if err := c.api.Auth().Token().RevokeSelfWithContext(ctx, ""); err != nil {
		t.Fatal(err)
	}
	_, err = c.Backup(ctx, "p", fakeKeystore(t, "x"), NoCAS)
	if !errors.Is(err, ErrTokenExpired) || errors.Is(err, ErrPermissionDenied) {
		t.Fatalf("Backup with revoked token = %v, want ErrTokenExpired", err)
	}
	if _, err := Login(ctx, s.cfg(), Token{tok}); !errors.Is(err, ErrTokenExpired) {
		t.Fatalf("Login with revoked token = %v, want ErrTokenExpired", err)
	}

	// Logout revokes a token obtained by logging in.
	roles(t, s)
	up := s.login(t, UserPass{Username: "dr-alice", Password: "correct horse battery staple"})
	upTok := up.api.Token()
	if err := up.Logout(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := Login(ctx, s.cfg(), Token{upTok}); !errors.Is(err, ErrTokenExpired) {
		t.Fatalf("token after Logout = %v, want ErrTokenExpired", err)
	}
}

// TestErrorsSealedUnreachable uses a server of its own: it seals it, unseals
// it with the key the dev server printed, and finally stops it.
func TestErrorsSealedUnreachable(t *testing.T) {
	t.Parallel()
	s := startDevServer(t)
	ctx := context.Background()
	c := s.login(t, Token{s.Token})
	name := "patient"
	ks := fakeKeystore(t, "x")
	if _, err := c.Backup(ctx, name, ks, NoCAS); err != nil {
		t.Fatal(err)
	}

	if err := s.root(t).Sys().SealWithContext(ctx); err != nil {
		t.Fatal(err)
	}
	_, _, err := c.Restore(ctx, name, 0)
	if !errors.Is(err, ErrSealed) {
		t.Fatalf("Restore while sealed = %v, want ErrSealed", err)
	}
	want := "vault restore: vault at " + s.Addr + " is sealed: unseal it (vault operator unseal) and retry"
	if err.Error() != want {
		t.Errorf("message = %q, want %q", err.Error(), want)
	}
	if _, err := Login(ctx, s.cfg(), Token{s.Token}); !errors.Is(err, ErrSealed) {
		t.Fatalf("Login while sealed = %v, want ErrSealed", err)
	}
	if _, _, err := Unwrap(ctx, s.cfg(), "hvs.whatever"); !errors.Is(err, ErrSealed) {
		t.Fatalf("Unwrap while sealed = %v, want ErrSealed", err)
	}
	if _, err := s.root(t).Sys().UnsealWithContext(ctx, s.UnsealKey); err != nil {
		t.Fatal(err)
	}
	// Nothing was lost: the backup is still there after unsealing.
	if got, _, err := c.Restore(ctx, name, 0); err != nil || !bytes.Equal(got, ks) {
		t.Fatalf("Restore after unseal: %v", err)
	}

	s.Stop()
	_, _, err = c.Restore(ctx, name, 0)
	if !errors.Is(err, ErrUnreachable) {
		t.Fatalf("Restore from stopped server = %v, want ErrUnreachable", err)
	}
	if !strings.Contains(err.Error(), "cannot reach vault at "+s.Addr) || !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("message: %v", err)
	}
	if _, err := Login(ctx, s.cfg(), Token{s.Token}); !errors.Is(err, ErrUnreachable) {
		t.Fatalf("Login to stopped server = %v, want ErrUnreachable", err)
	}
	if _, _, err := Unwrap(ctx, s.cfg(), "hvs.whatever"); !errors.Is(err, ErrUnreachable) {
		t.Fatalf("Unwrap from stopped server = %v, want ErrUnreachable", err)
	}
}

func TestWatch(t *testing.T) {
	t.Parallel()
	s := shared(t)
	ctx := context.Background()

	// A renewable token with a 2 s TTL and a 4 s max TTL: renewed past 2 s,
	// lost before 4 s.
	c := s.login(t, Token{s.childToken(t, []string{polClinic}, "2s", "4s")})
	lost := make(chan error, 1)
	start := time.Now()
	stop := c.Watch(ctx, func(err error) { lost <- err })
	defer stop()
	stopped := make(chan error, 1)
	stop2 := c.Watch(ctx, func(err error) { stopped <- err })
	stop2()

	// The revoked case, on another session.
	r := s.login(t, Token{s.childToken(t, []string{polClinic}, "1h", "")})
	rLost := make(chan error, 1)
	defer r.Watch(ctx, func(err error) { rLost <- err })()
	if err := r.api.Auth().Token().RevokeSelfWithContext(ctx, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Versions(ctx, "anything"); !errors.Is(err, ErrTokenExpired) {
		t.Fatalf("Versions with revoked token = %v", err)
	}
	select {
	case err := <-rLost:
		if !errors.Is(err, ErrTokenExpired) {
			t.Fatalf("onLost(%v), want ErrTokenExpired", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("onLost not called after the token was found revoked")
	}

	select {
	case err := <-lost:
		el := time.Since(start)
		if !errors.Is(err, ErrTokenExpired) {
			t.Fatalf("onLost(%v), want ErrTokenExpired", err)
		}
		// Without renewal the loss would come before the first 2 s TTL
		// ends. Vault counts TTLs in whole seconds, so near the max TTL a
		// renewal may grant up to a second more than 4 s: the loss can be
		// reported a little after the 4 s.
		if el < 2200*time.Millisecond || el > 5500*time.Millisecond {
			t.Fatalf("onLost after %v, want between 2.2 s (renewed) and 4 s (max TTL) + 1.5 s", el)
		}
		t.Logf("session lost after %v: %v", el, err)
		// Once the max TTL has passed (Vault rounds it to whole seconds, so
		// allow a little more), calls say the session expired.
		for {
			_, err := c.Versions(ctx, "anything")
			if errors.Is(err, ErrTokenExpired) {
				t.Logf("after %v: %v", time.Since(start), err)
				break
			}
			if time.Since(start) > 7*time.Second {
				t.Fatalf("Versions long after max TTL = %v, want ErrTokenExpired", err)
			}
			time.Sleep(100 * time.Millisecond)
		}
	case <-time.After(8 * time.Second):
		t.Fatal("onLost not called after max TTL")
	}
	select {
	case err := <-stopped:
		t.Fatalf("stopped watcher called onLost(%v)", err)
	default:
	}

	// A token that does not expire needs no renewal.
	root := s.login(t, Token{s.Token})
	if root.TokenTTL() != 0 {
		t.Fatalf("root TTL %v", root.TokenTTL())
	}
	root.Watch(ctx, func(err error) { t.Errorf("root onLost(%v)", err) })()
}
