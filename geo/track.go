package geo

import (
	"math"

	"github.com/cairn-fit/cairn"
)

// MaxPlausibleSpeed is the fastest movement between two fixes, in metres
// per second, that Track believes. 100 m/s (360 km/h) is beyond any human
// powered sport, a ski racer or a glider, yet far below what a GPS glitch
// implies when it throws a fix kilometres away.
const MaxPlausibleSpeed = 100.0

// maxSpikeRun is how many fixes in a row Track rejects before it decides
// that the last accepted fix, not the new ones, was wrong (or that the
// recording really jumped: a file joined from two recordings, a ferry with
// the watch off). It then restarts from the first rejected fix and checks
// the others again against it, so that a wrong fix costs only itself.
const maxSpikeRun = 5

// TrackPoint is a position of a recording that Track kept.
type TrackPoint struct {
	cairn.LatLng
	// Index is the record's index in the recording.
	Index int
	// Jump is true when the step from the previous point is not travel:
	// Track restarted after a run of implausible fixes. Distances must not
	// count it.
	Jump bool
}

// Track returns the usable positions of records in order: without NaN or
// out-of-range coordinates, without (0, 0) placeholders, and, when records
// carry timestamps, without GPS spikes (fixes that imply moving faster than
// MaxPlausibleSpeed from the last kept fix). Records without timestamps (a
// GPX route) cannot be checked for speed and are kept as they are.
func Track(records []cairn.Record) []TrackPoint {
	var (
		track    []TrackPoint
		rejected []int // indices of the fixes rejected since the last kept one
	)
	for i := 0; i < len(records); i++ {
		p := cairn.LatLng{Lat: records[i].Lat, Lng: records[i].Lon}
		if !Usable(p) {
			continue
		}
		jump := false
		if n := len(track); n > 0 && implausible(records[track[n-1].Index], records[i], track[n-1].LatLng, p) {
			if rejected = append(rejected, i); len(rejected) < maxSpikeRun {
				continue
			}
			i, jump = rejected[0], true
			p = cairn.LatLng{Lat: records[i].Lat, Lng: records[i].Lon}
		}
		rejected = rejected[:0]
		track = append(track, TrackPoint{LatLng: p, Index: i, Jump: jump})
	}
	return dropStrays(track)
}

// implausible reports whether going from fix a (record ra) to fix b (record
// rb) needs more than MaxPlausibleSpeed. Timestamps have one-second
// resolution in most formats, so the time between fixes counts as at least
// a second.
func implausible(ra, rb cairn.Record, a, b cairn.LatLng) bool {
	if ra.Time.IsZero() || rb.Time.IsZero() {
		return false
	}
	dt := math.Max(math.Abs(rb.Time.Sub(ra.Time).Seconds()), 1)
	return Haversine(a, b)/dt > MaxPlausibleSpeed
}

// dropStrays removes the points that stand alone between two jumps (or
// between the start or end and a jump): single wild fixes that Track could
// only recognise after the fact, typically the first fix of a cold GPS. A
// track made of nothing but such points is left as it is.
func dropStrays(track []TrackPoint) []TrackPoint {
	stray := func(i int) bool {
		return (i == 0 || track[i].Jump) && (i+1 == len(track) || track[i+1].Jump)
	}
	strays := 0
	for i := range track {
		if stray(i) {
			strays++
		}
	}
	if strays == 0 || strays == len(track) {
		return track
	}
	out := make([]TrackPoint, 0, len(track)-strays)
	for i, p := range track {
		if stray(i) {
			continue
		}
		if len(out) == 0 {
			p.Jump = false // nothing before it to jump from
		}
		out = append(out, p)
	}
	return out
}
