package app

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/widget"

	"github.com/healthwallet/healthwallet/wallet"
	"github.com/healthwallet/healthwallet/wallet/fhir"
)

// importExtensions are the files the import dialog offers.
var importExtensions = []string{".json", ".smart-health-card", ".txt", ".pdf", ".png", ".jpg", ".jpeg", ".gif", ".webp"}

// chooseFile opens the file dialog; the chosen file is imported.
func (v *recordsView) chooseFile() {
	d := dialog.NewFileOpen(func(rc fyne.URIReadCloser, err error) {
		if err != nil {
			v.u.showError(err)
			return
		}
		if rc == nil {
			return // cancelled
		}
		if rc.URI().Scheme() == "file" {
			rc.Close()
			v.importPaths([]string{rc.URI().Path()})
			return
		}
		v.importStream(rc) // a phone's document provider: no path
	}, v.u.win)
	d.SetFilter(storage.NewExtensionFileFilter(importExtensions))
	d.Show()
}

// importPaths imports files one after another with a progress bar, then
// reports each file's result, with the issuer and verification result of a
// SMART Health Card. One bad file does not stop the others; a file about
// another person is asked about afterwards (finishImport).
func (v *recordsView) importPaths(paths []string) {
	w := v.u.openWallet()
	if w == nil || len(paths) == 0 {
		return
	}
	v.startImport()
	var results []importOutcome
	ctx := v.u.walletCtx()
	v.u.run(func() error {
		for i, p := range paths {
			progress := v.progress(i, len(paths))
			res, err := w.ImportFile(ctx, p, progress)
			results = append(results, importOutcome{res, err, func(o wallet.ImportOptions) (wallet.ImportResult, error) {
				return w.ImportFile(ctx, p, nil, o)
			}})
			fyne.Do(func() { v.importing.SetValue(float64(i+1) / float64(len(paths))) })
		}
		return nil
	}, func(error) { v.finishImport(results, nil) })
}

// importOutcome is one file's import.
type importOutcome struct {
	res wallet.ImportResult
	err error
	// again imports the file again with other options (as a family
	// member's records).
	again func(wallet.ImportOptions) (wallet.ImportResult, error)
}

// importDialogs are what an import asks: whether to take another
// person's file as a family member's records.
type importDialogs struct {
	other     *dialog.ConfirmDialog
	otherText string
}

// askOtherPatient asks about the first refused file of queue ("This file is
// for Martha DeLarosa, born 1 May 1972, not for you…"); yes imports it as a
// family member's records, then the rest are asked about in turn.
func (v *recordsView) askOtherPatient(queue []importOutcome) {
	if len(queue) == 0 {
		return
	}
	o := queue[0]
	var other *wallet.OtherPatientError
	errors.As(o.err, &other)
	person := wallet.Person{Name: other.Name, BirthDate: other.BirthDate}
	v.dialogs.otherText = "This file is for " + person.Label() + ", not for you. Import anyway as a family member's records, or cancel."
	v.dialogs.other = dialog.NewConfirm("Another person's records", v.dialogs.otherText, func(yes bool) {
		v.u.touch()
		if !yes {
			v.askOtherPatient(queue[1:])
			return
		}
		v.startImport()
		var out importOutcome
		v.u.run(func() error {
			res, err := o.again(wallet.ImportOptions{OtherPatient: true})
			out = importOutcome{res, err, o.again}
			return nil
		}, func(error) { v.finishImport([]importOutcome{out}, queue[1:]) })
	}, v.u.win)
	v.dialogs.other.SetConfirmText("Import as family")
	v.dialogs.other.SetDismissText("Cancel")
	v.dialogs.other.Show()
}

func (v *recordsView) startImport() {
	v.importButton.Disable()
	v.importing.SetValue(0)
	v.importing.Show()
	v.importResult.Hide()
}

// progress follows file i of n (large attachments report as they go).
func (v *recordsView) progress(i, n int) func(done, total int64) {
	return func(done, total int64) {
		if total <= 0 {
			return
		}
		f := (float64(i) + float64(done)/float64(total)) / float64(n)
		fyne.Do(func() { v.importing.SetValue(f) })
	}
}

// finishImport reports each file's result, headed by "These records are
// now yours: …" when a file made its patient the wallet's own, then asks
// about each file (of results, then of queue) that is about another
// person.
func (v *recordsView) finishImport(results, queue []importOutcome) {
	v.importButton.Enable()
	v.importing.Hide()
	var lines []string
	var refused []importOutcome
	failed := false
	for _, o := range results {
		if o.res.Claimed != nil {
			// The first Patient imported: the confirmation heads the report.
			lines = append([]string{"These records are now yours: " + o.res.Claimed.Label() + "."}, lines...)
		}
		lines = append(lines, importSummary(o.res, o.err))
		if errors.Is(o.err, wallet.ErrOtherPatient) && o.again != nil {
			refused = append(refused, o)
			continue
		}
		failed = failed || o.err != nil
	}
	v.importResult.SetText(strings.Join(lines, "\n"))
	v.importResult.Importance = widget.SuccessImportance
	switch {
	case failed:
		v.importResult.Importance = widget.DangerImportance
	case len(refused) > 0:
		v.importResult.Importance = widget.WarningImportance
	}
	v.importResult.Show()
	v.importResult.Refresh()
	v.reload()
	v.askOtherPatient(append(refused, queue...))
}

// importSummary is one file's line in the import report.
func importSummary(res wallet.ImportResult, err error) string {
	var s string
	if res.Added+res.Updated+res.Unchanged > 0 || err == nil {
		s = fmt.Sprintf("%s: %d added, %d updated, %d unchanged.", res.File, res.Added, res.Updated, res.Unchanged)
	}
	if res.Card != nil {
		s = strings.TrimSpace(s + " " + cardText(res.Card) + ".")
	}
	for _, p := range res.Others {
		s += " A family member's records: " + p.Label() + "."
	}
	var other *wallet.OtherPatientError
	switch {
	case errors.As(err, &other):
		s = strings.TrimSpace(s + " " + other.File + ": not imported: this file is for " +
			wallet.Person{Name: other.Name, BirthDate: other.BirthDate}.Label() + ", not for you.")
	case err != nil:
		s = strings.TrimSpace(s + " " + userMessage(err))
	}
	return s
}

// importStream imports a document that a phone's document picker hands
// over as a stream, without a file path. It is read into memory (never
// written out in plaintext) and dispatched by content as ImportFile does.
func (v *recordsView) importStream(rc fyne.URIReadCloser) {
	w := v.u.openWallet()
	if w == nil {
		rc.Close()
		return
	}
	name := rc.URI().Name()
	v.startImport()
	var out importOutcome
	ctx := v.u.walletCtx()
	v.u.run(func() error {
		defer rc.Close()
		data, err := io.ReadAll(io.LimitReader(rc, fhir.MaxInput+1))
		if err != nil {
			out = importOutcome{wallet.ImportResult{File: name}, err, nil}
			return nil
		}
		res, err := importBytes(ctx, w, name, data, v.progress(0, 1))
		out = importOutcome{res, err, func(o wallet.ImportOptions) (wallet.ImportResult, error) {
			return importBytes(ctx, w, name, data, nil, o) // data stays in memory only
		}}
		return nil
	}, func(error) { v.finishImport([]importOutcome{out}, nil) })
}

// importBytes imports a file held in memory: a PDF or an image becomes a
// document; JSON that is not a SMART Health Card is FHIR; anything else is
// tried as a SMART Health Card (file, shc:/ text or JWS), whose error then
// says what is wrong.
func importBytes(ctx context.Context, w *wallet.Wallet, name string, data []byte, progress func(done, total int64), opts ...wallet.ImportOptions) (wallet.ImportResult, error) {
	ctype := http.DetectContentType(data)
	if ctype == "application/pdf" || strings.HasPrefix(ctype, "image/") {
		return w.ImportAttachment(ctx, name, ctype, bytes.NewReader(data), int64(len(data)), w.Now(), progress)
	}
	trimmed := bytes.TrimSpace(data)
	if bytes.HasPrefix(trimmed, []byte("{")) && !bytes.Contains(trimmed[:min(len(trimmed), 200)], []byte(`"verifiableCredential"`)) {
		return w.ImportFHIR(ctx, name, data, opts...)
	}
	return w.ImportSHC(ctx, name, data, opts...)
}
