package geo

import (
	"math"
	"slices"
)

// Elevation smoothing. Altimeters are noisy (GPS altitude by several metres,
// barometers by a metre or so) and a naive sum of every rise counts that
// noise as climbing. ElevationGainLoss therefore
//
//  1. drops NaN samples and values beyond ±maxAltitude,
//  2. runs a 5-sample median filter, which removes one- and two-sample
//     spikes (a lost barometer reading, a GPS altitude jump) without
//     rounding off real summits the way an average would,
//  3. runs a 5-sample centred moving average to damp the remaining jitter,
//  4. counts only swings of at least ElevationHysteresis metres between a
//     confirmed low and a confirmed high.
//
// Step 4 is a hysteresis, not a per-step threshold: a 20 m climb made of
// 0.5 m steps counts 20 m, while ±1 m of noise on a flat road counts 0.
// Real undulations smaller than the hysteresis are lost; that is the price
// of not counting noise, and matches what devices and sites report.
const (
	ElevationHysteresis = 3.0 // metres
	elevationWindow     = 5   // samples, for both filters

	// maxAltitude bounds what counts as an altitude at all: beyond 100 km
	// (the Kármán line) a value is a decoding glitch, and dropping it keeps
	// the sums below from overflowing.
	maxAltitude = 100_000.0
)

// ElevationGainLoss returns the total ascent and descent in metres of an
// altitude profile, smoothed as described above. ok is false when the
// profile has fewer than two usable samples. Samples are taken in order
// without regard to time or distance, so a GPX route without timestamps
// works the same as a 1 Hz recording.
func ElevationGainLoss(altitudes []float64) (gain, loss float64, ok bool) {
	alt := make([]float64, 0, len(altitudes))
	for _, a := range altitudes {
		if math.Abs(a) <= maxAltitude {
			alt = append(alt, a)
		}
	}
	if len(alt) < 2 {
		return 0, 0, false
	}
	alt = movingAverage(medianFilter(alt, elevationWindow), elevationWindow)
	gain, loss = hysteresis(alt, ElevationHysteresis)
	return gain, loss, true
}

// medianFilter returns the centred running median of xs over window samples,
// shrinking the window symmetrically at the ends.
func medianFilter(xs []float64, window int) []float64 {
	half := window / 2
	out := make([]float64, len(xs))
	buf := make([]float64, 0, window)
	for i := range xs {
		h := min(half, i, len(xs)-1-i)
		buf = append(buf[:0], xs[i-h:i+h+1]...)
		slices.Sort(buf)
		out[i] = buf[len(buf)/2]
	}
	return out
}

// movingAverage returns the centred running mean of xs over window samples,
// shrinking the window symmetrically at the ends so that the first and last
// altitudes stay anchored.
func movingAverage(xs []float64, window int) []float64 {
	half := window / 2
	out := make([]float64, len(xs))
	for i := range xs {
		h := min(half, i, len(xs)-1-i)
		sum := 0.0
		for _, x := range xs[i-h : i+h+1] {
			sum += x
		}
		out[i] = sum / float64(2*h+1)
	}
	return out
}

// hysteresis sums the climbs and descents of alt that are at least
// threshold high. It tracks the last confirmed turning point (ref) and the
// extreme reached since; a move of threshold back from that extreme
// confirms it as the next turning point.
func hysteresis(alt []float64, threshold float64) (gain, loss float64) {
	const (
		unknown = iota
		climbing
		descending
	)
	// Until the first swing is confirmed, lo and hi bracket the start so
	// that the first climb counts from the lowest point before it.
	lo, hi := alt[0], alt[0]
	var ref, ext float64
	dir := unknown
	for _, a := range alt[1:] {
		switch dir {
		case unknown:
			lo, hi = math.Min(lo, a), math.Max(hi, a)
			if a-lo >= threshold {
				ref, ext, dir = lo, a, climbing
			} else if hi-a >= threshold {
				ref, ext, dir = hi, a, descending
			}
		case climbing:
			if a > ext {
				ext = a
			} else if ext-a >= threshold {
				gain += ext - ref
				ref, ext, dir = ext, a, descending
			}
		case descending:
			if a < ext {
				ext = a
			} else if a-ext >= threshold {
				loss += ref - ext
				ref, ext, dir = ext, a, climbing
			}
		}
	}
	// The last swing is real even though nothing came back to confirm it.
	switch dir {
	case climbing:
		gain += ext - ref
	case descending:
		loss += ref - ext
	}
	return gain, loss
}
