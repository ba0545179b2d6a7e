package testclock

import (
	"testing"
	"time"
)

func TestClockStartsAtShiftedBase(t *testing.T) {
	want := Base.Add(Shift())
	if got := Frozen(); !got.Equal(want) {
		t.Fatalf("Frozen() = %v, want %v", got, want)
	}
	if got := Now(); got.Before(want) || got.Sub(want) > time.Hour {
		t.Fatalf("Now() = %v, want shortly after %v", got, want)
	}
}

func TestShiftParses(t *testing.T) {
	t.Setenv(ShiftEnv, "8760h")
	if Shift() != 365*24*time.Hour {
		t.Fatalf("shift %v", Shift())
	}
	t.Setenv(ShiftEnv, "a year")
	defer func() {
		if recover() == nil {
			t.Fatal("an unreadable shift did not panic")
		}
	}()
	Shift()
}
