package analysis

import (
	"math"
	"time"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/geo"
)

// Plausible ranges of the sensor streams. A value outside is a glitch (or a
// decoder's "invalid" marker that slipped through) and is ignored.
const (
	hrLow, hrHigh = 20.0, 250.0 // bpm
	powerHigh     = 3000.0      // W; track sprinters peak near 2500
	cadenceHigh   = 300.0       // rpm or strides per minute
	distanceHigh  = 1e8         // m; 100,000 km in one activity is not one
	speedHigh     = geo.MaxPlausibleSpeed
)

// speedSmoothing is how many records each side widen an interval when its
// speed comes from the GPS track.
const speedSmoothing = 1

// timeline holds the timed records of an activity as parallel series, in
// seconds since the first timestamp. Every series is NaN where unknown.
type timeline struct {
	t       []float64
	dist    []float64 // cumulative metres, interpolated across gaps in the data
	speed   []float64 // the device's speed stream
	hr      []float64
	power   []float64
	cadence []float64
	// distFromStream is true when dist is the device's own distance stream
	// rather than the GPS track.
	distFromStream bool
}

// distance holds an activity's cumulative distance per record and its total.
type distance struct {
	cum        []float64 // per record, NaN where unknown
	total      opt
	fromStream bool
}

// measureDistance returns the cumulative distance of records: the device's
// distance stream when there is one, otherwise the haversine length of the
// GPS track as geo.Track cleans it (null-island fixes and spikes faster
// than geo.MaxPlausibleSpeed dropped, jumps not counted).
func measureDistance(records []cairn.Record) distance {
	d := distance{cum: make([]float64, len(records))}
	best, samples := -1.0, 0
	for i, r := range records {
		d.cum[i] = math.NaN()
		if v := r.Distance; v >= 0 && v <= distanceHigh {
			// A cumulative distance cannot shrink: hold the running max.
			best = math.Max(best, v)
			d.cum[i] = best
			samples++
		}
	}
	// A lone sample (a 0 in the first record, say) is not a stream.
	if samples >= 2 {
		// The stream's maximum is the total. (A stream that starts above
		// zero, say a multisport leg counting on from the last, would be
		// overcounted; no decoder has produced one yet.)
		d.total, d.fromStream = some(best), true
		return d
	}
	for i := range d.cum {
		d.cum[i] = math.NaN()
	}
	track := geo.Track(records)
	total := 0.0
	for k, p := range track {
		if k > 0 && !p.Jump {
			total += geo.Haversine(track[k-1].LatLng, p.LatLng)
		}
		d.cum[p.Index] = total
	}
	if len(track) > 0 {
		d.total = some(total)
	}
	return d
}

// newTimeline gathers the records that have a timestamp.
func newTimeline(records []cairn.Record, cols recordColumns, d distance) timeline {
	n := len(records)
	tl := timeline{
		t: make([]float64, 0, n), dist: make([]float64, 0, n), speed: make([]float64, 0, n),
		hr: make([]float64, 0, n), power: make([]float64, 0, n), cadence: make([]float64, 0, n),
		distFromStream: d.fromStream,
	}
	var t0 time.Time
	for i, r := range records {
		if r.Time.IsZero() {
			continue
		}
		if t0.IsZero() {
			t0 = r.Time
		}
		tl.t = append(tl.t, r.Time.Sub(t0).Seconds())
		tl.dist = append(tl.dist, d.cum[i])
		tl.speed = append(tl.speed, cols.speed[i])
		tl.hr = append(tl.hr, cols.hr[i])
		tl.power = append(tl.power, cols.power[i])
		tl.cadence = append(tl.cadence, cols.cadence[i])
	}
	interpolate(tl.t, tl.dist)
	return tl
}

// within returns x when it lies in [lo, hi] and NaN otherwise.
func within(x, lo, hi float64) float64 {
	if x >= lo && x <= hi {
		return x
	}
	return math.NaN()
}

// interpolate fills the NaNs of ys that lie between two known values
// linearly in t, so that a GPS dropout reads as steady progress rather than
// a stop followed by a sprint. NaNs before the first and after the last
// known value stay NaN.
func interpolate(t, ys []float64) {
	prev := -1
	for i, y := range ys {
		if math.IsNaN(y) {
			continue
		}
		if prev >= 0 && i-prev > 1 {
			span := t[i] - t[prev]
			for j := prev + 1; j < i; j++ {
				f := 0.0
				if span > 0 {
					f = math.Max(0, math.Min(1, (t[j]-t[prev])/span))
				}
				ys[j] = ys[prev] + f*(y-ys[prev])
			}
		}
		prev = i
	}
}

// rate returns the distance per second between records lo and hi, NaN when
// unknown.
func (tl *timeline) rate(lo, hi int) float64 {
	dt := tl.t[hi] - tl.t[lo]
	if !(dt > 0) {
		return math.NaN()
	}
	return (tl.dist[hi] - tl.dist[lo]) / dt
}

// intervalSpeed returns the speed over the interval from record i to i+1
// as the package comment on pause detection describes, NaN when unknown.
func (tl *timeline) intervalSpeed(i int) float64 {
	raw := tl.rate(i, i+1)
	gap := tl.t[i+1]-tl.t[i] > MaxRecordingGap
	switch {
	case math.IsNaN(raw) && gap:
		return raw // the speed at either end says nothing of the gap
	case math.IsNaN(raw):
		return nanMean(tl.speed[i], tl.speed[i+1])
	case gap || tl.distFromStream:
		return raw
	}
	return math.Min(raw, tl.rate(tl.widen(i)))
}

// widen returns the interval i..i+1 grown by up to speedSmoothing records
// on each side, without crossing a recording gap or unknown distance.
func (tl *timeline) widen(i int) (lo, hi int) {
	lo, hi = i, i+1
	for range speedSmoothing {
		if lo > 0 && tl.t[lo]-tl.t[lo-1] <= MaxRecordingGap && !math.IsNaN(tl.dist[lo-1]) {
			lo--
		}
		if hi+1 < len(tl.t) && tl.t[hi+1]-tl.t[hi] <= MaxRecordingGap && !math.IsNaN(tl.dist[hi+1]) {
			hi++
		}
	}
	return lo, hi
}

// nanMean returns the mean of the values that are not NaN, NaN if none is.
func nanMean(xs ...float64) float64 {
	sum, n := 0.0, 0
	for _, x := range xs {
		if !math.IsNaN(x) {
			sum += x
			n++
		}
	}
	if n == 0 {
		return math.NaN()
	}
	return sum / float64(n)
}

// interval is the classification of the span between two timed records.
type interval struct {
	dt     float64 // seconds; zero for out-of-order timestamps
	speed  float64 // m/s, NaN when unknown
	moving bool
	timer  bool // the device was recording: short, or a gap that covered ground
}

// intervals classifies the spans between consecutive timed records.
func (tl *timeline) intervals(p profile) []interval {
	if len(tl.t) < 2 {
		return nil
	}
	out := make([]interval, len(tl.t)-1)
	for i := range out {
		dt := tl.t[i+1] - tl.t[i]
		if !(dt > 0) {
			continue // a repeated or backward timestamp takes no time
		}
		v := tl.intervalSpeed(i)
		moving := tl.moving(i, dt, v, p)
		out[i] = interval{dt: dt, speed: v, moving: moving, timer: moving || dt <= MaxRecordingGap}
	}
	return out
}

func (tl *timeline) moving(i int, dt, v float64, p profile) bool {
	switch {
	case dt > MaxRecordingGap:
		return v >= p.minSpeed // NaN: no sign of motion across the gap
	case p.speedless:
		return true
	case !math.IsNaN(v):
		return v >= p.minSpeed
	case !math.IsNaN(tl.power[i]) || !math.IsNaN(tl.cadence[i]):
		return tl.power[i] > 0 || tl.cadence[i] > 0
	}
	return true
}
