package wallet

import (
	"context"
	"io"
)

// ExportCAR writes every object this wallet holds (records, attachments,
// share packages: ciphertext only) as one CAR file to out, and returns how
// many objects it wrote.
func (w *Wallet) ExportCAR(ctx context.Context, out io.Writer) (int, error) {
	store, err := w.objectStore()
	if err != nil {
		return 0, err
	}
	roots, err := w.ObjectRoots()
	if err != nil {
		return 0, err
	}
	return len(roots), store.ExportCAR(ctx, out, roots...)
}

// ImportCAR reads a CAR file (as ExportCAR writes it) into the block store,
// so the catalog's objects can be read again after their blocks were lost,
// and returns how many DAGs it held.
func (w *Wallet) ImportCAR(ctx context.Context, in io.Reader) (int, error) {
	store, err := w.objectStore()
	if err != nil {
		return 0, err
	}
	roots, err := store.ImportCAR(ctx, in)
	return len(roots), err
}
