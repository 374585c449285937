package sim

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/fit"
	"github.com/muktihari/fit/decoder"
	"github.com/muktihari/fit/profile/mesgdef"
	"github.com/muktihari/fit/profile/typedef"
)

// garminLogin runs Garmin's OAuth 2.0 PKCE flow and returns the token
// answer.
func garminLogin(t *testing.T, sv *server) map[string]any {
	t.Helper()
	verifier := "a-verifier-of-at-least-forty-three-characters-0123456789"
	q := url.Values{"response_type": {"code"}, "client_id": {"garmin-client"}, "redirect_uri": {"http://127.0.0.1/g"},
		"state": {"s1"}, "code_challenge_method": {"S256"}}
	if resp, _ := sv.call(t, http.MethodGet, "/oauth2Confirm?"+q.Encode(), "", nil); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("authorize without PKCE: %d", resp.StatusCode)
	}
	q.Set("code_challenge", s256(verifier))
	resp, b := sv.call(t, http.MethodGet, "/oauth2Confirm?"+q.Encode(), "", nil)
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || loc.Query().Get("state") != "s1" {
		t.Fatalf("authorize: %d %s %v", resp.StatusCode, b, loc)
	}
	form := url.Values{"grant_type": {"authorization_code"}, "client_id": {"garmin-client"}, "client_secret": {"garmin-secret"},
		"code": {loc.Query().Get("code")}, "code_verifier": {"not-the-verifier"}, "redirect_uri": {"http://127.0.0.1/g"}}
	if resp, _ := sv.call(t, http.MethodPost, "/di-oauth2-service/oauth/token", "", form); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("wrong verifier: %d", resp.StatusCode)
	}
	resp, b = sv.call(t, http.MethodGet, "/oauth2Confirm?"+q.Encode(), "", nil)
	loc, _ = url.Parse(resp.Header.Get("Location"))
	form.Set("code", loc.Query().Get("code"))
	form.Set("code_verifier", verifier)
	resp, b = sv.call(t, http.MethodPost, "/di-oauth2-service/oauth/token", "", form)
	var tok map[string]any
	if resp.StatusCode != http.StatusOK || json.Unmarshal(b, &tok) != nil {
		t.Fatalf("token: %d %s", resp.StatusCode, b)
	}
	return tok
}

func TestGarminOAuth(t *testing.T) {
	clk := newClock(time.Date(2026, 2, 1, 6, 0, 0, 0, time.UTC))
	sv := newServer(t, Config{Seed: 4, Now: clk.Now})
	tok := garminLogin(t, sv)
	requireKeys(t, "token", tok, "access_token", "token_type", "expires_in", "refresh_token", "refresh_token_expires_in")
	if tok["expires_in"] != 86400.0 || tok["token_type"] != "bearer" {
		t.Errorf("token %v", tok)
	}
	access := tok["access_token"].(string)
	var id map[string]string
	sv.get(t, "/wellness-api/rest/user/id", access, http.StatusOK, &id)
	if id["userId"] != sv.Athletes()[0].GarminUserID {
		t.Errorf("user id %v", id)
	}
	clk.Add(25 * time.Hour)
	sv.get(t, "/wellness-api/rest/user/id", access, http.StatusUnauthorized, nil)
	form := url.Values{"grant_type": {"refresh_token"}, "client_id": {"garmin-client"}, "client_secret": {"garmin-secret"},
		"refresh_token": {tok["refresh_token"].(string)}}
	resp, b := sv.call(t, http.MethodPost, "/di-oauth2-service/oauth/token", "", form)
	var fresh map[string]any
	if resp.StatusCode != http.StatusOK || json.Unmarshal(b, &fresh) != nil || fresh["refresh_token"] == tok["refresh_token"] {
		t.Fatalf("refresh: %d %s", resp.StatusCode, b)
	}
	if resp, _ := sv.call(t, http.MethodPost, "/di-oauth2-service/oauth/token", "", form); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("reused refresh token: %d", resp.StatusCode)
	}
	sv.get(t, "/wellness-api/rest/user/permissions", fresh["access_token"].(string), http.StatusOK, nil)
	resp, _ = sv.call(t, http.MethodDelete, "/wellness-api/rest/user/registration", fresh["access_token"].(string), nil)
	if resp.StatusCode != http.StatusNoContent {
		t.Errorf("deregistration: %d", resp.StatusCode)
	}
	sv.get(t, "/wellness-api/rest/user/id", fresh["access_token"].(string), http.StatusUnauthorized, nil)
}

// TestGarminBackfillPush: 202, 409 for the same window again, and the
// summaries pushed to the partner's callback.
func TestGarminBackfillPush(t *testing.T) {
	cb := newCallback(t)
	sv := newServer(t, Config{Seed: 4, GarminEndpoints: map[string]Endpoint{
		"dailies": {URL: cb.URL + "/dailies", Mode: ModePush}, "sleeps": {URL: cb.URL + "/sleeps", Mode: ModePush},
		"hrv": {URL: cb.URL + "/hrv", Mode: ModePush}, "bodyComps": {URL: cb.URL + "/bc", Mode: ModePush},
		"epochs": {URL: cb.URL + "/epochs", Mode: ModePush}, "activities": {URL: cb.URL + "/act", Mode: ModePush},
		"activityDetails": {URL: cb.URL + "/details", Mode: ModePush},
	}})
	ath := sv.Athletes()[0]
	token, _ := sv.IssueToken(ProviderGarmin, "garmin-client", ath, "")
	end := ath.Activities[len(ath.Activities)-1].Start.Truncate(24 * time.Hour)
	start := end.Add(-7 * 24 * time.Hour)
	q := "?summaryStartTimeInSeconds=" + itoa(start.Unix()) + "&summaryEndTimeInSeconds=" + itoa(end.Unix())
	for _, typ := range []string{"dailies", "sleeps", "hrv", "bodyComps", "epochs", "activities", "activityDetails"} {
		if resp, b := sv.call(t, http.MethodGet, "/wellness-api/rest/backfill/"+typ+q, token, nil); resp.StatusCode != http.StatusAccepted {
			t.Fatalf("backfill %s: %d %s", typ, resp.StatusCode, b)
		}
	}
	if resp, _ := sv.call(t, http.MethodGet, "/wellness-api/rest/backfill/dailies"+q, token, nil); resp.StatusCode != http.StatusConflict {
		t.Errorf("repeated window: %d, want 409", resp.StatusCode)
	}
	long := "?summaryStartTimeInSeconds=" + itoa(start.Unix()-91*86400) + "&summaryEndTimeInSeconds=" + itoa(start.Unix())
	if resp, _ := sv.call(t, http.MethodGet, "/wellness-api/rest/backfill/dailies"+long, token, nil); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("91-day window: %d, want 400", resp.StatusCode)
	}
	sv.Deliver(t.Context())
	got := map[string][]map[string]any{}
	for _, b := range cb.received() {
		var push map[string][]map[string]any
		if err := json.Unmarshal(b, &push); err != nil {
			t.Fatal(err)
		}
		for typ, items := range push {
			got[typ] = append(got[typ], items...)
		}
	}
	if cb.header[0].Get("Garmin-Client-Id") != "garmin-client" {
		t.Errorf("push headers %v", cb.header[0])
	}
	if n := len(got["dailies"]); n != 7 {
		t.Errorf("%d dailies for 7 days", n)
	}
	if n := len(got["epochs"]); n != 7*96 {
		t.Errorf("%d epochs for 7 days", n)
	}
	if len(got["sleeps"]) < 6 || len(got["hrv"]) < 6 || len(got["bodyComps"]) == 0 {
		t.Errorf("%d sleeps, %d hrv, %d body compositions", len(got["sleeps"]), len(got["hrv"]), len(got["bodyComps"]))
	}
	checkHealthShapes(t, got)
}

func checkHealthShapes(t *testing.T, got map[string][]map[string]any) {
	requireKeys(t, "daily", got["dailies"][0], "summaryId", "calendarDate", "steps", "distanceInMeters", "activeKilocalories",
		"bmrKilocalories", "durationInSeconds", "startTimeInSeconds", "startTimeOffsetInSeconds",
		"restingHeartRateInBeatsPerMinute", "averageHeartRateInBeatsPerMinute", "maxHeartRateInBeatsPerMinute",
		"timeOffsetHeartRateSamples", "averageStressLevel", "bodyBatteryChargedValue")
	requireKeys(t, "sleep", got["sleeps"][0], "summaryId", "calendarDate", "durationInSeconds", "startTimeInSeconds",
		"deepSleepDurationInSeconds", "lightSleepDurationInSeconds", "remSleepInSeconds", "awakeDurationInSeconds",
		"sleepLevelsMap", "validation", "overallSleepScore")
	requireKeys(t, "hrv", got["hrv"][0], "summaryId", "calendarDate", "lastNightAvg", "lastNight5MinHigh", "hrvValues",
		"startTimeInSeconds", "durationInSeconds")
	requireKeys(t, "body composition", got["bodyComps"][0], "summaryId", "measurementTimeInSeconds", "weightInGrams",
		"bodyFatInPercent", "bodyMassIndex", "muscleMassInGrams", "boneMassInGrams", "bodyWaterInPercent")
	for _, s := range got["sleeps"] {
		stages := s["deepSleepDurationInSeconds"].(float64) + s["lightSleepDurationInSeconds"].(float64) + s["remSleepInSeconds"].(float64)
		if stages != s["durationInSeconds"].(float64) || stages < 5*3600 {
			t.Errorf("sleep of %v s has stages adding to %v s", s["durationInSeconds"], stages)
		}
	}
	samples := got["dailies"][0]["timeOffsetHeartRateSamples"].(map[string]any)
	if len(samples) != 5760 {
		t.Errorf("%d heart rate samples a day, want one every 15 s", len(samples))
	}
	if len(got["activities"]) == 0 || len(got["activityDetails"]) != len(got["activities"]) {
		t.Fatalf("%d activities, %d activity details", len(got["activities"]), len(got["activityDetails"]))
	}
	for i, a := range got["activities"] {
		requireKeys(t, "activity", a, "summaryId", "activityId", "activityType", "startTimeInSeconds", "durationInSeconds",
			"distanceInMeters", "averageSpeedInMetersPerSecond", "deviceName")
		d := got["activityDetails"][i]
		requireKeys(t, "activity details", d, "summaryId", "activityId", "summary", "samples", "laps")
		samples := d["samples"].([]any)
		if len(samples) != int(a["durationInSeconds"].(float64))+1 {
			t.Errorf("%d samples over %v s", len(samples), a["durationInSeconds"])
		}
		requireKeys(t, "sample", samples[len(samples)-1].(map[string]any), "startTimeInSeconds", "speedMetersPerSecond",
			"totalDistanceInMeters", "timerDurationInSeconds", "clockDurationInSeconds", "movingDurationInSeconds")
		if last := samples[len(samples)-1].(map[string]any)["totalDistanceInMeters"]; last != a["distanceInMeters"] {
			t.Errorf("details end at %v m, summary says %v m", last, a["distanceInMeters"])
		}
	}
}

// TestGarminPingPull: a ping names a callbackURL that a pull with the
// user's token answers; pulls span at most 24 h.
func TestGarminPingPull(t *testing.T) {
	cb := newCallback(t)
	sv := newServer(t, Config{Seed: 6})
	if err := sv.SetGarminEndpoint("sleeps", Endpoint{URL: cb.URL, Mode: ModePing}); err != nil {
		t.Fatal(err)
	}
	ath := sv.Athletes()[0]
	token, _ := sv.IssueToken(ProviderGarmin, "garmin-client", ath, "")
	from := ath.Activities[10].Start
	sv.NotifyGarmin(ath, "sleeps", from, from.Add(3*24*time.Hour))
	sv.Deliver(t.Context())
	var ping map[string][]map[string]any
	if err := json.Unmarshal(cb.received()[0], &ping); err != nil {
		t.Fatal(err)
	}
	var sleeps []map[string]any
	for _, entry := range ping["sleeps"] {
		requireKeys(t, "ping", entry, "userId", "uploadStartTimeInSeconds", "uploadEndTimeInSeconds", "callbackURL")
		callback := entry["callbackURL"].(string)
		if !strings.HasPrefix(callback, sv.URL+"/wellness-api/rest/sleeps?") {
			t.Fatalf("callbackURL %s", callback)
		}
		var got []map[string]any
		sv.get(t, strings.TrimPrefix(callback, sv.URL), "", http.StatusUnauthorized, nil)
		sv.get(t, strings.TrimPrefix(callback, sv.URL), token, http.StatusOK, &got)
		sleeps = append(sleeps, got...)
	}
	if want := sv.summaries(ath, "sleeps", from, from.Add(3*24*time.Hour)); len(sleeps) != len(want) || len(want) < 2 {
		t.Errorf("pulls answered %d sleeps, want the %d that started in three days", len(sleeps), len(want))
	}
	day := "?uploadStartTimeInSeconds=" + itoa(from.Unix()) + "&uploadEndTimeInSeconds=" + itoa(from.Unix()+86401)
	sv.get(t, "/wellness-api/rest/dailies"+day, token, http.StatusBadRequest, nil)
}

// TestGarminActivityFile: a new activity's file notice links to a FIT
// file that muktihari/fit and cairn's decoder both read.
func TestGarminActivityFile(t *testing.T) {
	cb := newCallback(t)
	sv := newServer(t, Config{Seed: 8, GarminEndpoints: map[string]Endpoint{"activityFiles": {URL: cb.URL, Mode: ModePush}}})
	ath := sv.Athletes()[0]
	token, _ := sv.IssueToken(ProviderGarmin, "garmin-client", ath, "")
	a := sv.AddActivity(ath)
	for a.GarminID == 0 {
		a = sv.AddActivity(ath)
	}
	sv.Deliver(t.Context())
	bodies := cb.received()
	var notice map[string][]map[string]any
	if err := json.Unmarshal(bodies[len(bodies)-1], &notice); err != nil {
		t.Fatal(err)
	}
	entry := notice["activityFiles"][0]
	if entry["fileType"] != "FIT" || entry["activityId"] != float64(a.GarminID) {
		t.Fatalf("notice %v", entry)
	}
	resp, file := sv.call(t, http.MethodGet, strings.TrimPrefix(entry["callbackURL"].(string), sv.URL), token, nil)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/octet-stream" {
		t.Fatalf("download: %d %s", resp.StatusCode, resp.Header)
	}
	checkFIT(t, sv, a, file)
	sv.get(t, "/wellness-api/rest/activityFile?id="+itoa(a.GarminID)+"&token=guess", token, http.StatusNotFound, nil)
}

// TestFITFiles: every sport's file decodes, with one record a second.
func TestFITFiles(t *testing.T) {
	sv := newServer(t, Config{Seed: 11, StravaActivities: 80})
	seen := map[string]bool{}
	for _, a := range sv.Athletes()[0].Activities {
		if seen[a.SportType] {
			continue
		}
		seen[a.SportType] = true
		b, err := sv.FIT(a)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(a.SportType, func(t *testing.T) { checkFIT(t, sv, a, b) })
	}
}

func checkFIT(t *testing.T, sv *server, a *Activity, file []byte) {
	t.Helper()
	dec := decoder.New(bytes.NewReader(file))
	parsed, err := dec.Decode()
	if err != nil {
		t.Fatalf("muktihari/fit: %v", err)
	}
	records, sessions := 0, 0
	for _, m := range parsed.Messages {
		switch m.Num {
		case typedef.MesgNumRecord:
			records++
		case typedef.MesgNumSession:
			sessions++
			if s := mesgdef.NewSession(&m); s.Sport != a.sport.FITSport {
				t.Errorf("session sport %v, want %v", s.Sport, a.sport.FITSport)
			}
		}
	}
	if records != a.Elapsed+1 || sessions != 1 {
		t.Errorf("%d records, %d sessions; want %d and 1", records, sessions, a.Elapsed+1)
	}
	decoded, err := fit.Decode(bytes.NewReader(file))
	if err != nil {
		t.Fatalf("cairn's fit.Decode: %v", err)
	}
	if decoded.Kind != cairn.KindActivity || len(decoded.Activities) != 1 || decoded.Partial {
		t.Fatalf("decoded %s, %d activities, partial %v, warnings %v", decoded.Kind, len(decoded.Activities), decoded.Partial, decoded.Warnings)
	}
	act := decoded.Activities[0]
	sm := sv.summary(a)
	if len(act.Records) != a.Elapsed+1 || !act.Start.Equal(a.Start) || act.Totals.DistanceM == nil || *act.Totals.DistanceM != sm.Distance {
		t.Errorf("decoded %d records from %s, distance %v; want %d from %s, %v",
			len(act.Records), act.Start, act.Totals.DistanceM, a.Elapsed+1, a.Start, sm.Distance)
	}
}

func TestTrainingAPI(t *testing.T) {
	sv := newServer(t, Config{Seed: 1})
	token, _ := sv.IssueToken(ProviderGarmin, "garmin-client", sv.Athletes()[0], "")
	workout := `{"workoutName":"5x1k","sport":"RUNNING","description":"Intervals","steps":[
		{"type":"WorkoutStep","stepOrder":1,"intensity":"WARMUP","durationType":"TIME","durationValue":600},
		{"type":"WorkoutStep","stepOrder":2,"intensity":"INTERVAL","durationType":"DISTANCE","durationValue":1000}]}`
	post := func(body string) (*http.Response, []byte) {
		req, _ := http.NewRequest(http.MethodPost, sv.URL+"/training-api/workout", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		return sv.do(t, req)
	}
	resp, b := post(workout)
	var created map[string]any
	if resp.StatusCode != http.StatusOK || json.Unmarshal(b, &created) != nil || created["workoutId"] == nil {
		t.Fatalf("create: %d %s", resp.StatusCode, b)
	}
	if created["ownerId"] != float64(sv.Athletes()[0].ID) || created["workoutName"] != "5x1k" {
		t.Errorf("created %v", created)
	}
	for _, bad := range []string{`{"sport":"RUNNING","steps":[{}]}`, `{"workoutName":"x","sport":"DANCING","steps":[{}]}`,
		`{"workoutName":"x","sport":"RUNNING","steps":[]}`, `not json`} {
		if resp, _ := post(bad); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: %d", bad, resp.StatusCode)
		}
	}
	path := "/training-api/workout/" + itoa(int64(created["workoutId"].(float64)))
	sv.get(t, path, token, http.StatusOK, nil)
	if len(sv.Workouts()) != 1 {
		t.Errorf("%d workouts stored", len(sv.Workouts()))
	}
	if resp, _ := sv.call(t, http.MethodDelete, path, token, nil); resp.StatusCode != http.StatusNoContent {
		t.Errorf("delete: %d", resp.StatusCode)
	}
	sv.get(t, path, token, http.StatusNotFound, nil)
}
