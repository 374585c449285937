package analysis

import (
	"math"
	"time"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/geo"
)

var t0 = time.Date(2024, 5, 1, 8, 0, 0, 0, time.UTC)

// mPerDegLat converts metres north into degrees of latitude. Along a
// meridian the haversine distance is exactly R·Δφ, so a synthetic course
// laid out due north has a known length.
const mPerDegLat = geo.EarthRadius * math.Pi / 180

// emptyRecord returns a record at second t with every field missing.
func emptyRecord(t float64) cairn.Record {
	nan := math.NaN()
	return cairn.Record{
		Time: t0.Add(time.Duration(t * float64(time.Second))),
		Lat:  nan, Lon: nan, Altitude: nan, HeartRate: nan, Cadence: nan,
		Power: nan, Speed: nan, Distance: nan, Temperature: nan,
	}
}

// streams says which fields a synthetic recording carries.
type streams struct {
	positions, distance, speed bool
}

// pauseMode says how a synthetic pause appears in the records.
type pauseMode int

const (
	pauseAsGap        pauseMode = iota // no records while paused (auto-pause)
	pauseAsStandstill                  // records continue at the same place
)

// course describes a constant-speed activity with one pause.
type course struct {
	speed      float64 // m/s
	movingS    int     // seconds of movement
	pauseAt    int     // seconds into the movement
	pauseS     int     // seconds of pause
	pause      pauseMode
	streams    streams
	heartRate  func(t int) float64 // nil: none
	cadence    float64             // 0: none
	activity   cairn.ActivityType
	startPoint cairn.LatLng
}

// records lays the course out due north at 1 Hz.
func (c course) records() []cairn.Record {
	var recs []cairn.Record
	for t := 0; t <= c.movingS+c.pauseS; t++ {
		moved, paused := c.progress(t)
		if paused && c.pause == pauseAsGap && t != c.pauseAt && t != c.pauseAt+c.pauseS {
			continue
		}
		r := emptyRecord(float64(t))
		x := c.speed * float64(moved)
		if c.streams.positions {
			r.Lat, r.Lon = c.startPoint.Lat+x/mPerDegLat, c.startPoint.Lng
		}
		if c.streams.distance {
			r.Distance = x
		}
		if c.streams.speed {
			r.Speed = c.speed
			if paused {
				r.Speed = 0
			}
		}
		if c.heartRate != nil {
			r.HeartRate = c.heartRate(t)
		}
		if c.cadence > 0 && !paused {
			r.Cadence = c.cadence
		}
		recs = append(recs, r)
	}
	return recs
}

// progress returns the seconds of movement done by second t and whether
// the athlete is standing at t (pause edges included).
func (c course) progress(t int) (moved int, paused bool) {
	switch {
	case t < c.pauseAt:
		return t, false
	case t <= c.pauseAt+c.pauseS:
		return c.pauseAt, true
	}
	return t - c.pauseS, false
}

func (c course) activityOf() cairn.DecodedActivity {
	recs := c.records()
	return cairn.DecodedActivity{
		Type:    c.activity,
		Start:   recs[0].Time,
		End:     recs[len(recs)-1].Time,
		Records: recs,
	}
}

// tenK is the brief's example: 10 km at constant speed in 3000 s of
// running with a 60 s pause half way.
func tenK(s streams, mode pauseMode) course {
	return course{
		speed: 10000.0 / 3000, movingS: 3000, pauseAt: 1500, pauseS: 60, pause: mode,
		streams: s, activity: cairn.ActivityRun, startPoint: cairn.LatLng{Lat: 46.5, Lng: 6.6},
	}
}

func ptr(v float64) *float64 { return &v }
