package sim

import (
	"math"

	"github.com/twpayne/go-polyline"
)

// summary is what providers compute from an activity's streams.
type summary struct {
	Distance                  float64
	Moving, Elapsed           int
	Gain, Loss                float64
	ElevHigh, ElevLow         float64
	AvgSpeed, MaxSpeed        float64
	AvgHR, MaxHR              float64
	AvgCadence, MaxCadence    float64
	AvgWatts, MaxWatts        float64
	WeightedWatts, Kilojoules float64
	AvgTemp                   float64
	Calories                  float64
	Start, End                []float64 // [lat, lng], empty without GPS
	SummaryPolyline           string
	HasHR, HasWatts, HasTemp  bool
	HasAltitude               bool
}

// summary is computed once, on first use, from the activity's streams.
func (s *Sim) summary(a *Activity) *summary {
	a.once.Do(func() { a.sum = summarize(a, generate(s.cfg.Seed, a)) })
	return a.sum
}

func summarize(a *Activity, st *Streams) *summary {
	n := st.Len()
	sm := &summary{Distance: st.Distance[n-1], Elapsed: n - 1, Start: []float64{}, End: []float64{}}
	for i := range n {
		if st.Moving[i] {
			sm.Moving++
		}
		sm.MaxSpeed = math.Max(sm.MaxSpeed, st.Velocity[i])
	}
	if sm.Moving > 0 {
		sm.AvgSpeed = round(sm.Distance/float64(sm.Moving), 3)
	}
	elevation(sm, st)
	effort(sm, st)
	if st.LatLng != nil {
		sm.Start = []float64{st.LatLng[0][0], st.LatLng[0][1]}
		sm.End = []float64{st.LatLng[n-1][0], st.LatLng[n-1][1]}
		sm.SummaryPolyline = encodePolyline(st.LatLng, 250)
	}
	sm.Calories = calories(a, sm)
	return sm
}

// elevation sums climbs and descents past a 2 m hysteresis, as devices
// do to keep barometer noise out of the totals.
func elevation(sm *summary, st *Streams) {
	if st.Altitude == nil {
		return
	}
	sm.HasAltitude = true
	anchor := st.Altitude[0]
	sm.ElevHigh, sm.ElevLow = anchor, anchor
	for _, h := range st.Altitude {
		sm.ElevHigh, sm.ElevLow = math.Max(sm.ElevHigh, h), math.Min(sm.ElevLow, h)
		switch {
		case h-anchor >= 2:
			sm.Gain += h - anchor
			anchor = h
		case anchor-h >= 2:
			sm.Loss += anchor - h
			anchor = h
		}
	}
	sm.Gain, sm.Loss = round(sm.Gain, 1), round(sm.Loss, 1)
}

// effort averages heart rate, cadence, power and temperature over the
// moving samples (cadence over the pedalling or stepping ones).
func effort(sm *summary, st *Streams) {
	var hr, cad, watts, temp mean
	for i, moving := range st.Moving {
		if st.HeartRate != nil {
			hr.add(float64(st.HeartRate[i]), moving)
		}
		cad.add(float64(st.Cadence[i]), moving && st.Cadence[i] > 0)
		if st.Watts != nil {
			watts.add(float64(st.Watts[i]), moving)
			sm.Kilojoules += float64(st.Watts[i]) / 1000
		}
		if st.Temp != nil {
			temp.add(float64(st.Temp[i]), true)
		}
	}
	sm.HasHR, sm.AvgHR, sm.MaxHR = hr.n > 0, round(hr.avg(), 1), hr.max
	sm.AvgCadence, sm.MaxCadence = round(cad.avg(), 1), cad.max
	sm.HasWatts, sm.AvgWatts, sm.MaxWatts = watts.n > 0, round(watts.avg(), 1), watts.max
	sm.HasTemp, sm.AvgTemp = temp.n > 0, math.Round(temp.avg())
	sm.Kilojoules = round(sm.Kilojoules, 1)
	if st.Watts != nil {
		sm.WeightedWatts = math.Round(normalizedPower(st.Watts))
	}
}

type mean struct {
	sum, max float64
	n        int
}

func (m *mean) add(v float64, counts bool) {
	m.max = math.Max(m.max, v)
	if counts {
		m.sum += v
		m.n++
	}
}

func (m mean) avg() float64 {
	if m.n == 0 {
		return 0
	}
	return m.sum / float64(m.n)
}

// normalizedPower is the fourth-power mean of 30-second rolling power.
func normalizedPower(w []int) float64 {
	if len(w) < 30 {
		return 0
	}
	var roll, sum4 float64
	for i, p := range w {
		roll += float64(p)
		if i >= 30 {
			roll -= float64(w[i-30])
		}
		if i >= 29 {
			sum4 += math.Pow(roll/30, 4)
		}
	}
	return math.Pow(sum4/float64(len(w)-29), 0.25)
}

// calories: work for rides with power (about a kcal per kJ at human
// efficiency), otherwise a per-kilometre or per-hour rate by sport.
func calories(a *Activity, sm *summary) float64 {
	kg, km, h := a.Athlete.WeightKg, sm.Distance/1000, float64(sm.Moving)/3600
	switch {
	case sm.HasWatts:
		return round(sm.Kilojoules, 1)
	case a.sport.FITSport == runningSport:
		return round(kg*km*1.03, 1)
	case a.sport.ride():
		return round(8*kg*h, 1)
	case a.sport.SportType == "Swim":
		return round(7*kg*h, 1)
	}
	return round(kg*km*0.6+sm.Gain*kg*0.01, 1)
}

// encodePolyline is Google's polyline of at most about limit points,
// keeping every k-th point and the last.
func encodePolyline(pts [][2]float64, limit int) string {
	k := max(1, (len(pts)+limit-1)/limit)
	coords := make([][]float64, 0, len(pts)/k+2)
	for i := 0; i < len(pts); i += k {
		coords = append(coords, []float64{pts[i][0], pts[i][1]})
	}
	if (len(pts)-1)%k != 0 {
		coords = append(coords, []float64{pts[len(pts)-1][0], pts[len(pts)-1][1]})
	}
	return string(polyline.EncodeCoords(coords))
}
