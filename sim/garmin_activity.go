package sim

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"
)

// activitySummaries are the athlete's Garmin-recorded activities
// starting in [from, to) as activities, activityDetails or activityFiles
// entries; each reached Garmin 5 to 45 minutes after it ended.
func (s *Sim) activitySummaries(ath *Athlete, typ string, from, to time.Time) []gsum {
	var out []gsum
	for _, a := range s.Activities(ath) {
		if a.GarminID == 0 || a.Start.Before(from) || !a.Start.Before(to) {
			continue
		}
		it := gsum{start: a.Start.Unix(), upload: a.End().Unix() + 300 + int64(hash(a.key, 0x0b)%2400)}
		switch typ {
		case "activities":
			it.body = s.garminActivity(a)
		case "activityDetails":
			it.body = s.garminDetails(a)
		default:
			it.body = s.fileNotice(a)
		}
		out = append(out, it)
	}
	return out
}

// garminActivity is an activity summary in Garmin's field names.
func (s *Sim) garminActivity(a *Activity) map[string]any {
	sm := s.summary(a)
	_, off := localStart(a).Zone()
	j := map[string]any{
		"summaryId": strconv.FormatInt(a.GarminID, 10), "activityId": a.GarminID, "activityName": a.Name,
		"durationInSeconds": sm.Elapsed, "startTimeInSeconds": a.Start.Unix(), "startTimeOffsetInSeconds": off,
		"activityType": a.sport.Garmin, "averageSpeedInMetersPerSecond": sm.AvgSpeed, "activeKilocalories": math.Round(sm.Calories),
		"deviceName": a.Device, "distanceInMeters": sm.Distance, "maxSpeedInMetersPerSecond": sm.MaxSpeed, "manual": false,
	}
	if sm.HasHR {
		j["averageHeartRateInBeatsPerMinute"], j["maxHeartRateInBeatsPerMinute"] = math.Round(sm.AvgHR), sm.MaxHR
	}
	if sm.HasAltitude {
		j["totalElevationGainInMeters"], j["totalElevationLossInMeters"] = sm.Gain, sm.Loss
	}
	if len(sm.Start) == 2 {
		j["startingLatitudeInDegree"], j["startingLongitudeInDegree"] = sm.Start[0], sm.Start[1]
	}
	switch {
	case a.sport.ride():
		j["averageBikeCadenceInRoundsPerMinute"], j["maxBikeCadenceInRoundsPerMinute"] = sm.AvgCadence, sm.MaxCadence
	case a.sport.FITSport == runningSport && sm.AvgSpeed > 0:
		// Garmin counts both feet; Strava's run cadence is one leg's
		j["averageRunCadenceInStepsPerMinute"], j["maxRunCadenceInStepsPerMinute"] = 2*sm.AvgCadence, 2*sm.MaxCadence
		j["averagePaceInMinutesPerKilometer"] = round(1000/sm.AvgSpeed/60, 2)
		j["maxPaceInMinutesPerKilometer"] = round(1000/sm.MaxSpeed/60, 2)
		j["steps"] = int(2 * sm.AvgCadence * float64(sm.Moving) / 60)
	}
	return j
}

// garminSample is one second of Activity Details.
type garminSample struct {
	StartTimeInSeconds      int64    `json:"startTimeInSeconds"`
	LatitudeInDegree        *float64 `json:"latitudeInDegree,omitempty"`
	LongitudeInDegree       *float64 `json:"longitudeInDegree,omitempty"`
	ElevationInMeters       *float64 `json:"elevationInMeters,omitempty"`
	AirTemperatureCelcius   *float64 `json:"airTemperatureCelcius,omitempty"`
	HeartRate               *int     `json:"heartRate,omitempty"`
	SpeedMetersPerSecond    float64  `json:"speedMetersPerSecond"`
	StepsPerMinute          *int     `json:"stepsPerMinute,omitempty"`
	BikeCadenceInRPM        *int     `json:"bikeCadenceInRPM,omitempty"`
	PowerInWatts            *int     `json:"powerInWatts,omitempty"`
	TotalDistanceInMeters   float64  `json:"totalDistanceInMeters"`
	TimerDurationInSeconds  int      `json:"timerDurationInSeconds"`
	ClockDurationInSeconds  int      `json:"clockDurationInSeconds"`
	MovingDurationInSeconds int      `json:"movingDurationInSeconds"`
}

func (s *Sim) garminDetails(a *Activity) map[string]any {
	st := s.Streams(a)
	samples := make([]garminSample, st.Len())
	moving := 0
	for i := range samples {
		if st.Moving[i] && i > 0 {
			moving++
		}
		samples[i] = sample(a, st, i, moving)
	}
	return map[string]any{
		"summaryId": fmt.Sprintf("%d-detail", a.GarminID), "activityId": a.GarminID,
		"summary": s.garminActivity(a), "samples": samples,
		"laps": []map[string]int64{{"startTimeInSeconds": a.Start.Unix()}},
	}
}

func sample(a *Activity, st *Streams, i, moving int) garminSample {
	g := garminSample{StartTimeInSeconds: a.Start.Unix() + int64(i), SpeedMetersPerSecond: st.Velocity[i],
		TotalDistanceInMeters: st.Distance[i], TimerDurationInSeconds: i, ClockDurationInSeconds: i,
		MovingDurationInSeconds: moving}
	if st.LatLng != nil {
		g.LatitudeInDegree, g.LongitudeInDegree = &st.LatLng[i][0], &st.LatLng[i][1]
	}
	if st.Altitude != nil {
		g.ElevationInMeters = &st.Altitude[i]
	}
	if st.Temp != nil {
		g.AirTemperatureCelcius = ptr(float64(st.Temp[i]))
	}
	if st.HeartRate != nil {
		g.HeartRate = &st.HeartRate[i]
	}
	if st.Watts != nil {
		g.PowerInWatts = &st.Watts[i]
	}
	if a.sport.ride() {
		g.BikeCadenceInRPM = &st.Cadence[i]
	} else {
		g.StepsPerMinute = ptr(2 * st.Cadence[i])
	}
	return g
}

// fileToken is the one-off token of an activity file's download link.
func (s *Sim) fileToken(a *Activity) string {
	return fmt.Sprintf("%016x", hash(s.cfg.Seed, 0xf11e, a.key))
}

func (s *Sim) fileNotice(a *Activity) map[string]any {
	id := strconv.FormatInt(a.GarminID, 10)
	return map[string]any{
		"userId": a.Athlete.GarminUserID, "summaryId": id, "activityId": a.GarminID, "fileType": "FIT",
		"callbackURL":        s.cfg.BaseURL + "/wellness-api/rest/activityFile?id=" + id + "&token=" + s.fileToken(a),
		"startTimeInSeconds": a.Start.Unix(), "activityName": a.Name, "manual": false,
	}
}

// garminActivityFile serves the FIT file of a notice's callbackURL.
func (s *Sim) garminActivityFile(w http.ResponseWriter, r *http.Request) {
	id, _ := strconv.ParseInt(r.URL.Query().Get("id"), 10, 64)
	for _, a := range s.Activities(tokenOf(r).athlete) {
		if a.GarminID != id || a.GarminID == 0 {
			continue
		}
		if r.URL.Query().Get("token") != s.fileToken(a) {
			break
		}
		b, err := s.FIT(a)
		if err != nil {
			garminError(w, http.StatusInternalServerError, err.Error())
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%d.fit"`, a.GarminID))
		writeBody(w, http.StatusOK, b)
		return
	}
	garminError(w, http.StatusNotFound, "no such activity file")
}
