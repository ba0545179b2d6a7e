// Package catalog is the wallet's local index: an embedded bbolt database
// whose every value is sealed with the wallet's catalog key.
//
// # Sealing
//
// Each value is sealed with XChaCha20-Poly1305 (golang.org/x/crypto) under the
// 32-byte catalog key derived from the wallet seed (see package identity).
// The stored form is a 24-byte random nonce followed by the ciphertext. The
// associated data binds the value to where it lives,
//
//	"healthwallet/catalog/v1" 0x00 bucket 0x00 key
//
// so a sealed value moved to another key or bucket no longer opens. Keys are
// random 128-bit [ID]s and bucket names are fixed words: nothing about a
// record's content is visible in the file.
//
// # Schema
//
// The "meta" bucket holds the schema version (big-endian uint32, plaintext so
// a newer file is refused with a clear message before anything else) and a
// sealed key check, so a wrong key is refused at [Open] instead of failing on
// the first read. [SchemaVersion] is the version this build writes; older
// files are migrated in one transaction at Open.
//
// # Durability
//
// bbolt fsyncs before a write transaction returns, so every Put that returned
// nil survives a crash or kill -9 (TestCrashSafety kills a writer 50 times).
package catalog

import (
	"crypto/cipher"
	"crypto/rand"
	"encoding/base32"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strings"

	bolt "go.etcd.io/bbolt"
	"golang.org/x/crypto/chacha20poly1305"

	"github.com/healthwallet/healthwallet/internal/boltfile"
)

// SchemaVersion is the catalog schema this build reads and writes.
const SchemaVersion = 1

// Bucket names a collection in the catalog.
type Bucket string

// The catalog's collections.
const (
	// Records holds one entry per imported record (metadata and the object's key).
	Records Bucket = "records"
	// Grants holds the grants this wallet issued or received.
	Grants Bucket = "grants"
	// AccessLog holds one entry per redemption of this wallet's grants.
	AccessLog Bucket = "access"
	// Settings holds the wallet's preferences.
	Settings Bucket = "settings"
	// Objects holds one reference (root CID, object key, size) per
	// encrypted object in the block store; GC keeps exactly these.
	Objects Bucket = "objects"
	// Dedup maps a keyed hash of a record's identity to the record, so
	// importing the same file twice changes nothing.
	Dedup Bucket = "dedup"
	// Public lists objects the node serves to anyone: grant key bundles,
	// whose key travels in their link.
	Public Bucket = "public"
	// Keepers lists this wallet's keepers and Kubo replicas, with what was
	// pushed to them and how far their access records were merged.
	Keepers Bucket = "keepers"
	// KeptPatients, KeptPackages and KeptAccess are a keeper's: one entry
	// per enrolled patient, per package root held for a patient, and per
	// presentation of a patient's grant to the keeper.
	KeptPatients Bucket = "keptpatients"
	KeptPackages Bucket = "keptpackages"
	KeptAccess   Bucket = "keptaccess"
	// KeptSHLs and KeptLive are a keeper's too: one entry per SMART Health
	// Link it serves for a patient (with its failed passcode count), and
	// per live grant's newest record.
	KeptSHLs Bucket = "keptshls"
	KeptLive Bucket = "keptlive"

	meta Bucket = "meta"
)

var buckets = []Bucket{Records, Grants, AccessLog, Settings, Objects, Dedup, Public, Keepers, KeptPatients, KeptPackages, KeptAccess, KeptSHLs, KeptLive, meta}

var (
	keySchema   = []byte("schema")
	keyKeyCheck = []byte("keycheck")
	keyCheckPT  = []byte("healthwallet catalog key check")
)

// Errors of the catalog.
var (
	// ErrNotFound is returned by Get when an id has no entry.
	ErrNotFound = errors.New("not found in catalog")
	// ErrWrongKey means the catalog was sealed under another key.
	ErrWrongKey = errors.New("catalog key does not match this catalog")
	// ErrTampered means a stored value failed authentication.
	ErrTampered = errors.New("catalog entry failed authentication")
	// ErrSchemaTooNew means the catalog was written by a newer healthwallet.
	ErrSchemaTooNew = errors.New("catalog was written by a newer version of healthwallet")
	// ErrInUse means another process holds the catalog open.
	ErrInUse = boltfile.ErrBusy
	// ErrUnreadable means the database file is damaged.
	ErrUnreadable = errors.New("catalog database is damaged")
	// ErrBadID means a string is not a catalog id.
	ErrBadID = errors.New("not a catalog id")
)

// migrations[v] upgrades a schema-v catalog to v+1 inside one transaction.
var migrations = map[uint32]func(*bolt.Tx) error{}

// Catalog is an open catalog. It is safe for concurrent use, also by
// several processes: the database is opened per transaction (package
// boltfile), so the app, `healthwallet node` and CLI commands can share it.
type Catalog struct {
	f    *boltfile.File
	aead cipher.AEAD
}

// Open opens or creates the catalog at path with a 32-byte key.
func Open(path string, key []byte) (*Catalog, error) {
	aead, err := chacha20poly1305.NewX(key)
	if err != nil {
		return nil, fmt.Errorf("failed to open catalog: %w", err)
	}
	c := &Catalog{aead: aead}
	f, err := boltfile.Open(path, 0, c.init)
	if err != nil {
		switch {
		case errors.Is(err, ErrInUse), errors.Is(err, ErrWrongKey), errors.Is(err, ErrSchemaTooNew), errors.Is(err, ErrUnreadable):
			return nil, err
		case errors.Is(err, os.ErrNotExist), errors.Is(err, os.ErrPermission):
			return nil, fmt.Errorf("failed to open catalog: %w", err)
		}
		return nil, fmt.Errorf("%w: %v", ErrUnreadable, err)
	}
	c.f = f
	return c, nil
}

func (c *Catalog) init(tx *bolt.Tx) error {
	for _, b := range buckets {
		if _, err := tx.CreateBucketIfNotExists([]byte(b)); err != nil {
			return fmt.Errorf("failed to create bucket %s: %w", b, err)
		}
	}
	m := tx.Bucket([]byte(meta))
	raw := m.Get(keySchema)
	if raw == nil {
		sealed := c.seal(meta, keyKeyCheck, keyCheckPT)
		if err := m.Put(keyKeyCheck, sealed); err != nil {
			return err
		}
		return m.Put(keySchema, binary.BigEndian.AppendUint32(nil, SchemaVersion))
	}
	if len(raw) != 4 {
		return fmt.Errorf("%w: schema field has %d bytes", ErrUnreadable, len(raw))
	}
	if _, err := c.open(meta, keyKeyCheck, m.Get(keyKeyCheck)); err != nil {
		return ErrWrongKey
	}
	v := binary.BigEndian.Uint32(raw)
	if v > SchemaVersion {
		return fmt.Errorf("%w (schema %d, this build reads up to %d)", ErrSchemaTooNew, v, SchemaVersion)
	}
	for ; v < SchemaVersion; v++ {
		if err := migrations[v](tx); err != nil {
			return fmt.Errorf("failed to migrate catalog from schema %d: %w", v, err)
		}
	}
	return m.Put(keySchema, binary.BigEndian.AppendUint32(nil, SchemaVersion))
}

// Close forgets the catalog. Nothing stays open between transactions, so
// there is nothing to release; the Catalog must not be used afterwards.
func (c *Catalog) Close() error { return nil }

// Tx is a catalog transaction: reads see one consistent state, and the
// writes of an Update reach the disk together, with one fsync.
type Tx struct {
	c  *Catalog
	tx *bolt.Tx
}

// Update runs fn in a read-write transaction; if fn returns an error
// nothing it wrote is kept.
func (c *Catalog) Update(fn func(*Tx) error) error {
	return c.f.Update(func(tx *bolt.Tx) error { return fn(&Tx{c, tx}) })
}

// View runs fn in a read-only transaction.
func (c *Catalog) View(fn func(*Tx) error) error {
	return c.f.View(func(tx *bolt.Tx) error { return fn(&Tx{c, tx}) })
}

// Put stores value under id in bucket b.
func (t *Tx) Put(b Bucket, id ID, value []byte) error {
	return t.tx.Bucket([]byte(b)).Put(id[:], t.c.seal(b, id[:], value))
}

// Get returns the value under id, or [ErrNotFound].
func (t *Tx) Get(b Bucket, id ID) ([]byte, error) {
	sealed := t.tx.Bucket([]byte(b)).Get(id[:])
	if sealed == nil {
		return nil, fmt.Errorf("%w: %s %s", ErrNotFound, b, id)
	}
	return t.c.open(b, id[:], sealed)
}

// Delete removes id from bucket b.
func (t *Tx) Delete(b Bucket, id ID) error { return t.tx.Bucket([]byte(b)).Delete(id[:]) }

// Put stores value under id in bucket b, replacing any previous value. When
// Put returns nil the value is on disk.
func (c *Catalog) Put(b Bucket, id ID, value []byte) error {
	return c.Update(func(t *Tx) error { return t.Put(b, id, value) })
}

// Get returns the value stored under id, or [ErrNotFound].
func (c *Catalog) Get(b Bucket, id ID) ([]byte, error) {
	var out []byte
	err := c.View(func(t *Tx) error {
		var err error
		out, err = t.Get(b, id)
		return err
	})
	return out, err
}

// Delete removes id from bucket b. Deleting a missing id is not an error.
func (c *Catalog) Delete(b Bucket, id ID) error {
	return c.Update(func(t *Tx) error { return t.Delete(b, id) })
}

// ForEach calls fn for every entry of bucket b in id order. fn must not keep
// value after it returns. An error from fn stops the walk and is returned.
func (c *Catalog) ForEach(b Bucket, fn func(id ID, value []byte) error) error {
	return c.f.View(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte(b)).ForEach(func(k, sealed []byte) error {
			var id ID
			if len(k) != len(id) {
				return fmt.Errorf("%w: key of %d bytes in %s", ErrUnreadable, len(k), b)
			}
			copy(id[:], k)
			v, err := c.open(b, k, sealed)
			if err != nil {
				return err
			}
			return fn(id, v)
		})
	})
}

// Count returns the number of entries in bucket b.
func (c *Catalog) Count(b Bucket) (int, error) {
	var n int
	err := c.f.View(func(tx *bolt.Tx) error {
		n = tx.Bucket([]byte(b)).Stats().KeyN
		return nil
	})
	return n, err
}

func additionalData(b Bucket, key []byte) []byte {
	ad := make([]byte, 0, 32+len(b)+len(key))
	ad = append(ad, "healthwallet/catalog/v1\x00"...)
	ad = append(ad, b...)
	ad = append(ad, 0)
	return append(ad, key...)
}

func (c *Catalog) seal(b Bucket, key, value []byte) []byte {
	nonce := make([]byte, c.aead.NonceSize(), c.aead.NonceSize()+len(value)+c.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		panic("catalog: failed to read randomness: " + err.Error()) // crypto/rand does not fail on supported platforms
	}
	return c.aead.Seal(nonce, nonce, value, additionalData(b, key))
}

func (c *Catalog) open(b Bucket, key, sealed []byte) ([]byte, error) {
	n := c.aead.NonceSize()
	if len(sealed) < n+c.aead.Overhead() {
		return nil, fmt.Errorf("%w: %s entry too short", ErrTampered, b)
	}
	pt, err := c.aead.Open(nil, sealed[:n], sealed[n:], additionalData(b, key))
	if err != nil {
		return nil, fmt.Errorf("%w: %s entry", ErrTampered, b)
	}
	return pt, nil
}

// ID is a random 128-bit catalog key. Its string form is 26 lower-case
// base32 characters.
type ID [16]byte

var idEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// NewID returns a fresh random id.
func NewID() ID {
	var id ID
	if _, err := rand.Read(id[:]); err != nil {
		panic("catalog: failed to read randomness: " + err.Error())
	}
	return id
}

func (id ID) String() string { return strings.ToLower(idEncoding.EncodeToString(id[:])) }

// IsZero reports whether id is the zero ID.
func (id ID) IsZero() bool { return id == ID{} }

// MarshalText encodes the string form.
func (id ID) MarshalText() ([]byte, error) { return []byte(id.String()), nil }

// UnmarshalText decodes the string form.
func (id *ID) UnmarshalText(b []byte) error {
	v, err := ParseID(string(b))
	if err != nil {
		return err
	}
	*id = v
	return nil
}

// IDFromHash returns the ID made of the first 16 bytes of a keyed hash,
// for buckets keyed by content rather than at random.
func IDFromHash(sum []byte) ID {
	var id ID
	copy(id[:], sum)
	return id
}

// ParseID parses the string form of an id.
func ParseID(s string) (ID, error) {
	var id ID
	raw, err := idEncoding.DecodeString(strings.ToUpper(s))
	if err != nil || len(raw) != len(id) {
		return id, fmt.Errorf("%w: %q", ErrBadID, s)
	}
	copy(id[:], raw)
	return id, nil
}
