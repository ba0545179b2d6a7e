package boltfile

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

func TestSharedAndBusy(t *testing.T) {
	p := filepath.Join(t.TempDir(), "x.db")
	mk := func(tx *bolt.Tx) error { _, err := tx.CreateBucketIfNotExists([]byte("b")); return err }
	a, err := Open(p, 200*time.Millisecond, mk)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Open(p, 200*time.Millisecond, mk)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Update(func(tx *bolt.Tx) error { return tx.Bucket([]byte("b")).Put([]byte("k"), []byte("v")) }); err != nil {
		t.Fatal(err)
	}
	// Two handles read the same data; a read inside another read is fine.
	err = a.View(func(tx *bolt.Tx) error {
		return b.View(func(tx2 *bolt.Tx) error {
			if string(tx2.Bucket([]byte("b")).Get([]byte("k"))) != "v" {
				t.Fatal("second reader sees other data")
			}
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	// A writer waits for a reader, and gives up after the timeout.
	err = a.View(func(*bolt.Tx) error {
		return b.Update(func(*bolt.Tx) error { return nil })
	})
	if !errors.Is(err, ErrBusy) {
		t.Fatalf("writer during a read: %v, want ErrBusy", err)
	}
}
