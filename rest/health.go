package rest

import (
	"context"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/rest/api"
	openapi_types "github.com/oapi-codegen/runtime/types"
)

func (s *Server) ListHealthMetrics(ctx context.Context, req api.ListHealthMetricsRequestObject) (api.ListHealthMetricsResponseObject, error) {
	p := req.Params
	page, err := pageRequest(p.Cursor, p.Limit)
	if err == nil {
		err = enum("type", p.Type)
	}
	if err != nil {
		return nil, err
	}
	if p.StartDate != nil && p.EndDate != nil && !p.EndDate.After(*p.StartDate) {
		return nil, cairn.Invalid(map[string]string{"end_date": "must be after start_date"})
	}
	list, err := s.Health.ListHealthMetrics(ctx, cairn.HealthFilter{UserID: req.UserId, Type: string(deref(p.Type)),
		Start: p.StartDate, End: p.EndDate, Page: page})
	if err != nil {
		return nil, err
	}
	return api.ListHealthMetrics200JSONResponse{Data: mapSlice(list.Data, healthOut), NextCursor: list.NextCursor,
		PrevCursor: list.PrevCursor, Total: list.Total}, nil
}

func (s *Server) ListDailyMetrics(ctx context.Context, req api.ListDailyMetricsRequestObject) (api.ListDailyMetricsResponseObject, error) {
	p := req.Params
	page, err := pageRequest(p.Cursor, p.Limit)
	if err != nil {
		return nil, err
	}
	f := cairn.DailyFilter{UserID: req.UserId, Start: dateString(p.StartDate), End: dateString(p.EndDate), Page: page}
	if f.Start != "" && f.End != "" && f.End <= f.Start {
		return nil, cairn.Invalid(map[string]string{"end_date": "must be after start_date"})
	}
	list, err := s.Health.ListDailyMetrics(ctx, f)
	if err != nil {
		return nil, err
	}
	return api.ListDailyMetrics200JSONResponse{Data: mapSlice(list.Data, dailyOut), NextCursor: list.NextCursor,
		PrevCursor: list.PrevCursor, Total: list.Total}, nil
}

func dateString(d *openapi_types.Date) string {
	if d == nil {
		return ""
	}
	return d.String()
}

func dailyOut(d *cairn.DailyMetric) api.DailyMetric {
	out := api.DailyMetric{Id: d.ID, UserId: d.UserID, RestingHr: d.RestingHR, HrvRmssd: d.HRVRMSSD,
		SleepHours: d.SleepH, Soreness: d.Soreness, Stress: d.Stress, CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt}
	_ = out.Date.UnmarshalText([]byte(d.Date)) // the store writes YYYY-MM-DD
	return out
}
