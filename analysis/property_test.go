package analysis

import (
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/cairn-fit/cairn"
	"pgregory.net/rapid"
)

// anyFloat draws ordinary values most of the time and NaN, infinities,
// negatives and huge numbers the rest.
func anyFloat(lo, hi float64) *rapid.Generator[float64] {
	return rapid.OneOf(
		rapid.Float64Range(lo, hi),
		rapid.Float64Range(lo, hi),
		rapid.Float64Range(lo, hi),
		rapid.SampledFrom([]float64{math.NaN(), math.Inf(1), math.Inf(-1), -1, 0, 1e308, -1e308}),
		rapid.Float64(),
	)
}

func recordGen() *rapid.Generator[cairn.Record] {
	return rapid.Custom(func(t *rapid.T) cairn.Record {
		return cairn.Record{
			Lat:         anyFloat(-90, 90).Draw(t, "lat"),
			Lon:         anyFloat(-180, 180).Draw(t, "lon"),
			Altitude:    anyFloat(-500, 9000).Draw(t, "alt"),
			HeartRate:   anyFloat(0, 250).Draw(t, "hr"),
			Cadence:     anyFloat(0, 200).Draw(t, "cadence"),
			Power:       anyFloat(0, 2000).Draw(t, "power"),
			Speed:       anyFloat(0, 30).Draw(t, "speed"),
			Distance:    anyFloat(0, 1e5).Draw(t, "distance"),
			Temperature: anyFloat(-20, 50).Draw(t, "temp"),
		}
	})
}

func optionalFloat(t *rapid.T, label string) *float64 {
	if !rapid.Bool().Draw(t, label+" given") {
		return nil
	}
	v := anyFloat(0, 1e5).Draw(t, label)
	return &v
}

// activityGen draws activities of any type whose records come with
// timestamps that mostly advance, sometimes repeat, jump, go back or are
// missing altogether.
func activityGen() *rapid.Generator[cairn.DecodedActivity] {
	return rapid.Custom(func(t *rapid.T) cairn.DecodedActivity {
		recs := rapid.SliceOfN(recordGen(), 0, 60).Draw(t, "records")
		timed := rapid.IntRange(0, 2).Draw(t, "timed") // 0 none, 1 some, 2 all
		clock := t0
		for i := range recs {
			clock = clock.Add(time.Duration(rapid.IntRange(-5, 120).Draw(t, "step")) * time.Second)
			if timed == 2 || (timed == 1 && rapid.Bool().Draw(t, "has time")) {
				recs[i].Time = clock
			}
		}
		return cairn.DecodedActivity{
			Type:    rapid.SampledFrom(cairn.ActivityTypes).Draw(t, "type"),
			Records: recs,
			Totals: cairn.DeviceTotals{
				DistanceM: optionalFloat(t, "distance"), ElapsedS: optionalFloat(t, "elapsed"),
				TimerS: optionalFloat(t, "timer"), Calories: optionalFloat(t, "calories"),
				AvgHR: optionalFloat(t, "avg hr"), MaxHR: optionalFloat(t, "max hr"),
				AscentM: optionalFloat(t, "ascent"), DescentM: optionalFloat(t, "descent"),
				AvgSpeed: optionalFloat(t, "avg speed"), MaxSpeed: optionalFloat(t, "max speed"),
				AvgPower: optionalFloat(t, "avg power"), AvgCadence: optionalFloat(t, "avg cadence"),
				Steps: optionalFloat(t, "steps"),
			},
		}
	})
}

// summaryFields maps each json tag of a Summary's figures to its value.
func summaryFields(s cairn.Summary) map[string]*float64 {
	out := map[string]*float64{}
	v := reflect.ValueOf(s)
	for i := range v.NumField() {
		if p, ok := v.Field(i).Interface().(*float64); ok {
			out[v.Type().Field(i).Tag.Get("json")] = p
		}
	}
	return out
}

func TestSummarizeProperties(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		a := activityGen().Draw(t, "activity")
		opts := Options{MaxHR: anyFloat(0, 220).Draw(t, "max hr option")}
		s := Summarize(a, opts)

		for field, p := range summaryFields(s) {
			if p != nil && (math.IsNaN(*p) || math.IsInf(*p, 0)) {
				t.Fatalf("%s = %v", field, *p)
			}
			src, has := s.Sources[field]
			if (p != nil) != has {
				t.Fatalf("%s: value %v but source %q", field, p, src)
			}
			if has && src != cairn.SummaryFromDevice && src != cairn.SummaryFromComputed {
				t.Fatalf("%s: source %q", field, src)
			}
		}
		if s.MovingTimeS != nil {
			if s.DurationS != nil && *s.MovingTimeS > *s.DurationS {
				t.Fatalf("moving %v > duration %v", *s.MovingTimeS, *s.DurationS)
			}
			if s.TimerTimeS != nil && *s.MovingTimeS > *s.TimerTimeS {
				t.Fatalf("moving %v > timer %v", *s.MovingTimeS, *s.TimerTimeS)
			}
			if *s.MovingTimeS < 0 {
				t.Fatalf("moving %v < 0", *s.MovingTimeS)
			}
		}
		if s.HRZones != nil {
			if len(s.HRZones) != 5 || s.Sources["hr_zones_s"] != cairn.SummaryFromComputed {
				t.Fatalf("HRZones = %v, source %q", s.HRZones, s.Sources["hr_zones_s"])
			}
			sum := 0.0
			for _, z := range s.HRZones {
				if z < 0 || math.IsNaN(z) || math.IsInf(z, 0) {
					t.Fatalf("HRZones = %v", s.HRZones)
				}
				sum += z
			}
			// Zones only count recorded time, which the computed timer sums
			// unless a device total or out-of-order timestamps capped it.
			uncapped := a.Totals.ElapsedS == nil && a.Totals.TimerS == nil && inOrder(a.Records)
			if uncapped && sum > *s.TimerTimeS+1e-6 {
				t.Fatalf("zones add up to %v, more than the timer's %v", sum, *s.TimerTimeS)
			}
		}
	})
}

func inOrder(recs []cairn.Record) bool {
	var last time.Time
	for _, r := range recs {
		if r.Time.IsZero() {
			continue
		}
		if r.Time.Before(last) {
			return false
		}
		last = r.Time
	}
	return true
}
