package ipfs

import (
	"fmt"
	"os"
	"path/filepath"
)

// The write lock keeps GC's sweep away from blocks that are on disk but not
// yet in the block index: an import between its block writes and its index
// transaction, or a fetch between its first block and [Node.hold]. Every
// such writer holds the lock shared for the whole window; GC's sweep needs
// it exclusively and, when a writer holds it, leaves unindexed blocks for
// the next GC instead of waiting.
//
// The lock is a flock(2) on dir/write.lock, taken through a file opened
// per holder, so it works between goroutines of one process and between
// the processes sharing a wallet home (the app, `healthwallet node`, the
// CLI). The kernel drops it when a holder dies, so a killed import never
// blocks GC.
const writeLockFile = "write.lock"

// beginWrite takes the write lock shared; call the returned func when the
// written blocks are in the index (or the write failed).
func (s *Store) beginWrite() (func(), error) {
	f, err := os.OpenFile(filepath.Join(s.dir, writeLockFile), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("failed to open the store's write lock: %w", err)
	}
	if err := lockShared(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("failed to take the store's write lock: %w", err)
	}
	return func() { f.Close() }, nil
}

// trySweepLock takes the write lock exclusively without waiting. ok is
// false when some writer holds it.
func (s *Store) trySweepLock() (unlock func(), ok bool, err error) {
	f, err := os.OpenFile(filepath.Join(s.dir, writeLockFile), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, false, fmt.Errorf("failed to open the store's write lock: %w", err)
	}
	ok, err = tryLockExclusive(f)
	if err != nil || !ok {
		f.Close()
		return nil, false, err
	}
	return func() { f.Close() }, true, nil
}
