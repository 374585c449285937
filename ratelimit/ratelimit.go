// Package ratelimit slows down guessing: per-IP and per-account token
// buckets (golang.org/x/time/rate) for login, token, device-code entry,
// MFA verification, password reset mails and sign-ups, plus a backoff that grows with consecutive failures
// and resets on success.
//
// Callers ask Allow before checking a credential and report the outcome
// with Fail or Succeed. A refusal is a cairn.Error with code RATE_LIMITED
// and RetryAfter set (REST answers 429 with a Retry-After header).
//
// The state is in memory, in one process: with several cairn processes
// behind a load balancer each keeps its own counts, so an attacker who
// reaches all of them gets that many times the budget. That is acceptable
// for one server; a shared store (the database or Redis) would be needed
// for exact limits across processes.
package ratelimit

import (
	"strings"
	"sync"
	"time"

	"github.com/cairn-fit/cairn"
	"golang.org/x/time/rate"
)

// Action is what is being attempted; each has its own rule and counters.
type Action string

const (
	Login      Action = "login"       // password sign-in; account: the email
	Token      Action = "token"       // OAuth token endpoint; account: the client id
	DeviceCode Action = "device_code" // device authorization user-code entry; account: the user
	MFA        Action = "mfa"         // TOTP, recovery code or passkey check; account: the user
	// PasswordReset is asking for a reset mail; account: the email. It
	// only has rates (asking never fails), against mail floods.
	PasswordReset Action = "password_reset"
	// SignUp is a self-service sign-up (which mails a confirmation link);
	// account: the email. Rates only, against account farming and mail
	// floods to one address.
	SignUp Action = "signup"
)

// Rule limits one action.
type Rule struct {
	// IP and Account are sustained attempts per second; IPBurst and
	// AccountBurst how many may come at once.
	IP, Account           rate.Limit
	IPBurst, AccountBurst int
	// FreeFailures consecutive failures cost nothing more; each further one
	// blocks the IP and the account for Backoff, doubled per failure up to
	// MaxBackoff.
	FreeFailures        int
	Backoff, MaxBackoff time.Duration
	// ForgetAfter without a failure resets the failure count.
	ForgetAfter time.Duration
}

// DefaultRules are the limits cairn runs with.
func DefaultRules() map[Action]Rule {
	return map[Action]Rule{
		Login: {IP: rate.Every(2 * time.Second), IPBurst: 20, Account: rate.Every(6 * time.Second), AccountBurst: 10,
			FreeFailures: 3, Backoff: time.Second, MaxBackoff: 15 * time.Minute, ForgetAfter: time.Hour},
		Token: {IP: 10, IPBurst: 50, Account: 5, AccountBurst: 20,
			FreeFailures: 5, Backoff: time.Second, MaxBackoff: 5 * time.Minute, ForgetAfter: time.Hour},
		DeviceCode: {IP: rate.Every(5 * time.Second), IPBurst: 10, Account: rate.Every(5 * time.Second), AccountBurst: 10,
			FreeFailures: 3, Backoff: 2 * time.Second, MaxBackoff: 15 * time.Minute, ForgetAfter: time.Hour},
		MFA: {IP: rate.Every(2 * time.Second), IPBurst: 10, Account: rate.Every(6 * time.Second), AccountBurst: 5,
			FreeFailures: 3, Backoff: 2 * time.Second, MaxBackoff: 15 * time.Minute, ForgetAfter: time.Hour},
		PasswordReset: {IP: rate.Every(10 * time.Second), IPBurst: 5, Account: rate.Every(5 * time.Minute), AccountBurst: 3},
		SignUp:        {IP: rate.Every(time.Minute), IPBurst: 5, Account: rate.Every(10 * time.Minute), AccountBurst: 3},
	}
}

// Limiter keeps the counters. The zero value is not usable: call New.
type Limiter struct {
	rules map[Action]Rule
	now   func() time.Time

	mu      sync.Mutex
	entries map[key]*entry
	sweepAt int // sweep idle entries when the map reaches this size
}

type key struct {
	action  Action
	account bool // false: an IP
	id      string
}

type entry struct {
	bucket       *rate.Limiter
	failures     int
	lastFailure  time.Time
	blockedUntil time.Time
	seen         time.Time
}

const minSweep = 4096

// New returns a limiter with rules (DefaultRules when nil) on the clock now
// (time.Now when nil). An action without a rule is not limited.
func New(rules map[Action]Rule, now func() time.Time) *Limiter {
	if rules == nil {
		rules = DefaultRules()
	}
	if now == nil {
		now = time.Now
	}
	return &Limiter{rules: rules, now: now, entries: map[key]*entry{}, sweepAt: minSweep}
}

// Allow takes one attempt at action from ip for account (either may be
// empty). It answers RATE_LIMITED, with the wait in RetryAfter, when the
// IP or the account is backing off after failures or over its rate; a
// refused attempt uses up nothing.
func (l *Limiter) Allow(action Action, ip, account string) error {
	rule, ok := l.rules[action]
	if !ok {
		return nil
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	es := l.lookup(action, rule, ip, account, now)
	var wait time.Duration
	for _, e := range es {
		wait = max(wait, e.blockedUntil.Sub(now))
	}
	if wait <= 0 {
		rs := make([]*rate.Reservation, 0, len(es))
		for _, e := range es {
			r := e.bucket.ReserveN(now, 1)
			rs = append(rs, r)
			if !r.OK() {
				wait = max(wait, time.Second)
			} else {
				wait = max(wait, r.DelayFrom(now))
			}
		}
		if wait <= 0 {
			return nil
		}
		for _, r := range rs {
			r.CancelAt(now)
		}
	}
	return cairn.RateLimited(wait, "too many attempts, try again later")
}

// Fail records a failed attempt: after the rule's free failures, the IP
// and the account back off, longer with each consecutive failure.
func (l *Limiter) Fail(action Action, ip, account string) {
	rule, ok := l.rules[action]
	if !ok {
		return
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, e := range l.lookup(action, rule, ip, account, now) {
		e.failures++
		e.lastFailure = now
		if over := e.failures - rule.FreeFailures; over > 0 {
			d := rule.Backoff
			for i := 1; i < over && d < rule.MaxBackoff; i++ {
				d *= 2
			}
			e.blockedUntil = now.Add(min(d, rule.MaxBackoff))
		}
	}
}

// Succeed records a successful attempt: the IP's and the account's
// failure counts and backoff reset (their rates still apply).
func (l *Limiter) Succeed(action Action, ip, account string) {
	rule, ok := l.rules[action]
	if !ok {
		return
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, e := range l.lookup(action, rule, ip, account, now) {
		e.failures, e.blockedUntil = 0, time.Time{}
	}
}

// lookup returns the entries for ip and account, creating them. It holds
// l.mu.
func (l *Limiter) lookup(action Action, rule Rule, ip, account string, now time.Time) []*entry {
	var es []*entry
	get := func(k key, lim rate.Limit, burst int) {
		e, ok := l.entries[k]
		if !ok {
			if len(l.entries) >= l.sweepAt {
				l.sweep(now)
			}
			e = &entry{bucket: rate.NewLimiter(lim, max(burst, 1))}
			l.entries[k] = e
		}
		if rule.ForgetAfter > 0 && e.failures > 0 && now.Sub(e.lastFailure) >= rule.ForgetAfter {
			e.failures = 0
		}
		e.seen = now
		es = append(es, e)
	}
	if ip != "" {
		get(key{action: action, id: ip}, rule.IP, rule.IPBurst)
	}
	if account = strings.ToLower(strings.TrimSpace(account)); account != "" {
		get(key{action: action, account: true, id: account}, rule.Account, rule.AccountBurst)
	}
	return es
}

// sweep forgets entries that carry no state any more: bucket full again,
// not blocked, failures forgotten. It runs when the map has doubled since
// the last sweep, so it costs O(1) per insertion on average.
func (l *Limiter) sweep(now time.Time) {
	for k, e := range l.entries {
		rule := l.rules[k.action]
		full := e.bucket.TokensAt(now) >= float64(e.bucket.Burst())
		forgotten := e.failures == 0 || (rule.ForgetAfter > 0 && now.Sub(e.lastFailure) >= rule.ForgetAfter)
		if full && forgotten && !now.Before(e.blockedUntil) {
			delete(l.entries, k)
		}
	}
	l.sweepAt = max(minSweep, 2*len(l.entries))
}

// Len returns how many IPs and accounts the limiter tracks.
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.entries)
}
