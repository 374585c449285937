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
	"github.com/cairn-fit/cairn/sqldb"
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
// /webhooks/garmin/{summaryType}. The endpoints return their errors
// rather than answer them: wrap makes each an http.Handler that answers
// errors with the API's writer (rest.Server.Endpoint in cmd/cairn;
// rest imports syncer, so syncer cannot call it), so that codes map to
// statuses by the one table in rest/errors.go and bodies have its shape.
func (s *Service) Handler(wrap func(func(http.ResponseWriter, *http.Request) error) http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /oauth/callback/{provider}", wrap(s.callback))
	mux.Handle("GET /webhooks/strava", wrap(s.stravaValidate))
	mux.Handle("POST /webhooks/strava", wrap(s.stravaEvent))
	mux.Handle("POST /webhooks/garmin/{summaryType}", wrap(s.garminNotification))
	return mux
}

// Paths are the patterns Handler serves, for mounting it.
var Paths = []string{"GET /oauth/callback/{provider}", "GET /webhooks/strava", "POST /webhooks/strava",
	"POST /webhooks/garmin/{summaryType}"}

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

// HandleStravaEvent turns an event into work: a new activity into a sync
// session for it; an update into the changes it carries (title, type,
// privacy) applied to the stored activity; a deletion into a soft delete;
// an athlete's deauthorization into a revoked connection. Events of
// unknown athletes, of revoked connections (only active ones are found)
// and of activities cairn does not have are dropped.
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
		err = s.revoke(uctx, conn.UserID, cairn.ProviderStrava)
	case ev.ObjectType == "activity" && ev.AspectType == "create":
		sess := &cairn.SyncSession{UserID: conn.UserID, Provider: cairn.ProviderStrava, Type: cairn.SyncWebhook,
			Checkpoint: cairn.SyncCheckpoint{IDs: []string{strconv.FormatInt(ev.ObjectID, 10)}}}
		err = s.create(uctx, sess)
	case ev.ObjectType == "activity" && ev.AspectType == "update":
		err = s.updateFromStrava(uctx, conn.UserID, ev)
	case ev.ObjectType == "activity" && ev.AspectType == "delete":
		err = s.deleteFromStrava(uctx, conn.UserID, ev.ObjectID)
	}
	if cairn.ErrorCode(err) == cairn.ENOTFOUND {
		return nil // gone meanwhile, or never here
	}
	return err
}

// stravaPatch is what an update event's updates change: "title", "type"
// (Strava's sport name) and "private" ("true" or "false"; cairn has no
// visibility of its own, so it is kept in the metadata as Strava's).
func stravaPatch(a *cairn.Activity, updates map[string]string) (cairn.ActivityPatch, bool, error) {
	var p cairn.ActivityPatch
	changed := false
	if title, ok := updates["title"]; ok {
		p.Name, changed = &title, true
	}
	if sport, ok := updates["type"]; ok && sport != "" {
		t := cairn.MapSport("strava", sport, "")
		p.Type, changed = &t, true
	}
	if v, ok := updates["private"]; ok {
		private, err := strconv.ParseBool(v)
		if err != nil {
			return p, false, cairn.Invalid(map[string]string{"updates.private": "must be true or false"})
		}
		meta := map[string]any{}
		if len(a.Metadata) > 0 {
			if err := json.Unmarshal(a.Metadata, &meta); err != nil {
				return p, false, cairn.Wrap(cairn.EINTERNAL, err, "internal error")
			}
		}
		meta["private"] = private
		p.Metadata, _ = json.Marshal(meta) // decoded JSON: cannot fail
		changed = true
	}
	return p, changed, nil
}

// updateFromStrava applies an update event to the live activity that has
// the Strava activity among its sources, through the store's optimistic
// update with activity.updated in its transaction, as REST's PATCH does;
// a concurrent change makes it read again.
func (s *Service) updateFromStrava(ctx context.Context, userID string, ev strava.Event) error {
	for tries := 0; ; tries++ {
		a, err := s.stravaStored(ctx, userID, ev.ObjectID)
		if err != nil {
			return err
		}
		patch, changed, err := stravaPatch(a, ev.Updates)
		if err != nil || !changed {
			return err
		}
		seen := a.UpdatedAt
		if err := patch.Apply(a); err != nil {
			return err
		}
		err = s.cfg.DB.UpdateActivity(ctx, a, seen, cairn.EventActivityUpdated)
		if cairn.ErrorCode(err) != cairn.EPRECONDITION || tries == 3 {
			return err
		}
	}
}

// deleteFromStrava soft-deletes the activity that came from the Strava
// activity (activity.deleted in its transaction, as REST's DELETE). An
// activity that came from elsewhere (a file) and only has the Strava
// record linked as the same recording stays: it is not Strava's to
// remove.
func (s *Service) deleteFromStrava(ctx context.Context, userID string, id int64) error {
	a, err := s.stravaStored(ctx, userID, id)
	if err != nil {
		return err
	}
	if a.Provider != cairn.ProviderStrava || a.ExternalID != strconv.FormatInt(id, 10) {
		return nil
	}
	return s.cfg.DB.SoftDeleteActivity(ctx, a.ID, cairn.EventActivityDeleted)
}

// stravaStored finds the user's live activity with the Strava activity
// among its sources (activity_sources).
func (s *Service) stravaStored(ctx context.Context, userID string, id int64) (*cairn.Activity, error) {
	var a *cairn.Activity
	err := s.cfg.DB.InTx(ctx, func(tx *sqldb.Tx) (err error) {
		a, err = tx.FindActivityBySource(ctx, userID, cairn.ProviderStrava, strconv.FormatInt(id, 10))
		return err
	})
	return a, err
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
