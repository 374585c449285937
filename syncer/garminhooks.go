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
// window and pull URL, an activity file notice's download URL, the user
// (by Garmin's id, or the access token pushes carry).
type garminEntry struct {
	UserID      string `json:"userId"`
	AccessToken string `json:"userAccessToken"`
	CallbackURL string `json:"callbackURL"`
	UploadStart *int64 `json:"uploadStartTimeInSeconds"`
	ActivityID  int64  `json:"activityId"`
	FileType    string `json:"fileType"`
}

// GarminOutcome counts what one notification brought.
type GarminOutcome struct {
	Created int // activities
	Stored  int // health summaries, new or updated
	Skipped int // entries of no connection cairn knows
	Failed  int // malformed entries or summaries, each failing alone
}

// HandleGarmin processes one notification of a summary type: activity
// file notices are downloaded (FIT) and stored; activity details and
// health summaries (dailies, sleeps, hrv, bodyComps), pushed or pulled
// after a ping, are stored; a deregistration revokes the connection.
// Other types are pulled when pinged (Garmin expects it) but not kept.
// An entry is placed by its userId, else by its userAccessToken. A
// malformed entry fails alone; an error worth retrying (network,
// database) is returned, and the retried notification updates in place
// what it stored before.
func (s *Service) HandleGarmin(ctx context.Context, typ string, body []byte) (GarminOutcome, error) {
	var o GarminOutcome
	var byType map[string][]json.RawMessage
	if err := json.Unmarshal(body, &byType); err != nil {
		return o, cairn.Invalid(map[string]string{"body": "is not a Garmin notification"})
	}
	for _, raw := range byType[typ] {
		var e garminEntry
		if err := json.Unmarshal(raw, &e); err != nil {
			o.Failed++
			s.log.WarnContext(ctx, "malformed Garmin notification entry", "type", typ, "err", err)
			continue
		}
		if err := s.garminEntry(ctx, typ, e, raw, &o); err != nil {
			return o, err
		}
	}
	return o, nil
}

// garminConnection finds the connection an entry is for: by Garmin's
// user id, else by the access token.
func (s *Service) garminConnection(ctx context.Context, e garminEntry) (*cairn.Connection, error) {
	sys := cairn.SystemContext(ctx)
	if e.UserID != "" {
		c, err := s.cfg.DB.FindConnectionByExternal(sys, cairn.ProviderGarmin, e.UserID)
		if cairn.ErrorCode(err) != cairn.ENOTFOUND {
			return c, err
		}
	}
	if e.AccessToken != "" {
		c, err := s.cfg.DB.FindConnectionByAccessToken(sys, cairn.ProviderGarmin, tokenHash(e.AccessToken))
		if cairn.ErrorCode(err) != cairn.ENOTFOUND {
			return c, err
		}
	}
	return nil, errSkip
}

func (s *Service) garminEntry(ctx context.Context, typ string, e garminEntry, raw json.RawMessage, o *GarminOutcome) error {
	conn, err := s.garminConnection(ctx, e)
	if err == errSkip {
		o.Skipped++
		s.log.InfoContext(ctx, "Garmin notification entry of no known connection skipped", "type", typ,
			"with_user_id", e.UserID != "", "with_token", e.AccessToken != "")
		return nil
	} else if err != nil {
		return err
	}
	uctx := userContext(ctx, conn.UserID)
	switch {
	case typ == "deregistrations":
		if err := s.revoke(uctx, conn.UserID, cairn.ProviderGarmin); err != nil && cairn.ErrorCode(err) != cairn.ENOTFOUND {
			return err
		}
		return nil
	case typ == "activityFiles" && e.CallbackURL != "":
		return s.garminFile(uctx, conn.UserID, e, o)
	case e.CallbackURL != "" && e.UploadStart != nil: // a ping: pull what it announces
		return s.garminPing(uctx, typ, conn.UserID, e, o)
	}
	return s.garminSummary(uctx, typ, conn.UserID, raw, o)
}

// garminFile downloads and stores the activity file a notice announces.
func (s *Service) garminFile(ctx context.Context, userID string, e garminEntry, o *GarminOutcome) error {
	ts, err := s.tokenSource(ctx, userID, cairn.ProviderGarmin)
	if err != nil {
		return err
	}
	file, err := withToken(ctx, ts, func(access string) ([]byte, error) {
		return s.cfg.Garmin.ActivityFile(ctx, access, e.CallbackURL)
	})
	if err != nil {
		return err
	}
	n, err := s.storeGarminFIT(ctx, userID, strconv.FormatInt(e.ActivityID, 10), file)
	o.Created += n
	return err
}

// garminPing pulls a ping's callbackURL with the user's token and stores
// each summary it answers.
func (s *Service) garminPing(ctx context.Context, typ, userID string, e garminEntry, o *GarminOutcome) error {
	ts, err := s.tokenSource(ctx, userID, cairn.ProviderGarmin)
	if err != nil {
		return err
	}
	pulled, err := withToken(ctx, ts, func(access string) ([]json.RawMessage, error) {
		return s.cfg.Garmin.PullURL(ctx, access, e.CallbackURL)
	})
	if err != nil {
		return err
	}
	for _, d := range pulled {
		if err := s.garminSummary(ctx, typ, userID, d, o); err != nil {
			return err
		}
	}
	return nil
}

// garminSummary stores one pushed or pulled summary of typ for the user;
// a malformed one is counted and logged, not returned.
func (s *Service) garminSummary(ctx context.Context, typ, userID string, raw json.RawMessage, o *GarminOutcome) error {
	var err error
	switch {
	case typ == "activityDetails":
		var n int
		n, err = s.storeGarminDetails(ctx, userID, raw)
		o.Created += n
	case garminHealth[typ] != nil:
		if err = s.storeGarminHealth(ctx, typ, userID, raw); err == nil {
			o.Stored++
		}
	default:
		return nil // activities come as files or details; epochs are not kept
	}
	if cairn.ErrorKind(err) == cairn.KindInvalidData {
		o.Failed++
		s.log.WarnContext(ctx, "malformed Garmin summary skipped", "type", typ, "user", userID, "err", err)
		return nil
	}
	return err
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
