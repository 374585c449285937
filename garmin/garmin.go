// Package garmin is cairn's client of Garmin's Health and Activity APIs
// (OAuth 2.0 with PKCE, user id and permissions, pulls of summaries,
// backfill requests, activity files, deregistration) and of the Training
// API (workouts), as Garmin's Connect Developer Program documents them.
// Every call goes through a provider.Caller (circuit breaker, backoff).
package garmin

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/provider"
)

// Config is cairn's Garmin application.
type Config struct {
	// APIURL serves /wellness-api/… and /training-api/…
	// (https://apis.garmin.com).
	APIURL string
	// OAuthURL serves /oauth2Confirm (https://connect.garmin.com) and
	// TokenURL /di-oauth2-service/oauth/token
	// (https://diauth.garmin.com); both default to APIURL.
	OAuthURL, TokenURL string
	ClientID           string
	ClientSecret       string
	Caller             provider.Options
}

// Client calls Garmin for one application.
type Client struct {
	cfg    Config
	caller *provider.Caller
}

// New returns a client.
func New(cfg Config) *Client {
	cfg.APIURL = strings.TrimRight(cfg.APIURL, "/")
	if cfg.OAuthURL == "" {
		cfg.OAuthURL = cfg.APIURL
	}
	if cfg.TokenURL == "" {
		cfg.TokenURL = cfg.APIURL
	}
	cfg.OAuthURL, cfg.TokenURL = strings.TrimRight(cfg.OAuthURL, "/"), strings.TrimRight(cfg.TokenURL, "/")
	opt := cfg.Caller
	opt.Name = "Garmin"
	return &Client{cfg: cfg, caller: provider.NewCaller(opt)}
}

// ClientID is the application's consumer key (pushes carry it).
func (c *Client) ClientID() string { return c.cfg.ClientID }

// Caller is the client's caller, for its counters.
func (c *Client) Caller() *provider.Caller { return c.caller }

// AuthorizeURL is the consent page, with the PKCE challenge of verifier.
func (c *Client) AuthorizeURL(redirectURI, state, verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{"client_id": {c.cfg.ClientID}, "response_type": {"code"}, "redirect_uri": {redirectURI},
		"state": {state}, "code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])},
		"code_challenge_method": {"S256"}}
	return c.cfg.OAuthURL + "/oauth2Confirm?" + q.Encode()
}

// Token is an OAuth 2.0 token answer.
type Token struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	ExpiresIn    int64  `json:"expires_in"`
	Scope        string `json:"scope"`
}

// Expiry is when the access token expires, counted from now.
func (t *Token) Expiry(now time.Time) time.Time {
	return now.Add(time.Duration(t.ExpiresIn) * time.Second).UTC()
}

// Exchange trades a code (with its PKCE verifier) for tokens.
func (c *Client) Exchange(ctx context.Context, code, redirectURI, verifier string) (*Token, error) {
	return c.token(ctx, url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {redirectURI}, "code_verifier": {verifier}})
}

// Refresh trades a refresh token for new tokens (Garmin rotates both).
func (c *Client) Refresh(ctx context.Context, refresh string) (*Token, error) {
	return c.token(ctx, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}})
}

func (c *Client) token(ctx context.Context, form url.Values) (*Token, error) {
	form.Set("client_id", c.cfg.ClientID)
	form.Set("client_secret", c.cfg.ClientSecret)
	var t Token
	err := c.caller.Do(ctx, request(http.MethodPost, c.cfg.TokenURL+"/di-oauth2-service/oauth/token", "",
		"application/x-www-form-urlencoded", []byte(form.Encode())), decode(&t))
	if err != nil {
		if code := cairn.ErrorCode(err); code == cairn.EUNPROCESSABLE || code == cairn.EUNAUTHENTICATED {
			return nil, cairn.Wrap(cairn.EUNAUTHENTICATED, err, "Garmin refused the grant")
		}
		return nil, err
	}
	if t.AccessToken == "" {
		return nil, provider.Malformed("Garmin", fmt.Errorf("no access_token"))
	}
	return &t, nil
}

// UserID returns the Garmin user id of the token's user.
func (c *Client) UserID(ctx context.Context, access string) (string, error) {
	var out struct {
		UserID string `json:"userId"`
	}
	err := c.caller.Do(ctx, request(http.MethodGet, c.cfg.APIURL+"/wellness-api/rest/user/id", access, "", nil), decode(&out))
	return out.UserID, err
}

// Deregister ends the user's connection to cairn's application.
func (c *Client) Deregister(ctx context.Context, access string) error {
	return c.caller.Do(ctx, request(http.MethodDelete, c.cfg.APIURL+"/wellness-api/rest/user/registration", access, "", nil),
		func(*provider.Response) error { return nil })
}

// Pull fetches the summaries of a type uploaded in [from, to) (at most a
// day), as a ping's callbackURL asks.
func (c *Client) Pull(ctx context.Context, access, typ string, from, to time.Time) ([]json.RawMessage, error) {
	q := url.Values{"uploadStartTimeInSeconds": {strconv.FormatInt(from.Unix(), 10)},
		"uploadEndTimeInSeconds": {strconv.FormatInt(to.Unix(), 10)}}
	return c.PullURL(ctx, access, c.cfg.APIURL+"/wellness-api/rest/"+url.PathEscape(typ)+"?"+q.Encode())
}

// PullURL fetches a ping's callbackURL. Only URLs under the API's base
// are followed: a forged ping cannot make cairn send its token elsewhere.
func (c *Client) PullURL(ctx context.Context, access, u string) ([]json.RawMessage, error) {
	if !c.ours(u) {
		return nil, cairn.Invalid(map[string]string{"callbackURL": "is not a Garmin API URL"})
	}
	var out []json.RawMessage
	err := c.caller.Do(ctx, request(http.MethodGet, u, access, "", nil), decode(&out))
	return out, err
}

func (c *Client) ours(u string) bool {
	return strings.HasPrefix(u, c.cfg.APIURL+"/wellness-api/rest/")
}

// Backfill asks Garmin to send the type's summaries of [from, to) (at
// most 30 days for activities, 90 for the rest) through the usual push
// or ping. A window asked for before answers 409: ErrAlreadyRequested.
func (c *Client) Backfill(ctx context.Context, access, typ string, from, to time.Time) error {
	q := url.Values{"summaryStartTimeInSeconds": {strconv.FormatInt(from.Unix(), 10)},
		"summaryEndTimeInSeconds": {strconv.FormatInt(to.Unix(), 10)}}
	err := c.caller.Do(ctx, request(http.MethodGet, c.cfg.APIURL+"/wellness-api/rest/backfill/"+url.PathEscape(typ)+"?"+q.Encode(),
		access, "", nil), func(*provider.Response) error { return nil })
	if cairn.ErrorCode(err) == cairn.ECONFLICT {
		return ErrAlreadyRequested
	}
	return err
}

// ErrAlreadyRequested is Garmin's 409 to a backfill window asked for
// before: its data comes (or came) through the first request.
var ErrAlreadyRequested = &cairn.Error{Code: cairn.EQUOTAEXCEEDED, Message: "Garmin already received this backfill request"}

// ActivityFile downloads an activity file notice's callbackURL (a FIT
// file).
func (c *Client) ActivityFile(ctx context.Context, access, u string) ([]byte, error) {
	if !c.ours(u) {
		return nil, cairn.Invalid(map[string]string{"callbackURL": "is not a Garmin API URL"})
	}
	var out []byte
	err := c.caller.Do(ctx, request(http.MethodGet, u, access, "", nil), func(r *provider.Response) error {
		out = r.Body
		return nil
	})
	return out, err
}

// Workout is the Training API's workout.
type Workout struct {
	WorkoutID   int64         `json:"workoutId,omitempty"`
	WorkoutName string        `json:"workoutName"`
	Description string        `json:"description,omitempty"`
	Sport       string        `json:"sport"`
	Steps       []WorkoutStep `json:"steps"`
}

// WorkoutStep is one step of a workout.
type WorkoutStep struct {
	Type            string   `json:"type"` // WorkoutStep
	StepOrder       int      `json:"stepOrder"`
	Intensity       string   `json:"intensity"` // WARMUP, ACTIVE, INTERVAL, RECOVERY, REST, COOLDOWN
	Description     string   `json:"description,omitempty"`
	DurationType    string   `json:"durationType"` // TIME, DISTANCE, OPEN
	DurationValue   *float64 `json:"durationValue,omitempty"`
	TargetType      string   `json:"targetType,omitempty"` // HEART_RATE, POWER, SPEED, OPEN
	TargetValueLow  *float64 `json:"targetValueLow,omitempty"`
	TargetValueHigh *float64 `json:"targetValueHigh,omitempty"`
}

// CreateWorkout uploads a workout and returns it with its workoutId.
func (c *Client) CreateWorkout(ctx context.Context, access string, w *Workout) (*Workout, error) {
	body, err := json.Marshal(w)
	if err != nil {
		return nil, cairn.Wrap(cairn.EINTERNAL, err, "internal error")
	}
	var out Workout
	err = c.caller.Do(ctx, request(http.MethodPost, c.cfg.APIURL+"/training-api/workout", access, "application/json", body), decode(&out))
	if err != nil {
		return nil, err
	}
	return &out, nil
}

func request(method, u, access, contentType string, body []byte) func(context.Context) (*http.Request, error) {
	return func(ctx context.Context) (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		if access != "" {
			req.Header.Set("Authorization", "Bearer "+access)
		}
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		return req, nil
	}
}

func decode(v any) func(*provider.Response) error {
	return func(r *provider.Response) error {
		if err := json.Unmarshal(r.Body, v); err != nil {
			return provider.Malformed("Garmin", err)
		}
		return nil
	}
}
