package sim

import (
	"fmt"
	"math"
	"strconv"
	"time"
)

type ref struct {
	ID            int64 `json:"id"`
	ResourceState int   `json:"resource_state"`
}

type stravaMap struct {
	ID              string `json:"id"`
	Polyline        string `json:"polyline,omitempty"`
	SummaryPolyline string `json:"summary_polyline"`
	ResourceState   int    `json:"resource_state"`
}

// stravaActivityJSON is SummaryActivity (resource_state 2) and, with the
// detail fields set, DetailedActivity (3). Optional figures are left out
// when the recording has no such stream, as Strava does.
type stravaActivityJSON struct {
	ResourceState        int       `json:"resource_state"`
	Athlete              ref       `json:"athlete"`
	Name                 string    `json:"name"`
	Distance             float64   `json:"distance"`
	MovingTime           int       `json:"moving_time"`
	ElapsedTime          int       `json:"elapsed_time"`
	TotalElevationGain   float64   `json:"total_elevation_gain"`
	Type                 string    `json:"type"`
	SportType            string    `json:"sport_type"`
	WorkoutType          *int      `json:"workout_type"`
	ID                   int64     `json:"id"`
	StartDate            string    `json:"start_date"`
	StartDateLocal       string    `json:"start_date_local"`
	Timezone             string    `json:"timezone"`
	UTCOffset            float64   `json:"utc_offset"`
	LocationCity         *string   `json:"location_city"`
	LocationState        *string   `json:"location_state"`
	LocationCountry      string    `json:"location_country"`
	AchievementCount     int       `json:"achievement_count"`
	KudosCount           int       `json:"kudos_count"`
	CommentCount         int       `json:"comment_count"`
	AthleteCount         int       `json:"athlete_count"`
	PhotoCount           int       `json:"photo_count"`
	Map                  stravaMap `json:"map"`
	Trainer              bool      `json:"trainer"`
	Commute              bool      `json:"commute"`
	Manual               bool      `json:"manual"`
	Private              bool      `json:"private"`
	Visibility           string    `json:"visibility"`
	Flagged              bool      `json:"flagged"`
	GearID               *string   `json:"gear_id"`
	StartLatLng          []float64 `json:"start_latlng"`
	EndLatLng            []float64 `json:"end_latlng"`
	AverageSpeed         float64   `json:"average_speed"`
	MaxSpeed             float64   `json:"max_speed"`
	AverageCadence       *float64  `json:"average_cadence,omitempty"`
	AverageTemp          *float64  `json:"average_temp,omitempty"`
	AverageWatts         *float64  `json:"average_watts,omitempty"`
	MaxWatts             *float64  `json:"max_watts,omitempty"`
	WeightedAverageWatts *float64  `json:"weighted_average_watts,omitempty"`
	Kilojoules           *float64  `json:"kilojoules,omitempty"`
	DeviceWatts          *bool     `json:"device_watts,omitempty"`
	HasHeartrate         bool      `json:"has_heartrate"`
	AverageHeartrate     *float64  `json:"average_heartrate,omitempty"`
	MaxHeartrate         *float64  `json:"max_heartrate,omitempty"`
	HeartrateOptOut      bool      `json:"heartrate_opt_out"`
	DisplayHideHROption  bool      `json:"display_hide_heartrate_option"`
	ElevHigh             *float64  `json:"elev_high,omitempty"`
	ElevLow              *float64  `json:"elev_low,omitempty"`
	UploadID             *int64    `json:"upload_id"`
	UploadIDStr          *string   `json:"upload_id_str"`
	ExternalID           *string   `json:"external_id"`
	FromAcceptedTag      bool      `json:"from_accepted_tag"`
	PRCount              int       `json:"pr_count"`
	TotalPhotoCount      int       `json:"total_photo_count"`
	HasKudoed            bool      `json:"has_kudoed"`
	*stravaDetail
}

type stravaDetail struct {
	Description    string         `json:"description"`
	Calories       float64        `json:"calories"`
	DeviceName     string         `json:"device_name"`
	EmbedToken     string         `json:"embed_token"`
	SegmentEfforts []any          `json:"segment_efforts"`
	SplitsMetric   []stravaSplit  `json:"splits_metric"`
	Laps           []stravaLap    `json:"laps"`
	Photos         map[string]any `json:"photos"`
	HideFromHome   bool           `json:"hide_from_home"`
}

type stravaSplit struct {
	Distance            float64  `json:"distance"`
	ElapsedTime         int      `json:"elapsed_time"`
	ElevationDifference float64  `json:"elevation_difference"`
	MovingTime          int      `json:"moving_time"`
	Split               int      `json:"split"`
	AverageSpeed        float64  `json:"average_speed"`
	AverageHeartrate    *float64 `json:"average_heartrate,omitempty"`
	PaceZone            int      `json:"pace_zone"`
}

type stravaLap struct {
	ID                 int64    `json:"id"`
	ResourceState      int      `json:"resource_state"`
	Name               string   `json:"name"`
	Activity           ref      `json:"activity"`
	Athlete            ref      `json:"athlete"`
	ElapsedTime        int      `json:"elapsed_time"`
	MovingTime         int      `json:"moving_time"`
	StartDate          string   `json:"start_date"`
	StartDateLocal     string   `json:"start_date_local"`
	Distance           float64  `json:"distance"`
	StartIndex         int      `json:"start_index"`
	EndIndex           int      `json:"end_index"`
	TotalElevationGain float64  `json:"total_elevation_gain"`
	AverageSpeed       float64  `json:"average_speed"`
	MaxSpeed           float64  `json:"max_speed"`
	AverageCadence     *float64 `json:"average_cadence,omitempty"`
	AverageWatts       *float64 `json:"average_watts,omitempty"`
	AverageHeartrate   *float64 `json:"average_heartrate,omitempty"`
	MaxHeartrate       *float64 `json:"max_heartrate,omitempty"`
	LapIndex           int      `json:"lap_index"`
	Split              int      `json:"split"`
}

// Strava writes start_date_local as the local wall time with a Z.
const stravaTime = "2006-01-02T15:04:05Z"

func ptr[T any](v T) *T { return &v }

// when returns v's address if ok, else nil (the field is left out).
func when(ok bool, v float64) *float64 {
	if !ok {
		return nil
	}
	return &v
}

func (s *Sim) activityJSON(a *Activity, detailed bool) *stravaActivityJSON {
	sm := s.summary(a)
	local := localStart(a)
	_, offset := local.Zone()
	j := &stravaActivityJSON{
		ResourceState: 2, Athlete: ref{a.Athlete.ID, 1}, Name: a.Name,
		Distance: sm.Distance, MovingTime: sm.Moving, ElapsedTime: sm.Elapsed, TotalElevationGain: sm.Gain,
		Type: stravaType(a), SportType: a.SportType, WorkoutType: workoutType(a), ID: a.ID,
		StartDate: a.Start.Format(stravaTime), StartDateLocal: local.Format(stravaTime),
		Timezone:  fmt.Sprintf("(GMT%s) %s", local.Format("-07:00"), a.Athlete.Home.Zone),
		UTCOffset: float64(offset), LocationCountry: a.Athlete.Home.Country,
		Map:     stravaMap{ID: "a" + strconv.FormatInt(a.ID, 10), SummaryPolyline: sm.SummaryPolyline, ResourceState: 2},
		Trainer: !a.sport.GPS && a.SportType != "Swim", Commute: a.Commute, Private: a.Private,
		Visibility: visibility(a), StartLatLng: sm.Start, EndLatLng: sm.End,
		AverageSpeed: sm.AvgSpeed, MaxSpeed: sm.MaxSpeed,
		AverageCadence: when(sm.AvgCadence > 0, sm.AvgCadence), AverageTemp: when(sm.HasTemp, sm.AvgTemp),
		HasHeartrate: sm.HasHR, AverageHeartrate: when(sm.HasHR, sm.AvgHR), MaxHeartrate: when(sm.HasHR, sm.MaxHR),
		DisplayHideHROption: sm.HasHR,
		ElevHigh:            when(sm.HasAltitude, sm.ElevHigh), ElevLow: when(sm.HasAltitude, sm.ElevLow),
	}
	s.power(j, a, sm)
	upload(j, a)
	if detailed {
		s.detail(j, a, sm)
	}
	return j
}

// power fills the power figures; weighted and device watts only for a
// power meter (Strava estimates watts for rides without one).
func (s *Sim) power(j *stravaActivityJSON, a *Activity, sm *summary) {
	if sm.HasWatts {
		j.AverageWatts, j.MaxWatts = ptr(sm.AvgWatts), ptr(sm.MaxWatts)
		j.WeightedAverageWatts, j.Kilojoules, j.DeviceWatts = ptr(sm.WeightedWatts), ptr(sm.Kilojoules), ptr(true)
	} else if a.sport.ride() && sm.Moving > 0 {
		// Strava's estimate: rolling and air resistance at the average
		// speed, plus the climbing.
		m, v := a.Athlete.WeightKg+9, sm.AvgSpeed
		est := round(v*(m*9.81*0.005+0.5*1.2*0.32*v*v)+m*9.81*sm.Gain/float64(sm.Moving), 1)
		j.AverageWatts, j.Kilojoules, j.DeviceWatts = ptr(est), ptr(round(est*float64(sm.Moving)/1000, 1)), ptr(false)
	}
}

func upload(j *stravaActivityJSON, a *Activity) {
	if a.Device == "Strava App" {
		return
	}
	id := a.ID + 1_000_000_000
	ext := fmt.Sprintf("garmin_ping_%d.fit", a.GarminID)
	if a.Device == "Zwift" {
		ext = fmt.Sprintf("zwift-activity-%d.fit", a.ID)
	}
	j.UploadID, j.UploadIDStr, j.ExternalID = &id, ptr(strconv.FormatInt(id, 10)), &ext
}

func visibility(a *Activity) string {
	if a.Private {
		return "only_me"
	}
	return "everyone"
}

// workoutType is Strava's default for the sport (0 runs, 10 rides), or
// its "workout" type (3, 12) for interval sessions.
func workoutType(a *Activity) *int {
	intervals := a.key%4 == 1
	switch {
	case a.sport.ride() && intervals:
		return ptr(12)
	case a.sport.ride():
		return ptr(10)
	case a.sport.FITSport == runningSport && intervals:
		return ptr(3)
	case a.sport.FITSport == runningSport:
		return ptr(0)
	}
	return nil
}

func (s *Sim) detail(j *stravaActivityJSON, a *Activity, sm *summary) {
	st := s.Streams(a)
	j.ResourceState, j.Map.ResourceState = 3, 3
	if st.LatLng != nil {
		j.Map.Polyline = encodePolyline(st.LatLng, 2000)
	}
	j.stravaDetail = &stravaDetail{
		Calories: sm.Calories, DeviceName: a.Device, EmbedToken: fmt.Sprintf("%016x", hash(a.key, 0xe3)),
		SegmentEfforts: []any{}, SplitsMetric: splits(st), Laps: []stravaLap{lapJSON(a, sm, st)},
		Photos: map[string]any{"primary": nil, "count": 0},
	}
}

func lapJSON(a *Activity, sm *summary, st *Streams) stravaLap {
	return stravaLap{
		ID: a.ID*10 + 1, ResourceState: 2, Name: "Lap 1", Activity: ref{a.ID, 1}, Athlete: ref{a.Athlete.ID, 1},
		ElapsedTime: sm.Elapsed, MovingTime: sm.Moving, StartDate: a.Start.Format(stravaTime),
		StartDateLocal: localStart(a).Format(stravaTime), Distance: sm.Distance, EndIndex: st.Len() - 1,
		TotalElevationGain: sm.Gain, AverageSpeed: sm.AvgSpeed, MaxSpeed: sm.MaxSpeed,
		AverageCadence: when(sm.AvgCadence > 0, sm.AvgCadence), AverageWatts: when(sm.HasWatts, sm.AvgWatts),
		AverageHeartrate: when(sm.HasHR, sm.AvgHR), MaxHeartrate: when(sm.HasHR, sm.MaxHR), LapIndex: 1, Split: 1,
	}
}

// splits are Strava's splits_metric: one per full kilometre and the rest.
func splits(st *Streams) []stravaSplit {
	out := []stravaSplit{}
	from := 0
	for i := 1; i < st.Len(); i++ {
		last := i == st.Len()-1
		if st.Distance[i]-st.Distance[from] < 1000 && !(last && st.Distance[i] > st.Distance[from]) {
			continue
		}
		out = append(out, split(st, from, i, len(out)+1))
		from = i
	}
	return out
}

func split(st *Streams, from, to, n int) stravaSplit {
	sp := stravaSplit{Distance: round(st.Distance[to]-st.Distance[from], 1), ElapsedTime: to - from, Split: n}
	var hr mean
	for i := from + 1; i <= to; i++ {
		if st.Moving[i] {
			sp.MovingTime++
		}
		if st.HeartRate != nil {
			hr.add(float64(st.HeartRate[i]), true)
		}
	}
	if st.Altitude != nil {
		sp.ElevationDifference = round(st.Altitude[to]-st.Altitude[from], 1)
	}
	if sp.MovingTime > 0 {
		sp.AverageSpeed = round(sp.Distance/float64(sp.MovingTime), 2)
	}
	sp.AverageHeartrate = when(hr.n > 0, round(hr.avg(), 1))
	return sp
}

// athleteJSON is SummaryAthlete, or DetailedAthlete for GET /athlete.
func athleteJSON(a *Athlete, detailed bool) map[string]any {
	created := time.Date(2014, 3, 1, 12, 0, 0, 0, time.UTC).Add(time.Duration(a.ID%1000) * 24 * time.Hour)
	j := map[string]any{
		"id": a.ID, "username": a.Username, "resource_state": 2, "firstname": a.Firstname, "lastname": a.Lastname,
		"bio": "", "city": a.Home.City, "state": a.Home.State, "country": a.Home.Country, "sex": a.Sex,
		"premium": false, "summit": false, "created_at": created.Format(stravaTime),
		"updated_at": created.Add(400 * 24 * time.Hour).Format(stravaTime), "badge_type_id": 0,
		"weight": a.WeightKg, "profile_medium": "avatar/athlete/medium.png", "profile": "avatar/athlete/large.png",
		"friend": nil, "follower": nil,
	}
	if detailed {
		j["resource_state"] = 3
		j["follower_count"], j["friend_count"] = int(a.ID%97), int(a.ID%89)
		j["measurement_preference"], j["ftp"] = "meters", math.Round(a.FTP)
		j["clubs"], j["bikes"], j["shoes"] = []any{}, []any{}, []any{}
	}
	return j
}
