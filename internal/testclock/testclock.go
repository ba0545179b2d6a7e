// Package testclock is the clock every test of the app and the wallet runs
// on, so that no test depends on the day it runs, the machine's time zone,
// or chance.
//
// A test clock starts at [Base] (21 November 2026, 10:00 UTC) and runs at
// real speed from the moment the test process first asks for it: durations
// (idle locks, grant windows) still pass, but every date a test sees or
// renders is the same on any day.
//
// Setting HW_TEST_CLOCK_SHIFT to a Go duration (e.g. "8760h", a year) moves
// Base by that much. `make test-clock-shift` runs the app and wallet tests a
// year ahead this way, to prove that nothing in them silently depends on
// the real date (faketime cannot move a Go program's clock; this can,
// because every test clock comes from here).
//
// [Frozen] is for markup masters that show times: it never moves.
package testclock

import (
	"fmt"
	"os"
	"sync"
	"time"
)

// Base is the instant test clocks start from.
var Base = time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)

// ShiftEnv names the environment variable that moves Base.
const ShiftEnv = "HW_TEST_CLOCK_SHIFT"

var start = sync.OnceValues(func() (time.Time, time.Time) {
	base := Base.Add(Shift())
	return base, time.Now()
})

// Shift is the duration HW_TEST_CLOCK_SHIFT asks for, or 0. An unreadable
// value panics: a proof run that silently ran unshifted would prove
// nothing.
func Shift() time.Duration {
	s := os.Getenv(ShiftEnv)
	if s == "" {
		return 0
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		panic(fmt.Sprintf("testclock: %s=%q: %v", ShiftEnv, s, err))
	}
	return d
}

// Now is the running test clock: Base (shifted) plus the real time elapsed
// since the process first called it.
func Now() time.Time {
	base, real := start()
	return base.Add(time.Since(real))
}

// Frozen is the shifted Base, always: a clock that never moves.
func Frozen() time.Time {
	base, _ := start()
	return base
}

// Zone is the fixed time zone tests render in (UTC+1 with a name of its
// own, so that a forgotten conversion to local time shows).
var Zone = time.FixedZone("HWT", 60*60)

// Fix sets the process's local time zone to Zone. Call it from TestMain,
// before any test runs.
func Fix() { time.Local = Zone }
