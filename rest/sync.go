package rest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/rest/api"
)

// sync returns the sync service, or UNAVAILABLE on a server without one.
func (s *Server) sync() (cairn.SyncService, error) {
	if s.Sync == nil {
		return nil, cairn.Errorf(cairn.EUNAVAILABLE, "syncing with providers is not available on this server")
	}
	return s.Sync, nil
}

func (s *Server) StartSync(ctx context.Context, req api.StartSyncRequestObject) (api.StartSyncResponseObject, error) {
	svc, err := s.sync()
	if err != nil {
		return nil, err
	}
	r := cairn.SyncRequest{UserID: req.UserId}
	if b := req.Body; b != nil {
		r.Start, r.End = b.Start, b.End
		for _, p := range deref(b.Providers) {
			r.Providers = append(r.Providers, string(p))
		}
	}
	sessions, err := svc.StartSync(ctx, r)
	if err != nil {
		return nil, err
	}
	out := api.StartSync202JSONResponse{Data: []api.SyncSession{}}
	for _, ss := range sessions {
		out.Data = append(out.Data, syncOut(ss))
	}
	return out, nil
}

func (s *Server) GetSyncSession(ctx context.Context, req api.GetSyncSessionRequestObject) (api.GetSyncSessionResponseObject, error) {
	svc, err := s.sync()
	if err != nil {
		return nil, err
	}
	ss, err := svc.FindSyncSession(ctx, req.SessionId)
	if err != nil {
		return nil, err
	}
	return api.GetSyncSession200JSONResponse(syncOut(ss)), nil
}

func (s *Server) ListSyncSessions(ctx context.Context, req api.ListSyncSessionsRequestObject) (api.ListSyncSessionsResponseObject, error) {
	svc, err := s.sync()
	if err != nil {
		return nil, err
	}
	page, err := pageRequest(req.Params.Cursor, req.Params.Limit)
	if err != nil {
		return nil, err
	}
	list, err := svc.ListSyncSessions(ctx, req.UserId, page)
	if err != nil {
		return nil, err
	}
	return api.ListSyncSessions200JSONResponse{Data: mapSlice(list.Data, syncOut), NextCursor: list.NextCursor,
		PrevCursor: list.PrevCursor, Total: list.Total}, nil
}

// StreamSyncSession answers the session once, as one event: the
// streaming handler (syncEvents, mounted in front of the generated
// routes) serves the route itself; this is what a client gets through
// the generated routes alone.
func (s *Server) StreamSyncSession(ctx context.Context, req api.StreamSyncSessionRequestObject) (api.StreamSyncSessionResponseObject, error) {
	svc, err := s.sync()
	if err != nil {
		return nil, err
	}
	ss, err := svc.FindSyncSession(ctx, req.SessionId)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := writeEvent(&buf, ss); err != nil {
		return nil, err
	}
	return api.StreamSyncSession200TexteventStreamResponse{Body: &buf, ContentLength: int64(buf.Len())}, nil
}

func writeEvent(w interface{ Write([]byte) (int, error) }, ss *cairn.SyncSession) error {
	b, err := json.Marshal(syncOut(ss))
	if err != nil {
		return cairn.Wrap(cairn.EINTERNAL, err, "internal error")
	}
	_, err = fmt.Fprintf(w, "id: %s\nevent: session\ndata: %s\n\n", ss.UpdatedAt.UTC().Format(time.RFC3339Nano), b)
	return err
}

// SSEPoll is how often the event stream looks at the session.
const SSEPoll = 250 * time.Millisecond

// syncEvents streams a session as Server-Sent Events: the session now and
// whenever it changes (the session's row is the source, so a stream
// follows a session whichever process runs it), a comment every 15 s to
// keep proxies from closing the connection, and the end once the
// session completes or fails for good.
func (s *Server) syncEvents() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		svc, err := s.sync()
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		a, err := s.authenticate(r.Context(), r)
		if err == nil && !a.Has(cairn.ScopeActivityRead) {
			err = cairn.Errorf(cairn.EFORBIDDEN, "the token lacks the scope this operation needs: activity:read")
		}
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		ctx := cairn.WithActor(r.Context(), a)
		ss, err := svc.FindSyncSession(ctx, r.PathValue("sessionId"))
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		// Through the middlewares' wrappers (their Unwrap) to the
		// connection's Flush.
		flusher := http.NewResponseController(w)
		h := w.Header()
		h.Set("Content-Type", "text/event-stream")
		h.Set("Cache-Control", "no-cache")
		h.Set("X-Accel-Buffering", "no")
		w.WriteHeader(http.StatusOK)
		poll := time.NewTicker(SSEPoll)
		defer poll.Stop()
		keepAlive := time.NewTicker(15 * time.Second)
		defer keepAlive.Stop()
		var last time.Time
		for {
			if !ss.UpdatedAt.Equal(last) {
				if writeEvent(w, ss) != nil {
					return
				}
				last = ss.UpdatedAt
			}
			if flusher.Flush() != nil {
				return
			}
			if finished(ss) {
				return
			}
			select {
			case <-ctx.Done():
				return
			case <-keepAlive.C:
				if _, err := fmt.Fprint(w, ": keep-alive\n\n"); err != nil {
					return
				}
			case <-poll.C:
				if ss, err = svc.FindSyncSession(ctx, ss.ID); err != nil {
					return
				}
			}
		}
	})
}

// finished tells a session that will not change any more on its own.
func finished(ss *cairn.SyncSession) bool {
	if ss.Status == cairn.SyncCompleted {
		return true
	}
	if ss.Status != cairn.SyncFailed || len(ss.Errors) == 0 {
		return false
	}
	return !ss.Errors[len(ss.Errors)-1].Retryable
}

func syncOut(ss *cairn.SyncSession) api.SyncSession {
	c, cp := ss.Counters, ss.Checkpoint
	out := api.SyncSession{Id: ss.ID, UserId: ss.UserID, Provider: api.SyncSessionProvider(ss.Provider),
		Type: api.SyncSessionType(ss.Type), Status: api.SyncStatus(ss.Status), Phase: api.SyncStatus(ss.Phase),
		RangeStart: ss.RangeStart, RangeEnd: ss.RangeEnd,
		Counters: api.SyncCounters{Estimated: c.Estimated, Fetched: c.Fetched, Enriched: c.Enriched, Stored: c.Stored,
			Failed: c.Failed},
		Checkpoint: api.SyncCheckpoint{Page: cp.Page, After: cp.After, ListDone: cp.ListDone, WaitUntil: cp.WaitUntil},
		Errors:     []api.SyncError{}, Retries: ss.Retries, StartedAt: ss.StartedAt, FinishedAt: ss.FinishedAt,
		CreatedAt: ss.CreatedAt, UpdatedAt: ss.UpdatedAt}
	for _, e := range ss.Errors {
		out.Errors = append(out.Errors, api.SyncError{Kind: api.SyncErrorKind(e.Kind), Code: e.Code, Message: e.Message,
			Phase: api.SyncStatus(e.Phase), Retryable: e.Retryable, At: e.At})
	}
	return out
}

func (s *Server) GetActivityEnrichment(ctx context.Context, req api.GetActivityEnrichmentRequestObject) (api.GetActivityEnrichmentResponseObject, error) {
	svc, err := s.sync()
	if err != nil {
		return nil, err
	}
	e, err := svc.FindEnrichment(ctx, req.ActivityId)
	if err != nil {
		return nil, err
	}
	out := api.GetActivityEnrichment200JSONResponse{ActivityId: e.ActivityID, UpdatedAt: e.UpdatedAt,
		Status: map[string]api.EnrichmentStatus{}}
	for k, v := range e.Status {
		out.Status[k] = api.EnrichmentStatus(v)
	}
	if w := e.Weather; w != nil {
		out.Weather = &api.Weather{ObservedAt: w.ObservedAt, TemperatureC: w.TemperatureC, FeelsLikeC: w.FeelsLikeC,
			HumidityPct: w.HumidityPct, PressureHpa: w.PressureHPa, WindSpeedMs: w.WindSpeedMS,
			WindDirectionDeg: w.WindDirection, Conditions: w.Conditions, WeatherCode: w.WeatherCode, UvIndex: w.UVIndex}
	}
	if p := e.Place; p != nil {
		out.Place = &api.Place{City: p.City, State: p.State, Country: p.Country}
	}
	return out, nil
}
