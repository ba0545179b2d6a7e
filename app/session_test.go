package app

import (
	"context"
	"errors"
	"os"
	"testing"
	"testing/synctest"
	"time"

	"fyne.io/fyne/v2/test"
)

// TestLockCancelsOperations: long operations run under the unlocked
// session's context, and locking cancels it; a new unlock gets a new one.
func TestLockCancelsOperations(t *testing.T) {
	u := openTestWallet(t, Options{})
	ctx := u.walletCtx()
	if ctx.Err() != nil {
		t.Fatalf("unlocked, the operations' context is done: %v", ctx.Err())
	}
	test.Tap(u.wv.lock)
	wantScreen(t, u, "unlock")
	if !errors.Is(ctx.Err(), context.Canceled) {
		t.Fatalf("locking left the operations' context running: %v", ctx.Err())
	}
	if err := u.walletCtx().Err(); !errors.Is(err, context.Canceled) {
		t.Fatalf("locked, a new operation's context: %v", err)
	}
}

// TestWaitConfirmed: the wait asks on every tick until the registry
// answers, gives up at its timeout, and stops when the context ends.
func TestWaitConfirmed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
		calls := 0
		start := time.Now()
		got, err := waitConfirmed(t.Context(), time.Second, time.Minute, func(context.Context) (time.Time, error) {
			calls++
			if calls < 3 {
				return time.Time{}, nil
			}
			return at, nil
		})
		if !got.Equal(at) || err != nil || calls != 3 || time.Since(start) != 2*time.Second {
			t.Fatalf("confirmed: %v, %v after %d calls and %v", got, err, calls, time.Since(start))
		}

		busy := errors.New("rpc busy")
		start = time.Now()
		got, err = waitConfirmed(t.Context(), time.Second, 10*time.Second, func(context.Context) (time.Time, error) { return time.Time{}, busy })
		if !got.IsZero() || !errors.Is(err, busy) || time.Since(start) != 10*time.Second {
			t.Fatalf("timeout: %v, %v after %v", got, err, time.Since(start))
		}

		ctx, cancel := context.WithCancel(t.Context())
		time.AfterFunc(1500*time.Millisecond, cancel)
		start = time.Now()
		got, err = waitConfirmed(ctx, time.Second, time.Minute, func(context.Context) (time.Time, error) { return time.Time{}, nil })
		if !got.IsZero() || !errors.Is(err, context.Canceled) || time.Since(start) != 1500*time.Millisecond {
			t.Fatalf("cancelled: %v, %v after %v", got, err, time.Since(start))
		}
	})
}

// TestSignalWatchEnds: the signal watch calls quit on a signal, and its
// goroutine ends when the app stops it without one (synctest fails a test
// that leaves a goroutine blocked).
func TestSignalWatchEnds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sig := make(chan os.Signal, 1)
		quit := 0
		stop := onSignal(sig, func() { quit++ })
		stop()
		synctest.Wait()
		if quit != 0 {
			t.Fatal("quit without a signal")
		}
	})
	synctest.Test(t, func(t *testing.T) {
		sig := make(chan os.Signal, 1)
		quit := 0
		stop := onSignal(sig, func() { quit++ })
		sig <- os.Interrupt
		synctest.Wait()
		stop()
		if quit != 1 {
			t.Fatalf("quit %d times on one signal", quit)
		}
	})
}
