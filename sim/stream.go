package sim

import (
	"math"
	"math/rand/v2"
	"time"
)

// Streams are an activity's samples, one a second from the start. A nil
// slice is a stream the recording does not have.
type Streams struct {
	Time      []int
	LatLng    [][2]float64
	Distance  []float64 // metres, cumulative
	Altitude  []float64
	Velocity  []float64 // m/s, smoothed
	HeartRate []int
	Cadence   []int // rpm for rides, per leg for runs (as Strava), strokes for swims
	Watts     []int
	Temp      []int // °C
	Moving    []bool
	Grade     []float64 // percent
}

// Len is the number of samples.
func (st *Streams) Len() int { return len(st.Time) }

// Streams derives the activity's streams from the seed.
func (s *Sim) Streams(a *Activity) *Streams { return generate(s.cfg.Seed, a) }

// gen is the state of one activity's generation, second by second.
type gen struct {
	r       *rand.Rand
	a       *Activity
	sp      *sport
	ath     *Athlete
	terrain terrain
	route   course
	base    float64 // m/s for runs, swims and walks; intensity (×FTP) for rides
	v, hr   float64
	power   float64
	d       float64
	stopFor int
	lat     float64
	lon     float64
}

func generate(seed uint64, a *Activity) *Streams {
	g := newGen(seed, a)
	st := g.alloc()
	for i := range a.Elapsed + 1 {
		g.step(i)
		g.record(st, i, seed)
	}
	fillGrade(st)
	return st
}

func newGen(seed uint64, a *Activity) *gen {
	r := rng(seed, 0x57, a.key)
	sp := a.sport
	g := &gen{r: r, a: a, sp: sp, ath: a.Athlete}
	g.base = between(r, sp.Speed[0], sp.Speed[1])
	if sp.FITSport == runningSport {
		g.base *= a.Athlete.ThresholdSpeed / 4.1
	}
	if sp.ride() {
		g.base = between(r, 0.55, 0.8)
	}
	g.terrain = newTerrain(r, sp.Hills, a.Athlete.Home.ElevationM)
	g.lat, g.lon = startPoint(r, a.Athlete.Home)
	g.route = newCourse(r, g.meanSpeed()*float64(a.Elapsed)*0.93)
	g.hr = a.Athlete.RestHR + 15
	return g
}

func (g *gen) meanSpeed() float64 {
	if g.sp.ride() {
		return g.sp.Speed[0] + (g.sp.Speed[1]-g.sp.Speed[0])*(g.base-0.55)/0.25
	}
	return g.base
}

func (g *gen) alloc() *Streams {
	n := g.a.Elapsed + 1
	st := &Streams{Time: make([]int, n), Distance: make([]float64, n), Velocity: make([]float64, n),
		Cadence: make([]int, n), Moving: make([]bool, n)}
	if g.sp.GPS {
		st.LatLng = make([][2]float64, n)
	}
	if g.sp.Hills > 0 || g.sp.GPS {
		st.Altitude = make([]float64, n)
		st.Grade = make([]float64, n)
	}
	if g.hasHR() {
		st.HeartRate = make([]int, n)
	}
	if g.sp.Power {
		st.Watts = make([]int, n)
	}
	if g.a.Device != "Zwift" && g.a.Device != "Strava App" && g.sp.GPS {
		st.Temp = make([]int, n)
	}
	return st
}

// hasHR: every device but the phone app, which has no strap one time in two.
func (g *gen) hasHR() bool { return g.a.Device != "Strava App" || g.a.key%2 == 0 }

// step advances one second: pauses, speed (and power), distance,
// position and heart rate.
func (g *gen) step(i int) {
	if i == 0 {
		return
	}
	grade := g.terrain.slope(g.d)
	moving := g.pause()
	target, intensity := 0.0, 0.0
	if moving {
		target, intensity = g.pace(i, grade)
	} else {
		g.power = 0
	}
	g.v += (target - g.v) * 0.25
	if g.v < 0.05 {
		g.v = 0
	}
	g.d += g.v
	if g.sp.GPS {
		g.lat, g.lon = g.route.advance(g.lat, g.lon, g.d, g.v)
	}
	g.heart(i, intensity)
}

// pause reports whether the athlete is moving, starting and ending stops
// (traffic lights, a pool wall) at random.
func (g *gen) pause() bool {
	if g.stopFor > 0 {
		g.stopFor--
		return false
	}
	odds := 700
	if g.sp.SportType == "Swim" {
		odds = 240
	} else if !g.sp.GPS {
		return true
	}
	if g.r.IntN(odds) == 0 {
		g.stopFor = 8 + g.r.IntN(60)
		return false
	}
	return true
}

// pace returns the target speed and the effort (1 = threshold).
func (g *gen) pace(i int, grade float64) (float64, float64) {
	switch {
	case g.sp.ride():
		return g.ridePace(i, grade)
	case g.sp.SportType == "Swim":
		return g.base * (1 + 0.04*g.r.NormFloat64()), 0.75
	}
	v := g.base * math.Exp(-3.5*grade) * g.intervals(i) * (1 + 0.03*g.r.NormFloat64())
	v = clamp(v, 0.35*g.base, 1.5*g.base)
	effort := v * (1 + 6*grade) / g.ath.ThresholdSpeed
	if g.sp.FITSport != runningSport {
		effort = 0.35 + 4*math.Max(grade, 0)
	}
	return v, effort
}

// intervals shapes one run in four into 3-minute efforts after a warm-up.
func (g *gen) intervals(i int) float64 {
	if g.a.key%4 != 1 || i < 900 || i > 900+8*300 {
		return 1
	}
	if (i-900)%300 < 180 {
		return 1.2
	}
	return 0.8
}

// ridePace picks power from the terrain (harder uphill, coasting down)
// and solves the speed that power holds.
func (g *gen) ridePace(i int, grade float64) (float64, float64) {
	ftp := g.ath.FTP
	target := ftp * g.base * (1 + 6*grade) * g.intervals(i)
	if grade < -0.025 || !g.sp.GPS && g.r.IntN(60) == 0 {
		target = 0
	}
	g.power += (target - g.power) * 0.3
	g.power = clamp(g.power+0.05*ftp*g.r.NormFloat64(), 0, 2.2*ftp)
	if target == 0 {
		g.power = 0
	}
	return rideSpeed(g.power, grade, g.ath.WeightKg+9), g.power / ftp
}

// rideSpeed solves v·(m·g·(Crr + grade) + ½·ρ·CdA·v²) = power for v.
func rideSpeed(power, grade, massKg float64) float64 {
	const crr, rho, cda, gravity = 0.005, 1.2, 0.32, 9.81
	need := func(v float64) float64 { return v * (massKg*gravity*(crr+grade) + 0.5*rho*cda*v*v) }
	lo, hi := 0.0, 25.0
	if resist := crr + grade; resist < 0 { // downhill: zero power still rolls
		lo = math.Sqrt(-2 * massKg * gravity * resist / (rho * cda))
	}
	if need(hi) < power {
		return hi
	}
	for range 40 {
		mid := (lo + hi) / 2
		if need(mid) < power {
			lo = mid
		} else {
			hi = mid
		}
	}
	return math.Min(lo, 22)
}

// heart moves heart rate towards what the effort asks, faster up than
// down, with cardiac drift over long efforts.
func (g *gen) heart(i int, effort float64) {
	ath := g.ath
	span := ath.MaxHR - ath.RestHR
	target := ath.RestHR + span*clamp(0.3+0.62*effort, 0.3, 0.98) + 0.04*span*float64(i)/3600
	tau := 20.0
	if target < g.hr {
		tau = 35
	}
	g.hr += (target-g.hr)/tau + 0.6*g.r.NormFloat64()
	g.hr = clamp(g.hr, ath.RestHR, ath.MaxHR)
}

func (g *gen) record(st *Streams, i int, seed uint64) {
	st.Time[i] = i
	st.Distance[i] = round(g.d, 1)
	st.Velocity[i] = round(g.v, 3)
	st.Moving[i] = g.v > 0.5
	st.Cadence[i] = g.cadence()
	if st.LatLng != nil {
		st.LatLng[i] = [2]float64{round(g.lat, 6), round(g.lon, 6)}
	}
	if st.Altitude != nil {
		st.Altitude[i] = round(g.terrain.altitude(g.d)+0.3*g.r.NormFloat64(), 1)
	}
	if st.HeartRate != nil {
		st.HeartRate[i] = int(math.Round(g.hr))
	}
	if st.Watts != nil {
		st.Watts[i] = int(math.Round(g.power))
	}
	if st.Temp != nil && i%60 == 0 {
		t := g.a.Start.Add(time.Duration(i) * time.Second)
		st.Temp[i] = int(math.Round(temperature(seed, g.lat, g.lon, t) + 2 + 0.5*g.r.NormFloat64()))
	} else if st.Temp != nil {
		st.Temp[i] = st.Temp[i-i%60]
	}
}

func (g *gen) cadence() int {
	if g.v <= 0.5 {
		return 0
	}
	switch {
	case g.sp.ride():
		if g.power == 0 {
			return 0
		}
		return int(math.Round(clamp(88+4*g.r.NormFloat64()-40*math.Max(g.terrain.slope(g.d), 0), 55, 115)))
	case g.sp.SportType == "Swim":
		return int(math.Round(28 + 2*g.r.NormFloat64()))
	case g.sp.FITSport == runningSport:
		return int(math.Round(78 + 6*g.v/g.ath.ThresholdSpeed + 1.5*g.r.NormFloat64()))
	}
	return int(math.Round(54 + 2*g.r.NormFloat64()))
}

// fillGrade is Strava's grade_smooth: rise over run across ~10 s.
func fillGrade(st *Streams) {
	if st.Grade == nil {
		return
	}
	for i := range st.Grade {
		j := max(i-10, 0)
		run := st.Distance[i] - st.Distance[j]
		if run < 5 {
			if i > 0 {
				st.Grade[i] = st.Grade[i-1]
			}
			continue
		}
		st.Grade[i] = round(clamp(100*(st.Altitude[i]-st.Altitude[j])/run, -40, 40), 1)
	}
}

// terrain is altitude as a sum of waves over the distance covered.
type terrain struct {
	base          float64
	amp, len, phs [4]float64
}

func newTerrain(r *rand.Rand, hills, base float64) terrain {
	t := terrain{base: base + between(r, -20, 20)}
	// amplitude grows with wavelength so that grades stay those of
	// roads and trails, not walls
	for k := range 4 {
		t.len[k] = between(r, 1000, 8000)
		t.amp[k] = hills * between(r, 0.05, 0.25) * t.len[k] / 6000
		t.phs[k] = between(r, 0, 2*math.Pi)
	}
	return t
}

func (t terrain) altitude(d float64) float64 {
	h := t.base
	for k := range 4 {
		h += t.amp[k] * math.Sin(2*math.Pi*d/t.len[k]+t.phs[k])
	}
	return h
}

// slope is the gradient (rise over run) at d.
func (t terrain) slope(d float64) float64 {
	s := 0.0
	for k := range 4 {
		s += t.amp[k] * 2 * math.Pi / t.len[k] * math.Cos(2*math.Pi*d/t.len[k]+t.phs[k])
	}
	return s
}

// course is where a track heads: a loop closing near the start, or out
// and back, with a wandering heading.
type course struct {
	heading, total float64
	loop           bool
	key            uint64
}

func newCourse(r *rand.Rand, total float64) course {
	return course{heading: between(r, 0, 2*math.Pi), total: math.Max(total, 1), loop: r.IntN(10) < 7, key: r.Uint64()}
}

func (rt course) advance(lat, lon, d, step float64) (float64, float64) {
	h := rt.heading + 0.5*smoothNoise(d/700, rt.key)
	if rt.loop {
		h += 2 * math.Pi * d / rt.total
	} else if d > rt.total/2 {
		h += math.Pi
	}
	lat += step * math.Cos(h) / 111_320
	lon += step * math.Sin(h) / (111_320 * math.Cos(lat*math.Pi/180))
	return lat, lon
}

// startPoint is within 3 km of home.
func startPoint(r *rand.Rand, home place) (float64, float64) {
	d, b := between(r, 200, 3000), between(r, 0, 2*math.Pi)
	lat := home.Lat + d*math.Cos(b)/111_320
	return lat, home.Lon + d*math.Sin(b)/(111_320*math.Cos(home.Lat*math.Pi/180))
}
