package catalog

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/healthwallet/healthwallet/internal/plaintext"
)

func testKey(b byte) []byte { return bytes.Repeat([]byte{b}, 32) }

func openTemp(t *testing.T) (*Catalog, string) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "catalog.db")
	c, err := Open(p, testKey(1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, p
}

func TestPutGetDeleteForEach(t *testing.T) {
	c, _ := openTemp(t)
	ids := []ID{NewID(), NewID(), NewID()}
	for i, id := range ids {
		if err := c.Put(Records, id, []byte{byte(i), 'x'}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := c.Get(Records, ids[1])
	if err != nil || !bytes.Equal(got, []byte{1, 'x'}) {
		t.Fatalf("Get = %v, %v", got, err)
	}
	if _, err := c.Get(Grants, ids[1]); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get from another bucket: %v, want ErrNotFound", err)
	}
	if err := c.Delete(Records, ids[0]); err != nil {
		t.Fatal(err)
	}
	seen := map[ID][]byte{}
	err = c.ForEach(Records, func(id ID, v []byte) error { seen[id] = bytes.Clone(v); return nil })
	if err != nil || len(seen) != 2 || seen[ids[0]] != nil || !bytes.Equal(seen[ids[2]], []byte{2, 'x'}) {
		t.Fatalf("ForEach saw %v, %v", seen, err)
	}
	if n, _ := c.Count(Records); n != 2 {
		t.Fatalf("Count = %d, want 2", n)
	}
}

func TestReopenAndWrongKey(t *testing.T) {
	c, p := openTemp(t)
	id := NewID()
	c.Put(Records, id, []byte("hello"))
	c.Close()
	if _, err := Open(p, testKey(2)); !errors.Is(err, ErrWrongKey) {
		t.Fatalf("wrong key: %v, want ErrWrongKey", err)
	}
	c2, err := Open(p, testKey(1))
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if v, err := c2.Get(Records, id); err != nil || string(v) != "hello" {
		t.Fatalf("after reopen: %q, %v", v, err)
	}
}

// TestShared: two handles (as two processes would have) share the
// catalog; each sees the other's writes.
func TestShared(t *testing.T) {
	a, p := openTemp(t)
	b, err := Open(p, testKey(1))
	if err != nil {
		t.Fatal(err)
	}
	id := NewID()
	if err := a.Put(Records, id, []byte("from a")); err != nil {
		t.Fatal(err)
	}
	if v, err := b.Get(Records, id); err != nil || string(v) != "from a" {
		t.Fatalf("b reads %q, %v", v, err)
	}
	// A write waits for the other handle's open transaction, or says busy.
	err = a.View(func(*Tx) error { return b.Put(Records, NewID(), []byte("x")) })
	if err != nil && !errors.Is(err, ErrInUse) {
		t.Fatalf("write during a read: %v", err)
	}
}

func TestSchemaTooNew(t *testing.T) {
	c, p := openTemp(t)
	c.f.Update(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte(meta)).Put(keySchema, binary.BigEndian.AppendUint32(nil, SchemaVersion+1))
	})
	c.Close()
	if _, err := Open(p, testKey(1)); !errors.Is(err, ErrSchemaTooNew) {
		t.Fatalf("err = %v, want ErrSchemaTooNew", err)
	}
}

// TestValuesAreBound: a sealed value copied to another id or bucket, or
// altered, no longer opens.
func TestValuesAreBound(t *testing.T) {
	c, _ := openTemp(t)
	a, b := NewID(), NewID()
	c.Put(Records, a, []byte("value a"))
	var sealed []byte
	c.f.View(func(tx *bolt.Tx) error { sealed = bytes.Clone(tx.Bucket([]byte(Records)).Get(a[:])); return nil })
	c.f.Update(func(tx *bolt.Tx) error {
		tx.Bucket([]byte(Records)).Put(b[:], sealed)
		return tx.Bucket([]byte(Grants)).Put(a[:], sealed)
	})
	if _, err := c.Get(Records, b); !errors.Is(err, ErrTampered) {
		t.Fatalf("moved to another id: %v, want ErrTampered", err)
	}
	if _, err := c.Get(Grants, a); !errors.Is(err, ErrTampered) {
		t.Fatalf("moved to another bucket: %v, want ErrTampered", err)
	}
	sealed[len(sealed)-1] ^= 1
	c.f.Update(func(tx *bolt.Tx) error { return tx.Bucket([]byte(Records)).Put(a[:], sealed) })
	if _, err := c.Get(Records, a); !errors.Is(err, ErrTampered) {
		t.Fatalf("flipped bit: %v, want ErrTampered", err)
	}
}

func TestNoPlaintextOnDisk(t *testing.T) {
	c, p := openTemp(t)
	secret := "Hemoglobin A1c 5.9 % patient Jane Example"
	for range 100 {
		c.Put(Records, NewID(), []byte(secret))
	}
	c.Close()
	raw, _ := os.ReadFile(p)
	if hits, err := plaintext.Find(p, raw, "Hemoglobin A1c", "patient Jane Example"); err != nil || len(hits) > 0 {
		t.Fatalf("plaintext found in the catalog file: %v %v", hits, err)
	}
}

func TestIDRoundTrip(t *testing.T) {
	id := NewID()
	s := id.String()
	if len(s) != 26 {
		t.Fatalf("id string %q has %d chars, want 26", s, len(s))
	}
	back, err := ParseID(s)
	if err != nil || back != id {
		t.Fatalf("ParseID(%q) = %v, %v", s, back, err)
	}
	if a, b := NewID(), NewID(); a == b {
		t.Fatal("two random ids are equal")
	}
	for _, bad := range []string{"", "abc", s + "a", "!!!!!!!!!!!!!!!!!!!!!!!!!!"} {
		if _, err := ParseID(bad); !errors.Is(err, ErrBadID) {
			t.Errorf("ParseID(%q) = %v, want ErrBadID", bad, err)
		}
	}
}

func FuzzParseID(f *testing.F) {
	f.Add(NewID().String())
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		id, err := ParseID(s)
		if err != nil {
			if !errors.Is(err, ErrBadID) {
				t.Fatalf("unclassified error %v", err)
			}
			return
		}
		if again, err := ParseID(id.String()); err != nil || again != id {
			t.Fatalf("round trip failed")
		}
	})
}
