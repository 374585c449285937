package analysis

import (
	"math"
	"testing"

	"github.com/cairn-fit/cairn"
)

// syntheticRide returns a 10-hour ride at 1 Hz with every stream: a loop
// of rolling hills at 8 m/s with a stop every hour.
func syntheticRide(n int) cairn.DecodedActivity {
	recs := make([]cairn.Record, n)
	dist := 0.0
	for i := range recs {
		r := emptyRecord(float64(i))
		speed := 8 + 2*math.Sin(float64(i)/300)
		if i%3600 >= 3500 { // a hundred seconds at a café every hour
			speed = 0
		}
		dist += speed
		angle := dist / 20000 // a loop of 20 km radius
		r.Lat = 46.5 + 20000*math.Sin(angle)/mPerDegLat
		r.Lon = 6.6 + 20000*(1-math.Cos(angle))/(mPerDegLat*math.Cos(46.5*math.Pi/180))
		r.Altitude = 500 + 80*math.Sin(dist/3000) + 0.5*math.Sin(float64(i)*1.7)
		r.Speed, r.Distance = speed, dist
		r.HeartRate = 120 + 30*math.Sin(float64(i)/900)
		r.Power = 180 + 60*math.Sin(float64(i)/120)
		r.Cadence = 88
		recs[i] = r
	}
	return cairn.DecodedActivity{Type: cairn.ActivityRide, Records: recs}
}

func BenchmarkSummarize(b *testing.B) {
	a := syntheticRide(36_000)
	b.ReportAllocs()
	for b.Loop() {
		Summarize(a, Options{MaxHR: 185})
	}
}

func TestSyntheticRide(t *testing.T) {
	s := Summarize(syntheticRide(36_000), Options{MaxHR: 185})
	near(t, "duration_s", s.DurationS, 35_999, 0)
	near(t, "moving_time_s", s.MovingTimeS, 36_000-10*100, 15)
	if *s.DistanceM < 250_000 || *s.DistanceM > 300_000 {
		t.Errorf("distance_m = %v", *s.DistanceM)
	}
	if s.Steps != nil {
		t.Errorf("a ride has no steps: %v", *s.Steps)
	}
}
