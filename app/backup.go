package app

import (
	"errors"
	"io/fs"
	"path/filepath"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"github.com/healthwallet/healthwallet/wallet"
)

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

// backupTo writes a backup (wallet.Backup) into a new folder under parent:
// the sealed keystore, wallet.json, the sealed catalog and a CAR of every
// encrypted object. Nothing in it is plaintext.
func (v *settingsView) backupTo(parent string) {
	w := v.u.openWallet()
	if w == nil {
		return
	}
	dir := filepath.Join(parent, wallet.BackupFolderName(v.u.now().Local()))
	v.backupButton.Disable()
	v.backupProgress.Show()
	v.backupResult.SetText("")
	var res wallet.BackupResult
	ctx := v.u.walletCtx()
	v.u.run(func() (err error) {
		res, err = w.Backup(ctx, dir)
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
		v.backupResult.SetText(backupDoneText(res, v.u.home, isMobile()))
	})
}

// backupDoneText says where the backup went and how to restore it in the
// app: the folder becomes the wallet folder on the new device, and the
// first unlock brings its blocks back. A phone's wallet folder is the
// app's private storage, which the user cannot copy a folder into.
func backupDoneText(res wallet.BackupResult, home string, mobile bool) string {
	saved := "Saved " + sizeText(res.Bytes) + " to " + res.Dir + "."
	if mobile {
		return saved + " Keep it somewhere safe: Health Wallet on a computer opens it as its wallet folder, " +
			"with your passphrase, and your records come back on the first unlock."
	}
	return saved + " To restore on a new device, copy this folder there as " +
		"Health Wallet's wallet folder (on this device it is " + home + "), open Health Wallet and unlock it with your passphrase: " +
		"your records come back on the first unlock."
}
