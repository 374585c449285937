package analysis

import (
	"math"
	"testing"
	"time"

	"github.com/cairn-fit/cairn"
)

func near(t *testing.T, name string, got *float64, want, tol float64) {
	t.Helper()
	if got == nil {
		t.Errorf("%s = nil, want %v", name, want)
		return
	}
	if math.Abs(*got-want) > tol {
		t.Errorf("%s = %v, want %v ± %v", name, *got, want, tol)
	}
}

func TestSummarizeTenK(t *testing.T) {
	tests := []struct {
		name    string
		streams streams
		mode    pauseMode
	}{
		{"GPS only, auto-pause gap", streams{positions: true}, pauseAsGap},
		{"GPS only, standing still", streams{positions: true}, pauseAsStandstill},
		{"distance stream, gap", streams{distance: true}, pauseAsGap},
		{"distance stream, standing still", streams{distance: true}, pauseAsStandstill},
		{"all streams, standing still", streams{positions: true, distance: true, speed: true}, pauseAsStandstill},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := Summarize(tenK(tt.streams, tt.mode).activityOf(), Options{})
			near(t, "distance_m", s.DistanceM, 10000, 0.5)
			near(t, "duration_s", s.DurationS, 3060, 0)
			near(t, "moving_time_s", s.MovingTimeS, 3000, 0)
			near(t, "avg_pace", s.AvgPace, 300, 0.05)
			near(t, "avg_speed", s.AvgSpeed, 10000.0/3000, 0.001)
			near(t, "max_speed", s.MaxSpeed, 10000.0/3000, 0.01)
			wantTimer := 3060.0
			if tt.mode == pauseAsGap {
				wantTimer = 3000
			}
			near(t, "timer_time_s", s.TimerTimeS, wantTimer, 0)
			for field, src := range s.Sources {
				if src != cairn.SummaryFromComputed {
					t.Errorf("Sources[%s] = %q, want computed", field, src)
				}
			}
		})
	}
}

func TestSummarizeSpeedStreamOnly(t *testing.T) {
	// An indoor run with a footpod speed but no distance: moving time still
	// comes from the speed stream, distance and pace stay unknown.
	c := tenK(streams{speed: true}, pauseAsStandstill)
	c.activity = cairn.ActivityTreadmillRun
	s := Summarize(c.activityOf(), Options{})
	near(t, "moving_time_s", s.MovingTimeS, 3000, 1)
	if s.DistanceM != nil || s.AvgPace != nil || s.AvgSpeed != nil {
		t.Errorf("distance, pace, speed = %v, %v, %v; want nil", s.DistanceM, s.AvgPace, s.AvgSpeed)
	}
}

func TestSummarizeDeviceTotalsWin(t *testing.T) {
	a := tenK(streams{positions: true}, pauseAsGap).activityOf()
	a.Totals = cairn.DeviceTotals{
		DistanceM: ptr(10123),
		ElapsedS:  ptr(3065),
		Calories:  ptr(712),
		AvgHR:     ptr(151),
		AscentM:   ptr(42),
		AvgSpeed:  ptr(math.NaN()), // unusable: computed instead
		MaxSpeed:  ptr(-1),         // unusable: computed instead
	}
	s := Summarize(a, Options{})
	near(t, "distance_m", s.DistanceM, 10123, 0)
	near(t, "duration_s", s.DurationS, 3065, 0)
	near(t, "calories", s.Calories, 712, 0)
	near(t, "avg_hr", s.AvgHR, 151, 0)
	near(t, "elevation_gain", s.ElevationGain, 42, 0)
	near(t, "avg_speed", s.AvgSpeed, 10123.0/3000, 0.001)
	near(t, "avg_pace", s.AvgPace, 3000/10.123, 0.01) // derived from the device's distance
	want := map[string]string{
		"distance_m": "device", "duration_s": "device", "calories": "device", "avg_hr": "device",
		"elevation_gain": "device", "timer_time_s": "computed", "moving_time_s": "computed",
		"avg_speed": "computed", "avg_pace": "computed", "max_speed": "computed",
	}
	for field, src := range want {
		if s.Sources[field] != src {
			t.Errorf("Sources[%s] = %q, want %q", field, s.Sources[field], src)
		}
	}
	for _, field := range []string{"max_hr", "avg_power", "elevation_loss", "hr_zones_s", "steps"} {
		if _, ok := s.Sources[field]; ok {
			t.Errorf("Sources has %s though nothing gave it", field)
		}
	}
}

func TestSummarizeHeartRate(t *testing.T) {
	// Ten minutes at each of five heart rates with MaxHR 190: 100 bpm is
	// below 50 % (zone 1 all the same), then 63, 74, 84 and 95 %.
	levels := []float64{100, 120, 140, 160, 180}
	c := tenK(streams{positions: true}, pauseAsGap)
	c.heartRate = func(t int) float64 {
		if t >= c.pauseAt {
			t -= c.pauseS // the pause is a gap: count moving seconds
		}
		return levels[min(t/600, 4)]
	}
	s := Summarize(c.activityOf(), Options{MaxHR: 190})
	want := []float64{600, 600, 600, 600, 600}
	if len(s.HRZones) != 5 {
		t.Fatalf("HRZones = %v", s.HRZones)
	}
	sum := 0.0
	for i, z := range s.HRZones {
		sum += z
		if math.Abs(z-want[i]) > 1 {
			t.Errorf("zone %d: %v s, want %v", i+1, z, want[i])
		}
	}
	// Zones cover all the time with a heart rate: the 3000 s recorded.
	if sum != *s.TimerTimeS {
		t.Errorf("zones add up to %v s, want the %v s recorded", sum, *s.TimerTimeS)
	}
	near(t, "avg_hr", s.AvgHR, 140, 0.1)
	near(t, "max_hr", s.MaxHR, 180, 0)
	// 10 min moderate (140) + 2 × 20 min vigorous (160, 180).
	near(t, "intensity_minutes", s.IntensityMinutes, 10+2*20, 0.1)
}

func TestZonesFollowObservedMax(t *testing.T) {
	c := tenK(streams{positions: true}, pauseAsGap)
	c.heartRate = func(t int) float64 { return 200 } // above MaxHR 190: 200 becomes the max
	s := Summarize(c.activityOf(), Options{MaxHR: 190})
	if s.HRZones[4] != 3000 {
		t.Errorf("HRZones = %v, want all 3000 s in zone 5", s.HRZones)
	}
}

func TestSummarizeSteps(t *testing.T) {
	c := tenK(streams{distance: true}, pauseAsGap)
	c.cadence = 85 // strides per minute per foot
	s := Summarize(c.activityOf(), Options{})
	near(t, "steps", s.Steps, 2*85*50, 3)
	near(t, "stride_length", s.StrideLength, 10000.0/8500, 0.001)
	near(t, "avg_cadence", s.AvgCadence, 85, 0)

	c.activity = cairn.ActivityRide // cycling cadence is not steps
	if s := Summarize(c.activityOf(), Options{}); s.Steps != nil || s.StrideLength != nil {
		t.Errorf("ride: steps = %v, stride = %v; want nil", s.Steps, s.StrideLength)
	}
}

func TestMovingThresholdIsSportAware(t *testing.T) {
	// 0.8 m/s is a slow walk but a standing bike.
	c := course{speed: 0.8, movingS: 600, streams: streams{speed: true, distance: true},
		startPoint: cairn.LatLng{Lat: 46.5, Lng: 6.6}}
	for activity, want := range map[cairn.ActivityType]float64{
		cairn.ActivityWalk: 600, cairn.ActivityHike: 600, cairn.ActivityRide: 0, cairn.ActivityStrength: 600,
	} {
		c.activity = activity
		s := Summarize(c.activityOf(), Options{})
		near(t, string(activity)+" moving_time_s", s.MovingTimeS, want, 0)
	}
}

func TestIndoorRideStopsWithoutPowerOrCadence(t *testing.T) {
	var recs []cairn.Record
	for i := range 601 {
		r := emptyRecord(float64(i))
		r.Power, r.Cadence, r.HeartRate = 200, 90, 140
		if i >= 300 && i < 360 { // a minute off the pedals
			r.Power, r.Cadence = 0, 0
		}
		recs = append(recs, r)
	}
	s := Summarize(cairn.DecodedActivity{Type: cairn.ActivityIndoorRide, Indoor: true, Records: recs}, Options{})
	near(t, "moving_time_s", s.MovingTimeS, 540, 0)
	near(t, "avg_power", s.AvgPower, 200, 0)
	near(t, "avg_cadence", s.AvgCadence, 90, 0)
	if s.DistanceM != nil || s.AvgPace != nil || s.MaxSpeed != nil || s.ElevationGain != nil {
		t.Errorf("indoor ride: distance %v, pace %v, max speed %v, gain %v; want nil",
			s.DistanceM, s.AvgPace, s.MaxSpeed, s.ElevationGain)
	}
}

func TestPoolSwimWithDistanceStream(t *testing.T) {
	// 40 lengths of 25 m at 1 m/s with 20 s rests every 4 lengths, no GPS.
	var recs []cairn.Record
	dist, clock := 0.0, 0.0
	for length := range 40 {
		for range 25 {
			r := emptyRecord(clock)
			r.Distance = dist
			recs = append(recs, r)
			dist++
			clock++
		}
		if length%4 == 3 {
			for range 20 {
				r := emptyRecord(clock)
				r.Distance = dist
				recs = append(recs, r)
				clock++
			}
		}
	}
	last := emptyRecord(clock)
	last.Distance = dist
	recs = append(recs, last)
	s := Summarize(cairn.DecodedActivity{Type: cairn.ActivityPoolSwim, Indoor: true, Records: recs}, Options{})
	near(t, "distance_m", s.DistanceM, 1000, 0)
	near(t, "moving_time_s", s.MovingTimeS, 1000, 0)
	near(t, "duration_s", s.DurationS, 1200, 0)
	near(t, "avg_pace", s.AvgPace, 1000, 0)
}

func TestRouteWithoutTimestamps(t *testing.T) {
	// A planned GPX route: positions and altitude, no time.
	var recs []cairn.Record
	for i := range 1001 {
		r := emptyRecord(0)
		r.Time = time.Time{}
		r.Lat, r.Lon = 46.5+10*float64(i)/mPerDegLat, 6.6 // 10 km north
		r.Altitude = 500 + 0.1*float64(i)                 // 100 m up
		recs = append(recs, r)
	}
	s := Summarize(cairn.DecodedActivity{Type: cairn.ActivityHike, Records: recs}, Options{})
	near(t, "distance_m", s.DistanceM, 10000, 0.5)
	near(t, "elevation_gain", s.ElevationGain, 100, 1)
	near(t, "elevation_loss", s.ElevationLoss, 0, 0)
	if s.DurationS != nil || s.MovingTimeS != nil || s.TimerTimeS != nil || s.AvgPace != nil || s.AvgSpeed != nil || s.MaxSpeed != nil {
		t.Errorf("time-based figures of an untimed route: %+v", s)
	}
	if s.HRZones != nil || s.IntensityMinutes != nil {
		t.Errorf("heart-rate figures without heart rate: %v, %v", s.HRZones, s.IntensityMinutes)
	}
}

func TestGPSSpikeIgnored(t *testing.T) {
	c := tenK(streams{positions: true}, pauseAsGap)
	a := c.activityOf()
	a.Records[700].Lat += 5000 / mPerDegLat // one fix 5 km off
	a.Records[701].Lat, a.Records[701].Lon = 0, 0
	s := Summarize(a, Options{})
	near(t, "distance_m", s.DistanceM, 10000, 0.5)
	near(t, "max_speed", s.MaxSpeed, 10000.0/3000, 0.01)
	near(t, "moving_time_s", s.MovingTimeS, 3000, 0)
}

func TestSpeedStreamSpikeIgnored(t *testing.T) {
	a := tenK(streams{speed: true, distance: true}, pauseAsGap).activityOf()
	a.Records[100].Speed = 40
	s := Summarize(a, Options{})
	near(t, "max_speed", s.MaxSpeed, 10000.0/3000, 0.01)
}

func TestNoisyFlatElevation(t *testing.T) {
	a := tenK(streams{positions: true}, pauseAsStandstill).activityOf()
	state := uint64(1)
	for i := range a.Records {
		state = state*6364136223846793005 + 1442695040888963407
		a.Records[i].Altitude = 300 + 2*float64(state>>11)/float64(1<<53) - 1 // ±1 m
	}
	s := Summarize(a, Options{})
	near(t, "elevation_gain", s.ElevationGain, 0, 0.5)
	near(t, "elevation_loss", s.ElevationLoss, 0, 0.5)
}

func TestSummarizeEmpty(t *testing.T) {
	s := Summarize(cairn.DecodedActivity{Type: cairn.ActivityYoga}, Options{})
	if s.DistanceM != nil || s.DurationS != nil || len(s.Sources) != 0 || s.HRZones != nil {
		t.Errorf("summary of nothing = %+v", s)
	}
}
