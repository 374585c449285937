package sim

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"
)

// gsum is one Garmin summary: when it starts, when it reached Garmin
// (what pulls select on) and its JSON body.
type gsum struct {
	start, upload int64
	body          map[string]any
}

// summaries returns the athlete's summaries of typ starting in
// [from, to), oldest first. Health summaries exist for the days of the
// athlete's history (from a month before the first activity to the end
// of the last day).
func (s *Sim) summaries(ath *Athlete, typ string, from, to time.Time) []gsum {
	switch typ {
	case "activities", "activityDetails", "activityFiles":
		return s.activitySummaries(ath, typ, from, to)
	}
	loc := ath.Home.location()
	lo, hi := s.healthDays(ath)
	var out []gsum
	for day := startOfDay(from.In(loc)).AddDate(0, 0, -1); day.Before(to); day = day.AddDate(0, 0, 1) {
		if day.Before(lo) || !day.Before(hi) {
			continue
		}
		for _, it := range s.daySummaries(ath, typ, day) {
			if it.start >= from.Unix() && it.start < to.Unix() {
				out = append(out, it)
			}
		}
	}
	return out
}

func startOfDay(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, t.Location())
}

// healthDays bounds the days with health data, as local midnights.
func (s *Sim) healthDays(ath *Athlete) (time.Time, time.Time) {
	loc := ath.Home.location()
	acts := s.Activities(ath)
	hi := startOfDay(s.cfg.Until.In(loc))
	if len(acts) == 0 {
		return hi.AddDate(0, 0, -30), hi
	}
	if last := startOfDay(acts[len(acts)-1].End().In(loc)).AddDate(0, 0, 1); last.After(hi) {
		hi = last
	}
	return startOfDay(acts[0].Start.In(loc)).AddDate(0, 0, -30), hi
}

func (s *Sim) daySummaries(ath *Athlete, typ string, day time.Time) []gsum {
	d := dayData{s: s, ath: ath, day: day, num: uint64(day.Unix()/86400 + 1<<20)}
	switch typ {
	case "dailies":
		return []gsum{d.daily()}
	case "epochs":
		return d.epochs()
	case "sleeps":
		return []gsum{d.sleep()}
	case "hrv":
		return []gsum{d.hrv()}
	case "bodyComps":
		return d.bodyComp()
	}
	return nil
}

// dayData derives one local day of an athlete's health data from hashes
// of the seed, the athlete and the day, so any day comes out the same
// whichever window asks for it.
type dayData struct {
	s   *Sim
	ath *Athlete
	day time.Time // local midnight
	num uint64
}

func (d dayData) rng(kind uint64) *rand.Rand {
	return rng(d.s.cfg.Seed, kind, uint64(d.ath.index), d.num)
}

func (d dayData) offset() int {
	_, off := d.day.Zone()
	return off
}

func (d dayData) summaryID(start time.Time, extra int64) string {
	return fmt.Sprintf("x%s-%x-%x", d.ath.GarminUserID[:7], start.Unix(), extra)
}

// activities are the day's recordings that reached Garmin.
func (d dayData) activities() []*Activity {
	var out []*Activity
	for _, a := range d.s.Activities(d.ath) {
		if a.GarminID != 0 && !a.Start.Before(d.day) && a.Start.Before(d.day.AddDate(0, 0, 1)) {
			out = append(out, a)
		}
	}
	return out
}

// restingHR drifts over weeks around the athlete's resting rate.
func (d dayData) restingHR() float64 {
	return math.Round(d.ath.RestHR + 2*smoothNoise(float64(d.num)/7, d.s.cfg.Seed, 0x2e5, uint64(d.ath.index)))
}

func (d dayData) daily() gsum {
	r := d.rng(0xda1)
	steps, dist, kcal, active := 2500+r.IntN(6000), 0.0, 0.0, 0
	for _, a := range d.activities() {
		sm := d.s.summary(a)
		kcal += sm.Calories
		active += sm.Moving
		if !a.sport.ride() && a.sport.SportType != "Swim" {
			steps += int(sm.Distance * 0.9)
			dist += sm.Distance
		}
	}
	dist += float64(steps) * 0.75
	kcal += float64(steps) * 0.04
	hr := d.heartSamples(r)
	stress := 20 + r.IntN(25)
	return gsum{start: d.day.Unix(), upload: d.day.Unix() + 86400 + 7*3600, body: map[string]any{
		"summaryId": d.summaryID(d.day, 86400), "calendarDate": d.day.Format(time.DateOnly), "activityType": "WALKING",
		"activeKilocalories": math.Round(kcal), "bmrKilocalories": math.Round(d.ath.WeightKg * 22.5),
		"steps": steps, "distanceInMeters": round(dist, 1), "durationInSeconds": 86400,
		"activeTimeInSeconds": active + steps/2, "startTimeInSeconds": d.day.Unix(), "startTimeOffsetInSeconds": d.offset(),
		"moderateIntensityDurationInSeconds": active / 3, "vigorousIntensityDurationInSeconds": active * 2 / 3,
		"floorsClimbed": r.IntN(20), "minHeartRateInBeatsPerMinute": hr.min, "averageHeartRateInBeatsPerMinute": hr.avg,
		"maxHeartRateInBeatsPerMinute": hr.max, "restingHeartRateInBeatsPerMinute": d.restingHR(),
		"timeOffsetHeartRateSamples": hr.samples, "averageStressLevel": stress, "maxStressLevel": stress + 30 + r.IntN(40),
		"stressDurationInSeconds": 14400 + r.IntN(14400), "restStressDurationInSeconds": 21600 + r.IntN(14400),
		"stressQualifier": []string{"calm", "balanced", "stressful"}[stress/16%3], "stepsGoal": 10000,
		"bodyBatteryChargedValue": 40 + r.IntN(50), "bodyBatteryDrainedValue": 40 + r.IntN(50),
	}}
}

type heartDay struct {
	samples  offsets
	min, max int
	avg      int
}

// heartSamples are Garmin's all-day heart rate every 15 seconds: low
// at night, higher by day, the activities' own rate while they run.
func (d dayData) heartSamples(r *rand.Rand) heartDay {
	rest := d.restingHR()
	acts := d.activities()
	hd := heartDay{min: 300}
	sum := 0
	for off := 0; off < 86400; off += 15 {
		t := d.day.Add(time.Duration(off) * time.Second)
		awake := 1.0 / (1 + math.Exp(-(float64(off)/3600-7)*2)) * 1.0 / (1 + math.Exp((float64(off)/3600-22.5)*2))
		hr := rest + 3 + 22*awake + 6*smoothNoise(float64(off)/600, d.num, 0x4e) + r.NormFloat64()
		for _, a := range acts {
			if !t.Before(a.Start) && t.Before(a.End()) {
				hr = d.s.summary(a).AvgHR + 4*r.NormFloat64()
			}
		}
		v := int(math.Round(hr))
		hd.samples = append(hd.samples, [2]float64{float64(off), float64(v)})
		hd.min, hd.max, sum = min(hd.min, v), max(hd.max, v), sum+v
	}
	hd.avg = sum / len(hd.samples)
	return hd
}

// epochs are the day's 15-minute slices.
func (d dayData) epochs() []gsum {
	r := d.rng(0xe9)
	acts := d.activities()
	out := make([]gsum, 0, 96)
	for k := range 96 {
		start := d.day.Add(time.Duration(k) * 15 * time.Minute)
		typ, steps, intensity, met := "SEDENTARY", 0, "SEDENTARY", 1.0
		if h := k / 4; h >= 7 && h < 22 {
			typ, steps, intensity, met = "WALKING", r.IntN(900), "ACTIVE", 1.5+r.Float64()*1.5
		}
		for _, a := range acts {
			if start.Before(a.End()) && start.Add(15*time.Minute).After(a.Start) {
				typ, intensity, met = a.sport.Garmin, "HIGHLY_ACTIVE", 7+r.Float64()*4
				if !a.sport.ride() {
					steps = 1200 + r.IntN(1200)
				}
			}
		}
		out = append(out, gsum{start: start.Unix(), upload: start.Unix() + 900 + int64(r.IntN(3*3600)), body: map[string]any{
			"summaryId": d.summaryID(start, 900), "activityType": typ, "activeKilocalories": math.Round(met * d.ath.WeightKg / 4 * (met - 1) / met),
			"steps": steps, "distanceInMeters": round(float64(steps)*0.78, 1), "durationInSeconds": 900,
			"activeTimeInSeconds": min(900, steps/2), "startTimeInSeconds": start.Unix(), "startTimeOffsetInSeconds": d.offset(),
			"met": round(met, 2), "intensity": intensity, "meanMotionIntensity": round(met/3, 2), "maxMotionIntensity": round(met/2, 2),
		}})
	}
	return out
}

// night is the sleep ending on the day: when it began and its stages.
type night struct {
	start      time.Time
	levels     map[string][]map[string]int64
	byStage    map[string]int
	end        time.Time
	deepFactor float64
}

// night builds ~90-minute cycles of light, deep, light and REM sleep
// with brief awakenings, from bedtime until the planned length is slept.
func (d dayData) night() night {
	r := d.rng(0x51ee)
	start := d.day.Add(-90*time.Minute + time.Duration(r.IntN(75))*time.Minute)
	n := night{start: start, levels: map[string][]map[string]int64{}, byStage: map[string]int{}}
	t, left := start, 6*3600+r.IntN(9000)
	add := func(stage string, secs int) {
		n.levels[stage] = append(n.levels[stage], map[string]int64{"startTimeInSeconds": t.Unix(), "endTimeInSeconds": t.Unix() + int64(secs)})
		n.byStage[stage] += secs
		t = t.Add(time.Duration(secs) * time.Second)
	}
	for cycle := 0; left > 0; cycle++ {
		deep := max(300, 1800-cycle*400) + r.IntN(300)
		for _, st := range []struct {
			stage string
			secs  int
		}{{"light", 1200 + r.IntN(900)}, {"deep", deep}, {"light", 600 + r.IntN(600)}, {"rem", 600 + cycle*300 + r.IntN(300)}} {
			secs := min(st.secs, left)
			add(st.stage, secs)
			if left -= secs; left == 0 {
				break
			}
		}
		if r.IntN(3) == 0 {
			add("awake", 60+r.IntN(240))
		}
	}
	n.end = t
	return n
}

func (d dayData) sleep() gsum {
	n := d.night()
	slept := n.byStage["light"] + n.byStage["deep"] + n.byStage["rem"]
	score := int(clamp(float64(55+slept/600-n.byStage["awake"]/120), 30, 98))
	qualifier := map[bool]string{true: "GOOD", false: "FAIR"}[score >= 80]
	if score >= 90 {
		qualifier = "EXCELLENT"
	} else if score < 60 {
		qualifier = "POOR"
	}
	return gsum{start: n.start.Unix(), upload: n.end.Unix() + 1800, body: map[string]any{
		"summaryId": d.summaryID(n.start, int64(slept)), "calendarDate": d.day.Format(time.DateOnly),
		"durationInSeconds": slept, "startTimeInSeconds": n.start.Unix(), "startTimeOffsetInSeconds": d.offset(),
		"unmeasurableSleepInSeconds": 0, "deepSleepDurationInSeconds": n.byStage["deep"],
		"lightSleepDurationInSeconds": n.byStage["light"], "remSleepInSeconds": n.byStage["rem"],
		"awakeDurationInSeconds": n.byStage["awake"], "sleepLevelsMap": n.levels, "validation": "ENHANCED_FINAL",
		"overallSleepScore": map[string]any{"value": score, "qualifierKey": qualifier},
	}}
}

// hrv is the night's rMSSD every five minutes, lower after a hard day.
func (d dayData) hrv() gsum {
	n := d.night()
	r := d.rng(0x4e7)
	base := d.ath.HRVBase * (1 + 0.12*smoothNoise(float64(d.num)/5, d.s.cfg.Seed, 0x4e8, uint64(d.ath.index)))
	yesterday := dayData{s: d.s, ath: d.ath, day: d.day.AddDate(0, 0, -1), num: d.num - 1}
	for _, a := range yesterday.activities() {
		base *= 1 - math.Min(0.15, float64(a.Elapsed)/3600*0.05)
	}
	var vals offsets
	sum, high := 0.0, 0.0
	for off := 0; n.start.Add(time.Duration(off) * time.Second).Before(n.end); off += 300 {
		v := math.Round(base * math.Exp(0.15*r.NormFloat64()))
		vals = append(vals, [2]float64{float64(off), v})
		sum, high = sum+v, math.Max(high, v)
	}
	dur := int64(n.end.Sub(n.start).Seconds())
	return gsum{start: n.start.Unix(), upload: n.end.Unix() + 1800, body: map[string]any{
		"summaryId": d.summaryID(n.start, 0), "calendarDate": d.day.Format(time.DateOnly),
		"lastNightAvg": math.Round(sum / float64(max(len(vals), 1))), "lastNight5MinHigh": high,
		"startTimeOffsetInSeconds": d.offset(), "durationInSeconds": dur, "startTimeInSeconds": n.start.Unix(),
		"hrvValues": vals,
	}}
}

// bodyComp is a weigh-in on one morning in three.
func (d dayData) bodyComp() []gsum {
	if hash(d.s.cfg.Seed, uint64(d.ath.index), d.num)%3 != 0 {
		return nil
	}
	r := d.rng(0xb0d)
	at := d.day.Add(7*time.Hour + time.Duration(r.IntN(3600))*time.Second)
	kg := d.ath.WeightKg + 0.8*smoothNoise(float64(d.num)/10, d.s.cfg.Seed, 0xb0e, uint64(d.ath.index)) + 0.2*r.NormFloat64()
	height := map[string]float64{"F": 1.66, "M": 1.78}[d.ath.Sex] + float64(d.ath.ID%9-4)/100
	fat := map[string]float64{"F": 21, "M": 13}[d.ath.Sex] + r.NormFloat64()
	return []gsum{{start: at.Unix(), upload: at.Unix() + 120, body: map[string]any{
		"summaryId": d.summaryID(at, 0), "measurementTimeInSeconds": at.Unix(), "measurementTimeOffsetInSeconds": d.offset(),
		"muscleMassInGrams": math.Round(kg * (1 - fat/100) * 0.55 * 1000), "boneMassInGrams": math.Round(kg * 0.04 * 1000),
		"bodyWaterInPercent": round(60-fat/3, 1), "bodyFatInPercent": round(fat, 1),
		"bodyMassIndex": round(kg/(height*height), 1), "weightInGrams": math.Round(kg * 1000),
	}}}
}

// offsets is Garmin's map of seconds-from-start to a value, written in
// time order (a Go map would be written in key string order).
type offsets [][2]float64

func (o offsets) MarshalJSON() ([]byte, error) {
	b := []byte{'{'}
	for i, kv := range o {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendQuote(b, strconv.FormatFloat(kv[0], 'f', -1, 64))
		b = append(b, ':')
		b = strconv.AppendFloat(b, kv[1], 'f', -1, 64)
	}
	return append(b, '}'), nil
}

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }

func sortedKeys(keys []backfillKey) []backfillKey {
	slices.SortFunc(keys, func(a, b backfillKey) int {
		return cmp.Or(cmp.Compare(a.start, b.start), cmp.Compare(a.end, b.end), cmp.Compare(a.typ, b.typ))
	})
	return keys
}
