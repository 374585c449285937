package sim

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/muktihari/fit/profile/typedef"
)

// sport is how one kind of activity is generated and what each provider
// calls it.
type sport struct {
	SportType, Type string // Strava's sport_type and (deprecated) type
	Noun            string // in default names: "Morning Run"
	Garmin          string // Garmin's activityType
	FITSport        typedef.Sport
	FITSub          typedef.SubSport
	Speed           [2]float64 // m/s, a typical range
	Duration        [2]int     // seconds
	Hills           float64    // altitude amplitude, metres
	GPS, Power      bool
	Weight          int // how often, relative
}

var sports = []*sport{
	{"Run", "Run", "Run", "RUNNING", typedef.SportRunning, typedef.SubSportGeneric, [2]float64{2.6, 3.8}, [2]int{1500, 5400}, 15, true, false, 40},
	{"TrailRun", "Run", "Trail Run", "TRAIL_RUNNING", typedef.SportRunning, typedef.SubSportTrail, [2]float64{2.0, 3.0}, [2]int{2700, 9000}, 120, true, false, 8},
	{"Ride", "Ride", "Ride", "ROAD_BIKING", typedef.SportCycling, typedef.SubSportRoad, [2]float64{6.5, 9.0}, [2]int{3600, 14400}, 60, true, true, 22},
	{"MountainBikeRide", "Ride", "Mountain Bike Ride", "MOUNTAIN_BIKING", typedef.SportCycling, typedef.SubSportMountain, [2]float64{4.0, 6.0}, [2]int{3600, 9000}, 150, true, false, 5},
	{"GravelRide", "Ride", "Gravel Ride", "GRAVEL_CYCLING", typedef.SportCycling, typedef.SubSportGravelCycling, [2]float64{5.5, 7.5}, [2]int{3600, 12600}, 80, true, true, 5},
	{"VirtualRide", "VirtualRide", "Virtual Ride", "VIRTUAL_RIDE", typedef.SportCycling, typedef.SubSportVirtualActivity, [2]float64{7.5, 9.5}, [2]int{2700, 5400}, 40, false, true, 8},
	{"Walk", "Walk", "Walk", "WALKING", typedef.SportWalking, typedef.SubSportGeneric, [2]float64{1.2, 1.6}, [2]int{1200, 3600}, 10, true, false, 5},
	{"Hike", "Hike", "Hike", "HIKING", typedef.SportHiking, typedef.SubSportGeneric, [2]float64{0.9, 1.3}, [2]int{5400, 18000}, 300, true, false, 4},
	{"Swim", "Swim", "Swim", "LAP_SWIMMING", typedef.SportSwimming, typedef.SubSportLapSwimming, [2]float64{0.9, 1.3}, [2]int{1200, 3600}, 0, false, false, 3},
}

const runningSport = typedef.SportRunning

func (sp *sport) ride() bool { return sp.FITSport == typedef.SportCycling }

// Athlete is one seeded person, known to Strava by ID and to Garmin by
// GarminUserID.
type Athlete struct {
	ID                            int64
	GarminUserID                  string
	Username, Firstname, Lastname string
	Sex                           string // "M" or "F"
	WeightKg                      float64
	MaxHR, RestHR                 float64
	FTP                           float64 // watts
	ThresholdSpeed                float64 // running, m/s
	HRVBase                       float64 // ms, overnight rMSSD
	Home                          place
	// Activities are oldest first. AddActivity appends under the
	// simulator's lock; read them through Sim.Activities while it runs.
	Activities []*Activity
	index      int
}

// Activity is one seeded recording. Its streams and summary are derived
// from the seed and its key when first needed.
type Activity struct {
	ID        int64 // Strava's id
	GarminID  int64 // Garmin's activityId; 0 when no Garmin device recorded it
	Athlete   *Athlete
	Name      string
	SportType string
	Start     time.Time // UTC
	Elapsed   int       // seconds
	Private   bool
	Commute   bool
	Device    string
	sport     *sport
	key       uint64
	once      sync.Once
	sum       *summary
}

// End is when the recording stopped.
func (a *Activity) End() time.Time { return a.Start.Add(time.Duration(a.Elapsed) * time.Second) }

var (
	firstNames = map[string][]string{
		"F": {"Ada", "Maja", "Lucia", "Ingrid", "Wanjiru", "Claire", "Aroha", "Jess"},
		"M": {"Luka", "Pau", "Tomas", "Kipchoge", "Lars", "Ben", "Hemi", "Mateo"},
	}
	lastNames   = []string{"Novak", "Serra", "Berg", "Kiprotich", "Duval", "Walker", "Ngata", "Hansen", "Moreno", "Keller"}
	customNames = []string{"Tempo intervals", "Long run", "Recovery spin", "Hill repeats", "Sunday long ride",
		"Commute", "Track session 6x800", "Easy shakeout", "Threshold 3x10", "Lake loop", "Exploring new trails"}
)

// generateAthletes makes cfg.Athletes athletes with their histories and
// hands out ids in start order, as providers' sequential ids would be.
func generateAthletes(cfg Config) []*Athlete {
	athletes := make([]*Athlete, cfg.Athletes)
	var all []*Activity
	for i := range athletes {
		athletes[i] = newAthlete(cfg.Seed, i)
		athletes[i].Activities = history(cfg, athletes[i])
		all = append(all, athletes[i].Activities...)
	}
	slices.SortStableFunc(all, func(a, b *Activity) int { return a.Start.Compare(b.Start) })
	ids := rng(cfg.Seed, 0x1d5)
	strava, garmin := int64(11_000_000_000), int64(17_000_000_000)
	for _, a := range all {
		strava += 1 + ids.Int64N(4_000_000)
		a.ID = strava
		if a.GarminID != 0 {
			garmin += 1 + ids.Int64N(900_000)
			a.GarminID = garmin
		}
	}
	return athletes
}

func newAthlete(seed uint64, i int) *Athlete {
	r := rng(seed, 0xa7, uint64(i))
	sex := []string{"F", "M"}[r.IntN(2)]
	a := &Athlete{
		ID:             10_000_000 + r.Int64N(90_000_000),
		GarminUserID:   fmt.Sprintf("%016x%016x", r.Uint64(), r.Uint64()),
		Sex:            sex,
		Firstname:      firstNames[sex][r.IntN(len(firstNames[sex]))],
		Lastname:       lastNames[r.IntN(len(lastNames))],
		WeightKg:       round(between(r, 52, 68)+map[string]float64{"F": 0, "M": 12}[sex], 1),
		MaxHR:          float64(175 + r.IntN(21)),
		RestHR:         float64(40 + r.IntN(16)),
		FTP:            float64(180 + r.IntN(150)),
		ThresholdSpeed: round(between(r, 3.4, 4.8), 2),
		HRVBase:        float64(40 + r.IntN(50)),
		Home:           places[r.IntN(len(places))],
		index:          i,
	}
	a.Username = fmt.Sprintf("%s_%s%d", a.Firstname, a.Lastname, i+1)
	return a
}

// history generates n activities going back from cfg.Until, oldest first.
func history(cfg Config, ath *Athlete) []*Activity {
	r := rng(cfg.Seed, 0x415, uint64(ath.index))
	loc := ath.Home.location()
	out := make([]*Activity, 0, cfg.StravaActivities)
	limit := cfg.Until
	for k := range cfg.StravaActivities {
		a := newActivity(r, ath, uint64(k))
		limit = limit.Add(-time.Duration(between(r, 10, 50) * float64(time.Hour)))
		a.Start = startNear(r, limit, a.Elapsed, loc)
		if a.Name == "" {
			a.Name = defaultName(a)
		}
		limit = a.Start
		out = append(out, a)
	}
	slices.Reverse(out)
	return out
}

// startNear picks a plausible local start time on the day of t, ending
// before t.
func startNear(r *rand.Rand, t time.Time, elapsed int, loc *time.Location) time.Time {
	local := t.In(loc)
	hours := []int{6, 7, 12, 17, 18, 19}
	if wd := local.Weekday(); wd == time.Saturday || wd == time.Sunday {
		hours = []int{8, 9, 10, 15}
	}
	h := hours[r.IntN(len(hours))]
	start := time.Date(local.Year(), local.Month(), local.Day(), h, r.IntN(60), r.IntN(60), 0, loc)
	if latest := t.Add(-time.Duration(elapsed+1800) * time.Second); start.After(latest) {
		start = latest.Add(-time.Duration(r.IntN(3*3600)) * time.Second)
	}
	return start.UTC().Truncate(time.Second)
}

func newActivity(r *rand.Rand, ath *Athlete, k uint64) *Activity {
	sp := pickSport(r)
	a := &Activity{
		Athlete:   ath,
		SportType: sp.SportType,
		Elapsed:   sp.Duration[0] + r.IntN(sp.Duration[1]-sp.Duration[0]),
		Private:   r.IntN(20) == 0,
		Commute:   sp.SportType == "Ride" && r.IntN(10) == 0,
		sport:     sp,
		key:       hash(uint64(ath.index), k, r.Uint64()),
	}
	a.Device = device(r, sp)
	if a.Device != "Zwift" && a.Device != "Strava App" {
		a.GarminID = 1 // the real id is handed out in start order
	}
	if r.IntN(4) == 0 {
		a.Name = customNames[r.IntN(len(customNames))]
	}
	return a
}

func pickSport(r *rand.Rand) *sport {
	total := 0
	for _, sp := range sports {
		total += sp.Weight
	}
	n := r.IntN(total)
	for _, sp := range sports {
		if n < sp.Weight {
			return sp
		}
		n -= sp.Weight
	}
	return sports[0]
}

func device(r *rand.Rand, sp *sport) string {
	switch {
	case sp.SportType == "VirtualRide":
		return "Zwift"
	case r.IntN(16) == 0:
		return "Strava App"
	case sp.ride():
		return "Garmin Edge 840"
	default:
		return "Garmin Forerunner 965"
	}
}

// defaultName is Strava's name for an unnamed activity: the part of the
// local day and the sport.
func defaultName(a *Activity) string {
	h := a.Start.In(a.Athlete.Home.location()).Hour()
	part := "Night"
	switch {
	case h >= 4 && h < 11:
		part = "Morning"
	case h >= 11 && h < 14:
		part = "Lunch"
	case h >= 14 && h < 17:
		part = "Afternoon"
	case h >= 17 && h < 21:
		part = "Evening"
	}
	return part + " " + a.sport.Noun
}
