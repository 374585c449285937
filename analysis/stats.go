package analysis

import (
	"math"
	"slices"
)

// opt is a computed figure that may be missing. some refuses NaN and
// infinities, so nothing that is not a number reaches a Summary.
type opt struct {
	v  float64
	ok bool
}

func some(v float64) opt { return opt{v: v, ok: !math.IsNaN(v) && !math.IsInf(v, 0)} }

var none opt

// weighted accumulates a time-weighted mean.
type weighted struct{ sum, weight float64 }

func (w *weighted) add(x, dt float64) {
	if !math.IsNaN(x) {
		w.sum += x * dt
		w.weight += dt
	}
}

func (w weighted) mean() opt {
	if w.weight > 0 {
		return some(w.sum / w.weight)
	}
	return none
}

// movingMean returns the mean of xs (per timed record) over the moving
// intervals, each record's value holding until the next record. When no
// moving time carries a value (records without timestamps, say) it falls
// back to the plain mean of all (per record, timed or not). skipZero
// leaves out zeros, for cadence: coasting is not a cadence.
func movingMean(xs []float64, iv []interval, all []float64, skipZero bool) opt {
	use := func(x float64) bool { return !math.IsNaN(x) && !(skipZero && x == 0) }
	var w weighted
	for i, in := range iv {
		if in.moving && use(xs[i]) {
			w.add(xs[i], in.dt)
		}
	}
	if m := w.mean(); m.ok {
		return m
	}
	var plain weighted
	for _, x := range all {
		if use(x) {
			plain.add(x, 1)
		}
	}
	return plain.mean()
}

// maxOf returns the largest value of xs that is not NaN.
func maxOf(xs []float64) opt {
	best := none
	for _, x := range xs {
		if !math.IsNaN(x) && (!best.ok || x > best.v) {
			best = some(x)
		}
	}
	return best
}

// robustMax returns the largest running median of three consecutive known
// values: a peak must last two samples to count, so a single-sample spike
// (a GPS jump, a wheel-magnet double count) is ignored.
func robustMax(xs []float64) opt {
	known := make([]float64, 0, len(xs))
	for _, x := range xs {
		if !math.IsNaN(x) {
			known = append(known, x)
		}
	}
	if len(known) < 3 {
		return maxOf(known)
	}
	best, win := math.Inf(-1), make([]float64, 3)
	for i := 1; i+1 < len(known); i++ {
		copy(win, known[i-1:i+2])
		slices.Sort(win)
		best = math.Max(best, win[1])
	}
	return some(best)
}

// Heart-rate zones are fractions of the maximum heart rate: zone 1 from 50 %,
// then 60, 70, 80 and 90 %. Time below 50 % is counted in zone 1 so that the
// zones add up to all the time with a heart rate; a warm-up or a stop at a
// crossing is easy effort, not missing data.
var zoneFloors = [5]float64{0.5, 0.6, 0.7, 0.8, 0.9}

// Intensity minutes follow Garmin's rule: each minute at or above 70 % of
// the maximum heart rate (moderate) counts once, each at or above 80 %
// (vigorous) twice. Garmin has at times counted only sustained bouts;
// cairn counts every minute, so short efforts add up too.
const (
	moderateFloor = 0.7
	vigorousFloor = 0.8
)

// zone returns the 0-based zone of a heart-rate fraction of the maximum.
func zone(frac float64) int {
	z := 0
	for i, floor := range zoneFloors[1:] {
		if frac >= floor {
			z = i + 1
		}
	}
	return z
}

// heartZones returns the seconds in each zone and the intensity minutes
// over the time the device was recording, each record's heart rate holding
// until the next record. Both are missing when no such time has a heart
// rate.
func heartZones(hr []float64, iv []interval, maxHR float64) ([]float64, opt) {
	zones, minutes, seen := make([]float64, len(zoneFloors)), 0.0, false
	for i, in := range iv {
		if !in.timer || math.IsNaN(hr[i]) {
			continue
		}
		seen = true
		frac := hr[i] / maxHR
		zones[zone(frac)] += in.dt
		switch {
		case frac >= vigorousFloor:
			minutes += 2 * in.dt / 60
		case frac >= moderateFloor:
			minutes += in.dt / 60
		}
	}
	if !seen {
		return nil, none
	}
	return zones, some(minutes)
}

// steps integrates cadence over the recording time. FIT, TCX and Garmin's
// GPX extensions give running cadence in strides per minute (one foot), so
// steps per minute are twice the cadence.
func steps(cadence []float64, iv []interval) opt {
	total, seen := 0.0, false
	for i, in := range iv {
		if in.timer && !math.IsNaN(cadence[i]) {
			total += 2 * cadence[i] * in.dt / 60
			seen = true
		}
	}
	if !seen {
		return none
	}
	return some(total)
}
