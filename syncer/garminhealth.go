package syncer

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"math"
	"strconv"
	"time"

	"github.com/cairn-fit/cairn"
)

// Garmin's health summaries (dailies, sleeps, hrv, bodyComps), pushed or
// pulled after a ping, become health metrics (source garmin) stamped at
// the summary's start, and the day's readiness inputs (resting heart
// rate, average stress, sleep hours, the night's HRV). Each summary is
// stored in its own transaction, replacing the version stored before
// (same kind and start): Garmin sends a day's summary again as the day
// goes on, and the latest wins.

// garminHealth reads a summary type's entries.
var garminHealth = map[string]func(raw json.RawMessage) (*healthSummary, error){
	"dailies": garminDaily, "sleeps": garminSleep, "hrv": garminHRV, "bodyComps": garminBodyComp,
}

// healthSummary is what one summary brings, before it has a user.
type healthSummary struct {
	id      string
	start   time.Time
	metrics []cairn.HealthMetric
	day     *cairn.DailyMetric // nil: none
}

// put adds a metric of v·scale, unless v is missing or not a measurement
// (Garmin writes -1 for "not enough data").
func (h *healthSummary) put(typ string, t time.Time, v *float64, scale float64, unit string) {
	if v == nil || math.IsNaN(*v) || math.IsInf(*v, 0) || *v < 0 {
		return
	}
	h.metrics = append(h.metrics, cairn.HealthMetric{Type: typ, Time: t, Value: *v * scale, Unit: unit,
		Source: cairn.SourceGarmin})
}

// measured is v when it is a measurement, else nil.
func measured(v *float64) *float64 {
	if v == nil || math.IsNaN(*v) || math.IsInf(*v, 0) || *v < 0 {
		return nil
	}
	return v
}

func malformed(what string) error {
	return cairn.Invalid(map[string]string{"summary": what})
}

// newHealthSummary checks what every summary needs: an id and a start.
func newHealthSummary(id string, start *int64) (*healthSummary, error) {
	if id == "" {
		return nil, malformed("has no summaryId")
	}
	if start == nil || *start <= 0 {
		return nil, malformed("has no start time")
	}
	return &healthSummary{id: id, start: time.Unix(*start, 0).UTC()}, nil
}

// newDay is the summary's calendar day (YYYY-MM-DD, the user's local
// date), required of day and night summaries.
func (h *healthSummary) newDay(date string) (*cairn.DailyMetric, error) {
	if _, err := time.Parse(time.DateOnly, date); err != nil {
		return nil, malformed("has no calendarDate")
	}
	h.day = &cairn.DailyMetric{Date: date}
	return h.day, nil
}

type garminDailySummary struct {
	SummaryID    string   `json:"summaryId"`
	CalendarDate string   `json:"calendarDate"`
	Start        *int64   `json:"startTimeInSeconds"`
	Steps        *float64 `json:"steps"`
	Distance     *float64 `json:"distanceInMeters"`
	ActiveKcal   *float64 `json:"activeKilocalories"`
	BMRKcal      *float64 `json:"bmrKilocalories"`
	Floors       *float64 `json:"floorsClimbed"`
	MinHR        *float64 `json:"minHeartRateInBeatsPerMinute"`
	AvgHR        *float64 `json:"averageHeartRateInBeatsPerMinute"`
	MaxHR        *float64 `json:"maxHeartRateInBeatsPerMinute"`
	RestingHR    *float64 `json:"restingHeartRateInBeatsPerMinute"`
	AvgStress    *float64 `json:"averageStressLevel"`
	MaxStress    *float64 `json:"maxStressLevel"`
	Moderate     *float64 `json:"moderateIntensityDurationInSeconds"`
	Vigorous     *float64 `json:"vigorousIntensityDurationInSeconds"`
	BBCharged    *float64 `json:"bodyBatteryChargedValue"`
	BBDrained    *float64 `json:"bodyBatteryDrainedValue"`
}

// garminDaily reads a daily summary: the day's totals at its start.
func garminDaily(raw json.RawMessage) (*healthSummary, error) {
	var d garminDailySummary
	if err := json.Unmarshal(raw, &d); err != nil {
		return nil, malformed("is not a Garmin daily summary")
	}
	h, err := newHealthSummary(d.SummaryID, d.Start)
	if err != nil {
		return nil, err
	}
	day, err := h.newDay(d.CalendarDate)
	if err != nil {
		return nil, err
	}
	t := h.start
	h.put(cairn.HealthSteps, t, d.Steps, 1, "steps")
	h.put(cairn.HealthDistance, t, d.Distance, 1, "m")
	h.put(cairn.HealthActiveCalories, t, d.ActiveKcal, 1, "kcal")
	if a, b := measured(d.ActiveKcal), measured(d.BMRKcal); a != nil && b != nil {
		total := *a + *b // FIT monitoring's calories count the BMR too
		h.put(cairn.HealthCalories, t, &total, 1, "kcal")
	}
	h.put(cairn.HealthFloors, t, d.Floors, 1, "floors")
	h.put(cairn.HealthMinHeartRate, t, d.MinHR, 1, "bpm")
	h.put(cairn.HealthAvgHeartRate, t, d.AvgHR, 1, "bpm")
	h.put(cairn.HealthMaxHeartRate, t, d.MaxHR, 1, "bpm")
	h.put(cairn.HealthRestingHeartRate, t, d.RestingHR, 1, "bpm")
	h.put(cairn.HealthAvgStress, t, d.AvgStress, 1, "score")
	h.put(cairn.HealthMaxStress, t, d.MaxStress, 1, "score")
	if m, v := measured(d.Moderate), measured(d.Vigorous); m != nil || v != nil {
		// As FIT monitoring counts them: a vigorous minute counts twice.
		minutes := (zeroNil(m) + 2*zeroNil(v)) / 60
		h.put(cairn.HealthIntensityMinutes, t, &minutes, 1, "min")
	}
	h.put(cairn.HealthBodyBatteryCharged, t, d.BBCharged, 1, "score")
	h.put(cairn.HealthBodyBatteryDrained, t, d.BBDrained, 1, "score")
	day.RestingHR = measured(d.RestingHR)
	if s := measured(d.AvgStress); s != nil {
		v := int(math.Round(*s))
		day.Stress = &v
	}
	return h, nil
}

func zeroNil(p *float64) float64 {
	if p == nil {
		return 0
	}
	return *p
}

type garminSleepSummary struct {
	SummaryID    string   `json:"summaryId"`
	CalendarDate string   `json:"calendarDate"`
	Start        *int64   `json:"startTimeInSeconds"`
	Duration     *float64 `json:"durationInSeconds"`
	Deep         *float64 `json:"deepSleepDurationInSeconds"`
	Light        *float64 `json:"lightSleepDurationInSeconds"`
	REM          *float64 `json:"remSleepInSeconds"`
	Awake        *float64 `json:"awakeDurationInSeconds"`
	Score        *struct {
		Value *float64 `json:"value"`
	} `json:"overallSleepScore"`
}

// garminSleep reads a sleep summary: the night's hours asleep and by
// stage, and its score, at the time it began.
func garminSleep(raw json.RawMessage) (*healthSummary, error) {
	var s garminSleepSummary
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, malformed("is not a Garmin sleep summary")
	}
	h, err := newHealthSummary(s.SummaryID, s.Start)
	if err != nil {
		return nil, err
	}
	if measured(s.Duration) == nil {
		return nil, malformed("has no duration")
	}
	day, err := h.newDay(s.CalendarDate)
	if err != nil {
		return nil, err
	}
	const hour = 1.0 / 3600
	t := h.start
	h.put(cairn.HealthSleep, t, s.Duration, hour, "h")
	h.put(cairn.HealthSleepDeep, t, s.Deep, hour, "h")
	h.put(cairn.HealthSleepLight, t, s.Light, hour, "h")
	h.put(cairn.HealthSleepREM, t, s.REM, hour, "h")
	h.put(cairn.HealthSleepAwake, t, s.Awake, hour, "h")
	if s.Score != nil {
		h.put(cairn.HealthSleepScore, t, s.Score.Value, 1, "score")
	}
	hours := *s.Duration * hour
	day.SleepH = &hours
	return h, nil
}

type garminHRVSummary struct {
	SummaryID    string             `json:"summaryId"`
	CalendarDate string             `json:"calendarDate"`
	Start        *int64             `json:"startTimeInSeconds"`
	LastNightAvg *float64           `json:"lastNightAvg"`
	High5Min     *float64           `json:"lastNight5MinHigh"`
	Values       map[string]float64 `json:"hrvValues"` // seconds from the start → rMSSD
}

// garminHRV reads an HRV summary: the night's average (as FIT's HRV
// status is stored), its highest five minutes and every reading.
func garminHRV(raw json.RawMessage) (*healthSummary, error) {
	var s garminHRVSummary
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, malformed("is not a Garmin HRV summary")
	}
	h, err := newHealthSummary(s.SummaryID, s.Start)
	if err != nil {
		return nil, err
	}
	day, err := h.newDay(s.CalendarDate)
	if err != nil {
		return nil, err
	}
	h.put(cairn.HealthHRV, h.start, s.LastNightAvg, 1, "ms")
	h.put(cairn.HealthHRV5MinHigh, h.start, s.High5Min, 1, "ms")
	for k, v := range s.Values {
		off, err := strconv.ParseInt(k, 10, 64)
		if err != nil || off < 0 {
			return nil, malformed("has an HRV reading at no time")
		}
		h.put(cairn.HealthHRVReading, h.start.Add(time.Duration(off)*time.Second), &v, 1, "ms")
	}
	day.HRVRMSSD = measured(s.LastNightAvg)
	return h, nil
}

type garminBodyCompSummary struct {
	SummaryID string   `json:"summaryId"`
	Time      *int64   `json:"measurementTimeInSeconds"`
	WeightG   *float64 `json:"weightInGrams"`
	BMI       *float64 `json:"bodyMassIndex"`
	FatPct    *float64 `json:"bodyFatInPercent"`
	WaterPct  *float64 `json:"bodyWaterInPercent"`
	MuscleG   *float64 `json:"muscleMassInGrams"`
	BoneG     *float64 `json:"boneMassInGrams"`
}

// garminBodyComp reads a body composition, as FIT's weight scale
// messages are stored.
func garminBodyComp(raw json.RawMessage) (*healthSummary, error) {
	var b garminBodyCompSummary
	if err := json.Unmarshal(raw, &b); err != nil {
		return nil, malformed("is not a Garmin body composition")
	}
	h, err := newHealthSummary(b.SummaryID, b.Time)
	if err != nil {
		return nil, err
	}
	t := h.start
	h.put(cairn.HealthWeight, t, b.WeightG, 0.001, "kg")
	h.put(cairn.HealthBMI, t, b.BMI, 1, "kg/m2")
	h.put(cairn.HealthBodyFat, t, b.FatPct, 1, "%")
	h.put(cairn.HealthBodyWater, t, b.WaterPct, 1, "%")
	h.put(cairn.HealthMuscleMass, t, b.MuscleG, 0.001, "kg")
	h.put(cairn.HealthBoneMass, t, b.BoneG, 0.001, "kg")
	return h, nil
}

// storeGarminHealth stores one health summary of typ for the user.
func (s *Service) storeGarminHealth(ctx context.Context, typ, userID string, raw json.RawMessage) error {
	h, err := garminHealth[typ](raw)
	if err != nil {
		return err
	}
	if len(h.metrics) == 0 {
		return malformed("holds no measurement")
	}
	for i := range h.metrics {
		h.metrics[i].UserID = userID
	}
	if h.day != nil {
		h.day.UserID = userID
	}
	sum := &cairn.HealthSummary{UserID: userID, Source: cairn.SourceGarmin, Kind: typ, Start: h.start, SummaryID: h.id}
	return s.cfg.DB.StoreHealthSummary(ctx, sum, h.metrics, h.day)
}

// tokenHash is what the store keeps to find a connection by its access
// token (Garmin pushes name the user's token).
func tokenHash(access string) string {
	if access == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(access))
	return hex.EncodeToString(sum[:])
}
