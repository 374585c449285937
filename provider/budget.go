// Package provider is what cairn's clients of outside APIs (strava,
// garmin, weather) share: a clock that tests can drive, the rate budget
// of a provider application, and Caller, which sends a request through
// a smoothing limiter (golang.org/x/time/rate), the budget, a circuit
// breaker (sony/gobreaker) and retries with exponential backoff
// (cenkalti/backoff), classifying every failure as retryable or not.
package provider

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/cairn-fit/cairn"
)

// Clock tells the time and waits. Rate windows follow it, so that tests
// can run a day of windows in an instant.
type Clock interface {
	Now() time.Time
	// SleepUntil waits until the clock reads t, or until ctx ends.
	SleepUntil(ctx context.Context, t time.Time) error
}

// RealClock is the wall clock.
type RealClock struct{}

func (RealClock) Now() time.Time { return time.Now() }

func (RealClock) SleepUntil(ctx context.Context, until time.Time) error {
	d := time.Until(until)
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Window is a fixed rate window: at most Limit calls from each multiple
// of Length since the zero time (so 15 minutes aligns to :00, :15, :30
// and :45, and 24 hours to UTC midnight, as Strava counts). Limit 0 is
// no limit.
type Window struct {
	Name   string
	Length time.Duration
	Limit  int
}

type windowState struct {
	Window
	start time.Time
	used  int
	// past are the last windows' use, oldest first.
	past []WindowUse
}

// WindowUse is how many calls one window saw.
type WindowUse struct {
	Start time.Time
	Used  int
}

// maxPast bounds the windows a budget remembers.
const maxPast = 2000

// roll starts a new window when now is past this one. The calls still in
// flight may reach the provider in the new window, which counts them
// there: the new window starts with them counted.
func (w *windowState) roll(now time.Time, inflight int) {
	if start := now.UTC().Truncate(w.Length); !start.Equal(w.start) {
		if !w.start.IsZero() {
			w.past = append(w.past, WindowUse{w.start, w.used})
			if len(w.past) > maxPast {
				w.past = w.past[len(w.past)-maxPast:]
			}
		}
		w.start, w.used = start, inflight
	}
}

// Budget is one provider application's allowance of calls, shared by every
// user's sync in the process: each call takes a slot in every window
// before it is sent, so that no window is ever exceeded, and the usage the
// provider reports (response headers) is folded in, so that calls made
// elsewhere with the same application count too.
//
// The headers alone do not keep several processes of one deployment
// within the limits: a process learns of the others' calls only from the
// answers to its own, so near a window's end every process may still
// send as many calls as it has in flight, and an idle one starts a burst
// knowing nothing. With Share the windows are counted where all the
// processes see them (the database) and each call is reserved there,
// atomically, before it is sent; the headers still correct the count
// for calls made outside cairn.
type Budget struct {
	clock Clock
	// MaxWait bounds how long Take sleeps for a window to open; a longer
	// wait returns a RATE_LIMITED error with RetryAfter, for the caller
	// to come back (a job snoozes). Zero waits as long as needed.
	MaxWait time.Duration

	mu       sync.Mutex
	windows  []*windowState
	inflight int // calls taken and not yet answered
	taken    int64
	waited   time.Duration
	app      string
	shared   Shared
}

// Shared counts an application's windows for every process of a
// deployment (sqldb's provider_rate_windows).
type Shared interface {
	// Reserve takes one call in every window, all or none, and returns
	// each window's count after it (or, when one is full, as it is). A
	// window whose stored start is earlier starts over at carry (calls
	// still in flight from the last one) plus this call.
	Reserve(ctx context.Context, app string, carry int, slots []Slot) (used []int, ok bool, err error)
	// Raise sets a window's count to used when it is lower (the
	// provider's own count, which includes calls made elsewhere).
	Raise(ctx context.Context, app string, slot Slot, used int) error
}

// Slot is one window of a reservation: its name, the start of the
// current one and its limit (0: none).
type Slot struct {
	Name  string
	Start time.Time
	Limit int
}

// Share counts the budget's windows in shared under app (one name per
// provider application, e.g. "strava:1001"), for deployments of several
// processes; without it they are counted in the process.
func (b *Budget) Share(app string, shared Shared) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.app, b.shared = app, shared
}

// NewBudget returns a budget over the windows.
func NewBudget(clock Clock, windows ...Window) *Budget {
	if clock == nil {
		clock = RealClock{}
	}
	b := &Budget{clock: clock}
	for _, w := range windows {
		b.windows = append(b.windows, &windowState{Window: w})
	}
	return b
}

// Take reserves one call in every window, waiting for the windows that
// are full to roll over.
func (b *Budget) Take(ctx context.Context) error {
	if b == nil {
		return nil
	}
	for {
		wait, until, err := b.tryTake(ctx)
		if err != nil {
			return err
		}
		if wait == 0 {
			return nil
		}
		if b.MaxWait > 0 && wait > b.MaxWait {
			return cairn.RateLimited(wait, fmt.Sprintf("the provider's rate limit is used up for %s", wait.Round(time.Second)))
		}
		b.mu.Lock()
		b.waited += wait
		b.mu.Unlock()
		if err := b.clock.SleepUntil(ctx, until); err != nil {
			return cairn.Unavailable(cairn.KindNetwork, err, "the sync was stopped while waiting for a rate window")
		}
	}
}

// tryTake takes a slot and returns 0, or returns how long until every
// full window has rolled over, and when that is.
func (b *Budget) tryTake(ctx context.Context) (time.Duration, time.Time, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.clock.Now()
	for _, w := range b.windows {
		w.roll(now, b.inflight)
	}
	if b.shared != nil {
		ok, err := b.reserveShared(ctx)
		if err != nil {
			return 0, time.Time{}, err
		}
		if !ok {
			wait, until := b.untilOpen(now)
			if wait == 0 { // refused, yet no count says why: look again shortly
				wait, until = time.Second, now.Add(time.Second)
			}
			return wait, until, nil
		}
	} else {
		if wait, until := b.untilOpen(now); wait > 0 {
			return wait, until, nil
		}
		for _, w := range b.windows {
			w.used++
		}
	}
	b.taken++
	b.inflight++
	return 0, time.Time{}, nil
}

// untilOpen is how long until every full window has rolled over, and
// when. Callers hold b.mu.
func (b *Budget) untilOpen(now time.Time) (time.Duration, time.Time) {
	var until time.Time
	for _, w := range b.windows {
		if end := w.start.Add(w.Length); w.Limit > 0 && w.used >= w.Limit && end.After(until) {
			until = end
		}
	}
	if until.IsZero() {
		return 0, until
	}
	return until.Sub(now), until
}

// reserveShared reserves the call in the shared windows and adopts their
// counts, which include the other processes' calls. Callers hold b.mu.
func (b *Budget) reserveShared(ctx context.Context) (bool, error) {
	slots := make([]Slot, len(b.windows))
	for i, w := range b.windows {
		slots[i] = Slot{Name: w.Name, Start: w.start, Limit: w.Limit}
	}
	used, ok, err := b.shared.Reserve(ctx, b.app, b.inflight, slots)
	if err != nil {
		return false, cairn.Unavailable(cairn.KindDatabaseTimeout, err, "the shared rate budget could not be reached")
	}
	for i, w := range b.windows {
		if i < len(used) {
			w.used = used[i]
		}
	}
	return ok, nil
}

// Done tells the budget that a call it handed out was answered (or
// failed): it no longer counts as in flight.
func (b *Budget) Done() {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.inflight--
}

// Observe folds in the provider's count of calls in window i (by its
// position in NewBudget's list) as an answer to a call sent at sent
// reports it, and the window's limit when known (0: unchanged). A count
// from a window that has rolled over since is of the past one: only the
// limit is kept.
func (b *Budget) Observe(i, used, limit int, sent time.Time) {
	if b == nil || i < 0 || i >= len(b.windows) {
		return
	}
	b.mu.Lock()
	w := b.windows[i]
	w.roll(b.clock.Now(), b.inflight)
	raise := used > w.used && sent.UTC().Truncate(w.Length).Equal(w.start)
	if raise {
		w.used = used
	}
	if limit > 0 {
		w.Limit = limit
	}
	slot, shared, app := Slot{Name: w.Name, Start: w.start, Limit: w.Limit}, b.shared, b.app
	b.mu.Unlock()
	if raise && shared != nil {
		// Calls made outside cairn: the other processes should know too.
		// A failure loses only this correction; the next answer brings
		// the count again.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = shared.Raise(ctx, app, slot, used)
	}
}

// Now is the budget's clock's time.
func (b *Budget) Now() time.Time {
	if b == nil {
		return time.Now()
	}
	return b.clock.Now()
}

// Exhausted reports whether window i has no call left now.
func (b *Budget) Exhausted(i int) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	w := b.windows[i]
	w.roll(b.clock.Now(), b.inflight)
	return w.Limit > 0 && w.used >= w.Limit
}

// BudgetStats are what a budget has handed out.
type BudgetStats struct {
	Taken  int64         // calls sent
	Waited time.Duration // time spent waiting for windows (on the budget's clock)
}

// Stats returns the budget's counters.
func (b *Budget) Stats() BudgetStats {
	b.mu.Lock()
	defer b.mu.Unlock()
	return BudgetStats{Taken: b.taken, Waited: b.waited}
}

// History returns window i's use: the past windows (as many as
// remembered) and the current one, oldest first.
func (b *Budget) History(i int) []WindowUse {
	b.mu.Lock()
	defer b.mu.Unlock()
	w := b.windows[i]
	return append(append([]WindowUse(nil), w.past...), WindowUse{w.start, w.used})
}
