package app

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/healthwallet/healthwallet/wallet"
	"github.com/healthwallet/healthwallet/wallet/fhir"
)

// viewerGrace is how long a document handed to the system viewer stays in
// the memory-backed folder (or until the wallet locks, whichever comes first): long enough for
// the viewer to open it, short enough that the plaintext does not linger.
const viewerGrace = time.Minute

// viewerDirPattern names the private directories documents are handed to
// the system viewer in (under the OS temp directory).
const viewerDirPattern = "healthwallet-document-*"

// documentView shows the file a shared DocumentReference carries, under
// the record's details: an image inline, a PDF through the system viewer;
// "Save as…" only when the grant allows export. It is nil for a resource
// that carries no file.
func (u *UI) documentView(res fhir.Resource, bundle []fhir.Resource, canExport bool) fyne.CanvasObject {
	f, err := wallet.SharedDocument(res, bundle)
	if errors.Is(err, wallet.ErrNoDocument) {
		return nil
	}
	info := wrapped("")
	if err != nil {
		info.Importance = widget.DangerImportance
		info.SetText(userMessage(err))
		return info
	}
	box := container.NewVBox()
	var buttons []fyne.CanvasObject
	switch {
	case strings.HasPrefix(f.ContentType, "image/"):
		img := canvas.NewImageFromReader(bytes.NewReader(f.Data), f.Title)
		img.FillMode = canvas.ImageFillContain
		img.SetMinSize(fyne.NewSize(320, 240))
		box.Add(img)
	case f.ContentType == "application/pdf":
		buttons = append(buttons, widget.NewButtonWithIcon("Open in PDF viewer", theme.VisibilityIcon(), u.act(func() {
			if err := u.openInViewer(u.walletCtx(), f); err != nil {
				info.Importance = widget.DangerImportance
				info.SetText(userMessage(err))
				return
			}
			info.Importance = widget.MediumImportance
			info.SetText("Opened " + f.Title + " in your PDF viewer; the wallet removes its copy within a minute.")
		})))
	}
	if canExport {
		buttons = append(buttons, widget.NewButtonWithIcon("Save as…", theme.DocumentSaveIcon(), u.act(func() { u.saveDocument(f, info) })))
	} else {
		info.SetText("View only: this grant does not allow saving the file.")
	}
	info.Importance = widget.LowImportance
	box.Add(wrapped(fmt.Sprintf("%s · %s", f.Title, sizeText(int64(len(f.Data))))))
	if len(buttons) > 0 {
		box.Add(buttonRow(buttons...))
	}
	box.Add(info)
	return box
}

// saveDocument writes a shared document where the user says.
func (u *UI) saveDocument(f wallet.DocumentFile, info *widget.Label) {
	d := dialog.NewFileSave(func(wc fyne.URIWriteCloser, err error) {
		if err != nil {
			u.showError(err)
			return
		}
		if wc == nil {
			return
		}
		_, err = wc.Write(f.Data)
		if err = errors.Join(err, wc.Close()); err != nil {
			u.showError(err)
			return
		}
		info.SetText("Saved " + f.Title + " to " + wc.URI().Name() + ".")
	}, u.win)
	d.SetFileName(f.Title)
	d.Show()
}

// openInViewer writes a document into a fresh private directory (0700, the
// file 0600), asks the system to open it, and removes it after viewerGrace
// or when ctx (the wallet's session) ends. Copies left by an earlier run
// that ended before its removal are removed first.
func (u *UI) openInViewer(ctx context.Context, f wallet.DocumentFile) error {
	tmp := viewerTempDir()
	if tmp == "" {
		return errNoMemoryFolder
	}
	removeStaleViewerCopies(tmp, viewerGrace)
	path, err := writeViewerCopy(tmp, f)
	if err != nil {
		return err
	}
	go func() {
		select {
		case <-ctx.Done():
		case <-time.After(viewerGrace):
		}
		os.RemoveAll(filepath.Dir(path))
	}()
	return u.app.OpenURL(&url.URL{Scheme: "file", Path: filepath.ToSlash(path)})
}

// errNoMemoryFolder: the device has no memory-backed folder for the
// viewer's copy, and a copy on disk would leave plaintext health data there.
var errNoMemoryFolder = errors.New("this device has no memory-backed folder to open the document from; use Save as… instead")

// viewerTempDir is where viewer copies go: a memory-backed folder, never
// the disk (no plaintext health data on disk): $XDG_RUNTIME_DIR (a per-user
// 0700 tmpfs on systemd desktops), else /dev/shm; "" when neither exists.
func viewerTempDir() string {
	for _, d := range []string{os.Getenv("XDG_RUNTIME_DIR"), "/dev/shm"} {
		if st, err := os.Stat(d); d != "" && err == nil && st.IsDir() {
			return d
		}
	}
	return ""
}

// writeViewerCopy writes f into a new private directory under tmp and
// returns the file's path; its name is the document's base name.
func writeViewerCopy(tmp string, f wallet.DocumentFile) (string, error) {
	dir, err := os.MkdirTemp(tmp, viewerDirPattern)
	if err != nil {
		return "", err
	}
	name := filepath.Base(filepath.Clean("/" + f.Title))
	if name == "/" || name == "." || name == "" {
		name = "document"
	}
	if f.ContentType == "application/pdf" && !strings.EqualFold(filepath.Ext(name), ".pdf") {
		name += ".pdf"
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, f.Data, 0o600); err != nil {
		os.RemoveAll(dir)
		return "", err
	}
	return path, nil
}

// removeStaleViewerCopies removes viewer directories under tmp older than
// grace (left by a run that quit before removing them).
func removeStaleViewerCopies(tmp string, grace time.Duration) {
	dirs, _ := filepath.Glob(filepath.Join(tmp, viewerDirPattern))
	for _, d := range dirs {
		if st, err := os.Stat(d); err == nil && st.IsDir() && time.Since(st.ModTime()) > grace {
			os.RemoveAll(d)
		}
	}
}
