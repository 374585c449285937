package rest

import (
	"context"
	"encoding/json"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/geo"
	"github.com/cairn-fit/cairn/rest/api"
	"github.com/cairn-fit/cairn/tracks"
)

// An activity's parts: summary, metric series and route. A deleted
// activity's parts answer 404 with it.

func (s *Server) GetActivitySummary(ctx context.Context, req api.GetActivitySummaryRequestObject) (api.GetActivitySummaryResponseObject, error) {
	if _, err := s.findActivity(ctx, req.ActivityId, false); err != nil {
		return nil, err
	}
	sum, err := s.Summaries.FindSummary(ctx, req.ActivityId)
	if err != nil {
		return nil, err
	}
	return api.GetActivitySummary200JSONResponse(summaryOut(sum)), nil
}

func (s *Server) PutActivitySummary(ctx context.Context, req api.PutActivitySummaryRequestObject) (api.PutActivitySummaryResponseObject, error) {
	sum := summaryIn(req.Body)
	if err := sum.Validate(); err != nil {
		return nil, err
	}
	a, err := s.findActivity(ctx, req.ActivityId, false)
	if err != nil {
		return nil, err
	}
	sum.ActivityID, sum.UserID = a.ID, a.UserID
	if err := s.Summaries.UpsertSummary(ctx, &sum); err != nil {
		return nil, err
	}
	return api.PutActivitySummary200JSONResponse(summaryOut(&sum)), nil
}

func (s *Server) ListActivityMetrics(ctx context.Context, req api.ListActivityMetricsRequestObject) (api.ListActivityMetricsResponseObject, error) {
	p := req.Params
	page, err := pageRequest(p.Cursor, p.Limit)
	if err == nil {
		err = enum("type", p.Type)
	}
	if err != nil {
		return nil, err
	}
	if _, err := s.findActivity(ctx, req.ActivityId, false); err != nil {
		return nil, err
	}
	f := cairn.MetricFilter{ActivityID: req.ActivityId, Page: page}
	if p.Type != nil {
		f.Types = []cairn.MetricType{cairn.MetricType(*p.Type)}
	}
	list, err := s.Series.ListMetrics(ctx, f)
	if err != nil {
		return nil, err
	}
	return api.ListActivityMetrics200JSONResponse{Data: mapSlice(list.Data, metricOut), NextCursor: list.NextCursor,
		PrevCursor: list.PrevCursor, Total: list.Total}, nil
}

func (s *Server) PutActivityMetric(ctx context.Context, req api.PutActivityMetricRequestObject) (api.PutActivityMetricResponseObject, error) {
	points := make([]cairn.Point, len(req.Body.Points))
	for i, p := range req.Body.Points {
		points[i] = cairn.Point{T: p.T, V: p.V}
	}
	m, err := s.Tracks.PutSeries(ctx, req.ActivityId, cairn.MetricType(req.Body.Type), points)
	if err != nil {
		return nil, err
	}
	loc := "/v1/activities/" + m.ActivityID + "/metrics/" + m.ID
	return api.PutActivityMetric201JSONResponse{Body: metricOut(m), Headers: api.PutActivityMetric201ResponseHeaders{Location: &loc}}, nil
}

func (s *Server) GetActivityMetric(ctx context.Context, req api.GetActivityMetricRequestObject) (api.GetActivityMetricResponseObject, error) {
	p := req.Params
	w := tracks.Window{Start: p.Start, End: p.End, Downsample: deref(p.Downsample)}
	if p.Downsample != nil && (w.Downsample < 3 || w.Downsample > 100_000) {
		return nil, cairn.Invalid(map[string]string{"downsample": "must be between 3 and 100000"})
	}
	if p.Start != nil && p.End != nil && !p.End.After(*p.Start) {
		return nil, cairn.Invalid(map[string]string{"end": "must be after start"})
	}
	series, err := s.Tracks.Series(ctx, req.ActivityId, req.MetricId, w)
	if err != nil {
		return nil, err
	}
	out := api.SeriesData{Metric: metricOut(series.Metric), UpdatedAt: series.Metric.UpdatedAt}
	if series.Track != nil {
		out.Points = mapSlice(series.Track, func(p *tracks.TrackPoint) api.SeriesPoint {
			return api.SeriesPoint{T: p.T, Lat: finiteOrNil(p.Lat), Lon: finiteOrNil(p.Lon), Alt: finiteOrNil(p.Alt)}
		})
	} else {
		out.Points = mapSlice(series.Points, func(p *cairn.Point) api.SeriesPoint {
			return api.SeriesPoint{T: p.T, V: finiteOrNil(p.V)}
		})
	}
	out.Count = len(out.Points)
	return api.GetActivityMetric200JSONResponse(out), nil
}

func (s *Server) GetActivityRoute(ctx context.Context, req api.GetActivityRouteRequestObject) (api.GetActivityRouteResponseObject, error) {
	format := tracks.FormatPolyline
	if f := req.Params.Format; f != nil {
		format = string(*f)
	}
	v, err := s.Tracks.Route(ctx, req.ActivityId, format, deref(req.Params.SimplifyTolerance))
	if err != nil {
		return nil, err
	}
	return api.GetActivityRoute200JSONResponse(routeOut(v)), nil
}

func (s *Server) PutActivityRoute(ctx context.Context, req api.PutActivityRouteRequestObject) (api.PutActivityRouteResponseObject, error) {
	points, elevations, err := routeIn(req.Body)
	if err != nil {
		return nil, err
	}
	r, err := s.Tracks.PutRoute(ctx, req.ActivityId, points, elevations)
	if err != nil {
		return nil, err
	}
	return api.PutActivityRoute201JSONResponse(routeOut(&tracks.RouteView{Route: r, Format: tracks.FormatPolyline,
		Polyline: r.Polyline, Points: len(points)})), nil
}

// routeIn reads exactly one of a polyline and a GeoJSON track.
func routeIn(b *api.RouteInput) ([]cairn.LatLng, []float64, error) {
	switch {
	case (b.Polyline == nil) == (b.Geojson == nil):
		return nil, nil, cairn.Invalid(map[string]string{"body": "give exactly one of polyline and geojson"})
	case b.Polyline != nil:
		points, err := geo.DecodePolyline(*b.Polyline)
		return points, nil, err
	}
	raw, _ := json.Marshal(*b.Geojson) // decoded from JSON: cannot fail
	points, elevations, err := geo.ParseGeoJSON(raw)
	if fields := cairn.ErrorFields(err); fields != nil {
		// Name the fields from the top of the request body.
		prefixed := map[string]string{}
		for k, v := range fields {
			name := "geojson"
			if k != "body" {
				name += "." + k
			}
			prefixed[name] = v
		}
		return nil, nil, cairn.Invalid(prefixed)
	}
	return points, elevations, err
}

func routeOut(v *tracks.RouteView) api.Route {
	r := v.Route
	out := api.Route{Id: r.ID, UserId: r.UserID, ActivityId: r.ActivityID, Format: api.RouteFormat(v.Format),
		PointCount: r.PointCount, ReturnedPoints: v.Points, ElevationGain: r.ElevationGain,
		ElevationLoss: r.ElevationLoss, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
	if v.Format == tracks.FormatPolyline {
		out.Polyline = &v.Polyline
	} else {
		var feature map[string]any
		_ = json.Unmarshal(v.GeoJSON, &feature) // geo wrote it
		out.Geojson = &feature
	}
	if v.Tolerance > 0 {
		out.SimplifyTolerance = &v.Tolerance
	}
	if r.Start != nil {
		out.Start = &api.LatLng{Lat: r.Start.Lat, Lng: r.Start.Lng}
	}
	if r.End != nil {
		out.End = &api.LatLng{Lat: r.End.Lat, Lng: r.End.Lng}
	}
	if len(r.BBox) == 4 {
		out.Bbox = &r.BBox
	}
	return out
}
