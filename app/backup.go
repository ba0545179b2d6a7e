package app

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"github.com/healthwallet/healthwallet/internal/atomicfile"
	"github.com/healthwallet/healthwallet/wallet"
)

// Files of a backup folder. The keystore and wallet.json keep their wallet
// names, so the folder can become a wallet home again.
const backupCAR = "blocks.car"

// storeDir is the wallet's block store.
func storeDir(home string) string { return filepath.Join(home, wallet.StoreDir) }

// dirSize adds up the sizes of the files under dir.
func dirSize(dir string) (int64, error) {
	var n int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			if info, err := d.Info(); err == nil {
				n += info.Size()
			}
		}
		return nil
	})
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	return n, err
}

// chooseBackupFolder asks where to write a backup.
func (v *settingsView) chooseBackupFolder() {
	dialog.ShowFolderOpen(func(dir fyne.ListableURI, err error) {
		if err != nil {
			v.u.showError(err)
			return
		}
		if dir == nil {
			return
		}
		if dir.Scheme() != "file" {
			v.u.showError(errors.New("choose a folder on this device"))
			return
		}
		v.backupTo(dir.Path())
	}, v.u.win)
}

// backupTo writes a backup into a new folder under parent: the sealed
// keystore, wallet.json, the sealed catalog and a CAR of every encrypted
// object. Nothing in it is plaintext.
func (v *settingsView) backupTo(parent string) {
	w := v.u.openWallet()
	if w == nil {
		return
	}
	dir := filepath.Join(parent, "healthwallet-backup-"+v.u.now().Local().Format("20060102-150405"))
	v.backupButton.Disable()
	v.backupProgress.Show()
	v.backupResult.SetText("")
	var total int64
	v.u.run(func() error {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return err
		}
		for _, name := range []string{wallet.KeystoreFile, wallet.InfoFile} {
			b, err := os.ReadFile(filepath.Join(v.u.home, name))
			if err != nil {
				return err
			}
			if err := atomicfile.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
				return err
			}
		}
		if err := atomicfile.Write(filepath.Join(dir, wallet.CatalogFile), 0o600, w.WriteCatalog); err != nil {
			return err
		}
		if err := atomicfile.Write(filepath.Join(dir, backupCAR), 0o600, func(out io.Writer) error {
			_, err := w.ExportCAR(context.Background(), out)
			return err
		}); err != nil {
			return err
		}
		var err error
		total, err = dirSize(dir)
		return err
	}, func(err error) {
		v.backupButton.Enable()
		v.backupProgress.Hide()
		if err != nil {
			v.backupResult.Importance = widget.DangerImportance
			v.backupResult.SetText(userMessage(err))
			return
		}
		v.backupResult.Importance = widget.SuccessImportance
		v.backupResult.SetText("Saved " + sizeText(total) + " to " + dir + ". To restore on a new device, copy the folder there as the wallet folder, " +
			"unlock it with your passphrase, then run 'healthwallet car import " + backupCAR + "'.")
	})
}
