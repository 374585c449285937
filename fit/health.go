package fit

import (
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/cairn-fit/cairn"
	"github.com/muktihari/fit/profile/basetype"
	"github.com/muktihari/fit/profile/mesgdef"
	"github.com/muktihari/fit/profile/typedef"
	"github.com/muktihari/fit/profile/untyped/mesgnum"
	"github.com/muktihari/fit/proto"
)

// healthBuilder turns monitoring and weight scale messages into health
// metrics, one per type and timestamp (a later value replaces an earlier
// one, as the store would).
type healthBuilder struct {
	metrics []cairn.HealthMetric
	at      map[metricKey]int
	// A monitoring file counts steps and calories per activity type since
	// the start of the day; the day's total is their sum.
	steps, calories map[typedef.ActivityType]float64
	users           map[typedef.MessageIndex]bool
	dropped         int
	noBase          bool // a timestamp_16 came before any full timestamp
}

type metricKey struct {
	typ string
	t   int64
}

func (h *healthBuilder) usable() bool { return len(h.metrics) > 0 }

func (h *healthBuilder) put(typ string, t time.Time, v float64, unit string) {
	if t.IsZero() || math.IsNaN(v) || math.IsInf(v, 0) {
		return
	}
	k := metricKey{typ, t.Unix()}
	if i, ok := h.at[k]; ok {
		h.metrics[i].Value, h.metrics[i].Unit = v, unit
		return
	}
	if len(h.metrics) >= maxMetrics {
		h.dropped++
		return
	}
	if h.at == nil {
		h.at = map[metricKey]int{}
	}
	h.at[k] = len(h.metrics)
	h.metrics = append(h.metrics, cairn.HealthMetric{Type: typ, Time: t, Value: v, Unit: unit, Source: cairn.SourceFile})
}

// monitoring takes a monitoring message; last is the last full timestamp
// of the file, which a timestamp_16 is relative to. It returns the
// message's full timestamp, the base of the next timestamp_16.
func (h *healthBuilder) monitoring(m *proto.Message, last uint32) uint32 {
	mon := mesgdef.NewMonitoring(m)
	t := mon.Timestamp
	if t.IsZero() {
		if mon.Timestamp16 == basetype.Uint16Invalid {
			return last
		}
		if last == 0 {
			h.noBase = true
			return last
		}
		// timestamp_16 holds the low 16 bits of the time: add how far it
		// moved on from the last full timestamp's low 16 bits.
		last += uint32(mon.Timestamp16 - uint16(last))
		t = fitTime(last)
	}
	h.put(cairn.HealthHeartRate, t, positive(u8(mon.HeartRate)), "bpm")
	if name, _ := mon.GetCycles(); name == "steps" && mon.Cycles != basetype.Uint32Invalid {
		h.steps = dayCounter(h.steps, mon.ActivityType, float64(mon.Cycles))
		h.put(cairn.HealthSteps, t, sum(h.steps), "steps")
	}
	if mon.Calories != basetype.Uint16Invalid {
		h.calories = dayCounter(h.calories, mon.ActivityType, float64(mon.Calories))
		h.put(cairn.HealthCalories, t, sum(h.calories), "kcal")
	}
	moderate, vigorous := u16(mon.ModerateActivityMinutes), u16(mon.VigorousActivityMinutes)
	if !math.IsNaN(moderate) || !math.IsNaN(vigorous) {
		h.put(cairn.HealthIntensityMinutes, t, zeroNaN(moderate)+2*zeroNaN(vigorous), "min")
	}
	return last
}

// dayCounter records the count of one activity type; a count going back
// means a new day, when the device resets every counter.
func dayCounter(c map[typedef.ActivityType]float64, k typedef.ActivityType, v float64) map[typedef.ActivityType]float64 {
	if c == nil {
		c = map[typedef.ActivityType]float64{}
	}
	if v < c[k] {
		clear(c)
	}
	c[k] = v
	return c
}

func sum(c map[typedef.ActivityType]float64) float64 {
	var s float64
	for _, v := range c {
		s += v
	}
	return s
}

func positive(v float64) float64 {
	if v <= 0 {
		return nan
	}
	return v
}

// add takes weight_scale, stress_level, monitoring_hr_data and
// hrv_status_summary messages.
func (h *healthBuilder) add(m *proto.Message) {
	switch m.Num {
	case mesgnum.WeightScale:
		h.weight(mesgdef.NewWeightScale(m))
	case mesgnum.StressLevel:
		s := mesgdef.NewStressLevel(m)
		if s.StressLevelValue >= 0 && s.StressLevelValue != basetype.Sint16Invalid { // negative: not measured
			h.put(cairn.HealthStress, s.StressLevelTime, float64(s.StressLevelValue), "score")
		}
	case mesgnum.MonitoringHrData:
		r := mesgdef.NewMonitoringHrData(m)
		h.put(cairn.HealthRestingHeartRate, r.Timestamp, positive(prefer(u8(r.CurrentDayRestingHeartRate), u8(r.RestingHeartRate))), "bpm")
	case mesgnum.HrvStatusSummary:
		s := mesgdef.NewHrvStatusSummary(m)
		h.put(cairn.HealthHRV, s.Timestamp, s.LastNightAverageScaled(), "ms")
	}
}

func (h *healthBuilder) weight(w *mesgdef.WeightScale) {
	t := w.Timestamp
	if w.Weight != typedef.WeightCalculating {
		h.put(cairn.HealthWeight, t, positive(w.WeightScaled()), "kg")
	}
	h.put(cairn.HealthBodyFat, t, w.PercentFatScaled(), "%")
	h.put(cairn.HealthBodyWater, t, w.PercentHydrationScaled(), "%")
	h.put(cairn.HealthMuscleMass, t, w.MuscleMassScaled(), "kg")
	h.put(cairn.HealthBoneMass, t, w.BoneMassScaled(), "kg")
	h.put(cairn.HealthBMI, t, w.BmiScaled(), "kg/m2")
	h.put(cairn.HealthVisceralFat, t, u8(w.VisceralFatRating), "rating")
	if w.UserProfileIndex != typedef.MessageIndexInvalid {
		if h.users == nil {
			h.users = map[typedef.MessageIndex]bool{}
		}
		h.users[w.UserProfileIndex] = true
	}
}

// finish returns the metrics in time order with the warnings to pass on
// and whether data was dropped.
func (h *healthBuilder) finish() ([]cairn.HealthMetric, []string, bool) {
	sort.SliceStable(h.metrics, func(i, j int) bool { return h.metrics[i].Time.Before(h.metrics[j].Time) })
	var warnings []string
	if len(h.users) > 1 {
		warnings = append(warnings, fmt.Sprintf("weight scale file holds measurements of %d users: all were kept", len(h.users)))
	}
	if h.noBase {
		warnings = append(warnings, "skipped monitoring data without a reference timestamp")
	}
	if h.dropped > 0 {
		warnings = append(warnings, fmt.Sprintf("kept the first %d health metrics, dropped %d", maxMetrics, h.dropped))
	}
	return h.metrics, warnings, h.dropped > 0
}
