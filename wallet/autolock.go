package wallet

import (
	"sync"
	"time"
)

// DefaultIdleTimeout is how long an unlocked wallet may sit unused before
// the app locks it.
const DefaultIdleTimeout = 5 * time.Minute

// IdleLocker calls a lock function once no activity has been reported for a
// timeout. Front ends call [IdleLocker.Touch] on every user action.
type IdleLocker struct {
	mu      sync.Mutex
	timeout time.Duration
	timer   *time.Timer
	lock    func()
}

// NewIdleLocker starts a locker that calls lock after timeout of inactivity.
// A zero or negative timeout disables idle locking.
func NewIdleLocker(timeout time.Duration, lock func()) *IdleLocker {
	l := &IdleLocker{timeout: timeout, lock: lock}
	l.Touch()
	return l
}

// Touch records activity and restarts the countdown.
func (l *IdleLocker) Touch() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.lock == nil {
		return
	}
	if l.timer != nil {
		l.timer.Stop()
	}
	if l.timeout > 0 {
		l.timer = time.AfterFunc(l.timeout, l.fire)
	}
}

// SetTimeout changes the timeout and restarts the countdown.
func (l *IdleLocker) SetTimeout(d time.Duration) {
	l.mu.Lock()
	l.timeout = d
	l.mu.Unlock()
	l.Touch()
}

// LockNow locks at once (the app calls it when it goes to the background)
// and stops the locker.
func (l *IdleLocker) LockNow() { l.fire() }

// Stop cancels the countdown without locking.
func (l *IdleLocker) Stop() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.timer != nil {
		l.timer.Stop()
	}
	l.lock = nil
}

func (l *IdleLocker) fire() {
	l.mu.Lock()
	lock := l.lock
	l.lock = nil
	if l.timer != nil {
		l.timer.Stop()
	}
	l.mu.Unlock()
	if lock != nil {
		lock()
	}
}
