package syncer

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/ingest"
	"github.com/cairn-fit/cairn/strava"
)

// stravaActivity turns an activity's details and streams into cairn's
// model: one record a sample (time offsets from the start), totals from
// the details, laps.
func stravaActivity(d *strava.DetailedActivity, st *strava.Streams) (ingest.ProviderActivity, error) {
	pa := ingest.ProviderActivity{Provider: cairn.ProviderStrava, ExternalID: strconv.FormatInt(d.ID, 10), Format: "strava"}
	if d.StartDate.IsZero() || d.ElapsedTime < 0 {
		return pa, cairn.Errorf(cairn.EINVALIDFILE, "the Strava activity has no start")
	}
	start := d.StartDate.UTC()
	sport := d.SportType
	if sport == "" {
		sport = d.Type
	}
	a := cairn.DecodedActivity{
		Type: cairn.MapSport("strava", sport, ""), Sport: sport, Name: d.Name, Start: start,
		End: start.Add(time.Duration(d.ElapsedTime) * time.Second), Indoor: d.Trainer,
		Metadata: map[string]any{"strava_id": d.ID, "private": d.Private},
	}
	if tz := zoneName(d.Timezone); tz != "" {
		a.Metadata["timezone"] = tz
	}
	if d.Description != "" {
		a.Metadata["description"] = d.Description
	}
	t := &a.Totals
	t.DistanceM, t.ElapsedS, t.TimerS = pos(d.Distance), num(float64(d.ElapsedTime)), num(float64(d.MovingTime))
	t.Calories, t.AscentM = pos(d.Calories), num(d.TotalElevationGain)
	t.AvgSpeed, t.MaxSpeed = pos(d.AverageSpeed), pos(d.MaxSpeed)
	t.AvgHR, t.MaxHR, t.AvgCadence = d.AverageHeartrate, d.MaxHeartrate, d.AverageCadence
	if d.DeviceWatts != nil && *d.DeviceWatts {
		t.AvgPower = d.AverageWatts // an estimate otherwise: not the device's
	}
	for _, l := range d.Laps {
		lap := cairn.Lap{Start: l.StartDate.UTC(), ElapsedS: float64(l.ElapsedTime), TimerS: float64(l.MovingTime),
			DistanceM: l.Distance}
		if l.AverageHeartrate != nil {
			lap.AvgHR = *l.AverageHeartrate
		}
		if l.MaxHeartrate != nil {
			lap.MaxHR = *l.MaxHeartrate
		}
		a.Laps = append(a.Laps, lap)
	}
	recs, err := records(start, st)
	if err != nil {
		return pa, err
	}
	a.Records = recs
	if d.DeviceName != "" && d.DeviceName != "Strava App" {
		pa.Device = &cairn.DeviceInfo{Model: d.DeviceName}
		if maker, _, ok := strings.Cut(d.DeviceName, " "); ok {
			pa.Device.Manufacturer = maker
		}
	}
	pa.Activity = a
	return pa, nil
}

// records lays the streams out as records, NaN where a stream lacks the
// sample.
func records(start time.Time, st *strava.Streams) ([]cairn.Record, error) {
	if st == nil || st.Time == nil || len(st.Time.Data) == 0 {
		return nil, nil
	}
	n := len(st.Time.Data)
	recs := make([]cairn.Record, n)
	nan := math.NaN()
	at := func(s *strava.FloatStream, i int) float64 {
		if s == nil || i >= len(s.Data) {
			return nan
		}
		return s.Data[i]
	}
	for i := range recs {
		r := &recs[i]
		r.Time = start.Add(time.Duration(st.Time.Data[i]) * time.Second)
		r.Lat, r.Lon = nan, nan
		if st.LatLng != nil && i < len(st.LatLng.Data) {
			r.Lat, r.Lon = st.LatLng.Data[i][0], st.LatLng.Data[i][1]
		}
		r.Altitude, r.HeartRate, r.Cadence = at(st.Altitude, i), at(st.HR, i), at(st.Cadence, i)
		r.Power, r.Speed, r.Distance, r.Temperature = at(st.Watts, i), at(st.Velocity, i), at(st.Distance, i), at(st.Temp, i)
	}
	for i := 1; i < n; i++ {
		if recs[i].Time.Before(recs[i-1].Time) {
			return nil, cairn.Errorf(cairn.EINVALIDFILE, "the Strava time stream goes backwards")
		}
	}
	return recs, nil
}

// zoneName reads the IANA name from Strava's "(GMT+01:00) Europe/Paris".
func zoneName(tz string) string {
	if i := strings.LastIndex(tz, ") "); i >= 0 {
		tz = tz[i+2:]
	}
	if _, err := time.LoadLocation(tz); err != nil || tz == "" {
		return ""
	}
	return tz
}

func num(v float64) *float64 { return &v }

func pos(v float64) *float64 {
	if v <= 0 {
		return nil
	}
	return &v
}
