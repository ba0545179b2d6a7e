package vault

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/hashicorp/vault/api"
)

const (
	identityFormat  = "healthwallet-identity"
	identityVersion = 1
	identityAlg     = "AES-256-GCM"
	dataKeyBits     = 256
)

// checkSeed accepts BIP-39 entropy: 16 to 32 bytes, a multiple of 4.
func checkSeed(op string, seed []byte) error {
	if n := len(seed); n < 16 || n > 32 || n%4 != 0 {
		return invalid(op, "a wallet seed is 16 to 32 bytes of BIP-39 entropy, not %d bytes", n)
	}
	return nil
}

func (c *Client) identityPath(name string) string {
	return c.cfg.Prefix + "/identities/" + name
}

// identityAAD binds a sealed seed to its name, so that entries cannot be
// swapped between identities inside Vault.
func identityAAD(name string) []byte {
	return []byte(identityFormat + "/v1\x00" + name)
}

// EnsureTransitKey creates the Transit key that seals identities if it does
// not exist yet (type aes256-gcm96, not exportable). This is an
// administrator's step: it needs write access to <transit>/keys/<key>.
func (c *Client) EnsureTransitKey(ctx context.Context) error {
	const op = "create transit key"
	what := fmt.Sprintf("transit key %q", c.cfg.TransitKey)
	p := c.cfg.TransitMount + "/keys/" + c.cfg.TransitKey
	s, err := c.api.Logical().ReadWithContext(ctx, p)
	if err != nil {
		return c.fail(ctx, op, what, err)
	}
	if s != nil {
		return nil
	}
	if _, err := c.api.Logical().WriteWithContext(ctx, p, map[string]any{"type": "aes256-gcm96"}); err != nil {
		return c.fail(ctx, op, what, err)
	}
	return nil
}

// StoreSeed seals a clinic's or specialist's wallet seed (BIP-39 entropy)
// under a fresh Transit data key and stores the envelope in KV v2 at
// <prefix>/identities/<name>. It never overwrites: if the identity exists
// the error unwraps to [ErrCASConflict] (use [Client.ReplaceSeed]).
func (c *Client) StoreSeed(ctx context.Context, name string, seed []byte) error {
	return c.storeSeed(ctx, "store seed", name, seed, false)
}

// ReplaceSeed stores seed under name whether or not the identity exists; the
// previous envelope stays in KV v2's version history. It still uses
// check-and-set against the version it saw, so a concurrent change is
// reported as [ErrCASConflict] rather than lost.
func (c *Client) ReplaceSeed(ctx context.Context, name string, seed []byte) error {
	return c.storeSeed(ctx, "replace seed", name, seed, true)
}

func (c *Client) storeSeed(ctx context.Context, op, name string, seed []byte, replace bool) error {
	if err := checkName(op, name); err != nil {
		return err
	}
	if err := checkSeed(op, seed); err != nil {
		return err
	}
	what := fmt.Sprintf("identity %q", name)
	path := c.identityPath(name)
	kv := c.api.KVv2(c.cfg.Mount)

	cas := 0
	if replace {
		v, err := c.currentVersion(ctx, path)
		if err != nil && !errors.Is(err, api.ErrSecretNotFound) {
			return c.fail(ctx, op, what, err)
		}
		cas = v
	}

	// Envelope: a fresh 256-bit data key from Transit, returned both in
	// plaintext and wrapped under the Transit key.
	dk, err := c.api.Logical().WriteWithContext(ctx,
		c.cfg.TransitMount+"/datakey/plaintext/"+c.cfg.TransitKey, map[string]any{"bits": dataKeyBits})
	if err != nil {
		return c.fail(ctx, op, what, err)
	}
	if dk == nil || dk.Data == nil {
		return &Error{Op: op, Addr: c.Addr(), Err: errors.New("empty answer from transit"),
			Detail: "vault at " + c.Addr() + " returned no data key: check the transit mount " + c.cfg.TransitMount}
	}
	wrapped, _ := dk.Data["ciphertext"].(string)
	keyB64, _ := dk.Data["plaintext"].(string)
	key, err := base64.StdEncoding.DecodeString(keyB64)
	defer clear(key)
	if err != nil || len(key) != dataKeyBits/8 || wrapped == "" {
		return &Error{Op: op, Addr: c.Addr(), Err: errors.New("malformed data key from transit"),
			Detail: "vault at " + c.Addr() + " returned a malformed data key"}
	}
	keyVersion, _ := intOf(dk.Data["key_version"])

	aead, err := newAEAD(key)
	if err != nil {
		return &Error{Op: op, Addr: c.Addr(), Err: err, Detail: err.Error()}
	}
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return &Error{Op: op, Addr: c.Addr(), Err: err, Detail: err.Error()}
	}
	sealed := aead.Seal(nil, nonce, seed, identityAAD(name))

	data := map[string]any{
		"format":        identityFormat,
		"version":       identityVersion,
		"alg":           identityAlg,
		"transit_mount": c.cfg.TransitMount,
		"transit_key":   c.cfg.TransitKey,
		"key_version":   keyVersion,
		"wrapped_key":   wrapped,
		"nonce":         base64.StdEncoding.EncodeToString(nonce),
		"ciphertext":    base64.StdEncoding.EncodeToString(sealed),
	}
	if _, err := kv.Put(ctx, path, data, api.WithCheckAndSet(cas)); err != nil {
		e := c.fail(ctx, op, what, err)
		var ve *Error
		if errors.Is(e, ErrCASConflict) && errors.As(e, &ve) {
			if replace {
				ve.Detail = what + " was changed in vault at " + c.Addr() + " while replacing it: check it and retry"
			} else {
				ve.Detail = what + " already exists in vault at " + c.Addr() + ": choose another name, or replace it explicitly"
			}
		}
		return e
	}
	return nil
}

// LoadSeed fetches and unseals the identity stored under name. It needs
// read access to the KV entry and Transit decrypt on the key: either alone
// yields nothing. The caller owns the returned seed and should clear it when
// done.
func (c *Client) LoadSeed(ctx context.Context, name string) ([]byte, error) {
	const op = "load seed"
	if err := checkName(op, name); err != nil {
		return nil, err
	}
	what := fmt.Sprintf("identity %q", name)
	s, err := c.api.KVv2(c.cfg.Mount).Get(ctx, c.identityPath(name))
	if err != nil {
		return nil, c.fail(ctx, op, what, err)
	}
	if s.Data == nil {
		return nil, &Error{Op: op, Addr: c.Addr(), Err: ErrNotFound,
			Detail: what + " was deleted in vault at " + c.Addr() + ": an administrator can undelete an earlier version"}
	}
	corrupt := func(why string) error {
		return &Error{Op: op, Addr: c.Addr(), Err: ErrCorrupt,
			Detail: what + " in vault at " + c.Addr() + " is not a valid sealed identity (" + why + "): restore it from an earlier version"}
	}
	if f, _ := s.Data["format"].(string); f != identityFormat {
		return nil, corrupt("unknown format")
	}
	if v, _ := intOf(s.Data["version"]); v != identityVersion {
		return nil, corrupt("unsupported version " + strconv.Itoa(v))
	}
	if a, _ := s.Data["alg"].(string); a != identityAlg {
		return nil, corrupt("unsupported algorithm")
	}
	wrapped, _ := s.Data["wrapped_key"].(string)
	nonce, err1 := b64Field(s.Data, "nonce")
	sealed, err2 := b64Field(s.Data, "ciphertext")
	if wrapped == "" || err1 != nil || err2 != nil {
		return nil, corrupt("missing fields")
	}

	dk, err := c.api.Logical().WriteWithContext(ctx,
		c.cfg.TransitMount+"/decrypt/"+c.cfg.TransitKey, map[string]any{"ciphertext": wrapped})
	if err != nil {
		return nil, c.fail(ctx, op, what, err)
	}
	if dk == nil || dk.Data == nil {
		return nil, corrupt("transit returned nothing")
	}
	keyB64, _ := dk.Data["plaintext"].(string)
	key, err := base64.StdEncoding.DecodeString(keyB64)
	defer clear(key)
	if err != nil || len(key) != dataKeyBits/8 {
		return nil, corrupt("bad data key")
	}
	aead, err := newAEAD(key)
	if err != nil || len(nonce) != aead.NonceSize() {
		return nil, corrupt("bad nonce")
	}
	seed, err := aead.Open(nil, nonce, sealed, identityAAD(name))
	if err != nil {
		return nil, corrupt("authentication failed")
	}
	if err := checkSeed(op, seed); err != nil {
		clear(seed)
		return nil, corrupt("bad seed length")
	}
	return seed, nil
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// currentVersion is the current version of a KV v2 entry (0 if it has
// none), for check-and-set.
func (c *Client) currentVersion(ctx context.Context, path string) (int, error) {
	md, err := c.api.KVv2(c.cfg.Mount).GetMetadata(ctx, path)
	if err != nil {
		return 0, err
	}
	return md.CurrentVersion, nil
}

func b64Field(data map[string]any, k string) ([]byte, error) {
	s, ok := data[k].(string)
	if !ok {
		return nil, errors.New("missing " + k)
	}
	return base64.StdEncoding.DecodeString(s)
}

// intOf reads a JSON number as decoded by the api (json.Number), or an int.
func intOf(v any) (int, bool) {
	switch n := v.(type) {
	case json.Number:
		i, err := strconv.Atoi(n.String())
		return i, err == nil
	case float64:
		return int(n), float64(int(n)) == n
	case int:
		return n, true
	case string:
		i, err := strconv.Atoi(n)
		return i, err == nil
	}
	return 0, false
}
