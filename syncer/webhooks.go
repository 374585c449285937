package syncer

import (
	"context"
	"encoding/json"
	"errors"
	"html/template"
	"io"
	"net/http"
	"strconv"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/strava"
	"github.com/riverqueue/river"
)

// Provider-facing HTTP: the OAuth callback and the providers' webhooks.
// Webhooks answer at once (Strava waits 2 s at most) and leave the work to
// jobs.

// maxWebhookBody bounds a webhook's body (Garmin pushes carry up to
// hundreds of summaries).
const maxWebhookBody = 32 << 20

// Handler serves /oauth/callback/{provider}, /webhooks/strava and
// /webhooks/garmin/{summaryType}.
func (s *Service) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /oauth/callback/{provider}", s.handle(s.callback))
	mux.Handle("GET /webhooks/strava", s.handle(s.stravaValidate))
	mux.Handle("POST /webhooks/strava", s.handle(s.stravaEvent))
	mux.Handle("POST /webhooks/garmin/{summaryType}", s.handle(s.garminNotification))
	return mux
}

// Paths are the patterns Handler serves, for mounting it.
var Paths = []string{"GET /oauth/callback/{provider}", "GET /webhooks/strava", "POST /webhooks/strava",
	"POST /webhooks/garmin/{summaryType}"}

// handle turns a handler that returns an error into an http.Handler
// answering the error as JSON.
func (s *Service) handle(fn func(http.ResponseWriter, *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := fn(w, r); err != nil {
			status := http.StatusInternalServerError
			switch cairn.ErrorCode(err) {
			case cairn.EVALIDATION, cairn.EINVALIDFILE:
				status = http.StatusBadRequest
			case cairn.EUNAUTHENTICATED:
				status = http.StatusUnauthorized
			case cairn.EFORBIDDEN:
				status = http.StatusForbidden
			case cairn.ENOTFOUND:
				status = http.StatusNotFound
			case cairn.EUNAVAILABLE, cairn.ERATELIMITED:
				status = http.StatusServiceUnavailable
			}
			if status >= 500 {
				s.log.ErrorContext(r.Context(), "provider endpoint", "path", r.URL.Path, "err", err)
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{
				"code": cairn.ErrorCode(err), "message": cairn.ErrorMessage(err)}})
		}
	})
}

var connectedPage = template.Must(template.New("connected").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>cairn</title></head>
<body><p>{{.Provider}} is connected to cairn{{if .External}} (account {{.External}}){{end}}. You can close this page.</p></body></html>
`))

// callback is where the provider sends the user after consent.
func (s *Service) callback(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	if e := q.Get("error"); e != "" {
		return cairn.Errorf(cairn.EFORBIDDEN, "the provider did not grant access: %s", e)
	}
	c, err := s.Callback(r.Context(), r.PathValue("provider"), q.Get("code"), q.Get("state"))
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	return connectedPage.Execute(w, map[string]string{"Provider": c.Provider, "External": c.ExternalUserID})
}

// stravaValidate answers Strava's subscription validation: echo
// hub.challenge when hub.verify_token is ours.
func (s *Service) stravaValidate(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	if q.Get("hub.mode") != "subscribe" || s.cfg.StravaVerifyToken == "" || q.Get("hub.verify_token") != s.cfg.StravaVerifyToken {
		return cairn.Errorf(cairn.EFORBIDDEN, "unknown verify token")
	}
	w.Header().Set("Content-Type", "application/json")
	return json.NewEncoder(w).Encode(map[string]string{"hub.challenge": q.Get("hub.challenge")})
}

// stravaEvent queues a Strava event's job and answers 200.
func (s *Service) stravaEvent(w http.ResponseWriter, r *http.Request) error {
	var ev strava.Event
	if err := json.NewDecoder(io.LimitReader(r.Body, maxWebhookBody)).Decode(&ev); err != nil {
		return cairn.Invalid(map[string]string{"body": "is not a Strava event"})
	}
	if s.cfg.Queue == nil {
		return cairn.Errorf(cairn.EUNAVAILABLE, "no job queue")
	}
	if err := s.cfg.Queue.Insert(r.Context(), StravaEventArgs{Event: ev}, nil); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

// StravaEventArgs is the job of one Strava event.
type StravaEventArgs struct {
	Event strava.Event `json:"event"`
}

func (StravaEventArgs) Kind() string { return "strava_event" }

// StravaEventWorker handles Strava events.
type StravaEventWorker struct {
	river.WorkerDefaults[StravaEventArgs]
	Sync *Service
}

func (w *StravaEventWorker) Work(ctx context.Context, job *river.Job[StravaEventArgs]) error {
	return w.Sync.HandleStravaEvent(ctx, job.Args.Event)
}

// HandleStravaEvent turns an event into work: a new or changed activity
// into a sync session for it; an athlete's deauthorization into a
// revoked connection. Events of unknown athletes are dropped.
func (s *Service) HandleStravaEvent(ctx context.Context, ev strava.Event) error {
	conn, err := s.cfg.DB.FindConnectionByExternal(cairn.SystemContext(ctx), cairn.ProviderStrava, strconv.FormatInt(ev.OwnerID, 10))
	if cairn.ErrorCode(err) == cairn.ENOTFOUND {
		return nil
	} else if err != nil {
		return err
	}
	uctx := userContext(ctx, conn.UserID)
	switch {
	case ev.ObjectType == "athlete" && ev.Updates["authorized"] == "false":
		err := s.revoke(uctx, conn.UserID, cairn.ProviderStrava)
		if cairn.ErrorCode(err) == cairn.ENOTFOUND {
			return nil
		}
		return err
	case ev.ObjectType == "activity" && (ev.AspectType == "create" || ev.AspectType == "update"):
		sess := &cairn.SyncSession{UserID: conn.UserID, Provider: cairn.ProviderStrava, Type: cairn.SyncWebhook,
			Checkpoint: cairn.SyncCheckpoint{IDs: []string{strconv.FormatInt(ev.ObjectID, 10)}}}
		return s.create(uctx, sess)
	}
	return nil
}

// garminNotification queues a Garmin push or ping and answers 200. Garmin
// does not sign its notifications; they carry the application's client
// id, which must be ours, and pings are only followed to Garmin's own API.
func (s *Service) garminNotification(w http.ResponseWriter, r *http.Request) error {
	if s.cfg.Garmin == nil {
		return cairn.Errorf(cairn.EUNAVAILABLE, "Garmin is not configured on this server")
	}
	if id := r.Header.Get("Garmin-Client-Id"); id != "" && id != s.cfg.Garmin.ClientID() {
		return cairn.Errorf(cairn.EFORBIDDEN, "the notification is for another application")
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxWebhookBody+1))
	if err != nil {
		return cairn.Invalid(map[string]string{"body": "could not be read"})
	}
	if len(body) > maxWebhookBody {
		return cairn.Errorf(cairn.ETOOLARGE, "the notification is too large")
	}
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(body, &probe); err != nil {
		return cairn.Invalid(map[string]string{"body": "is not a Garmin notification"})
	}
	if s.cfg.Queue == nil {
		return cairn.Errorf(cairn.EUNAVAILABLE, "no job queue")
	}
	if err := s.cfg.Queue.Insert(r.Context(), GarminArgs{Type: r.PathValue("summaryType"), Body: body}, nil); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

// GarminArgs is the job of one Garmin notification (push or ping).
type GarminArgs struct {
	Type string          `json:"type"`
	Body json.RawMessage `json:"body"`
}

func (GarminArgs) Kind() string { return "garmin_notification" }

// GarminWorker handles Garmin notifications.
type GarminWorker struct {
	river.WorkerDefaults[GarminArgs]
	Sync *Service
}

func (w *GarminWorker) Work(ctx context.Context, job *river.Job[GarminArgs]) error {
	_, err := w.Sync.HandleGarmin(ctx, job.Args.Type, job.Args.Body)
	return err
}

// errSkip marks an entry not worth retrying (an unknown user).
var errSkip = errors.New("skip")

// SubscribeStrava makes sure the application has a push subscription
// (Strava allows one): created to callbackURL when there is none. Strava
// validates the callback with the verify token before it answers.
func (s *Service) SubscribeStrava(ctx context.Context, callbackURL string) error {
	if s.cfg.Strava == nil || s.cfg.StravaVerifyToken == "" {
		return nil
	}
	subs, err := s.cfg.Strava.Subscriptions(ctx)
	if err != nil || len(subs) > 0 {
		return err
	}
	_, err = s.cfg.Strava.Subscribe(ctx, callbackURL, s.cfg.StravaVerifyToken)
	return err
}
