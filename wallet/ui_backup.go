package wallet

import (
	"io"
	"path/filepath"

	bolt "go.etcd.io/bbolt"

	"github.com/healthwallet/healthwallet/internal/boltfile"
)

// WriteCatalog writes a consistent copy of the sealed catalog file
// (catalog.db) to out, for a backup beside the keystore and a CAR export
// of the block store. The copy is as sealed as the original: it opens only
// with this wallet's keys.
func (w *Wallet) WriteCatalog(out io.Writer) error {
	if _, err := w.Catalog(); err != nil {
		return err // locked
	}
	f, err := boltfile.Open(filepath.Join(w.home, CatalogFile), 0, nil)
	if err != nil {
		return err
	}
	return f.View(func(tx *bolt.Tx) error {
		_, err := tx.WriteTo(out)
		return err
	})
}
