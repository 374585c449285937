package provider

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/cairn-fit/cairn"
	"github.com/cenkalti/backoff/v5"
	"github.com/sony/gobreaker/v2"
	"golang.org/x/time/rate"
)

// Response is a provider's complete answer: the body is read within the
// attempt, so that a connection cut half way is retried like any other
// network failure.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
	// Sent is when the request went out, on the budget's clock.
	Sent time.Time
}

// Options tune a Caller; zero fields take the defaults noted.
type Options struct {
	// Name is the provider's name in error messages ("Strava").
	Name string
	HTTP *http.Client // default: http.DefaultClient
	// Budget is the application's rate windows (nil: none).
	Budget *Budget
	// PerSecond smooths calls to at most this many a second (0: no
	// smoothing), as Nominatim's usage policy asks (1 per second).
	PerSecond float64
	// AttemptTimeout bounds one attempt, body included (default 30 s).
	AttemptTimeout time.Duration
	// MaxTries bounds the attempts of one call (default 8).
	MaxTries uint
	// InitialBackoff and MaxBackoff shape the exponential backoff between
	// attempts (defaults 250 ms and 15 s).
	InitialBackoff, MaxBackoff time.Duration
	// BreakerFailures consecutive failures open the circuit (default 8)
	// for BreakerOpen (default 10 s), after which one call probes.
	BreakerFailures uint32
	BreakerOpen     time.Duration
	// MaxBody bounds a response body (default 64 MiB).
	MaxBody int64
	// Observe sees every response (rate headers).
	Observe func(*Response)
	// Classify turns a non-2xx response into an error (default
	// ClassifyStatus).
	Classify func(name string, r *Response) error
}

// Caller sends one provider's requests with limits, breaker and retries.
type Caller struct {
	opt     Options
	limiter *rate.Limiter
	breaker *gobreaker.CircuitBreaker[*Response]
	// counters, for benchmarks and tests
	attempts, successes, failures atomic.Int64
}

// NewCaller returns a caller with the options.
func NewCaller(opt Options) *Caller {
	if opt.HTTP == nil {
		opt.HTTP = http.DefaultClient
	}
	if opt.AttemptTimeout == 0 {
		opt.AttemptTimeout = 30 * time.Second
	}
	if opt.MaxTries == 0 {
		opt.MaxTries = 8
	}
	if opt.InitialBackoff == 0 {
		opt.InitialBackoff = 250 * time.Millisecond
	}
	if opt.MaxBackoff == 0 {
		opt.MaxBackoff = 15 * time.Second
	}
	if opt.BreakerFailures == 0 {
		opt.BreakerFailures = 8
	}
	if opt.BreakerOpen == 0 {
		opt.BreakerOpen = 10 * time.Second
	}
	if opt.MaxBody == 0 {
		opt.MaxBody = 64 << 20
	}
	if opt.Classify == nil {
		opt.Classify = ClassifyStatus
	}
	c := &Caller{opt: opt}
	if opt.PerSecond > 0 {
		c.limiter = rate.NewLimiter(rate.Limit(opt.PerSecond), 1)
	}
	failures := opt.BreakerFailures
	c.breaker = gobreaker.NewCircuitBreaker[*Response](gobreaker.Settings{
		Name:        opt.Name,
		MaxRequests: 1,
		Timeout:     opt.BreakerOpen,
		ReadyToTrip: func(n gobreaker.Counts) bool { return n.ConsecutiveFailures >= failures },
		// The provider answered: it is up, whatever it said.
		IsSuccessful: func(err error) bool { return err == nil || !cairn.Retryable(err) },
		// A refused call for our own rate, or our own cancellation, says
		// nothing about the provider's health.
		IsExcluded: func(err error) bool {
			return cairn.ErrorKind(err) == cairn.KindRateLimit || errors.Is(err, context.Canceled)
		},
	})
	return c
}

// Budget returns the caller's rate budget (nil when it has none).
func (c *Caller) Budget() *Budget { return c.opt.Budget }

// CallStats count a caller's attempts.
type CallStats struct {
	Attempts, Successes, Failures int64
}

// Stats returns the caller's counters.
func (c *Caller) Stats() CallStats {
	return CallStats{Attempts: c.attempts.Load(), Successes: c.successes.Load(), Failures: c.failures.Load()}
}

// Do sends the request that build makes until it succeeds, a
// non-retryable error comes, or the tries run out. handle reads a 2xx
// answer; an error it returns is retried when cairn.Retryable says so
// (a cut-off body: KindTemporary).
func (c *Caller) Do(ctx context.Context, build func(context.Context) (*http.Request, error), handle func(*Response) error) error {
	b := backoff.NewExponentialBackOff()
	b.InitialInterval, b.MaxInterval = c.opt.InitialBackoff, c.opt.MaxBackoff
	_, err := backoff.Retry(ctx, func() (struct{}, error) {
		err := c.attempt(ctx, build, handle)
		switch {
		case err == nil:
			return struct{}{}, nil
		case ctx.Err() != nil:
			return struct{}{}, backoff.Permanent(cairn.Unavailable(cairn.KindNetwork, ctx.Err(), "the call was cancelled"))
		case cairn.ErrorRetryAfter(err) > 0 && cairn.ErrorKind(err) == cairn.KindRateLimit && c.opt.Budget != nil &&
			c.opt.Budget.MaxWait > 0 && cairn.ErrorRetryAfter(err) > c.opt.Budget.MaxWait:
			// the budget says: come back later
			return struct{}{}, backoff.Permanent(err)
		case !cairn.Retryable(err):
			return struct{}{}, backoff.Permanent(err)
		}
		return struct{}{}, err
	}, backoff.WithBackOff(b), backoff.WithMaxTries(c.opt.MaxTries), backoff.WithMaxElapsedTime(0))
	return err
}

func (c *Caller) attempt(ctx context.Context, build func(context.Context) (*http.Request, error), handle func(*Response) error) error {
	if c.limiter != nil {
		if err := c.limiter.Wait(ctx); err != nil {
			return cairn.Unavailable(cairn.KindNetwork, err, "the call was cancelled")
		}
	}
	if err := c.opt.Budget.Take(ctx); err != nil {
		return err
	}
	defer c.opt.Budget.Done()
	c.attempts.Add(1)
	_, err := c.breaker.Execute(func() (*Response, error) {
		actx, cancel := context.WithTimeout(ctx, c.opt.AttemptTimeout)
		defer cancel()
		resp, err := c.send(actx, build)
		if err != nil {
			return nil, err
		}
		if resp.Status < 200 || resp.Status > 299 {
			return resp, c.opt.Classify(c.opt.Name, resp)
		}
		return resp, handle(resp)
	})
	switch {
	case errors.Is(err, gobreaker.ErrOpenState), errors.Is(err, gobreaker.ErrTooManyRequests):
		err = cairn.Unavailable(cairn.KindTemporary, err, c.opt.Name+" keeps failing: calls to it are paused")
	}
	if err != nil {
		c.failures.Add(1)
	} else {
		c.successes.Add(1)
	}
	return err
}

func (c *Caller) send(ctx context.Context, build func(context.Context) (*http.Request, error)) (*Response, error) {
	req, err := build(ctx)
	if err != nil {
		return nil, cairn.Wrap(cairn.EINTERNAL, err, "internal error")
	}
	sent := c.opt.Budget.Now()
	resp, err := c.opt.HTTP.Do(req)
	if err != nil {
		return nil, cairn.Unavailable(cairn.KindNetwork, err, c.opt.Name+" could not be reached")
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, c.opt.MaxBody))
	r := &Response{Status: resp.StatusCode, Header: resp.Header, Body: body, Sent: sent}
	if c.opt.Observe != nil {
		c.opt.Observe(r)
	}
	if err != nil {
		return nil, cairn.Unavailable(cairn.KindNetwork, err, c.opt.Name+"'s answer was cut off")
	}
	return r, nil
}

// ClassifyStatus maps an HTTP status to the kind of error it is: 429 rate
// limit (with Retry-After), 5xx and 408 temporary, 401 authentication, 403
// permission, 404 not found, other 4xx invalid data.
func ClassifyStatus(name string, r *Response) error {
	msg := fmt.Sprintf("%s answered %d", name, r.Status)
	switch {
	case r.Status == http.StatusTooManyRequests:
		var after time.Duration
		if s, err := strconv.Atoi(r.Header.Get("Retry-After")); err == nil && s > 0 {
			after = time.Duration(s) * time.Second
		}
		return cairn.RateLimited(after, msg)
	case r.Status >= 500 || r.Status == http.StatusRequestTimeout:
		return cairn.Unavailable(cairn.KindTemporary, errors.New(string(snippet(r.Body))), msg)
	case r.Status == http.StatusUnauthorized:
		return cairn.Wrap(cairn.EUNAUTHENTICATED, errors.New(string(snippet(r.Body))), msg)
	case r.Status == http.StatusForbidden:
		return cairn.Wrap(cairn.EFORBIDDEN, errors.New(string(snippet(r.Body))), msg)
	case r.Status == http.StatusNotFound:
		return cairn.Wrap(cairn.ENOTFOUND, errors.New(string(snippet(r.Body))), msg)
	case r.Status == http.StatusConflict:
		return cairn.Wrap(cairn.ECONFLICT, errors.New(string(snippet(r.Body))), msg)
	}
	return cairn.Wrap(cairn.EUNPROCESSABLE, errors.New(string(snippet(r.Body))), msg)
}

func snippet(b []byte) []byte {
	if len(b) > 300 {
		return b[:300]
	}
	return b
}

// Malformed is the error for a 2xx answer whose body does not decode: a
// body cut off in transit, retried like a network failure.
func Malformed(name string, err error) error {
	return cairn.Unavailable(cairn.KindTemporary, err, name+" sent an answer that does not decode")
}
