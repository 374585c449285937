package rest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/rest/api"
)

func (s *Server) ListActivities(ctx context.Context, req api.ListActivitiesRequestObject) (api.ListActivitiesResponseObject, error) {
	p := req.Params
	page, err := pageRequest(p.Cursor, p.Limit)
	for _, e := range []error{enum("type", p.Type), enum("source", p.Source), err} {
		if e != nil {
			return nil, e
		}
	}
	if p.StartDate != nil && p.EndDate != nil && !p.EndDate.After(*p.StartDate) {
		return nil, cairn.Invalid(map[string]string{"end_date": "must be after start_date"})
	}
	f := cairn.ActivityFilter{UserID: req.UserId, Start: p.StartDate, End: p.EndDate,
		Type: cairn.ActivityType(deref(p.Type)), DeviceID: deref(p.DeviceId), Source: string(deref(p.Source)),
		IncludeDeleted: deref(p.IncludeDeleted), Page: page}
	// The hottest read of the API: a page is encoded once per version of
	// the user's activities. Reading the version also checks tenancy.
	version, err := s.Activities.ActivitiesVersion(ctx, f.UserID)
	if err != nil {
		return nil, err
	}
	key := pageKey(version, f)
	if body, ok := s.pages.get(key); ok {
		return rawResponse{"application/json", body}, nil
	}
	list, err := s.Activities.ListActivities(ctx, f)
	if err != nil {
		return nil, err
	}
	body, err := encodeJSON(api.ListActivities200JSONResponse{Data: mapSlice(list.Data, activityOut),
		NextCursor: list.NextCursor, PrevCursor: list.PrevCursor, Total: list.Total})
	if err != nil {
		return nil, err
	}
	s.pages.put(key, body)
	return rawResponse{"application/json", body}, nil
}

// pageKey names a page of a user's activities at a version.
func pageKey(version int64, f cairn.ActivityFilter) string {
	t := func(p *time.Time) string {
		if p == nil {
			return ""
		}
		return p.UTC().Format(time.RFC3339Nano)
	}
	return fmt.Sprintf("%s|%d|%s|%s|%s|%s|%s|%t|%s|%d", f.UserID, version, t(f.Start), t(f.End), f.Type,
		f.DeviceID, f.Source, f.IncludeDeleted, f.Page.Cursor, f.Page.Limit)
}

// encodeJSON encodes v as the generated responses do.
func encodeJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	err := json.NewEncoder(&buf).Encode(v)
	return buf.Bytes(), err
}

func (s *Server) CreateActivity(ctx context.Context, req api.CreateActivityRequestObject) (api.CreateActivityResponseObject, error) {
	b := req.Body
	a := &cairn.Activity{Type: cairn.ActivityType(b.Type), Name: deref(b.Name), StartTime: b.StartTime,
		EndTime: b.EndTime, Timezone: deref(b.Timezone), DeviceID: b.DeviceId, RPE: b.Rpe,
		Source: cairn.SourceAPI, Metadata: rawOf(b.Metadata)}
	if b.Source != nil {
		if !b.Source.Valid() {
			return nil, cairn.Invalid(map[string]string{"source": "must be manual or api"})
		}
		a.Source = string(*b.Source)
	}
	actor, _ := cairn.ActorFrom(ctx)
	a.UserID = actor.UserID
	if b.UserId != nil {
		a.UserID = *b.UserId // the store answers NOT_FOUND unless the actor reaches that user
	}
	if err := a.Validate(); err != nil {
		return nil, err
	}
	if _, err := s.Users.FindUser(ctx, a.UserID); err != nil {
		return nil, err
	}
	if err := s.Activities.CreateActivity(ctx, a, cairn.EventActivityCreated); err != nil {
		return nil, err
	}
	d, err := s.activityDetail(ctx, a)
	if err != nil {
		return nil, err
	}
	return api.CreateActivity201JSONResponse{Body: d, Headers: api.CreateActivity201ResponseHeaders{Location: &d.Links.Self}}, nil
}

func (s *Server) GetActivity(ctx context.Context, req api.GetActivityRequestObject) (api.GetActivityResponseObject, error) {
	a, err := s.findActivity(ctx, req.ActivityId, deref(req.Params.IncludeDeleted))
	if err != nil {
		return nil, err
	}
	d, err := s.activityDetail(ctx, a)
	if err != nil {
		return nil, err
	}
	return api.GetActivity200JSONResponse(d), nil
}

func (s *Server) UpdateActivity(ctx context.Context, req api.UpdateActivityRequestObject) (api.UpdateActivityResponseObject, error) {
	b := req.Body
	patch := cairn.ActivityPatch{Type: (*cairn.ActivityType)(b.Type), Name: b.Name, StartTime: b.StartTime,
		EndTime: b.EndTime, Timezone: b.Timezone, DeviceID: b.DeviceId, RPE: b.Rpe, Metadata: rawOf(b.Metadata)}
	var a *cairn.Activity
	err := retryStale(req.Params.IfMatch, func() (err error) {
		if a, err = s.findActivity(ctx, req.ActivityId, false); err != nil {
			return err
		}
		if req.Params.IfMatch != nil {
			current, err := s.activityDetail(ctx, a)
			if err != nil {
				return err
			}
			if err := checkIfMatch(req.Params.IfMatch, current); err != nil {
				return err
			}
		}
		seen := a.UpdatedAt
		if err := patch.Apply(a); err != nil {
			return err
		}
		return s.Activities.UpdateActivity(ctx, a, seen, cairn.EventActivityUpdated)
	})
	if err != nil {
		return nil, err
	}
	d, err := s.activityDetail(ctx, a)
	if err != nil {
		return nil, err
	}
	return api.UpdateActivity200JSONResponse(d), nil
}

func (s *Server) DeleteActivity(ctx context.Context, req api.DeleteActivityRequestObject) (api.DeleteActivityResponseObject, error) {
	if err := s.Activities.SoftDeleteActivity(ctx, req.ActivityId, cairn.EventActivityDeleted); err != nil {
		return nil, err
	}
	return api.DeleteActivity204Response{}, nil
}

// findActivity returns an activity the actor may see; a deleted one only
// when asked for.
func (s *Server) findActivity(ctx context.Context, id string, includeDeleted bool) (*cairn.Activity, error) {
	a, err := s.Activities.FindActivity(ctx, id)
	if err != nil {
		return nil, err
	}
	if a.DeletedAt != nil && !includeDeleted {
		return nil, cairn.Errorf(cairn.ENOTFOUND, "not found")
	}
	return a, nil
}

// activityDetail is an activity with its summary and links to its series
// and route.
func (s *Server) activityDetail(ctx context.Context, a *cairn.Activity) (api.ActivityDetail, error) {
	self := "/v1/activities/" + a.ID
	links := api.ActivityLinks{Self: self, Metrics: self + "/metrics"}
	var summary *api.Summary
	if sum, err := s.Summaries.FindSummary(ctx, a.ID); err == nil {
		out := summaryOut(sum)
		summary, links.Summary = &out, ptrIf(self+"/summary")
	} else if cairn.ErrorCode(err) != cairn.ENOTFOUND {
		return api.ActivityDetail{}, err
	}
	if _, err := s.Routes.FindRoute(ctx, a.ID); err == nil {
		links.Route = ptrIf(self + "/route")
	} else if cairn.ErrorCode(err) != cairn.ENOTFOUND {
		return api.ActivityDetail{}, err
	}
	// An activity has at most one series per metric type: one page.
	metrics, err := s.Series.ListMetrics(ctx, cairn.MetricFilter{ActivityID: a.ID, Page: cairn.PageRequest{Limit: cairn.MaxPageSize}})
	if err != nil {
		return api.ActivityDetail{}, err
	}
	refs := mapSlice(metrics.Data, func(m *cairn.Metric) api.MetricLink {
		return api.MetricLink{Id: m.ID, Type: api.MetricType(m.Type), Href: self + "/metrics/" + m.ID}
	})
	return detailOf(activityOut(a), summary, refs, links), nil
}
