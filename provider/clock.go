package provider

import (
	"context"
	"sync"
	"time"
)

// ManualClock is a clock that moves only when told to or when something
// sleeps on it: SleepUntil returns at once, having moved the time to at least
// the sleeper's wake-up time. Tests give it to the simulator (sim.Config.Now)
// and to the clients, so that waiting for a daily rate window takes no
// time.
type ManualClock struct {
	mu  sync.Mutex
	now time.Time
}

// NewManualClock returns a clock reading t.
func NewManualClock(t time.Time) *ManualClock { return &ManualClock{now: t} }

func (c *ManualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// SleepUntil moves the clock to t unless it is already past it.
func (c *ManualClock) SleepUntil(ctx context.Context, t time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if t.After(c.now) {
		c.now = t
	}
	return nil
}

// Advance moves the clock forward by d.
func (c *ManualClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}
