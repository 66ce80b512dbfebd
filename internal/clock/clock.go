// Package clock is orgstack's notion of time. Every domain reads time from a
// Clock, never from time.Now, so that tests can move time: a handshake that
// expires in 15 days, or a schedule that runs tomorrow at 02:00, can be seen
// to do so by advancing a virtual clock instead of sleeping.
package clock

import (
	"fmt"
	"sync"
	"time"
)

// Clock tells the time.
type Clock interface {
	Now() time.Time
}

// Mode says whether a Controlled clock follows the wall clock or stands
// still at a time that only moves when told to.
type Mode string

const (
	Real    Mode = "real"
	Virtual Mode = "virtual"
)

// ParseMode parses a --clock flag value.
func ParseMode(s string) (Mode, error) {
	switch Mode(s) {
	case Real, Virtual:
		return Mode(s), nil
	}
	return "", fmt.Errorf("clock: unknown mode %q (want real or virtual)", s)
}

// State is what a Controlled clock needs to be restored after a restart.
type State struct {
	Mode Mode      `json:"mode"`
	Now  time.Time `json:"now"` // the virtual time; zero in real mode
}

// Controlled is the server's clock: real until it is set or advanced, then
// virtual. Virtual time stands still between changes, which makes tests
// deterministic: two calls at the same virtual instant see the same time.
// It is safe for concurrent use.
type Controlled struct {
	wall func() time.Time

	mu      sync.RWMutex
	mode    Mode
	now     time.Time
	changed chan struct{}
}

// New returns a clock in the given mode. A virtual clock starts at the
// wall-clock time. wall is time.Now unless a test supplies another.
func New(mode Mode, wall func() time.Time) *Controlled {
	if wall == nil {
		wall = time.Now
	}
	c := &Controlled{wall: wall, changed: make(chan struct{})}
	c.mode = mode
	if mode == Virtual {
		c.now = truncate(wall())
	}
	return c
}

// truncate drops what AWS timestamps cannot carry: the wire has
// millisecond resolution, and the monotonic reading means nothing here.
func truncate(t time.Time) time.Time { return t.Round(0).Truncate(time.Millisecond).UTC() }

// Now returns the current time of the clock.
func (c *Controlled) Now() time.Time {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.mode == Virtual {
		return c.now
	}
	return truncate(c.wall())
}

// State returns the mode and, in virtual mode, the time.
func (c *Controlled) State() State {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.mode == Virtual {
		return State{Mode: Virtual, Now: c.now}
	}
	return State{Mode: Real}
}

// Set switches to virtual time at t.
func (c *Controlled) Set(t time.Time) State {
	c.mu.Lock()
	c.mode, c.now = Virtual, truncate(t)
	s := State{Mode: Virtual, Now: c.now}
	c.notifyLocked()
	c.mu.Unlock()
	return s
}

// Advance moves time forward by d, switching to virtual time first if the
// clock was real. Time never moves backwards through Advance.
func (c *Controlled) Advance(d time.Duration) (State, error) {
	if d < 0 {
		return State{}, fmt.Errorf("clock: cannot advance by a negative duration %s", d)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.mode != Virtual {
		c.mode, c.now = Virtual, truncate(c.wall())
	}
	c.now = c.now.Add(d)
	c.notifyLocked()
	return State{Mode: Virtual, Now: c.now}, nil
}

// Restore puts the clock back into a saved state.
func (c *Controlled) Restore(s State) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.mode = s.Mode
	c.now = time.Time{}
	if s.Mode == Virtual {
		c.now = truncate(s.Now)
	}
	c.notifyLocked()
}

// Changed returns a channel that is closed the next time the clock is set,
// advanced or restored, so that background work waiting for a virtual
// instant can wake up.
func (c *Controlled) Changed() <-chan struct{} {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.changed
}

func (c *Controlled) notifyLocked() {
	close(c.changed)
	c.changed = make(chan struct{})
}

// Fixed is a Clock that always tells the same time, for tests.
type Fixed time.Time

func (f Fixed) Now() time.Time { return time.Time(f) }
