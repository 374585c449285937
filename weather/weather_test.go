package weather_test

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"testing"
	"time"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/provider"
	"github.com/cairn-fit/cairn/sim"
	"github.com/cairn-fit/cairn/sim/simtest"
	"github.com/cairn-fit/cairn/weather"
)

// The clients against the simulator's Open-Meteo archive and Nominatim.

func fast() provider.Options {
	return provider.Options{AttemptTimeout: 10 * time.Second, InitialBackoff: time.Millisecond,
		MaxBackoff: 10 * time.Millisecond, MaxTries: 12, BreakerOpen: 20 * time.Millisecond, BreakerFailures: 100}
}

func serve(t *testing.T, cfg sim.Config) (*sim.Sim, string) {
	t.Helper()
	if cfg.StravaActivities == 0 {
		cfg.StravaActivities = 1
	}
	return simtest.Serve(t, cfg)
}

var ljubljana = weather.CellOf(46.0569, 14.5058)

// TestHours: three UTC days are 72 hours keyed by the UTC hour, every
// variable present, wind converted to m/s from the km/h the archive
// states in hourly_units, WMO codes named; an hour answers the same
// whether asked alone or in a range.
func TestHours(t *testing.T) {
	_, base := serve(t, sim.Config{Seed: 9})
	c := weather.New(base, fast())
	ctx := context.Background()
	start := time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC)
	hours, err := c.Hours(ctx, ljubljana, start, start.Add(48*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(hours) != 72 {
		t.Fatalf("%d hours, want 72", len(hours))
	}
	noon := start.Add(36 * time.Hour)
	w, ok := hours[noon]
	if !ok || !w.ObservedAt.Equal(noon) {
		t.Fatalf("no hour %v", noon)
	}
	if w.TemperatureC == nil || w.FeelsLikeC == nil || w.HumidityPct == nil || w.PressureHPa == nil || w.WindSpeedMS == nil ||
		w.WindDirection == nil || w.UVIndex == nil || w.WeatherCode == nil || w.Conditions == "" {
		t.Fatalf("noon %+v", w)
	}
	if *w.WeatherCode >= 0 && w.Conditions != weather.Conditions(*w.WeatherCode) {
		t.Errorf("code %d named %q", *w.WeatherCode, w.Conditions)
	}
	if *w.TemperatureC < 5 || *w.TemperatureC > 40 {
		t.Errorf("Ljubljana at noon in July: %v °C", *w.TemperatureC)
	}

	// The archive's own figure, in the unit it states.
	resp, err := http.Get(base + "/v1/archive?latitude=46.1&longitude=14.5&start_date=2025-07-02&end_date=2025-07-02&hourly=wind_speed_10m")
	if err != nil {
		t.Fatal(err)
	}
	var raw struct {
		Hourly struct {
			Wind []float64 `json:"wind_speed_10m"`
		} `json:"hourly"`
		HourlyUnits map[string]string `json:"hourly_units"`
	}
	err = json.NewDecoder(resp.Body).Decode(&raw)
	resp.Body.Close()
	if err != nil || raw.HourlyUnits["wind_speed_10m"] != "km/h" {
		t.Fatalf("archive: %v %v", raw.HourlyUnits, err)
	}
	if want := math.Round(raw.Hourly.Wind[12]/3.6*100) / 100; *w.WindSpeedMS != want {
		t.Errorf("wind %v m/s, the archive says %v km/h", *w.WindSpeedMS, raw.Hourly.Wind[12])
	}

	day, err := c.Hours(ctx, ljubljana, noon, noon)
	if err != nil || len(day) != 24 || *day[noon].TemperatureC != *w.TemperatureC {
		t.Errorf("the day alone: %d hours, %v", len(day), err)
	}
	// a cell off the globe is the archive's 400: invalid, not retried
	_, err = c.Hours(ctx, weather.Cell{Lat: 95, Lon: 0}, start, start)
	if err == nil || cairn.Retryable(err) {
		t.Errorf("latitude 95: %v", err)
	}
}

// TestReverse: a town's position names its city, state and country; the
// open sea is no place (nil, no error).
func TestReverse(t *testing.T) {
	_, base := serve(t, sim.Config{Seed: 9})
	g := weather.NewGeocoder(base, "cairn-test", fast())
	ctx := context.Background()
	p, err := g.Reverse(ctx, 46.06, 14.49)
	if err != nil || p == nil || p.City != "Ljubljana" || p.Country != "Slovenia" || p.State == "" {
		t.Fatalf("Ljubljana: %+v %v", p, err)
	}
	p, err = g.Reverse(ctx, -40, -140)
	if err != nil || p != nil {
		t.Errorf("mid-Pacific: %+v %v", p, err)
	}
	if lat, lon := weather.PlaceKey(46.05691, 14.50581); lat != 46.06 || lon != 14.51 {
		t.Errorf("place key %v %v", lat, lon)
	}
}

// TestFaults: through 40% of calls failing (429, 5xx, hangs, cut-off
// bodies) both clients answer as without faults; alone, every fault is
// retryable.
func TestFaults(t *testing.T) {
	_, clean := serve(t, sim.Config{Seed: 9})
	s, faulty := serve(t, sim.Config{Seed: 9, FaultRate: 0.4, FaultTimeout: 200 * time.Millisecond})
	ctx := context.Background()
	day := time.Date(2025, 7, 2, 0, 0, 0, 0, time.UTC)
	want, err := weather.New(clean, fast()).Hours(ctx, ljubljana, day, day)
	if err != nil {
		t.Fatal(err)
	}
	c, g := weather.New(faulty, fast()), weather.NewGeocoder(faulty, "cairn-test", fast())
	for i := range 8 {
		got, err := c.Hours(ctx, ljubljana, day, day)
		if err != nil || len(got) != 24 || *got[day.Add(9*time.Hour)].TemperatureC != *want[day.Add(9*time.Hour)].TemperatureC {
			t.Fatalf("call %d through faults: %d hours, %v", i, len(got), err)
		}
		if p, err := g.Reverse(ctx, 46.06, 14.49); err != nil || p == nil || p.City != "Ljubljana" {
			t.Fatalf("reverse %d through faults: %+v %v", i, p, err)
		}
	}
	faults := 0
	for _, n := range s.Stats().Faults {
		faults += n
	}
	if faults == 0 || c.Caller().Stats().Failures+g.Caller().Stats().Failures < int64(faults) {
		t.Errorf("faults %v, failed attempts %d + %d", s.Stats().Faults, c.Caller().Stats().Failures, g.Caller().Stats().Failures)
	}

	once := fast()
	once.MaxTries = 1
	_, all := serve(t, sim.Config{Seed: 10, FaultRate: 1, FaultTimeout: 200 * time.Millisecond})
	c = weather.New(all, once)
	for range 10 {
		if _, err := c.Hours(ctx, ljubljana, day, day); err == nil || !cairn.Retryable(err) {
			t.Errorf("an injected fault: %v", err)
		}
	}
}
