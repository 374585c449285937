package analysis

import "github.com/cairn-fit/cairn"

// Pause detection. An interval between two consecutive timed records is
// "moving" when
//
//   - it is no longer than MaxRecordingGap and the speed over it is at least
//     the sport's minimum moving speed (below);
//   - it is longer than MaxRecordingGap (the device stopped recording:
//     auto-pause, a manual pause, a lost sensor) and the distance covered
//     across it still implies at least the minimum moving speed, as when GPS
//     drops out in a tunnel. A gap without distance data counts as stopped.
//
// The speed over a short interval is, in order of preference, the change in
// the device's cumulative distance stream (already filtered by the device);
// the change along the GPS track, or the same over the interval widened by
// one record each side if that is slower, so that the metre or so a parked
// GPS wanders does not look like walking; the device's speed stream. When
// none is known (an indoor session without sensors) the interval is moving
// if power or cadence is above zero, and otherwise moving by default: the
// timer was running and nothing says the athlete stopped.
const (
	// MaxRecordingGap is the longest interval between records, in seconds,
	// that counts as continuous recording. Smart recording writes a record
	// every 1–8 s, so 10 s leaves room; longer means the device paused.
	MaxRecordingGap = 10.0
)

// profile is what pause detection and step counting need to know of a
// sport.
type profile struct {
	// minSpeed is the speed in m/s below which an interval counts as
	// stopped: slower than anyone moves on purpose in the sport.
	minSpeed float64
	// speedless sports (strength, yoga) are moving whenever the device
	// records: standing still is the exercise.
	speedless bool
	// onFoot sports count steps from cadence.
	onFoot bool
}

// profileOf returns the sport profile of t. The thresholds are
//
//	run, trail run, treadmill, walk  0.5 m/s  (1.8 km/h; the slowest walk is ~0.8)
//	hike                             0.3 m/s  (steep ground is slow going)
//	cycling of every kind            1.0 m/s  (nobody balances a bike slower)
//	swimming                         0.2 m/s  (a slow breaststroke is ~0.5)
//	rowing, paddling, skiing, other  0.5 m/s
//	strength, yoga                   no speed criterion
func profileOf(t cairn.ActivityType) profile {
	switch t {
	case cairn.ActivityRun, cairn.ActivityTrailRun, cairn.ActivityTreadmillRun, cairn.ActivityWalk:
		return profile{minSpeed: 0.5, onFoot: true}
	case cairn.ActivityHike:
		return profile{minSpeed: 0.3, onFoot: true}
	case cairn.ActivityRide, cairn.ActivityMountainBike, cairn.ActivityGravelRide, cairn.ActivityIndoorRide:
		return profile{minSpeed: 1.0}
	case cairn.ActivityPoolSwim, cairn.ActivityOpenWaterSwim:
		return profile{minSpeed: 0.2}
	case cairn.ActivityStrength, cairn.ActivityYoga:
		return profile{minSpeed: 0.5, speedless: true}
	}
	return profile{minSpeed: 0.5}
}
