package wallet

import (
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

func TestIdleLocker(t *testing.T) {
	// In a synctest bubble time is fake: it moves only when every
	// goroutine waits, so the timings below are exact, not raced.
	synctest.Test(t, func(t *testing.T) {
		var locked atomic.Int32
		l := NewIdleLocker(80*time.Millisecond, func() { locked.Add(1) })
		for range 5 {
			time.Sleep(79 * time.Millisecond)
			l.Touch()
		}
		synctest.Wait()
		if locked.Load() != 0 {
			t.Fatal("locked although touched within the timeout")
		}
		time.Sleep(79 * time.Millisecond)
		synctest.Wait()
		if locked.Load() != 0 {
			t.Fatal("locked before the timeout")
		}
		time.Sleep(2 * time.Millisecond)
		synctest.Wait()
		if locked.Load() != 1 {
			t.Fatalf("lock ran %d times after idling, want 1", locked.Load())
		}
		l.Touch()
		l.LockNow()
		time.Sleep(time.Second)
		synctest.Wait()
		if locked.Load() != 1 {
			t.Fatal("a fired locker locked again")
		}

		var bg atomic.Int32
		l2 := NewIdleLocker(time.Hour, func() { bg.Add(1) })
		l2.LockNow()
		if bg.Load() != 1 {
			t.Fatal("LockNow did not lock")
		}
		l3 := NewIdleLocker(20*time.Millisecond, func() { bg.Add(1) })
		l3.Stop()
		time.Sleep(time.Hour)
		synctest.Wait()
		if bg.Load() != 1 {
			t.Fatal("a stopped locker locked")
		}

		// SetTimeout restarts the countdown with the new timeout.
		var set atomic.Int32
		l4 := NewIdleLocker(time.Hour, func() { set.Add(1) })
		time.Sleep(30 * time.Minute)
		l4.SetTimeout(time.Minute)
		time.Sleep(59 * time.Second)
		synctest.Wait()
		if set.Load() != 0 {
			t.Fatal("locked before the new timeout")
		}
		time.Sleep(2 * time.Second)
		synctest.Wait()
		if set.Load() != 1 {
			t.Fatal("the new timeout did not lock")
		}
	})
}
