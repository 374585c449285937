package syncer

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"strconv"
	"time"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/fit"
	"github.com/cairn-fit/cairn/ingest"
	"github.com/cairn-fit/cairn/sqldb"
)

// garminEntry is what cairn reads of a notification's entry: a ping's
// window and pull URL, an activity file notice's download URL, the user.
type garminEntry struct {
	UserID      string `json:"userId"`
	CallbackURL string `json:"callbackURL"`
	UploadStart *int64 `json:"uploadStartTimeInSeconds"`
	ActivityID  int64  `json:"activityId"`
	FileType    string `json:"fileType"`
}

// HandleGarmin processes one notification of a summary type: activity
// file notices are downloaded (FIT) and stored; activity details, pushed
// or pulled after a ping, are stored from their samples; a
// deregistration revokes the connection. Other summary types are pulled
// when pinged (Garmin expects it) but not kept yet. It returns how many
// activities were created.
func (s *Service) HandleGarmin(ctx context.Context, typ string, body []byte) (int, error) {
	var byType map[string][]json.RawMessage
	if err := json.Unmarshal(body, &byType); err != nil {
		return 0, cairn.Invalid(map[string]string{"body": "is not a Garmin notification"})
	}
	created := 0
	for _, raw := range byType[typ] {
		var e garminEntry
		if err := json.Unmarshal(raw, &e); err != nil {
			continue
		}
		n, err := s.garminEntry(ctx, typ, e, raw)
		if err == errSkip {
			continue
		} else if err != nil {
			return created, err
		}
		created += n
	}
	return created, nil
}

func (s *Service) garminEntry(ctx context.Context, typ string, e garminEntry, raw json.RawMessage) (int, error) {
	if e.UserID == "" {
		return 0, errSkip // a summary pushed without its user cannot be placed
	}
	conn, err := s.cfg.DB.FindConnectionByExternal(cairn.SystemContext(ctx), cairn.ProviderGarmin, e.UserID)
	if cairn.ErrorCode(err) == cairn.ENOTFOUND {
		return 0, errSkip
	} else if err != nil {
		return 0, err
	}
	uctx := userContext(ctx, conn.UserID)
	if typ == "deregistrations" {
		if err := s.revoke(uctx, conn.UserID, cairn.ProviderGarmin); err != nil && cairn.ErrorCode(err) != cairn.ENOTFOUND {
			return 0, err
		}
		return 0, nil
	}
	ts, err := s.tokenSource(uctx, conn.UserID, cairn.ProviderGarmin)
	if err != nil {
		return 0, err
	}
	switch {
	case typ == "activityFiles" && e.CallbackURL != "":
		file, err := withToken(uctx, ts, func(access string) ([]byte, error) {
			return s.cfg.Garmin.ActivityFile(uctx, access, e.CallbackURL)
		})
		if err != nil {
			return 0, err
		}
		return s.storeGarminFIT(uctx, conn.UserID, strconv.FormatInt(e.ActivityID, 10), file)
	case e.CallbackURL != "" && e.UploadStart != nil: // a ping: pull what it announces
		pulled, err := withToken(uctx, ts, func(access string) ([]json.RawMessage, error) {
			return s.cfg.Garmin.PullURL(uctx, access, e.CallbackURL)
		})
		if err != nil {
			return 0, err
		}
		if typ != "activityDetails" {
			return 0, nil
		}
		n := 0
		for _, d := range pulled {
			c, err := s.storeGarminDetails(uctx, conn.UserID, d)
			if err != nil && cairn.ErrorKind(err) != cairn.KindInvalidData {
				return n, err
			}
			n += c
		}
		return n, nil
	case typ == "activityDetails":
		n, err := s.storeGarminDetails(uctx, conn.UserID, raw)
		if cairn.ErrorKind(err) == cairn.KindInvalidData {
			return 0, nil
		}
		return n, err
	}
	return 0, nil
}

// storeGarminFIT stores an activity file.
func (s *Service) storeGarminFIT(ctx context.Context, userID, id string, file []byte) (int, error) {
	decoded, err := fit.Decode(bytes.NewReader(file))
	if err != nil || len(decoded.Activities) == 0 {
		return 0, nil // not an activity file we can read: nothing to retry
	}
	pa := ingest.ProviderActivity{Provider: cairn.ProviderGarmin, ExternalID: id, Format: cairn.FormatFIT,
		Activity: decoded.Activities[0], Device: decoded.Device, Original: file, Partial: decoded.Partial}
	return s.storeProvider(ctx, userID, pa)
}

// garminDetails is the part of an Activity Details summary cairn reads.
type garminDetails struct {
	ActivityID int64 `json:"activityId"`
	Summary    struct {
		ActivityName      string   `json:"activityName"`
		ActivityType      string   `json:"activityType"`
		StartTime         int64    `json:"startTimeInSeconds"`
		Duration          float64  `json:"durationInSeconds"`
		Distance          *float64 `json:"distanceInMeters"`
		Calories          *float64 `json:"activeKilocalories"`
		AvgHR             *float64 `json:"averageHeartRateInBeatsPerMinute"`
		MaxHR             *float64 `json:"maxHeartRateInBeatsPerMinute"`
		AvgSpeed          *float64 `json:"averageSpeedInMetersPerSecond"`
		MaxSpeed          *float64 `json:"maxSpeedInMetersPerSecond"`
		Ascent            *float64 `json:"totalElevationGainInMeters"`
		Descent           *float64 `json:"totalElevationLossInMeters"`
		DeviceName        string   `json:"deviceName"`
		Steps             *float64 `json:"steps"`
		AverageBikeCad    *float64 `json:"averageBikeCadenceInRoundsPerMinute"`
		AverageRunCadence *float64 `json:"averageRunCadenceInStepsPerMinute"`
	} `json:"summary"`
	Samples []struct {
		T        int64    `json:"startTimeInSeconds"`
		Lat      *float64 `json:"latitudeInDegree"`
		Lon      *float64 `json:"longitudeInDegree"`
		Ele      *float64 `json:"elevationInMeters"`
		Temp     *float64 `json:"airTemperatureCelcius"`
		HR       *float64 `json:"heartRate"`
		Speed    *float64 `json:"speedMetersPerSecond"`
		Steps    *float64 `json:"stepsPerMinute"`
		BikeCad  *float64 `json:"bikeCadenceInRPM"`
		Power    *float64 `json:"powerInWatts"`
		Distance *float64 `json:"totalDistanceInMeters"`
	} `json:"samples"`
}

// storeGarminDetails stores an activity from its details' samples.
func (s *Service) storeGarminDetails(ctx context.Context, userID string, raw json.RawMessage) (int, error) {
	var d garminDetails
	if err := json.Unmarshal(raw, &d); err != nil || d.ActivityID == 0 || d.Summary.StartTime == 0 {
		return 0, cairn.Errorf(cairn.EINVALIDFILE, "the Garmin activity details are not readable")
	}
	sm := d.Summary
	start := time.Unix(sm.StartTime, 0).UTC()
	a := cairn.DecodedActivity{Type: cairn.MapSport("garmin", sm.ActivityType, ""), Sport: sm.ActivityType,
		Name: sm.ActivityName, Start: start, End: start.Add(time.Duration(sm.Duration * float64(time.Second))),
		Metadata: map[string]any{"garmin_activity_id": d.ActivityID}}
	t := &a.Totals
	t.DistanceM, t.ElapsedS, t.Calories, t.AvgHR, t.MaxHR = sm.Distance, &sm.Duration, sm.Calories, sm.AvgHR, sm.MaxHR
	t.AvgSpeed, t.MaxSpeed, t.AscentM, t.DescentM, t.Steps = sm.AvgSpeed, sm.MaxSpeed, sm.Ascent, sm.Descent, sm.Steps
	if sm.AverageBikeCad != nil {
		t.AvgCadence = sm.AverageBikeCad
	} else if sm.AverageRunCadence != nil {
		v := *sm.AverageRunCadence / 2 // both feet: FIT's cadence is per foot
		t.AvgCadence = &v
	}
	nan := math.NaN()
	val := func(p *float64) float64 {
		if p == nil {
			return nan
		}
		return *p
	}
	for _, x := range d.Samples {
		r := cairn.Record{Time: time.Unix(x.T, 0).UTC(), Lat: val(x.Lat), Lon: val(x.Lon), Altitude: val(x.Ele),
			HeartRate: val(x.HR), Power: val(x.Power), Speed: val(x.Speed), Distance: val(x.Distance), Temperature: val(x.Temp)}
		r.Cadence = val(x.BikeCad)
		if x.Steps != nil {
			r.Cadence = *x.Steps / 2
		}
		if x.Lat == nil || x.Lon == nil {
			r.Lat, r.Lon = nan, nan
		}
		a.Records = append(a.Records, r)
	}
	pa := ingest.ProviderActivity{Provider: cairn.ProviderGarmin, ExternalID: strconv.FormatInt(d.ActivityID, 10),
		Format: "garmin", Activity: a}
	if sm.DeviceName != "" {
		pa.Device = &cairn.DeviceInfo{Manufacturer: "Garmin", Model: sm.DeviceName}
	}
	return s.storeProvider(ctx, userID, pa)
}

// storeProvider stores a provider activity with its enrichment (looked
// up first; what fails is retried later by the enrichment job).
func (s *Service) storeProvider(ctx context.Context, userID string, pa ingest.ProviderActivity) (int, error) {
	p := point{at: pa.Activity.Start}
	for _, r := range pa.Activity.Records {
		if !math.IsNaN(r.Lat) && !math.IsNaN(r.Lon) {
			lat, lon := r.Lat, r.Lon
			p.lat, p.lon = &lat, &lon
			break
		}
	}
	found, err := s.enrichPoints(ctx, []point{p})
	if err != nil {
		return 0, err
	}
	res, err := s.cfg.Ingest.StoreProvider(ctx, userID, pa, func(tx *sqldb.Tx, res *ingest.ProviderResult) error {
		if !res.Created {
			return nil
		}
		e := &cairn.Enrichment{ActivityID: res.ActivityID, UserID: userID, Weather: found[0].weather,
			Place: found[0].place, Status: found[0].status}
		return tx.UpsertEnrichment(ctx, e, p.lat, p.lon)
	})
	if err != nil {
		return 0, err
	}
	if res.Created {
		return 1, nil
	}
	return 0, nil
}
