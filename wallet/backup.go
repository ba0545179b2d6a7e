package wallet

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/healthwallet/healthwallet/internal/atomicfile"
	"github.com/healthwallet/healthwallet/internal/boltfile"
)

// BackupCAR is the file of a backup folder that holds every encrypted
// object of the block store, as a CAR.
const BackupCAR = "blocks.car"

// ErrBackupFolder: the folder chosen for a backup already holds a wallet
// or a backup; a backup never writes over one.
var ErrBackupFolder = errors.New("the folder already holds a wallet or a backup")

// BackupResult says what [Wallet.Backup] wrote.
type BackupResult struct {
	Dir     string   `json:"dir"`
	Files   []string `json:"files"`   // names inside Dir
	Objects int      `json:"objects"` // encrypted objects in the CAR
	Bytes   int64    `json:"bytes"`   // total size of the files
}

// BackupFolderName is the name both front ends give a new backup folder
// made at t: healthwallet-backup-YYYYMMDD-HHMMSS in t's time zone.
func BackupFolderName(t time.Time) string {
	return "healthwallet-backup-" + t.Format("20060102-150405")
}

// Backup writes the wallet's backup into dir, creating it (mode 0700): the
// sealed keystore (or, for a Vault-held key, the reference to it), the
// public wallet.json, a consistent copy of the sealed catalog and a CAR
// ([BackupCAR]) of every encrypted object the catalog references. Nothing
// in it is plaintext: it opens only with the passphrase or the recovery
// phrase. Each file is written atomically.
//
// The folder keeps the names of a wallet home, so it is restored by using
// it (or a copy of it) as the wallet home and unlocking it: the first
// unlock brings the CAR's blocks into the block store (see [Unlock]).
//
// Backup refuses with [ErrBackupFolder] a folder that already holds a
// wallet or a backup, the wallet's own home included.
func (w *Wallet) Backup(ctx context.Context, dir string) (BackupResult, error) {
	res := BackupResult{Dir: dir}
	if _, err := w.Catalog(); err != nil {
		return res, err // locked
	}
	if Exists(dir) || fileExists(filepath.Join(dir, BackupCAR)) {
		return res, fmt.Errorf("%w: %s; choose a new folder", ErrBackupFolder, dir)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return res, fmt.Errorf("failed to create the backup folder: %w", err)
	}
	secret := KeystoreFile
	if !fileExists(filepath.Join(w.home, KeystoreFile)) {
		secret = VaultFile
	}
	for _, name := range []string{secret, InfoFile} {
		b, err := os.ReadFile(filepath.Join(w.home, name))
		if err != nil {
			return res, err
		}
		if err := atomicfile.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			return res, err
		}
		res.Files = append(res.Files, name)
	}
	if err := atomicfile.Write(filepath.Join(dir, CatalogFile), 0o600, w.WriteCatalog); err != nil {
		return res, err
	}
	res.Files = append(res.Files, CatalogFile)
	if err := atomicfile.Write(filepath.Join(dir, BackupCAR), 0o600, func(out io.Writer) (err error) {
		res.Objects, err = w.ExportCAR(ctx, out)
		return err
	}); err != nil {
		return res, err
	}
	res.Files = append(res.Files, BackupCAR)
	for _, name := range res.Files {
		info, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			return res, err
		}
		res.Bytes += info.Size()
	}
	return res, nil
}

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

// importBackupCAR brings the blocks of a restored backup's CAR into the
// block store, then removes the CAR: its blocks are now in the store.
// A home without one is left alone.
func (w *Wallet) importBackupCAR(ctx context.Context) error {
	path := filepath.Join(w.home, BackupCAR)
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := w.store.ImportCAR(ctx, f); err != nil {
		return fmt.Errorf("failed to restore the blocks of the backup (%s): %w", BackupCAR, err)
	}
	f.Close()
	return os.Remove(path)
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
