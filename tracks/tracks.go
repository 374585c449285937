// Package tracks reads and writes what is recorded along an activity: its
// metric series and its route. Both live in the blob store as encoded
// series (see the series package), with their metadata in the database.
// A row's blob reference is either a blob of its own (what clients send
// is stored under users/{user}/activities/{activity}/{name}.series) or
// "key#name", a part of the bundle an import writes for all the
// activity's streams. The route's series holds the columns lat, lon and
// alt and is also the position metric's.
//
// The REST API (and later GraphQL) share this package: it slices and
// downsamples series, simplifies routes and renders them as polylines or
// GeoJSON, and validates and stores series and routes sent by clients.
package tracks

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/series"
	"github.com/cairn-fit/cairn/sqldb"
	"gocloud.dev/blob"
	"gocloud.dev/gcerrors"
)

// Service reads and writes series and routes for the actor in the context.
type Service struct {
	DB     *sqldb.DB
	Bucket *blob.Bucket
}

// SeriesKey is the blob key of an activity's series; name is a metric
// type, or "route" for the route.
func SeriesKey(userID, activityID, name string) string {
	return fmt.Sprintf("users/%s/activities/%s/%s.series", userID, activityID, name)
}

// liveActivity returns the activity when the actor may see it and it is
// not deleted: a deleted activity's parts are gone with it.
func (s *Service) liveActivity(ctx context.Context, id string) (*cairn.Activity, error) {
	a, err := s.DB.FindActivity(ctx, id)
	if err != nil {
		return nil, err
	}
	if a.DeletedAt != nil {
		return nil, cairn.Errorf(cairn.ENOTFOUND, "not found")
	}
	return a, nil
}

func (s *Service) read(ctx context.Context, ref string) ([]byte, error) {
	// An imported activity's series share one bundle blob: ref names the
	// blob and the part (see series.Bundle).
	key, part := series.SplitRef(ref)
	b, err := s.Bucket.ReadAll(ctx, key)
	if err == nil && part != "" {
		return series.Part(b, part)
	}
	if gcerrors.Code(err) == gcerrors.NotFound {
		return nil, cairn.Wrap(cairn.EINTERNAL, err, "the series is missing from the blob store")
	}
	if err != nil {
		return nil, cairn.Wrap(cairn.EUNAVAILABLE, err, "the blob store is unavailable")
	}
	return b, nil
}

// write stores a blob before its row refers to it; a row that then fails
// to write leaves the blob to be replaced by the next write of that key.
func (s *Service) write(ctx context.Context, key string, b []byte) error {
	if err := s.Bucket.WriteAll(ctx, key, b, nil); err != nil {
		if errors.Is(err, context.Canceled) {
			return cairn.Wrap(cairn.EUNAVAILABLE, err, "the request was cancelled")
		}
		return cairn.Wrap(cairn.EUNAVAILABLE, err, "the blob store is unavailable")
	}
	return nil
}

// MetricOf computes a series' metadata: count, time span, sampling rate
// and, for scalar series (vs not nil), min, max and mean of the finite
// values. Times of 0 mean the source had none.
func MetricOf(typ cairn.MetricType, ts []int64, vs []float64) cairn.Metric {
	m := cairn.Metric{Type: typ, Unit: cairn.MetricTypes[typ], Count: len(ts)}
	if n := len(ts); n > 0 && ts[0] != 0 {
		first, last := time.UnixMilli(ts[0]).UTC(), time.UnixMilli(ts[n-1]).UTC()
		m.StartTime, m.EndTime = &first, &last
		if span := last.Sub(first).Seconds(); n > 1 && span > 0 {
			m.SamplingRate = math.Round(float64(n-1)/span*1000) / 1000
		}
	}
	lo, hi, sum, n := math.Inf(1), math.Inf(-1), 0.0, 0
	for _, v := range vs {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			lo, hi, sum, n = math.Min(lo, v), math.Max(hi, v), sum+v, n+1
		}
	}
	if n > 0 {
		avg := sum / float64(n)
		m.Min, m.Max, m.Avg = &lo, &hi, &avg
	}
	return m
}
