package clock

import (
	"testing"
	"time"
)

var epoch = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

func TestRealFollowsWallClock(t *testing.T) {
	t.Parallel()
	wall := epoch
	c := New(Real, func() time.Time { return wall })
	if got := c.Now(); !got.Equal(epoch) {
		t.Fatalf("Now = %v, want %v", got, epoch)
	}
	wall = wall.Add(time.Hour)
	if got := c.Now(); !got.Equal(epoch.Add(time.Hour)) {
		t.Fatalf("real clock did not follow the wall clock: %v", got)
	}
}

func TestVirtualStandsStillUntilMoved(t *testing.T) {
	t.Parallel()
	wall := epoch
	c := New(Virtual, func() time.Time { return wall })
	wall = wall.Add(time.Hour)
	if got := c.Now(); !got.Equal(epoch) {
		t.Fatalf("virtual clock moved with the wall clock: %v", got)
	}
	s, err := c.Advance(36 * time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if want := epoch.Add(36 * time.Hour); !s.Now.Equal(want) || !c.Now().Equal(want) || s.Mode != Virtual {
		t.Fatalf("after Advance: state %+v, Now %v, want %v", s, c.Now(), want)
	}
}

func TestAdvanceSwitchesRealToVirtual(t *testing.T) {
	t.Parallel()
	c := New(Real, func() time.Time { return epoch })
	s, err := c.Advance(time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if s.Mode != Virtual || !s.Now.Equal(epoch.Add(time.Minute)) {
		t.Fatalf("state = %+v", s)
	}
	if _, err := c.Advance(-time.Second); err == nil {
		t.Fatal("negative advance accepted")
	}
}

func TestSetRestoreAndChanged(t *testing.T) {
	t.Parallel()
	c := New(Real, func() time.Time { return epoch })
	ch := c.Changed()
	target := time.Date(2030, 1, 2, 3, 4, 5, 6_000_000, time.FixedZone("x", 3600))
	c.Set(target)
	select {
	case <-ch:
	default:
		t.Fatal("Changed channel was not closed by Set")
	}
	if got := c.Now(); !got.Equal(target) || got.Location() != time.UTC {
		t.Fatalf("Now = %v, want %v in UTC", got, target)
	}
	saved := c.State()
	c.Restore(State{Mode: Real})
	if c.State().Mode != Real {
		t.Fatal("Restore to real failed")
	}
	c.Restore(saved)
	if !c.Now().Equal(target) {
		t.Fatalf("Restore to virtual: %v", c.Now())
	}
}

func TestTruncatesToMilliseconds(t *testing.T) {
	t.Parallel()
	c := New(Virtual, func() time.Time { return epoch.Add(1234567 * time.Nanosecond) })
	if got := c.Now(); !got.Equal(epoch.Add(time.Millisecond)) {
		t.Fatalf("Now = %v, want millisecond resolution", got)
	}
}

func TestParseMode(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"real", "virtual"} {
		if m, err := ParseMode(s); err != nil || string(m) != s {
			t.Errorf("ParseMode(%q) = %q, %v", s, m, err)
		}
	}
	if _, err := ParseMode("fast"); err == nil {
		t.Error("ParseMode accepted an unknown mode")
	}
}
