package shl

import (
	"compress/flate"
	"errors"
	"fmt"
	"strings"

	"github.com/go-jose/go-jose/v4"
)

// Size limits of encrypted files.
const (
	// MaxJWE bounds one compact JWE, in bytes: every plaintext up to
	// MaxPlain fits uncompressed (base64url 4/3, plus the header).
	MaxJWE = 44 << 20
	// MaxPlain bounds one decrypted (and decompressed) file, in bytes: a
	// FHIR Bundle carrying a document of up to 16 MiB inline (base64 4/3)
	// beside its records.
	MaxPlain = 32 << 20
)

// Readers bound decompression: go-jose refuses output above max(250 kB,
// 10 × the compressed size), the jose npm library above 250 kB unless told
// otherwise. [Encrypt] compresses only within both defaults (plaintext up
// to 250 kB); a larger file fits MaxJWE uncompressed.
const inflateDefault = 250_000

func joseInflateLimit(compressed int) int { return max(inflateDefault, 10*compressed) }

// useZip decides whether Encrypt deflates plaintext.
func useZip(plaintext []byte) bool {
	if len(plaintext) > inflateDefault {
		return false
	}
	n := deflatedSize(plaintext)
	return n < len(plaintext) && len(plaintext) <= joseInflateLimit(n)
}

// Encrypt seals plaintext for key (32 bytes) as a compact JWE: alg "dir",
// enc "A256GCM", "cty" contentType, and "zip":"DEF" when compression makes
// the file smaller and common readers inflate it with their default limits
// (plaintext up to 250 kB); a larger plaintext, up to [MaxPlain], is sent
// uncompressed and fits [MaxJWE].
func Encrypt(key []byte, contentType string, plaintext []byte) (string, error) {
	if len(key) != KeySize {
		return "", fmt.Errorf("shl: encryption key is %d bytes, want %d: %w", len(key), KeySize, ErrKey)
	}
	if contentType == "" {
		return "", fmt.Errorf("shl: encrypt: empty content type: %w", ErrMalformed)
	}
	if len(plaintext) > MaxPlain {
		return "", fmt.Errorf("shl: file is %d bytes, at most %d allowed: %w", len(plaintext), MaxPlain, ErrTooLarge)
	}
	opts := (&jose.EncrypterOptions{}).WithContentType(jose.ContentType(contentType))
	if useZip(plaintext) {
		opts.Compression = jose.DEFLATE
	}
	enc, err := jose.NewEncrypter(jose.A256GCM, jose.Recipient{Algorithm: jose.DIRECT, Key: key}, opts)
	if err != nil {
		return "", fmt.Errorf("shl: encrypt: %w", err)
	}
	obj, err := enc.Encrypt(plaintext)
	if err != nil {
		return "", fmt.Errorf("shl: encrypt: %w", err)
	}
	s, err := obj.CompactSerialize()
	if err != nil {
		return "", fmt.Errorf("shl: encrypt: %w", err)
	}
	if len(s) > MaxJWE {
		return "", fmt.Errorf("shl: encrypted file is %d bytes, at most %d allowed: %w", len(s), MaxJWE, ErrTooLarge)
	}
	return s, nil
}

// deflatedSize is the size go-jose's DEF compression (flate level 1) gives.
func deflatedSize(b []byte) int {
	var n countWriter
	w, _ := flate.NewWriter(&n, 1)
	_, _ = w.Write(b)
	_ = w.Close()
	return int(n)
}

type countWriter int

func (c *countWriter) Write(p []byte) (int, error) { *c += countWriter(len(p)); return len(p), nil }

// Decrypt opens a compact JWE made for key (alg "dir", enc "A256GCM", with or
// without "zip":"DEF") and returns its "cty" and plaintext. JWEs above
// [MaxJWE] and plaintexts above [MaxPlain] fail with ErrTooLarge, also when
// they only grow that large while decompressing; a wrong key or tampered file
// fails with ErrKey.
func Decrypt(key []byte, jwe string) (contentType string, plaintext []byte, err error) {
	if len(jwe) > MaxJWE {
		return "", nil, fmt.Errorf("shl: encrypted file is %d bytes, at most %d allowed: %w", len(jwe), MaxJWE, ErrTooLarge)
	}
	if len(key) != KeySize {
		return "", nil, fmt.Errorf("shl: decryption key is %d bytes, want %d: %w", len(key), KeySize, ErrKey)
	}
	jwe = strings.TrimSpace(jwe)
	obj, err := jose.ParseEncryptedCompact(jwe, []jose.KeyAlgorithm{jose.DIRECT}, []jose.ContentEncryption{jose.A256GCM})
	if err != nil {
		return "", nil, fmt.Errorf("shl: not a compact JWE with alg dir and enc A256GCM: %w", ErrMalformed)
	}
	if z, ok := obj.Header.ExtraHeaders["zip"]; ok && z != "DEF" {
		return "", nil, fmt.Errorf("shl: JWE compression %v is not DEF: %w", z, ErrMalformed)
	}
	cty, _ := obj.Header.ExtraHeaders[jose.HeaderContentType].(string)
	plain, err := obj.Decrypt(key)
	switch {
	case err == nil:
	case errors.Is(err, jose.ErrCryptoFailure):
		return "", nil, fmt.Errorf("shl: file does not decrypt with the link's key: %w", ErrKey)
	case strings.Contains(err.Error(), "too large"):
		// go-jose refuses to inflate beyond max(250 kB, 10×): a bomb.
		return "", nil, fmt.Errorf("shl: file inflates beyond the decompression limit: %w", ErrTooLarge)
	default:
		return "", nil, fmt.Errorf("shl: decrypting file: %s: %w", oneLine(err.Error()), ErrMalformed)
	}
	if len(plain) > MaxPlain {
		return "", nil, fmt.Errorf("shl: file is %d bytes decrypted, at most %d allowed: %w", len(plain), MaxPlain, ErrTooLarge)
	}
	return cty, plain, nil
}
