package ipfs

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"

	"github.com/tink-crypto/tink-go/v2/streamingaead/subtle"
)

// Encryption parameters. Part of the object format.
const (
	// SegmentSize is the ciphertext segment size, equal to ChunkSize so
	// every leaf block is one authenticated segment.
	SegmentSize = ChunkSize
	// KeySize is the size of an object key.
	KeySize = 32
	// MinPadded is the smallest padded object: every object is at least
	// this large on the wire.
	MinPadded = 1024

	lengthPrefix = 8
	adPrefix     = "healthwallet/object/v1\x00"
)

// Errors of reading an object.
var (
	// ErrTampered: a block of the object failed authentication (flipped,
	// reordered, truncated or swapped).
	ErrTampered = errors.New("object failed authentication: tampered, truncated or reordered")
	// ErrBadKey: the object key is not KeySize bytes.
	ErrBadKey = errors.New("object key must be 32 bytes")
)

// ObjectError reports a failure on one object, naming it.
type ObjectError struct {
	Object string // object id and root CID
	Err    error
}

func (e *ObjectError) Error() string { return "object " + e.Object + ": " + e.Err.Error() }
func (e *ObjectError) Unwrap() error { return e.Err }

// PaddedSize returns the plaintext stream size for content of n bytes: the
// length prefix plus content rounded up with Padmé (Nikitin et al.,
// "Reducing Metadata Leakage from Encrypted Files and Communication with
// PURBs", PETS 2019), which leaks O(log log n) bits and adds at most 12%.
func PaddedSize(n int64) int64 {
	l := n + lengthPrefix
	if l <= MinPadded {
		return MinPadded
	}
	e := bits.Len64(uint64(l)) - 1 // floor(log2 l)
	s := bits.Len64(uint64(e))     // floor(log2 e) + 1
	mask := int64(1)<<(e-s) - 1
	return (l + mask) &^ mask
}

// CiphertextSize returns the size of the sealed stream for content of n
// bytes.
func CiphertextSize(n int64) int64 {
	p := PaddedSize(n)
	first := int64(SegmentSize - headerLen - subtle.AESGCMHKDFTagSizeInBytes)
	if p <= first {
		return headerLen + p + subtle.AESGCMHKDFTagSizeInBytes
	}
	rest := p - first
	perSeg := int64(SegmentSize - subtle.AESGCMHKDFTagSizeInBytes)
	segs := (rest + perSeg - 1) / perSeg
	return SegmentSize + rest + segs*subtle.AESGCMHKDFTagSizeInBytes
}

const headerLen = 1 + KeySize + subtle.AESGCMHKDFNoncePrefixSizeInBytes

func newCipher(key []byte) (*subtle.AESGCMHKDF, error) {
	if len(key) != KeySize {
		return nil, ErrBadKey
	}
	return subtle.NewAESGCMHKDF(key, "SHA256", KeySize, SegmentSize, 0)
}

func associatedData(id ObjectID) []byte { return append([]byte(adPrefix), id[:]...) }

// ObjectID is a random 128-bit identifier bound into an object's ciphertext.
type ObjectID [16]byte

// NewKey returns a fresh random object key and id.
func NewKey() (ObjectID, []byte) {
	var id ObjectID
	key := make([]byte, KeySize)
	if _, err := rand.Read(id[:]); err != nil {
		panic("ipfs: failed to read randomness: " + err.Error())
	}
	if _, err := rand.Read(key); err != nil {
		panic("ipfs: failed to read randomness: " + err.Error())
	}
	return id, key
}

// sealReader returns a reader of the sealed stream for size bytes read from
// content. It fails if content holds fewer or more than size bytes.
func sealReader(content io.Reader, size int64, id ObjectID, key []byte) (io.ReadCloser, error) {
	c, err := newCipher(key)
	if err != nil {
		return nil, err
	}
	pr, pw := io.Pipe()
	go func() {
		// Tink writes whole ciphertext segments; the pipe hands each to
		// the chunker without another buffer.
		ew, err := c.NewEncryptingWriter(pw, associatedData(id))
		if err != nil {
			pw.CloseWithError(err)
			return
		}
		pw.CloseWithError(writePadded(ew, content, size))
	}()
	return pr, nil
}

func writePadded(ew io.WriteCloser, content io.Reader, size int64) error {
	var hdr [lengthPrefix]byte
	binary.BigEndian.PutUint64(hdr[:], uint64(size))
	if _, err := ew.Write(hdr[:]); err != nil {
		return err
	}
	n, err := io.Copy(ew, io.LimitReader(content, size))
	if err != nil {
		return err
	}
	if n != size {
		return fmt.Errorf("content ended after %d of %d bytes", n, size)
	}
	var probe [1]byte
	if m, _ := content.Read(probe[:]); m > 0 {
		return fmt.Errorf("content is longer than the declared %d bytes", size)
	}
	if _, err := io.CopyN(ew, zeroReader{}, PaddedSize(size)-size-lengthPrefix); err != nil {
		return err
	}
	return ew.Close()
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// openReader decrypts a sealed stream, returning the content. Reading it to
// EOF authenticates the whole stream, padding and final segment included.
func openReader(sealed io.Reader, id ObjectID, key []byte) (io.Reader, int64, error) {
	c, err := newCipher(key)
	if err != nil {
		return nil, 0, err
	}
	dr, err := c.NewDecryptingReader(sealed, associatedData(id))
	if err != nil {
		return nil, 0, fmt.Errorf("%w: %v", ErrTampered, err)
	}
	var hdr [lengthPrefix]byte
	if _, err := io.ReadFull(dr, hdr[:]); err != nil {
		return nil, 0, fmt.Errorf("%w: %v", ErrTampered, err)
	}
	size := int64(binary.BigEndian.Uint64(hdr[:]))
	if size < 0 || size > 1<<50 {
		return nil, 0, fmt.Errorf("%w: impossible length %d", ErrTampered, size)
	}
	return &openedReader{dr: dr, left: size}, size, nil
}

type openedReader struct {
	dr   io.Reader
	left int64
	done bool
}

func (r *openedReader) Read(p []byte) (int, error) {
	if r.left == 0 {
		if !r.done {
			// Drain the padding so the final segment is authenticated.
			if _, err := io.Copy(io.Discard, r.dr); err != nil {
				return 0, fmt.Errorf("%w: %v", ErrTampered, err)
			}
			r.done = true
		}
		return 0, io.EOF
	}
	if int64(len(p)) > r.left {
		p = p[:r.left]
	}
	n, err := r.dr.Read(p)
	r.left -= int64(n)
	if err == io.EOF {
		if r.left > 0 {
			return n, fmt.Errorf("%w: stream ended %d bytes early", ErrTampered, r.left)
		}
		r.done = true
		err = nil
	} else if err != nil {
		err = fmt.Errorf("%w: %v", ErrTampered, err)
	}
	return n, err
}
