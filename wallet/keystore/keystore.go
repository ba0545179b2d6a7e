// Package keystore keeps a wallet's recovery secret at rest, sealed under the
// user's passphrase.
//
// # Format
//
// The file is a standard age file (https://age-encryption.org/v1) with a
// single scrypt recipient, so it opens with any age implementation, including
// Debian's `age -d keystore.age`. The plaintext is a JSON object:
//
//	{"format":"healthwallet-keystore","version":1,"entropy":"<hex>","created":"<RFC 3339>"}
//
// padded with spaces to exactly [PlaintextSize] bytes. `entropy` is the BIP-39
// entropy, so the recovery phrase itself can be shown again after unlocking.
//
// # Work factor
//
// [DefaultWorkFactor] is scrypt log2(N) = 17 (r=8, p=1): about 0.5 s on the
// reference machine (BenchmarkUnlock measures it), inside the 0.25–1 s band
// we aim for. log2(N) = 18 measured 1.6 s there.
//
// # Telling failures apart
//
// Because the plaintext has a fixed size, a keystore file has a known total
// length. A short file is reported as [ErrTruncated] and never as a wrong
// passphrase. age authenticates the header with a MAC and the payload with
// STREAM, so a flipped byte is [ErrCorrupt] — except inside the scrypt
// stanza, where damage and a wrong passphrase look the same to age. The
// caller can pass the file's SHA-256 recorded at write time ([Digest]) to
// [Open]; then any change to the file is [ErrCorrupt].
package keystore

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"filippo.io/age"

	"github.com/healthwallet/healthwallet/internal/memlimit"
)

// Sizes and limits of the format.
const (
	// PlaintextSize is the exact size of the sealed JSON, padding included.
	PlaintextSize = 512
	// DefaultWorkFactor is scrypt log2(N) for new keystores.
	DefaultWorkFactor = 17
	// MaxWorkFactor is the largest log2(N) Open accepts: a corrupted header
	// must not make us spend minutes or gigabytes.
	MaxWorkFactor = 22
	// MaxReceivedWorkFactor is the largest log2(N) accepted for a keystore
	// that came from elsewhere (a Vault handover or backup): 2^18 costs
	// 256 MiB and about a second here, and whoever crafted the file must
	// not make a phone spend 4 GiB on it.
	MaxReceivedWorkFactor = 18
	// payloadSize is the age payload for PlaintextSize bytes: a 16-byte
	// nonce and one STREAM chunk with its 16-byte Poly1305 tag.
	payloadSize = 16 + PlaintextSize + 16

	formatName = "healthwallet-keystore"
	version    = 1
)

// Errors of Open. Each is distinct so the user is told what to do.
var (
	// ErrWrongPassphrase: the passphrase does not open this keystore.
	ErrWrongPassphrase = errors.New("wrong passphrase")
	// ErrCorrupt: the file was altered or damaged; restore from the recovery phrase or a backup.
	ErrCorrupt = errors.New("keystore is corrupted")
	// ErrTruncated: the file is shorter than a keystore; restore from the recovery phrase or a backup.
	ErrTruncated = errors.New("keystore is truncated")
	// ErrUnsupported: a keystore version this build does not know.
	ErrUnsupported = errors.New("unsupported keystore version")
	// ErrEmptyPassphrase: a keystore needs a passphrase.
	ErrEmptyPassphrase = errors.New("passphrase is empty")
	// ErrTooCostly: the keystore asks for more scrypt work than the caller
	// accepts (see OpenLimited).
	ErrTooCostly = errors.New("keystore's scrypt work factor is above the limit")
)

// Secret is what a keystore holds.
type Secret struct {
	// Entropy is the BIP-39 entropy (16 to 32 bytes).
	Entropy []byte
	// Created is when the wallet was created or restored.
	Created time.Time
}

type plaintext struct {
	Format  string    `json:"format"`
	Version int       `json:"version"`
	Entropy string    `json:"entropy"`
	Created time.Time `json:"created"`
}

// releaseWorkFactor is the scrypt log2(N) from which Seal and Open hand
// the derivation's memory (128·r·N bytes: 32 MiB at 2^15) back to the
// operating system when they return; see package memlimit.
const releaseWorkFactor = 15

// Seal encrypts s under passphrase with scrypt work factor 2^logN and returns
// the keystore file's bytes.
func Seal(s Secret, passphrase string, logN int) ([]byte, error) {
	if passphrase == "" {
		return nil, ErrEmptyPassphrase
	}
	if n := len(s.Entropy); n < 16 || n > 32 || n%4 != 0 {
		return nil, fmt.Errorf("entropy of %d bytes is not BIP-39 entropy", n)
	}
	pt, err := json.Marshal(plaintext{formatName, version, hex.EncodeToString(s.Entropy), s.Created.UTC().Truncate(time.Second)})
	if err != nil {
		return nil, err
	}
	defer clear(pt)
	padded := make([]byte, PlaintextSize)
	defer clear(padded)
	copy(padded, pt)
	for i := len(pt); i < PlaintextSize; i++ {
		padded[i] = ' '
	}
	r, err := age.NewScryptRecipient(passphrase)
	if err != nil {
		return nil, err
	}
	r.SetWorkFactor(logN)
	if logN >= releaseWorkFactor {
		defer memlimit.ReleaseKDF()
	}
	var buf bytes.Buffer
	w, err := age.Encrypt(&buf, r)
	if err != nil {
		return nil, fmt.Errorf("failed to seal keystore: %w", err)
	}
	if _, err := w.Write(padded); err != nil {
		return nil, fmt.Errorf("failed to seal keystore: %w", err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("failed to seal keystore: %w", err)
	}
	return buf.Bytes(), nil
}

// Digest returns the SHA-256 of a keystore file, to be recorded beside it
// and passed to [Open].
func Digest(file []byte) []byte {
	d := sha256.Sum256(file)
	return d[:]
}

// Open decrypts a keystore file. If digest is not nil it is the file's
// [Digest] at write time, and any mismatch is [ErrCorrupt].
func Open(file []byte, passphrase string, digest []byte) (Secret, error) {
	return OpenLimited(file, passphrase, digest, MaxWorkFactor)
}

// WorkFactor returns the scrypt log2(N) a keystore file's header asks for,
// or 0 if the header names none.
func WorkFactor(file []byte) int {
	_, rest, ok := bytes.Cut(file, []byte("\n-> scrypt "))
	if !ok {
		return 0
	}
	line, _, _ := bytes.Cut(rest, []byte("\n"))
	f := strings.Fields(string(line))
	if len(f) != 2 {
		return 0
	}
	n, err := strconv.Atoi(f[1])
	if err != nil || n < 0 {
		return 0
	}
	return n
}

// OpenLimited is Open for a file that asks for at most 2^maxLogN of scrypt
// work; a costlier file is refused with ErrTooCostly before any work.
func OpenLimited(file []byte, passphrase string, digest []byte, maxLogN int) (Secret, error) {
	if n := WorkFactor(file); n > maxLogN {
		return Secret{}, fmt.Errorf("%w: 2^%d, at most 2^%d accepted", ErrTooCostly, n, maxLogN)
	}
	if len(file) == 0 {
		return Secret{}, fmt.Errorf("%w: the file is empty", ErrTruncated)
	}
	hdr, err := age.ExtractHeader(bytes.NewReader(file))
	if err != nil {
		// A prefix of a keystore that ends inside the header is shorter than
		// the payload alone; a longer file whose header never ends was
		// damaged (say its final newline flipped), not cut.
		eof := errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || strings.Contains(err.Error(), "EOF")
		if eof && len(file) < payloadSize {
			return Secret{}, fmt.Errorf("%w: the file ends inside its header", ErrTruncated)
		}
		return Secret{}, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	switch body := len(file) - len(hdr); {
	case body < payloadSize:
		return Secret{}, fmt.Errorf("%w: %d of %d bytes", ErrTruncated, len(file), len(hdr)+payloadSize)
	case body > payloadSize:
		return Secret{}, fmt.Errorf("%w: %d unexpected trailing bytes", ErrCorrupt, body-payloadSize)
	}
	if digest != nil && !bytes.Equal(Digest(file), digest) {
		return Secret{}, fmt.Errorf("%w: the file does not match the checksum recorded when it was written", ErrCorrupt)
	}
	if passphrase == "" {
		return Secret{}, ErrEmptyPassphrase
	}
	id, err := age.NewScryptIdentity(passphrase)
	if err != nil {
		return Secret{}, err
	}
	id.SetMaxWorkFactor(maxLogN)
	if WorkFactor(file) >= releaseWorkFactor {
		defer memlimit.ReleaseKDF()
	}
	rd, err := age.Decrypt(bytes.NewReader(file), id)
	if err != nil {
		var nomatch *age.NoIdentityMatchError
		if errors.As(err, &nomatch) && strings.Contains(err.Error(), "incorrect passphrase") {
			return Secret{}, ErrWrongPassphrase
		}
		return Secret{}, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	pt, err := io.ReadAll(rd)
	defer clear(pt)
	if err != nil {
		return Secret{}, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	var p plaintext
	if err := json.Unmarshal(bytes.TrimRight(pt, " "), &p); err != nil {
		return Secret{}, fmt.Errorf("%w: contents are not keystore JSON", ErrCorrupt)
	}
	if p.Format != formatName {
		return Secret{}, fmt.Errorf("%w: format %q", ErrCorrupt, p.Format)
	}
	if p.Version != version {
		return Secret{}, fmt.Errorf("%w %d (this build reads %d)", ErrUnsupported, p.Version, version)
	}
	entropy, err := hex.DecodeString(p.Entropy)
	if err != nil || len(entropy) < 16 || len(entropy) > 32 || len(entropy)%4 != 0 {
		return Secret{}, fmt.Errorf("%w: bad entropy field", ErrCorrupt)
	}
	return Secret{Entropy: entropy, Created: p.Created}, nil
}
