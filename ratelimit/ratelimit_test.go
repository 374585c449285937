package ratelimit_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/ratelimit"
	"golang.org/x/time/rate"
)

// clock is the limiter's time, moved by the test: no test here sleeps.
type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }

func newLimiter(rules map[ratelimit.Action]ratelimit.Rule) (*ratelimit.Limiter, *clock) {
	c := &clock{t: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
	return ratelimit.New(rules, c.now), c
}

// refused checks that err is RATE_LIMITED and returns its Retry-After.
func refused(t *testing.T, err error) time.Duration {
	t.Helper()
	if cairn.ErrorCode(err) != cairn.ERATELIMITED {
		t.Fatalf("want RATE_LIMITED, got %v", err)
	}
	d := cairn.ErrorRetryAfter(err)
	if d <= 0 {
		t.Fatalf("RATE_LIMITED without a Retry-After: %v", err)
	}
	return d
}

func TestPasswordGuessingBacksOff(t *testing.T) {
	l, c := newLimiter(nil) // the defaults: 3 free failures, then 1 s doubling to 15 min
	const ip, acct = "203.0.113.7", "ada@example.com"
	for i := range 3 {
		if err := l.Allow(ratelimit.Login, ip, acct); err != nil {
			t.Fatalf("attempt %d refused: %v", i+1, err)
		}
		l.Fail(ratelimit.Login, ip, acct)
	}
	if err := l.Allow(ratelimit.Login, ip, acct); err != nil {
		t.Fatalf("attempt 4 refused: %v", err)
	}
	var waits []time.Duration
	for range 12 {
		l.Fail(ratelimit.Login, ip, acct)
		d := refused(t, l.Allow(ratelimit.Login, ip, acct))
		// Asking again while blocked does not lengthen the wait.
		if again := refused(t, l.Allow(ratelimit.Login, ip, acct)); again != d {
			t.Fatalf("a refused attempt changed the wait from %v to %v", d, again)
		}
		waits = append(waits, d)
		c.advance(d - time.Millisecond)
		refused(t, l.Allow(ratelimit.Login, ip, acct))
		c.advance(time.Millisecond)
		// The rate (one per 6 s per account) may still hold it for a moment.
		for err := l.Allow(ratelimit.Login, ip, acct); err != nil; err = l.Allow(ratelimit.Login, ip, acct) {
			c.advance(refused(t, err))
		}
	}
	want := []time.Duration{1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900}
	for i, d := range waits {
		if d != want[i]*time.Second {
			t.Fatalf("waits %v, want %v seconds", waits, want)
		}
	}
	// The right password resets the backoff: the next failures are free again.
	l.Succeed(ratelimit.Login, ip, acct)
	c.advance(time.Minute) // the account's bucket refills
	for i := range 3 {
		if err := l.Allow(ratelimit.Login, ip, acct); err != nil {
			t.Fatalf("after success, attempt %d refused: %v", i+1, err)
		}
		l.Fail(ratelimit.Login, ip, acct)
	}
}

func TestSprayFromOneIP(t *testing.T) {
	l, c := newLimiter(map[ratelimit.Action]ratelimit.Rule{
		ratelimit.Login: {IP: rate.Every(time.Second), IPBurst: 5, Account: rate.Every(time.Second), AccountBurst: 5,
			FreeFailures: 100, Backoff: time.Second, MaxBackoff: time.Hour},
	})
	const ip = "198.51.100.1"
	for i := range 5 {
		if err := l.Allow(ratelimit.Login, ip, fmt.Sprintf("user%d@example.com", i)); err != nil {
			t.Fatalf("attempt %d: %v", i, err)
		}
	}
	d := refused(t, l.Allow(ratelimit.Login, ip, "user99@example.com"))
	if d != time.Second {
		t.Fatalf("Retry-After %v, want 1s (one token per second)", d)
	}
	// Another IP is not affected, and the refused attempt used none of
	// user99's budget.
	for i := range 5 {
		if err := l.Allow(ratelimit.Login, "198.51.100.2", "user99@example.com"); err != nil {
			t.Fatalf("other IP, attempt %d: %v", i, err)
		}
	}
	c.advance(d)
	if err := l.Allow(ratelimit.Login, ip, "user42@example.com"); err != nil {
		t.Fatalf("after Retry-After: %v", err)
	}
}

func TestOneAccountFromManyIPs(t *testing.T) {
	l, c := newLimiter(map[ratelimit.Action]ratelimit.Rule{
		ratelimit.MFA: {IP: 100, IPBurst: 100, Account: rate.Every(time.Minute), AccountBurst: 100,
			FreeFailures: 3, Backoff: 10 * time.Second, MaxBackoff: time.Hour},
	})
	const user = "01HZUSER"
	for i := range 3 {
		ip := fmt.Sprintf("192.0.2.%d", i)
		if err := l.Allow(ratelimit.MFA, ip, user); err != nil {
			t.Fatal(err)
		}
		l.Fail(ratelimit.MFA, ip, user)
	}
	l.Allow(ratelimit.MFA, "192.0.2.50", user)
	l.Fail(ratelimit.MFA, "192.0.2.50", user)
	// Every IP is now refused for this account (case and space do not
	// make another account), but not for another one.
	if d := refused(t, l.Allow(ratelimit.MFA, "192.0.2.99", " 01hzUSER ")); d != 10*time.Second {
		t.Fatalf("Retry-After %v, want 10s", d)
	}
	if err := l.Allow(ratelimit.MFA, "192.0.2.98", "someone-else"); err != nil {
		t.Fatalf("another account refused: %v", err)
	}
	c.advance(10 * time.Second)
	if err := l.Allow(ratelimit.MFA, "192.0.2.99", user); err != nil {
		t.Fatalf("after the backoff: %v", err)
	}
}

func TestFailuresAreForgotten(t *testing.T) {
	l, c := newLimiter(map[ratelimit.Action]ratelimit.Rule{
		ratelimit.DeviceCode: {IP: 100, IPBurst: 100, Account: 100, AccountBurst: 100,
			FreeFailures: 2, Backoff: time.Second, MaxBackoff: time.Minute, ForgetAfter: time.Hour},
	})
	for range 3 {
		l.Fail(ratelimit.DeviceCode, "ip", "")
	}
	refused(t, l.Allow(ratelimit.DeviceCode, "ip", ""))
	c.advance(time.Hour)
	l.Fail(ratelimit.DeviceCode, "ip", "") // the count restarted: a free failure
	if err := l.Allow(ratelimit.DeviceCode, "ip", ""); err != nil {
		t.Fatalf("an hour later one failure blocked: %v", err)
	}
}

func TestUnlimitedActionAndSweep(t *testing.T) {
	l, c := newLimiter(map[ratelimit.Action]ratelimit.Rule{
		ratelimit.Token: {IP: 1, IPBurst: 1, Account: 1, AccountBurst: 1, FreeFailures: 1, Backoff: time.Second, MaxBackoff: time.Second},
	})
	for range 10 {
		if err := l.Allow(ratelimit.Login, "ip", "acct"); err != nil {
			t.Fatalf("an action without a rule was limited: %v", err)
		}
	}
	for i := range 5000 {
		_ = l.Allow(ratelimit.Token, "", fmt.Sprintf("client-%d", i))
	}
	if l.Len() != 5000 {
		t.Fatalf("tracking %d accounts, want 5000", l.Len())
	}
	c.advance(time.Minute) // every bucket is full again
	_ = l.Allow(ratelimit.Token, "", "one-more")
	for i := range 5000 {
		_ = l.Allow(ratelimit.Token, "", fmt.Sprintf("late-%d", i))
	}
	if n := l.Len(); n > 5002 {
		t.Fatalf("idle entries were not swept: %d tracked", n)
	}
}
