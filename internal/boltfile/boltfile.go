// Package boltfile opens a bbolt database for each transaction instead of
// for the life of the process, so several healthwallet processes (the
// desktop app, `healthwallet node`, one-off CLI commands) can share a
// wallet home. Reads take bbolt's shared file lock, writes its exclusive
// lock; a process that finds the file locked waits up to Timeout.
//
// Opening costs a file open, a lock and an mmap (well under a millisecond
// here), which is why callers batch their work into few transactions.
package boltfile

import (
	"errors"
	"fmt"
	"os"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// Timeout is how long a transaction waits for another process's lock.
const Timeout = 10 * time.Second

// ErrBusy: another process held the file for longer than Timeout.
var ErrBusy = errors.New("busy: another healthwallet process holds the file")

// File is a bbolt database opened per transaction.
type File struct {
	path    string
	timeout time.Duration
}

// Open creates the file if needed and runs init in one write transaction
// (create buckets, check versions).
func Open(path string, timeout time.Duration, init func(*bolt.Tx) error) (*File, error) {
	if timeout == 0 {
		timeout = Timeout
	}
	f := &File{path: path, timeout: timeout}
	if init == nil {
		init = func(*bolt.Tx) error { return nil }
	}
	if err := f.Update(init); err != nil {
		return nil, err
	}
	return f, nil
}

// Path returns the file's path.
func (f *File) Path() string { return f.path }

func (f *File) open(readOnly bool) (*bolt.DB, error) {
	db, err := bolt.Open(f.path, 0o600, &bolt.Options{Timeout: f.timeout, ReadOnly: readOnly})
	switch {
	case errors.Is(err, bolterrors.ErrTimeout):
		return nil, fmt.Errorf("%s: %w", f.path, ErrBusy)
	case errors.Is(err, os.ErrNotExist), errors.Is(err, os.ErrPermission):
		return nil, err
	case err != nil:
		return nil, fmt.Errorf("%s: %w", f.path, err)
	}
	return db, nil
}

// View runs fn in a read-only transaction.
func (f *File) View(fn func(*bolt.Tx) error) error {
	db, err := f.open(true)
	if err != nil {
		return err
	}
	defer db.Close()
	return db.View(fn)
}

// Update runs fn in a read-write transaction; when Update returns nil the
// changes are on disk.
func (f *File) Update(fn func(*bolt.Tx) error) error {
	db, err := f.open(false)
	if err != nil {
		return err
	}
	defer db.Close()
	return db.Update(fn)
}
