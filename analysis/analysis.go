// Package analysis computes an activity's summary from its records and the
// totals the device wrote into the file. The device's figure wins wherever
// the file has one (it saw sensors and corrections the records do not
// carry); every other figure is computed from the records. Summary.Sources
// says which is which.
//
// No figure is ever NaN or infinite: what cannot be computed (a pace
// without distance, a moving time without timestamps) is nil.
package analysis

import (
	"math"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/geo"
)

// DefaultMaxHR is the maximum heart rate, in bpm, assumed when Options
// does not give one.
const DefaultMaxHR = 190.0

// Options tune Summarize.
type Options struct {
	// MaxHR is the athlete's maximum heart rate in bpm, the base of the
	// heart-rate zones and intensity minutes; zero means DefaultMaxHR. A
	// higher heart rate seen in the recording replaces it.
	MaxHR float64
}

// Summarize returns the summary of a decoded activity. ActivityID, UserID
// and UpdatedAt are left for the caller. Computed figures:
//
//   - distance: the maximum of the device's distance stream, else the
//     length of the GPS track cleaned by geo.Track;
//   - duration: last minus first timestamp (elapsed time);
//   - timer time: the time the device was recording, that is every
//     interval between records up to MaxRecordingGap long plus longer gaps
//     that covered ground;
//   - moving time: the recording time spent moving, as MaxRecordingGap
//     describes, capped by the timer time and the duration;
//   - avg speed and avg pace: distance over moving time;
//   - avg heart rate, power and cadence: time-weighted over the moving
//     intervals, each record's value holding until the next (zero cadence,
//     coasting, left out); the plain mean of the samples when nothing is
//     timed;
//   - max heart rate: the highest sample between 20 and 250 bpm;
//   - max speed: the highest running median of three samples of the
//     device's speed stream, else of the interval speeds, so that a
//     one-sample spike does not count;
//   - steps (on-foot sports only): twice the cadence integrated over the
//     recording time, cadence being strides per minute per foot as FIT and
//     TCX give it; stride length: distance per step;
//   - heart-rate zones: seconds of recording time in zones starting at 50,
//     60, 70, 80 and 90 % of the maximum heart rate (Options.MaxHR or the
//     highest seen), time below 50 % counting in zone 1 so that the zones
//     add up to all the time with a heart rate;
//   - intensity minutes: Garmin's rule, each minute at or above 70 % of the
//     maximum heart rate counting once and at or above 80 % twice, without
//     a minimum bout length;
//   - elevation gain and loss: geo.ElevationGainLoss of the altitudes.
//
// Calories are never computed (that needs weight, age and more): they come
// from the device or not at all.
func Summarize(a cairn.DecodedActivity, opts Options) cairn.Summary {
	c := compute(a, opts)
	s := cairn.Summary{Sources: map[string]string{}}
	b := builder{&s}
	t := a.Totals

	b.put("distance_m", &s.DistanceM, t.DistanceM, c.distance)
	b.put("duration_s", &s.DurationS, t.ElapsedS, c.duration)
	b.put("timer_time_s", &s.TimerTimeS, t.TimerS, capAt(c.timer, s.DurationS))
	b.put("moving_time_s", &s.MovingTimeS, nil, capAt(c.moving, s.TimerTimeS, s.DurationS))
	b.put("calories", &s.Calories, t.Calories, none) // needs weight and more: device only
	b.put("avg_hr", &s.AvgHR, t.AvgHR, c.avgHR)
	b.put("max_hr", &s.MaxHR, t.MaxHR, c.maxHR)
	b.put("avg_speed", &s.AvgSpeed, t.AvgSpeed, ratio(s.DistanceM, s.MovingTimeS, 1))
	b.put("avg_pace", &s.AvgPace, nil, ratio(s.MovingTimeS, s.DistanceM, 0.001))
	b.put("max_speed", &s.MaxSpeed, t.MaxSpeed, c.maxSpeed)
	b.put("avg_power", &s.AvgPower, t.AvgPower, c.avgPower)
	b.put("avg_cadence", &s.AvgCadence, t.AvgCadence, c.avgCadence)
	b.put("steps", &s.Steps, t.Steps, c.steps)
	b.put("stride_length", &s.StrideLength, nil, ratio(s.DistanceM, s.Steps, 1))
	b.put("intensity_minutes", &s.IntensityMinutes, nil, c.intensity)
	b.put("elevation_gain", &s.ElevationGain, t.AscentM, c.gain)
	b.put("elevation_loss", &s.ElevationLoss, t.DescentM, c.loss)
	if c.zones != nil {
		s.HRZones = c.zones
		s.Sources["hr_zones_s"] = cairn.SummaryFromComputed
	}
	return s
}

// builder fills a Summary field by field, recording each field's source.
type builder struct{ s *cairn.Summary }

// put sets *dst to the device's value when the file has a usable one
// (finite and not negative) and to the computed value otherwise; it leaves
// *dst nil when neither exists.
func (b builder) put(field string, dst **float64, device *float64, computed opt) {
	if device != nil && *device >= 0 && !math.IsInf(*device, 1) {
		v := *device
		*dst = &v
		b.s.Sources[field] = cairn.SummaryFromDevice
		return
	}
	if computed.ok {
		v := computed.v
		*dst = &v
		b.s.Sources[field] = cairn.SummaryFromComputed
	}
}

// capAt lowers c to the smallest of the limits that are known.
func capAt(c opt, limits ...*float64) opt {
	for _, l := range limits {
		if c.ok && l != nil && *l < c.v {
			c.v = *l
		}
	}
	return c
}

// ratio returns num / (den × scale), missing unless both are known and the
// denominator is positive.
func ratio(num, den *float64, scale float64) opt {
	if num == nil || den == nil || !(*den > 0) {
		return none
	}
	return some(*num / (*den * scale))
}

// computed holds the figures computed from the records.
type computed struct {
	distance, duration, timer, moving opt
	avgHR, maxHR, maxSpeed            opt
	avgPower, avgCadence, steps       opt
	intensity, gain, loss             opt
	zones                             []float64
}

func compute(a cairn.DecodedActivity, opts Options) computed {
	var c computed
	if len(a.Records) == 0 {
		return c
	}
	all := columns(a.Records)
	d := measureDistance(a.Records)
	c.distance = d.total
	if gain, loss, ok := geo.ElevationGainLoss(all.altitude); ok {
		c.gain, c.loss = some(gain), some(loss)
	}
	c.maxHR = maxOf(all.hr)

	p := profileOf(a.Type)
	tl := newTimeline(a.Records, all, d)
	iv := tl.intervals(p)
	if len(tl.t) > 0 {
		c.duration = some(spanOf(tl.t))
		c.timer, c.moving = recordingTimes(iv)
	}
	c.avgHR = movingMean(tl.hr, iv, all.hr, false)
	c.avgPower = movingMean(tl.power, iv, all.power, false)
	c.avgCadence = movingMean(tl.cadence, iv, all.cadence, true)
	c.maxSpeed = tl.maxSpeed(iv)
	c.zones, c.intensity = heartZones(tl.hr, iv, zoneBase(opts, c.maxHR))
	if p.onFoot {
		c.steps = steps(tl.cadence, iv)
	}
	return c
}

// zoneBase returns the maximum heart rate the zones are fractions of.
func zoneBase(opts Options, observed opt) float64 {
	base := DefaultMaxHR
	if opts.MaxHR > 0 && !math.IsInf(opts.MaxHR, 1) {
		base = opts.MaxHR
	}
	if observed.ok && observed.v > base {
		base = observed.v
	}
	return base
}

// spanOf returns the time between the earliest and the latest timestamp,
// robust to records out of order.
func spanOf(t []float64) float64 {
	lo, hi := t[0], t[0]
	for _, x := range t {
		lo, hi = math.Min(lo, x), math.Max(hi, x)
	}
	return hi - lo
}

// recordingTimes sums the timer and the moving time of the intervals.
func recordingTimes(iv []interval) (timer, moving opt) {
	var tsum, msum float64
	for _, in := range iv {
		if in.timer {
			tsum += in.dt
		}
		if in.moving {
			msum += in.dt
		}
	}
	return some(tsum), some(msum)
}

// maxSpeed returns the robust maximum of the device's speed stream, or of
// the interval speeds when there is no stream.
func (tl *timeline) maxSpeed(iv []interval) opt {
	if m := robustMax(tl.speed); m.ok {
		return m
	}
	speeds := make([]float64, len(iv))
	for i, in := range iv {
		speeds[i] = math.NaN()
		if in.dt > 0 && in.dt <= MaxRecordingGap && in.speed <= speedHigh {
			speeds[i] = in.speed
		}
	}
	return robustMax(speeds)
}

// recordColumns holds per-record series over all records, timed or not,
// with implausible values replaced by NaN.
type recordColumns struct {
	altitude, speed, hr, power, cadence []float64
}

func columns(records []cairn.Record) recordColumns {
	n := len(records)
	c := recordColumns{
		altitude: make([]float64, n),
		speed:    make([]float64, n),
		hr:       make([]float64, n),
		power:    make([]float64, n),
		cadence:  make([]float64, n),
	}
	for i, r := range records {
		c.altitude[i] = r.Altitude
		c.speed[i] = within(r.Speed, 0, speedHigh)
		c.hr[i] = within(r.HeartRate, hrLow, hrHigh)
		c.power[i] = within(r.Power, 0, powerHigh)
		c.cadence[i] = within(r.Cadence, 0, cadenceHigh)
	}
	return c
}
