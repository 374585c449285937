package graphql

import (
	"context"
	"encoding/json"
	"math"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/geo"
	"github.com/cairn-fit/cairn/tracks"
	graphql "github.com/graph-gophers/graphql-go"
)

// Mutations do what the REST API's POSTs do, in the same order: the
// operation's scope, then (inside the idempotency key, when one is given)
// the domain's validation, the user's or activity's existence, the store.

type registerDeviceArgs struct {
	UserID         graphql.ID
	Input          registerDeviceInput
	IdempotencyKey *string
}

type registerDeviceInput struct {
	Model           string
	Manufacturer    *string
	SerialNumber    *string
	FirmwareVersion *string
	Status          *string
	LastSyncAt      *dateTime
}

func (r *root) RegisterDevice(ctx context.Context, args registerDeviceArgs) (*deviceResolver, error) {
	s := r.s
	d, err := idempotent(ctx, s, opCreateDevice, args.IdempotencyKey, args, func() (*cairn.Device, error) {
		userID, err := idOf(args.UserID, kindUser, "userId")
		if err != nil {
			return nil, err
		}
		in := args.Input
		d := &cairn.Device{UserID: userID, Manufacturer: deref(in.Manufacturer), Model: in.Model,
			SerialNumber: deref(in.SerialNumber), FirmwareVersion: deref(in.FirmwareVersion),
			LastSyncAt: timep(in.LastSyncAt)}
		if in.Status != nil {
			d.Status = enumIn[string](*in.Status)
		}
		if err := d.Validate(); err != nil {
			return nil, err
		}
		if _, err := s.d.Users.FindUser(ctx, userID); err != nil {
			return nil, err
		}
		return d, s.d.Devices.CreateDevice(ctx, d)
	})
	if err != nil {
		return nil, err
	}
	return s.deviceList(ctx, []cairn.Device{*d}).resolver(0), nil
}

type createActivityArgs struct {
	UserID         graphql.ID
	DeviceID       *graphql.ID
	Input          createActivityInput
	IdempotencyKey *string
}

type createActivityInput struct {
	Type      string
	StartTime dateTime
	EndTime   *dateTime
	Name      *string
	Timezone  *string
	Rpe       *int32
	Source    *string
	Metadata  *jsonValue
}

func (r *root) CreateActivity(ctx context.Context, args createActivityArgs) (*activityResolver, error) {
	s := r.s
	a, err := idempotent(ctx, s, opCreateActivity, args.IdempotencyKey, args, func() (*cairn.Activity, error) {
		userID, err := idOf(args.UserID, kindUser, "userId")
		if err != nil {
			return nil, err
		}
		deviceID, err := optID(args.DeviceID, kindDevice, "deviceId")
		if err != nil {
			return nil, err
		}
		in := args.Input
		a := &cairn.Activity{UserID: userID, DeviceID: deviceID, Type: enumIn[cairn.ActivityType](in.Type),
			Name: deref(in.Name), StartTime: in.StartTime.Time, EndTime: timep(in.EndTime),
			Timezone: deref(in.Timezone), Source: cairn.SourceAPI}
		if in.Rpe != nil {
			rpe := int(*in.Rpe)
			a.RPE = &rpe
		}
		if in.Metadata != nil {
			a.Metadata = in.Metadata.raw
		}
		if in.Source != nil {
			a.Source = enumIn[string](*in.Source)
			if a.Source != cairn.SourceManual && a.Source != cairn.SourceAPI {
				return nil, cairn.Invalid(map[string]string{"source": "must be manual or api"})
			}
		}
		if err := a.Validate(); err != nil {
			return nil, err
		}
		if _, err := s.d.Users.FindUser(ctx, userID); err != nil {
			return nil, err
		}
		return a, s.d.Activities.CreateActivity(ctx, a, cairn.EventActivityCreated)
	})
	if err != nil {
		return nil, err
	}
	return s.activityList(ctx, []cairn.Activity{*a}).resolver(0), nil
}

type upsertMetricArgs struct {
	ActivityID     graphql.ID
	Input          upsertMetricInput
	IdempotencyKey *string
}

type upsertMetricInput struct {
	Type   string
	Points []struct {
		T float64
		V float64
	}
}

func (r *root) UpsertMetric(ctx context.Context, args upsertMetricArgs) (*metricResolver, error) {
	s := r.s
	m, err := idempotent(ctx, s, opPutMetric, args.IdempotencyKey, args, func() (*cairn.Metric, error) {
		activityID, err := idOf(args.ActivityID, kindActivity, "activityId")
		if err != nil {
			return nil, err
		}
		points := make([]cairn.Point, len(args.Input.Points))
		for i, p := range args.Input.Points {
			if p.T != math.Trunc(p.T) || math.Abs(p.T) > 1<<53 {
				return nil, cairn.Invalid(map[string]string{"points": "times are whole Unix milliseconds"})
			}
			points[i] = cairn.Point{T: int64(p.T), V: p.V}
		}
		return s.d.Tracks.PutSeries(ctx, activityID, enumIn[cairn.MetricType](args.Input.Type), points)
	})
	if err != nil {
		return nil, err
	}
	return partOf(ctx, s, m.ActivityID, func(a *activityResolver) *metricResolver {
		return &metricResolver{s: s, m: m, activity: a}
	})
}

type upsertRouteArgs struct {
	ActivityID     graphql.ID
	Input          upsertRouteInput
	IdempotencyKey *string
}

type upsertRouteInput struct {
	Polyline *string
	GeoJSON  *jsonValue
}

// routeResult is what upsertRoute answers (and keeps for replays).
type routeResult struct {
	Route  cairn.Route `json:"route"`
	Points int         `json:"points"`
}

func (r *root) UpsertRoute(ctx context.Context, args upsertRouteArgs) (*routeResolver, error) {
	s := r.s
	res, err := idempotent(ctx, s, opPutRoute, args.IdempotencyKey, args, func() (*routeResult, error) {
		activityID, err := idOf(args.ActivityID, kindActivity, "activityId")
		if err != nil {
			return nil, err
		}
		points, elevations, err := routeIn(args.Input)
		if err != nil {
			return nil, err
		}
		route, err := s.d.Tracks.PutRoute(ctx, activityID, points, elevations)
		if err != nil {
			return nil, err
		}
		return &routeResult{Route: *route, Points: len(points)}, nil
	})
	if err != nil {
		return nil, err
	}
	// As REST answers it: the display polyline kept with the row.
	view := &tracks.RouteView{Route: &res.Route, Format: tracks.FormatPolyline, Polyline: res.Route.Polyline, Points: res.Points}
	return partOf(ctx, s, res.Route.ActivityID, func(a *activityResolver) *routeResolver {
		return &routeResolver{s: s, r: &res.Route, activity: a, format: tracks.FormatPolyline, view: view}
	})
}

// routeIn reads exactly one of a polyline and a GeoJSON track.
func routeIn(in upsertRouteInput) ([]cairn.LatLng, []float64, error) {
	switch {
	case (in.Polyline == nil) == (in.GeoJSON == nil):
		return nil, nil, cairn.Invalid(map[string]string{"input": "give exactly one of polyline and geoJson"})
	case in.Polyline != nil:
		points, err := geo.DecodePolyline(*in.Polyline)
		return points, nil, err
	}
	points, elevations, err := geo.ParseGeoJSON(json.RawMessage(in.GeoJSON.raw))
	if fields := cairn.ErrorFields(err); fields != nil {
		prefixed := map[string]string{}
		for k, v := range fields {
			name := "geoJson"
			if k != "body" {
				name += "." + k
			}
			prefixed[name] = v
		}
		return nil, nil, cairn.Invalid(prefixed)
	}
	return points, elevations, err
}

type upsertSummaryArgs struct {
	ActivityID     graphql.ID
	Input          upsertSummaryInput
	IdempotencyKey *string
}

type upsertSummaryInput struct {
	DistanceM, DurationS, MovingTimeS, TimerTimeS, Calories, AvgHr, MaxHr, AvgPace, AvgSpeed,
	MaxSpeed, AvgPower, AvgCadence, Steps, StrideLength, IntensityMinutes, ElevationGain,
	ElevationLoss *float64
	HrZonesS *[]float64
}

// summaryFields names the summary's figures as the domain does, in the
// order of cairn.Summary.Figures.
func summaryFields() []string {
	return []string{"distance_m", "duration_s", "moving_time_s", "timer_time_s", "calories", "avg_hr",
		"max_hr", "avg_pace", "avg_speed", "max_speed", "avg_power", "avg_cadence", "steps",
		"stride_length", "intensity_minutes", "elevation_gain", "elevation_loss"}
}

func (r *root) UpsertSummary(ctx context.Context, args upsertSummaryArgs) (*summaryResolver, error) {
	s := r.s
	sum, err := idempotent(ctx, s, opPutSummary, args.IdempotencyKey, args, func() (*cairn.Summary, error) {
		activityID, err := idOf(args.ActivityID, kindActivity, "activityId")
		if err != nil {
			return nil, err
		}
		in := args.Input
		sum := &cairn.Summary{DistanceM: in.DistanceM, DurationS: in.DurationS, MovingTimeS: in.MovingTimeS,
			TimerTimeS: in.TimerTimeS, Calories: in.Calories, AvgHR: in.AvgHr, MaxHR: in.MaxHr, AvgPace: in.AvgPace,
			AvgSpeed: in.AvgSpeed, MaxSpeed: in.MaxSpeed, AvgPower: in.AvgPower, AvgCadence: in.AvgCadence,
			Steps: in.Steps, StrideLength: in.StrideLength, IntensityMinutes: in.IntensityMinutes,
			ElevationGain: in.ElevationGain, ElevationLoss: in.ElevationLoss, Sources: map[string]string{}}
		if in.HrZonesS != nil {
			sum.HRZones = *in.HrZonesS
		}
		names := summaryFields()
		for i, v := range sum.Figures() {
			if v != nil {
				sum.Sources[names[i]] = cairn.SummaryFromClient
			}
		}
		if err := sum.Validate(); err != nil {
			return nil, err
		}
		a, err := s.d.Activities.FindActivity(ctx, activityID)
		if err != nil {
			return nil, err
		}
		if a.DeletedAt != nil {
			return nil, cairn.Errorf(cairn.ENOTFOUND, "not found")
		}
		sum.ActivityID, sum.UserID = a.ID, a.UserID
		return sum, s.d.Summaries.UpsertSummary(ctx, sum)
	})
	if err != nil {
		return nil, err
	}
	return partOf(ctx, s, sum.ActivityID, func(a *activityResolver) *summaryResolver {
		return &summaryResolver{sum: sum, activity: a}
	})
}

// partOf resolves a mutation's answer about an activity's part, with the
// activity it belongs to.
func partOf[R any](ctx context.Context, s *Server, activityID string, f func(*activityResolver) R) (R, error) {
	acts, err := s.loadActivities(ctx, []string{activityID})
	var zero R
	if err != nil {
		return zero, err
	}
	a, ok := acts[activityID]
	if !ok {
		return zero, cairn.Errorf(cairn.ENOTFOUND, "not found")
	}
	return f(a), nil
}
