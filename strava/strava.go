// Package strava is cairn's client of the Strava API v3
// (https://developers.strava.com/docs/reference/): OAuth (authorize URL,
// code exchange, refresh, deauthorization), the athlete's activities,
// their details and streams, and push subscriptions. Every call goes
// through a provider.Caller: the application's rate budget, shared by
// all users, in Strava's windows (15 minutes and the UTC day, overall and
// "read"), kept in step with the X-RateLimit-Usage headers; a circuit
// breaker; retries with backoff.
package strava

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/provider"
)

// Config is one Strava application.
type Config struct {
	APIURL       string // https://www.strava.com/api/v3
	OAuthURL     string // https://www.strava.com/oauth
	ClientID     string
	ClientSecret string
	// Limits are the application's limits (Strava's defaults when zero);
	// the headers of every answer correct them.
	Limits Limits
	// Caller tunes retries, timeouts and the breaker; Budget and Observe
	// are set by New.
	Caller provider.Options
	Clock  provider.Clock
	// MaxWait: a rate window further away than this is returned as a
	// RATE_LIMITED error with RetryAfter instead of waited for (0: wait).
	MaxWait time.Duration
	// Shared counts the rate windows for every process of a deployment
	// (the database); nil counts them in this process.
	Shared provider.Shared
}

// Limits are Strava's per-application limits: overall and read requests
// per 15 minutes and per day.
type Limits struct {
	Short, Daily         int
	ReadShort, ReadDaily int
}

// DefaultLimits are Strava's documented defaults.
var DefaultLimits = Limits{Short: 200, Daily: 2000, ReadShort: 100, ReadDaily: 1000}

// The budget's windows, in order.
const (
	winShort = iota
	winDaily
	winReadShort
	winReadDaily
)

// Client calls Strava for one application; it is safe for concurrent use
// by every user's sync.
type Client struct {
	cfg    Config
	caller *provider.Caller
	// oauth calls the token endpoints, which Strava's rate limits do not
	// count.
	oauth  *provider.Caller
	budget *provider.Budget
}

// New returns a client for the application.
func New(cfg Config) *Client {
	cfg.APIURL = strings.TrimRight(cfg.APIURL, "/")
	cfg.OAuthURL = strings.TrimRight(cfg.OAuthURL, "/")
	if cfg.Limits == (Limits{}) {
		cfg.Limits = DefaultLimits
	}
	l := cfg.Limits
	b := provider.NewBudget(cfg.Clock,
		provider.Window{Name: "15-minute", Length: 15 * time.Minute, Limit: l.Short},
		provider.Window{Name: "daily", Length: 24 * time.Hour, Limit: l.Daily},
		provider.Window{Name: "read 15-minute", Length: 15 * time.Minute, Limit: l.ReadShort},
		provider.Window{Name: "read daily", Length: 24 * time.Hour, Limit: l.ReadDaily},
	)
	b.MaxWait = cfg.MaxWait
	if cfg.Shared != nil {
		b.Share("strava:"+cfg.ClientID, cfg.Shared)
	}
	opt := cfg.Caller
	opt.Name, opt.Budget = "Strava", b
	opt.Observe = func(r *provider.Response) { observe(b, r.Header, r.Sent) }
	opt.Classify = classify
	oauth := cfg.Caller
	oauth.Name = "Strava"
	return &Client{cfg: cfg, caller: provider.NewCaller(opt), oauth: provider.NewCaller(oauth), budget: b}
}

// Budget is the application's rate budget.
func (c *Client) Budget() *provider.Budget { return c.budget }

// Caller is the client's caller, for its counters.
func (c *Client) Caller() *provider.Caller { return c.caller }

// observe reads X-RateLimit-Limit / -Usage ("15-minute,daily") and their
// X-ReadRateLimit- twins into the budget.
func observe(b *provider.Budget, h http.Header, sent time.Time) {
	pair := func(name string) (int, int, bool) {
		a, bb, ok := strings.Cut(h.Get(name), ",")
		x, err1 := strconv.Atoi(strings.TrimSpace(a))
		y, err2 := strconv.Atoi(strings.TrimSpace(bb))
		return x, y, ok && err1 == nil && err2 == nil
	}
	if u15, ud, ok := pair("X-RateLimit-Usage"); ok {
		l15, ld, _ := pair("X-RateLimit-Limit")
		b.Observe(winShort, u15, l15, sent)
		b.Observe(winDaily, ud, ld, sent)
	}
	if u15, ud, ok := pair("X-ReadRateLimit-Usage"); ok {
		l15, ld, _ := pair("X-ReadRateLimit-Limit")
		b.Observe(winReadShort, u15, l15, sent)
		b.Observe(winReadDaily, ud, ld, sent)
	}
}

// classify is provider.ClassifyStatus, except that a 429 is a rate limit
// only when Strava's usage headers say a window is full; otherwise it is
// a temporary refusal, retried with backoff rather than after a window.
func classify(name string, r *provider.Response) error {
	err := provider.ClassifyStatus(name, r)
	if r.Status != http.StatusTooManyRequests {
		return err
	}
	full := func(usage, limit string) bool {
		u, l := strings.Split(r.Header.Get(usage), ","), strings.Split(r.Header.Get(limit), ",")
		for i := range min(len(u), len(l)) {
			a, err1 := strconv.Atoi(strings.TrimSpace(u[i]))
			b, err2 := strconv.Atoi(strings.TrimSpace(l[i]))
			if err1 == nil && err2 == nil && b > 0 && a >= b {
				return true
			}
		}
		return false
	}
	if full("X-RateLimit-Usage", "X-RateLimit-Limit") || full("X-ReadRateLimit-Usage", "X-ReadRateLimit-Limit") {
		return cairn.RateLimited(0, "Strava's rate limit is used up")
	}
	return cairn.Unavailable(cairn.KindTemporary, err, "Strava refused the call for now")
}

// Token is an OAuth grant's tokens.
type Token struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	ExpiresAt    int64  `json:"expires_at"`
	Athlete      *struct {
		ID int64 `json:"id"`
	} `json:"athlete,omitempty"`
}

// Expiry is when the access token stops working.
func (t *Token) Expiry() time.Time { return time.Unix(t.ExpiresAt, 0).UTC() }

// Scope is what cairn asks of the athlete: every activity, private ones
// too.
const Scope = "read,activity:read_all"

// AuthorizeURL is the consent page that sends the athlete back to
// redirectURI with a code and state.
func (c *Client) AuthorizeURL(redirectURI, state string) string {
	q := url.Values{"client_id": {c.cfg.ClientID}, "redirect_uri": {redirectURI}, "response_type": {"code"},
		"approval_prompt": {"auto"}, "scope": {Scope}, "state": {state}}
	return c.cfg.OAuthURL + "/authorize?" + q.Encode()
}

// Exchange trades an authorization code for tokens.
func (c *Client) Exchange(ctx context.Context, code string) (*Token, error) {
	return c.token(ctx, url.Values{"grant_type": {"authorization_code"}, "code": {code}})
}

// Refresh trades a refresh token for current tokens.
func (c *Client) Refresh(ctx context.Context, refresh string) (*Token, error) {
	return c.token(ctx, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}})
}

func (c *Client) token(ctx context.Context, form url.Values) (*Token, error) {
	form.Set("client_id", c.cfg.ClientID)
	form.Set("client_secret", c.cfg.ClientSecret)
	var t Token
	err := c.oauth.Do(ctx, postForm(c.cfg.OAuthURL+"/token", form, ""), decodeJSON(&t))
	if err != nil {
		if cairn.ErrorCode(err) == cairn.EUNPROCESSABLE { // Strava answers 400 to a spent code or refresh token
			return nil, cairn.Wrap(cairn.EUNAUTHENTICATED, err, "Strava refused the grant")
		}
		return nil, err
	}
	if t.AccessToken == "" {
		return nil, provider.Malformed("Strava", fmt.Errorf("no access_token"))
	}
	return &t, nil
}

// Deauthorize revokes cairn's access to the athlete.
func (c *Client) Deauthorize(ctx context.Context, access string) error {
	return c.oauth.Do(ctx, postForm(c.cfg.OAuthURL+"/deauthorize", url.Values{"access_token": {access}}, access),
		func(*provider.Response) error { return nil })
}

// SummaryActivity is the part of Strava's SummaryActivity cairn reads.
type SummaryActivity struct {
	ID             int64     `json:"id"`
	Name           string    `json:"name"`
	SportType      string    `json:"sport_type"`
	Type           string    `json:"type"`
	StartDate      time.Time `json:"start_date"`
	Timezone       string    `json:"timezone"`
	ElapsedTime    int       `json:"elapsed_time"`
	MovingTime     int       `json:"moving_time"`
	Distance       float64   `json:"distance"`
	StartLatLng    []float64 `json:"start_latlng"`
	Trainer        bool      `json:"trainer"`
	Manual         bool      `json:"manual"`
	LocationCity   *string   `json:"location_city"`
	LocationState  *string   `json:"location_state"`
	LocationCountr string    `json:"location_country"`
}

// End is when the activity stopped.
func (a *SummaryActivity) End() time.Time {
	return a.StartDate.Add(time.Duration(a.ElapsedTime) * time.Second)
}

// ListQuery selects a page of the athlete's activities: After (strict)
// lists oldest first from there.
type ListQuery struct {
	After   *time.Time
	Before  *time.Time
	Page    int
	PerPage int
}

// ListActivities lists a page of the athlete's activities.
func (c *Client) ListActivities(ctx context.Context, access string, q ListQuery) ([]SummaryActivity, error) {
	v := url.Values{}
	if q.After != nil {
		v.Set("after", strconv.FormatInt(q.After.Unix(), 10))
	}
	if q.Before != nil {
		v.Set("before", strconv.FormatInt(q.Before.Unix(), 10))
	}
	v.Set("page", strconv.Itoa(max(q.Page, 1)))
	v.Set("per_page", strconv.Itoa(max(q.PerPage, 1)))
	var out []SummaryActivity
	err := c.caller.Do(ctx, get(c.cfg.APIURL+"/athlete/activities?"+v.Encode(), access), decodeJSON(&out))
	return out, err
}

// DetailedActivity is the part of Strava's DetailedActivity cairn keeps.
type DetailedActivity struct {
	SummaryActivity
	Description        string   `json:"description"`
	Calories           float64  `json:"calories"`
	DeviceName         string   `json:"device_name"`
	TotalElevationGain float64  `json:"total_elevation_gain"`
	AverageSpeed       float64  `json:"average_speed"`
	MaxSpeed           float64  `json:"max_speed"`
	AverageHeartrate   *float64 `json:"average_heartrate"`
	MaxHeartrate       *float64 `json:"max_heartrate"`
	AverageWatts       *float64 `json:"average_watts"`
	DeviceWatts        *bool    `json:"device_watts"`
	AverageCadence     *float64 `json:"average_cadence"`
	Private            bool     `json:"private"`
	Commute            bool     `json:"commute"`
	Laps               []Lap    `json:"laps"`
}

// Lap is one of Strava's laps.
type Lap struct {
	StartDate        time.Time `json:"start_date"`
	ElapsedTime      int       `json:"elapsed_time"`
	MovingTime       int       `json:"moving_time"`
	Distance         float64   `json:"distance"`
	AverageHeartrate *float64  `json:"average_heartrate"`
	MaxHeartrate     *float64  `json:"max_heartrate"`
}

// Activity returns an activity's details; the raw JSON too, for staging.
func (c *Client) Activity(ctx context.Context, access string, id int64) (*DetailedActivity, []byte, error) {
	var a DetailedActivity
	var raw []byte
	err := c.caller.Do(ctx, get(fmt.Sprintf("%s/activities/%d?include_all_efforts=false", c.cfg.APIURL, id), access),
		func(r *provider.Response) error {
			raw = r.Body
			return decodeJSON(&a)(r)
		})
	if err != nil {
		return nil, nil, err
	}
	return &a, raw, nil
}

// StreamKeys are the streams cairn asks for.
const StreamKeys = "time,latlng,distance,altitude,velocity_smooth,heartrate,cadence,watts,temp,moving"

// Streams are an activity's streams keyed by type.
type Streams struct {
	Time     *IntStream    `json:"time"`
	LatLng   *LatLngStream `json:"latlng"`
	Distance *FloatStream  `json:"distance"`
	Altitude *FloatStream  `json:"altitude"`
	Velocity *FloatStream  `json:"velocity_smooth"`
	HR       *FloatStream  `json:"heartrate"`
	Cadence  *FloatStream  `json:"cadence"`
	Watts    *FloatStream  `json:"watts"`
	Temp     *FloatStream  `json:"temp"`
	Moving   *BoolStream   `json:"moving"`
}

type IntStream struct {
	Data []int64 `json:"data"`
}
type FloatStream struct {
	Data []float64 `json:"data"`
}
type LatLngStream struct {
	Data [][2]float64 `json:"data"`
}
type BoolStream struct {
	Data []bool `json:"data"`
}

// ActivityStreams returns an activity's streams as Strava sent them
// (keyed by type), checked to be whole JSON: they are staged as they are
// and decoded (DecodeStreams) when stored.
func (c *Client) ActivityStreams(ctx context.Context, access string, id int64) ([]byte, error) {
	var raw []byte
	u := fmt.Sprintf("%s/activities/%d/streams?keys=%s&key_by_type=true&series_type=time", c.cfg.APIURL, id, StreamKeys)
	err := c.caller.Do(ctx, get(u, access), func(r *provider.Response) error {
		if !json.Valid(r.Body) {
			return provider.Malformed("Strava", errors.New("the streams are not whole JSON"))
		}
		raw = r.Body
		return nil
	})
	return raw, err
}

// DecodeStreams reads streams staged by ActivityStreams.
func DecodeStreams(raw []byte) (*Streams, error) {
	var s Streams
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, cairn.Wrap(cairn.EINVALIDFILE, err, "the staged Strava streams do not decode")
	}
	return &s, nil
}

// DecodeActivity reads an activity staged by Activity.
func DecodeActivity(raw []byte) (*DetailedActivity, error) {
	var a DetailedActivity
	if err := json.Unmarshal(raw, &a); err != nil {
		return nil, cairn.Wrap(cairn.EINVALIDFILE, err, "the staged Strava activity does not decode")
	}
	return &a, nil
}

// Subscription is an application's push subscription.
type Subscription struct {
	ID          int64  `json:"id"`
	CallbackURL string `json:"callback_url"`
}

// Subscriptions lists the application's push subscriptions.
func (c *Client) Subscriptions(ctx context.Context) ([]Subscription, error) {
	v := url.Values{"client_id": {c.cfg.ClientID}, "client_secret": {c.cfg.ClientSecret}}
	var out []Subscription
	err := c.caller.Do(ctx, get(c.cfg.APIURL+"/push_subscriptions?"+v.Encode(), ""), decodeJSON(&out))
	return out, err
}

// Subscribe creates the application's push subscription; Strava
// validates callbackURL with a GET that must echo hub.challenge.
func (c *Client) Subscribe(ctx context.Context, callbackURL, verifyToken string) (int64, error) {
	form := url.Values{"client_id": {c.cfg.ClientID}, "client_secret": {c.cfg.ClientSecret},
		"callback_url": {callbackURL}, "verify_token": {verifyToken}}
	var out struct {
		ID int64 `json:"id"`
	}
	err := c.caller.Do(ctx, postForm(c.cfg.APIURL+"/push_subscriptions", form, ""), decodeJSON(&out))
	return out.ID, err
}

// Event is a push subscription's event.
type Event struct {
	ObjectType     string            `json:"object_type"`
	ObjectID       int64             `json:"object_id"`
	AspectType     string            `json:"aspect_type"`
	Updates        map[string]string `json:"updates"`
	OwnerID        int64             `json:"owner_id"`
	SubscriptionID int64             `json:"subscription_id"`
	EventTime      int64             `json:"event_time"`
}

func get(u, access string) func(context.Context) (*http.Request, error) {
	return func(ctx context.Context) (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err == nil && access != "" {
			req.Header.Set("Authorization", "Bearer "+access)
		}
		return req, err
	}
}

func postForm(u string, form url.Values, access string) func(context.Context) (*http.Request, error) {
	body := form.Encode()
	return func(ctx context.Context) (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, io.NopCloser(bytes.NewReader([]byte(body))))
		if err != nil {
			return nil, err
		}
		req.ContentLength = int64(len(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if access != "" {
			req.Header.Set("Authorization", "Bearer "+access)
		}
		return req, nil
	}
}

func decodeJSON(v any) func(*provider.Response) error {
	return func(r *provider.Response) error {
		if err := json.Unmarshal(r.Body, v); err != nil {
			return provider.Malformed("Strava", err)
		}
		return nil
	}
}
