package syncer

import (
	"context"
	"encoding/json"
	"math"
	"slices"
	"time"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/sqldb"
	"github.com/cairn-fit/cairn/strava"
	"github.com/cairn-fit/cairn/weather"
	"github.com/riverqueue/river"
)

// point is where and when an activity started.
type point struct {
	lat, lon *float64
	at       time.Time
}

func (p point) located() bool { return p.lat != nil && p.lon != nil }

// lookup is a point's enrichment.
type lookup struct {
	weather *cairn.Weather
	place   *cairn.Place
	status  cairn.EnrichmentStatus
}

// maxWeatherSpan bounds the days of one archive request.
const maxWeatherSpan = 366 * 24 * time.Hour

// enrichPoints looks up the weather and place of every point: weather by
// archive cell, each cell's days read from the cache or fetched in as few
// requests as the span allows; places by ~1 km key, cached. A service that
// fails leaves its part "missing" for a later retry; nothing fails the
// caller but the database.
func (s *Service) enrichPoints(ctx context.Context, pts []point) ([]lookup, error) {
	out := make([]lookup, len(pts))
	byCell := map[weather.Cell][]int{}
	for i, p := range pts {
		out[i].status = cairn.EnrichmentStatus{cairn.EnrichWeather: cairn.EnrichmentNone, cairn.EnrichGeocode: cairn.EnrichmentNone}
		if !p.located() {
			continue
		}
		c := weather.CellOf(*p.lat, *p.lon)
		byCell[c] = append(byCell[c], i)
	}
	for cell, idx := range byCell {
		if err := s.enrichCell(ctx, cell, pts, idx, out); err != nil {
			return nil, err
		}
	}
	for i, p := range pts {
		if !p.located() {
			continue
		}
		place, status, err := s.place(ctx, *p.lat, *p.lon)
		if err != nil {
			return nil, err
		}
		out[i].place, out[i].status[cairn.EnrichGeocode] = place, status
	}
	return out, nil
}

func cellKey(v float64) int { return int(math.Round(v * 10)) }

// enrichCell fills the weather of the points idx, all in one cell.
func (s *Service) enrichCell(ctx context.Context, cell weather.Cell, pts []point, idx []int, out []lookup) error {
	if s.cfg.Weather == nil {
		for _, i := range idx {
			out[i].status[cairn.EnrichWeather] = cairn.EnrichmentMissing
		}
		return nil
	}
	daySet := map[string]bool{}
	for _, i := range idx {
		daySet[pts[i].at.UTC().Format(time.DateOnly)] = true
	}
	days := make([]string, 0, len(daySet))
	for d := range daySet {
		days = append(days, d)
	}
	slices.Sort(days)
	la, lo := cellKey(cell.Lat), cellKey(cell.Lon)
	cached, err := s.cfg.DB.WeatherDays(ctx, la, lo, days)
	if err != nil {
		return err
	}
	hours := map[time.Time]cairn.Weather{}
	for _, raw := range cached {
		var ws []cairn.Weather
		if json.Unmarshal(raw, &ws) == nil {
			for _, w := range ws {
				hours[w.ObservedAt] = w
			}
		}
	}
	failed := map[string]bool{}
	var missing []string
	for _, d := range days {
		if _, ok := cached[d]; !ok {
			missing = append(missing, d)
		}
	}
	for len(missing) > 0 {
		first, _ := time.Parse(time.DateOnly, missing[0])
		n := 1
		for n < len(missing) {
			d, _ := time.Parse(time.DateOnly, missing[n])
			if d.Sub(first) > maxWeatherSpan {
				break
			}
			n++
		}
		last, _ := time.Parse(time.DateOnly, missing[n-1])
		got, err := s.cfg.Weather.Hours(ctx, cell, first, last)
		if err != nil {
			s.log.WarnContext(ctx, "weather lookup failed", "err", err)
			for _, d := range missing[:n] {
				failed[d] = true
			}
		} else {
			perDay := map[string][]cairn.Weather{}
			for t, w := range got {
				hours[t] = w
				d := t.Format(time.DateOnly)
				perDay[d] = append(perDay[d], w)
			}
			put := map[string]json.RawMessage{}
			for _, d := range missing[:n] {
				ws := perDay[d]
				slices.SortFunc(ws, func(a, b cairn.Weather) int { return a.ObservedAt.Compare(b.ObservedAt) })
				raw, err := json.Marshal(ws)
				if err != nil {
					return cairn.Wrap(cairn.EINTERNAL, err, "internal error")
				}
				put[d] = raw
			}
			if err := s.cfg.DB.PutWeatherDays(ctx, la, lo, put); err != nil {
				return err
			}
		}
		missing = missing[n:]
	}
	for _, i := range idx {
		hour := pts[i].at.UTC().Truncate(time.Hour)
		switch w, ok := hours[hour]; {
		case ok:
			w := w
			out[i].weather, out[i].status[cairn.EnrichWeather] = &w, cairn.EnrichmentDone
		case failed[hour.Format(time.DateOnly)]:
			out[i].status[cairn.EnrichWeather] = cairn.EnrichmentMissing
		default:
			out[i].status[cairn.EnrichWeather] = cairn.EnrichmentNone
		}
	}
	return nil
}

// place returns the place at a position, from the cache or the geocoder.
func (s *Service) place(ctx context.Context, lat, lon float64) (*cairn.Place, string, error) {
	klat, klon := weather.PlaceKey(lat, lon)
	la, lo := int(math.Round(klat*100)), int(math.Round(klon*100))
	p, err := s.cfg.DB.GeocodePlace(ctx, la, lo)
	switch {
	case err == nil && p == nil:
		return nil, cairn.EnrichmentNone, nil
	case err == nil:
		return p, cairn.EnrichmentDone, nil
	case cairn.ErrorCode(err) != cairn.ENOTFOUND:
		return nil, "", err
	}
	if s.cfg.Geocoder == nil {
		return nil, cairn.EnrichmentMissing, nil
	}
	p, err = s.cfg.Geocoder.Reverse(ctx, klat, klon)
	if err != nil {
		s.log.WarnContext(ctx, "geocoding failed", "err", err)
		return nil, cairn.EnrichmentMissing, nil
	}
	if err := s.cfg.DB.PutGeocodePlace(ctx, la, lo, p); err != nil {
		return nil, "", err
	}
	if p == nil {
		return nil, cairn.EnrichmentNone, nil
	}
	return p, cairn.EnrichmentDone, nil
}

// itemPoint is where an item's activity started, from its list summary.
func itemPoint(it *sqldb.SyncItem) point {
	p := point{at: it.Start}
	var sum strava.SummaryActivity
	if json.Unmarshal(it.Summary, &sum) == nil && len(sum.StartLatLng) == 2 {
		p.lat, p.lon = &sum.StartLatLng[0], &sum.StartLatLng[1]
	}
	return p
}

// enrich is the enriching phase: every fetched item gets its weather
// and place (or the reason it has none).
func (r *run) enrich() error {
	for {
		items, err := r.s.cfg.DB.SyncItems(r.ctx, r.sess.UserID, r.sess.ID, sqldb.ItemFetched, 500)
		if err != nil || len(items) == 0 {
			return err
		}
		pts := make([]point, len(items))
		for i := range items {
			pts[i] = itemPoint(&items[i])
		}
		found, err := r.s.enrichPoints(r.ctx, pts)
		if err != nil {
			return err
		}
		for i := range items {
			it := &items[i]
			it.Weather, it.Place, it.EnrichmentStatus, it.State = found[i].weather, found[i].place, found[i].status, sqldb.ItemEnriched
			if err := r.s.cfg.DB.AdvanceSyncItem(r.ctx, nil, it); err != nil {
				return err
			}
		}
	}
}

// EnrichArgs is the periodic job that retries the enrichments a provider
// failed to give.
type EnrichArgs struct{}

func (EnrichArgs) Kind() string { return "enrich_retry" }

// EnrichWorker retries missing enrichments.
type EnrichWorker struct {
	river.WorkerDefaults[EnrichArgs]
	Sync *Service
}

func (w *EnrichWorker) Work(ctx context.Context, job *river.Job[EnrichArgs]) error {
	_, err := w.Sync.RetryEnrichments(ctx, 200)
	return err
}

// RetryEnrichments looks up again what is missing from up to limit
// activities' enrichment and returns how many are now complete.
func (s *Service) RetryEnrichments(ctx context.Context, limit int) (int, error) {
	targets, err := s.cfg.DB.MissingEnrichments(cairn.SystemContext(ctx), limit)
	if err != nil || len(targets) == 0 {
		return 0, err
	}
	pts := make([]point, len(targets))
	for i, t := range targets {
		pts[i] = point{lat: t.Lat, lon: t.Lon, at: t.Start}
	}
	found, err := s.enrichPoints(ctx, pts)
	if err != nil {
		return 0, err
	}
	done := 0
	for i, t := range targets {
		uctx := userContext(ctx, t.UserID)
		e := &cairn.Enrichment{ActivityID: t.ActivityID, UserID: t.UserID, Weather: found[i].weather,
			Place: found[i].place, Status: found[i].status}
		if err := s.cfg.DB.InTx(uctx, func(tx *sqldb.Tx) error { return tx.UpsertEnrichment(uctx, e, t.Lat, t.Lon) }); err != nil {
			return done, err
		}
		if e.Status.Complete() {
			done++
		}
	}
	return done, nil
}
