package sqldb_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/provider"
	"github.com/cairn-fit/cairn/sqldb/dbtest"
)

// sharedBudget is one process's budget of an application whose windows
// are counted in db: 7 calls a quarter hour, 10 a day.
func sharedBudget(db *dbtest.DB, clock provider.Clock, app string) *provider.Budget {
	b := provider.NewBudget(clock,
		provider.Window{Name: "15-minute", Length: 15 * time.Minute, Limit: 7},
		provider.Window{Name: "daily", Length: 24 * time.Hour, Limit: 10})
	b.MaxWait = time.Nanosecond // a full window answers RATE_LIMITED at once
	b.Share(app, db.DB)
	return b
}

// race has goroutines on each budget take calls at once, answering each
// at once, and returns how many were handed out; other errors fail.
func race(t *testing.T, budgets ...*provider.Budget) int {
	t.Helper()
	var taken atomic.Int64
	var wg sync.WaitGroup
	for _, b := range budgets {
		for range 6 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 4 {
					err := b.Take(context.Background())
					if err == nil {
						taken.Add(1)
						b.Done()
					} else if cairn.ErrorCode(err) != cairn.ERATELIMITED {
						t.Error(err)
					}
				}
			}()
		}
	}
	wg.Wait()
	return int(taken.Load())
}

// TestSharedRateWindows: two processes' budgets of one application over
// one database hand out, together and all at once, exactly what each
// window allows, never more; the next window allows more until the day's
// limit; the provider's count (headers) seen by one holds the other back;
// calls in flight when a window opens count in it.
func TestSharedRateWindows(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *dbtest.DB) {
		clock := provider.NewManualClock(time.Date(2026, 3, 2, 10, 7, 0, 0, time.UTC))
		a, b := sharedBudget(db, clock, "strava:1"), sharedBudget(db, clock, "strava:1")
		if n := race(t, a, b); n != 7 {
			t.Fatalf("the first quarter hour handed out %d calls, its limit is 7", n)
		}
		clock.Advance(15 * time.Minute)
		if n := race(t, a, b); n != 3 {
			t.Fatalf("the second quarter hour handed out %d calls, the day has 3 left", n)
		}
		err := a.Take(context.Background())
		if cairn.ErrorCode(err) != cairn.ERATELIMITED || cairn.ErrorRetryAfter(err) < 13*time.Hour {
			t.Errorf("the day is used up: %v", err)
		}
		// Another application has windows of its own.
		if n := race(t, sharedBudget(db, clock, "strava:2")); n != 7 {
			t.Errorf("another application: %d calls", n)
		}

		// The provider reports calls cairn did not make: one process
		// learns it from an answer, the other is held back by it.
		clock.Advance(24 * time.Hour)
		c, d := sharedBudget(db, clock, "strava:3"), sharedBudget(db, clock, "strava:3")
		if err := c.Take(context.Background()); err != nil {
			t.Fatal(err)
		}
		c.Done()
		c.Observe(0, 6, 0, clock.Now())
		if n := race(t, d); n != 1 {
			t.Errorf("after the provider counted 6: %d calls, want 1", n)
		}

		// Two calls still in flight as the next window opens count in it.
		clock.Advance(15 * time.Minute)
		e, f := sharedBudget(db, clock, "strava:4"), sharedBudget(db, clock, "strava:4")
		for range 2 {
			if err := e.Take(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		clock.Advance(15 * time.Minute)
		if err := e.Take(context.Background()); err != nil {
			t.Fatal(err)
		}
		if n := race(t, f); n != 4 {
			t.Errorf("a window opened with 2 calls in flight and 1 taken: %d more, want 4", n)
		}

		// A process whose clock is behind does not take the window back.
		late := sharedBudget(db, provider.NewManualClock(clock.Now().Add(-15*time.Minute)), "strava:4")
		if err := late.Take(context.Background()); cairn.ErrorCode(err) != cairn.ERATELIMITED {
			t.Errorf("a clock behind the stored window: %v", err)
		}
	})
}
