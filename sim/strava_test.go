package sim

import (
	"encoding/json"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twpayne/go-polyline"
)

// authorize runs Strava's OAuth dance and returns the token answer.
func authorize(t *testing.T, sv *server, scope string) map[string]any {
	t.Helper()
	q := url.Values{"client_id": {"1001"}, "redirect_uri": {"http://127.0.0.1/cb"}, "response_type": {"code"},
		"approval_prompt": {"force"}, "scope": {scope}, "state": {"xyz"}}
	resp, b := sv.call(t, http.MethodGet, "/oauth/authorize?"+q.Encode(), "", nil)
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("authorize: %d %s", resp.StatusCode, b)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || loc.Host != "127.0.0.1" || loc.Query().Get("state") != "xyz" || loc.Query().Get("scope") != scope {
		t.Fatalf("authorize redirected to %q", resp.Header.Get("Location"))
	}
	form := url.Values{"client_id": {"1001"}, "client_secret": {"strava-secret"}, "code": {loc.Query().Get("code")},
		"grant_type": {"authorization_code"}}
	resp, b = sv.call(t, http.MethodPost, "/oauth/token", "", form)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("token: %d %s", resp.StatusCode, b)
	}
	var tok map[string]any
	if err := json.Unmarshal(b, &tok); err != nil {
		t.Fatal(err)
	}
	// the code is single-use
	if resp, _ := sv.call(t, http.MethodPost, "/oauth/token", "", form); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("second use of a code: %d", resp.StatusCode)
	}
	return tok
}

func refresh(t *testing.T, sv *server, refreshToken string, want int) map[string]any {
	t.Helper()
	form := url.Values{"client_id": {"1001"}, "client_secret": {"strava-secret"}, "refresh_token": {refreshToken},
		"grant_type": {"refresh_token"}}
	resp, b := sv.call(t, http.MethodPost, "/oauth/token", "", form)
	if resp.StatusCode != want {
		t.Fatalf("refresh: %d, want %d: %s", resp.StatusCode, want, b)
	}
	var tok map[string]any
	_ = json.Unmarshal(b, &tok)
	return tok
}

// TestStravaOAuth: code → token → refresh → expiry → 401.
func TestStravaOAuth(t *testing.T) {
	clk := newClock(time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC))
	sv := newServer(t, Config{Seed: 3, Athletes: 2, Now: clk.Now})
	tok := authorize(t, sv, "read,activity:read_all")
	requireKeys(t, "token answer", tok, "token_type", "access_token", "refresh_token", "expires_at", "expires_in", "athlete")
	first := tok["access_token"].(string)
	if tok["token_type"] != "Bearer" || tok["expires_in"] != 21600.0 || tok["expires_at"] != float64(clk.Now().Add(6*time.Hour).Unix()) {
		t.Errorf("token answer %v", tok)
	}
	if id := tok["athlete"].(map[string]any)["id"]; id != float64(sv.Athletes()[0].ID) {
		t.Errorf("athlete %v, want the first", id)
	}
	var me map[string]any
	sv.get(t, "/api/v3/athlete", first, http.StatusOK, &me)
	requireKeys(t, "athlete", me, "id", "firstname", "lastname", "city", "country", "sex", "weight", "resource_state")

	// with more than an hour left, a refresh returns the same token
	same := refresh(t, sv, tok["refresh_token"].(string), http.StatusOK)
	if same["access_token"] != first || same["expires_in"] != 21600.0 {
		t.Errorf("early refresh: %v", same)
	}
	clk.Add(5*time.Hour + 30*time.Minute)
	fresh := refresh(t, sv, tok["refresh_token"].(string), http.StatusOK)
	second := fresh["access_token"].(string)
	if second == first || fresh["refresh_token"] == tok["refresh_token"] {
		t.Errorf("late refresh kept the tokens: %v", fresh)
	}
	refresh(t, sv, tok["refresh_token"].(string), http.StatusBadRequest) // spent
	sv.get(t, "/api/v3/athlete", first, http.StatusOK, nil)              // lives out its time
	clk.Add(31 * time.Minute)
	var denied map[string]any
	sv.get(t, "/api/v3/athlete", first, http.StatusUnauthorized, &denied)
	if denied["message"] != "Authorization Error" || len(denied["errors"].([]any)) != 1 {
		t.Errorf("401 body %v", denied)
	}
	sv.get(t, "/api/v3/athlete", second, http.StatusOK, nil)

	// a choice of athlete on the authorize page (the simulator's own parameter)
	q := url.Values{"client_id": {"1001"}, "redirect_uri": {"http://127.0.0.1/cb"}, "response_type": {"code"},
		"athlete": {itoa(sv.Athletes()[1].ID)}}
	resp, _ := sv.call(t, http.MethodGet, "/oauth/authorize?"+q.Encode(), "", nil)
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if loc.Query().Get("scope") != "read" {
		t.Errorf("default scope %q", loc.Query().Get("scope"))
	}
	_, b := sv.call(t, http.MethodPost, "/oauth/token", "", url.Values{"client_id": {"1001"},
		"client_secret": {"strava-secret"}, "code": {loc.Query().Get("code")}, "grant_type": {"authorization_code"}})
	var chosen map[string]any
	if json.Unmarshal(b, &chosen) != nil || chosen["athlete"].(map[string]any)["id"] != float64(sv.Athletes()[1].ID) {
		t.Errorf("athlete=%d chose %s", sv.Athletes()[1].ID, b)
	}
	for _, bad := range []url.Values{
		{"client_id": {"9"}, "redirect_uri": {"http://x/"}, "response_type": {"code"}},
		{"client_id": {"1001"}, "redirect_uri": {"http://x/"}, "response_type": {"token"}},
		{"client_id": {"1001"}, "redirect_uri": {"http://x/"}, "response_type": {"code"}, "scope": {"everything"}},
	} {
		if resp, _ := sv.call(t, http.MethodGet, "/oauth/authorize?"+bad.Encode(), "", nil); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("authorize %v: %d", bad, resp.StatusCode)
		}
	}
}

// TestTokenCallBudget: with TokenCalls, a token dies mid-sync and the
// client must refresh.
func TestTokenCallBudget(t *testing.T) {
	sv := newServer(t, Config{Seed: 3, TokenCalls: 3})
	tok := authorize(t, sv, "activity:read")
	access := tok["access_token"].(string)
	for range 3 {
		sv.get(t, "/api/v3/athlete/activities", access, http.StatusOK, nil)
	}
	sv.get(t, "/api/v3/athlete/activities", access, http.StatusUnauthorized, nil)
	fresh := refresh(t, sv, tok["refresh_token"].(string), http.StatusOK)
	if fresh["access_token"] == access {
		t.Fatal("refresh of an expired token returned it")
	}
	sv.get(t, "/api/v3/athlete/activities", fresh["access_token"].(string), http.StatusOK, nil)
}

func TestDeauthorize(t *testing.T) {
	sv := newServer(t, Config{Seed: 3})
	access, _ := sv.IssueToken(ProviderStrava, "1001", sv.Athletes()[0], "read")
	resp, _ := sv.call(t, http.MethodPost, "/oauth/deauthorize", access, url.Values{})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("deauthorize: %d", resp.StatusCode)
	}
	sv.get(t, "/api/v3/athlete", access, http.StatusUnauthorized, nil)
}

// listAll pages through GET /athlete/activities.
func listAll(t *testing.T, sv *server, token, query string, perPage int) []int64 {
	t.Helper()
	var ids []int64
	for page := 1; ; page++ {
		var list []map[string]any
		sv.get(t, "/api/v3/athlete/activities?per_page="+itoa(int64(perPage))+"&page="+itoa(int64(page))+query, token, http.StatusOK, &list)
		if len(list) > perPage {
			t.Fatalf("page of %d with per_page=%d", len(list), perPage)
		}
		if len(list) == 0 {
			return ids
		}
		for _, a := range list {
			ids = append(ids, int64(a["id"].(float64)))
		}
	}
}

func TestActivitiesPagination(t *testing.T) {
	sv := newServer(t, Config{Seed: 5, StravaActivities: 60})
	ath := sv.Athletes()[0]
	public, _ := sv.IssueToken(ProviderStrava, "1001", ath, "activity:read")
	all, _ := sv.IssueToken(ProviderStrava, "1001", ath, "activity:read_all")

	var want, wantPublic []int64
	for _, a := range slices.Backward(ath.Activities) {
		want = append(want, a.ID)
		if !a.Private {
			wantPublic = append(wantPublic, a.ID)
		}
	}
	if len(want) == len(wantPublic) {
		t.Fatal("seed 5 has no private activity to test with")
	}
	if got := listAll(t, sv, all, "", 7); !slices.Equal(got, want) {
		t.Errorf("read_all, newest first: %v\nwant %v", got, want)
	}
	if got := listAll(t, sv, public, "", 200); !slices.Equal(got, wantPublic) {
		t.Errorf("activity:read hides private ones: %v\nwant %v", got, wantPublic)
	}

	mid := ath.Activities[20].Start.Unix()
	before := listAll(t, sv, all, "&before="+itoa(mid), 9)
	after := listAll(t, sv, all, "&after="+itoa(mid), 9)
	if !slices.Equal(before, want[len(want)-20:]) {
		t.Errorf("before (strict, newest first): %v", before)
	}
	ascending := slices.Clone(want[:len(want)-21])
	slices.Reverse(ascending)
	if !slices.Equal(after, ascending) {
		t.Errorf("after (strict, oldest first): %v\nwant %v", after, ascending)
	}
	both := listAll(t, sv, all, "&after="+itoa(ath.Activities[10].Start.Unix())+"&before="+itoa(mid), 4)
	if !slices.Equal(both, want[len(want)-20:len(want)-11]) {
		t.Errorf("between: %v", both)
	}

	for _, bad := range []string{"per_page=201", "per_page=-1", "page=-2", "before=yesterday", "after=1.5"} {
		var body map[string]any
		sv.get(t, "/api/v3/athlete/activities?"+bad, all, http.StatusBadRequest, &body)
		field := strings.SplitN(bad, "=", 2)[0]
		if errs := body["errors"].([]any); errs[0].(map[string]any)["field"] != field {
			t.Errorf("%s: %v", bad, body)
		}
	}
	readOnly, _ := sv.IssueToken(ProviderStrava, "1001", ath, "read")
	sv.get(t, "/api/v3/athlete/activities", readOnly, http.StatusUnauthorized, nil)
}

var summaryKeys = []string{"resource_state", "athlete", "name", "distance", "moving_time", "elapsed_time",
	"total_elevation_gain", "type", "sport_type", "workout_type", "id", "start_date", "start_date_local", "timezone",
	"utc_offset", "map", "trainer", "commute", "manual", "private", "visibility", "start_latlng", "end_latlng",
	"average_speed", "max_speed", "has_heartrate", "upload_id", "external_id", "kudos_count"}

// TestActivityShapes checks SummaryActivity, DetailedActivity and the
// StreamSet against each other.
func TestActivityShapes(t *testing.T) {
	sv := newServer(t, Config{Seed: 11, StravaActivities: 80})
	ath := sv.Athletes()[0]
	token, _ := sv.IssueToken(ProviderStrava, "1001", ath, "activity:read_all")
	seen := map[string]bool{}
	for _, a := range ath.Activities {
		if seen[a.SportType] {
			continue
		}
		seen[a.SportType] = true
		t.Run(a.SportType, func(t *testing.T) { checkActivity(t, sv, token, a) })
	}
	if len(seen) < 5 {
		t.Errorf("only %d sports in 80 activities", len(seen))
	}
	other, _ := sv.IssueToken(ProviderStrava, "1001", newAthlete(99, 0), "activity:read_all")
	sv.get(t, "/api/v3/activities/"+itoa(ath.Activities[0].ID), other, http.StatusNotFound, nil)
}

func checkActivity(t *testing.T, sv *server, token string, a *Activity) {
	var list []map[string]any
	sv.get(t, "/api/v3/athlete/activities?per_page=1&before="+itoa(a.Start.Unix()+1), token, http.StatusOK, &list)
	sum := list[0]
	requireKeys(t, "summary", sum, summaryKeys...)
	var det map[string]any
	sv.get(t, "/api/v3/activities/"+itoa(a.ID), token, http.StatusOK, &det)
	requireKeys(t, "detail", det, append(summaryKeys, "description", "calories", "device_name", "splits_metric", "laps")...)
	if sum["resource_state"] != 2.0 || det["resource_state"] != 3.0 || sum["id"] != det["id"] || sum["distance"] != det["distance"] {
		t.Errorf("summary %v / detail %v", sum["resource_state"], det["resource_state"])
	}
	if _, err := time.Parse(time.RFC3339, sum["start_date"].(string)); err != nil {
		t.Error(err)
	}
	var st map[string]map[string]any
	keys := "time,latlng,distance,altitude,velocity_smooth,heartrate,cadence,watts,temp,moving,grade_smooth"
	sv.get(t, "/api/v3/activities/"+itoa(a.ID)+"/streams?keys="+keys+"&key_by_type=true", token, http.StatusOK, &st)
	n := float64(a.Elapsed + 1)
	for key, s := range st {
		if s["original_size"] != n || s["series_type"] != "distance" || s["resolution"] != "high" || float64(len(s["data"].([]any))) != n {
			t.Errorf("stream %s: size %v series %v resolution %v", key, s["original_size"], s["series_type"], s["resolution"])
		}
	}
	checkConsistent(t, a, sum, det, st)
}

// checkConsistent: the totals are those of the streams.
func checkConsistent(t *testing.T, a *Activity, sum, det map[string]any, st map[string]map[string]any) {
	data := func(key string) []any { return st[key]["data"].([]any) }
	dist := data("distance")
	if dist[len(dist)-1] != sum["distance"] {
		t.Errorf("distance %v, last sample %v", sum["distance"], dist[len(dist)-1])
	}
	moving := 0
	for _, m := range data("moving") {
		if m.(bool) {
			moving++
		}
	}
	if float64(moving) != sum["moving_time"] {
		t.Errorf("moving_time %v, moving samples %d", sum["moving_time"], moving)
	}
	_, hasGPS := st["latlng"]
	if hasGPS != a.sport.GPS || hasGPS != (len(sum["start_latlng"].([]any)) == 2) {
		t.Errorf("GPS %v, start_latlng %v", hasGPS, sum["start_latlng"])
	}
	_, hasWatts := st["watts"]
	if hasWatts != a.sport.Power || (sum["device_watts"] == true) != hasWatts {
		t.Errorf("watts stream %v, device_watts %v", hasWatts, sum["device_watts"])
	}
	if hr, ok := st["heartrate"]; ok != (sum["has_heartrate"] == true) || ok && sum["average_heartrate"] == nil {
		t.Errorf("heartrate stream %v, summary %v %v", hr != nil, sum["has_heartrate"], sum["average_heartrate"])
	}
	if hasGPS {
		checkTrack(t, sum, data("latlng"), data("velocity_smooth"))
	}
	if len(det["laps"].([]any)) != 1 || len(det["splits_metric"].([]any)) < int(sum["distance"].(float64)/1000) {
		t.Errorf("%d laps, %d splits for %v m", len(det["laps"].([]any)), len(det["splits_metric"].([]any)), sum["distance"])
	}
}

// checkTrack: the track moves at the activity's speed and the summary
// polyline follows it.
func checkTrack(t *testing.T, sum map[string]any, track, speed []any) {
	var moved, said float64
	for i := 1; i < len(track); i++ {
		p, q := track[i-1].([]any), track[i].([]any)
		moved += haversine(p[0].(float64), p[1].(float64), q[0].(float64), q[1].(float64))
		said += speed[i].(float64)
	}
	if math.Abs(moved-said) > 0.02*said+20 {
		t.Errorf("track covers %.0f m, speeds add to %.0f m", moved, said)
	}
	coords, _, err := polyline.DecodeCoords([]byte(sum["map"].(map[string]any)["summary_polyline"].(string)))
	if err != nil || len(coords) < 2 || len(coords) > 260 {
		t.Fatalf("summary polyline: %d points, %v", len(coords), err)
	}
	start := sum["start_latlng"].([]any)
	if d := haversine(coords[0][0], coords[0][1], start[0].(float64), start[1].(float64)); d > 2 {
		t.Errorf("polyline starts %.1f m from start_latlng", d)
	}
}

// TestStreamsRespond: heart rate follows effort, power follows the
// hills, and the array form names each stream.
func TestStreamsRespond(t *testing.T) {
	sv := newServer(t, Config{Seed: 21, StravaActivities: 60})
	var ride, run *Activity
	for _, a := range sv.Athletes()[0].Activities {
		switch {
		case a.SportType == "Ride" && ride == nil:
			ride = a
		case a.SportType == "Run" && a.Device != "Strava App" && run == nil:
			run = a
		}
	}
	st := sv.Streams(ride)
	var up, down mean
	for i, g := range st.Grade {
		up.add(float64(st.Watts[i]), g > 3)
		down.add(float64(st.Watts[i]), g < -3)
	}
	if up.n == 0 || down.n == 0 || up.avg() < 1.5*down.avg() {
		t.Errorf("ride power %.0f W up, %.0f W down", up.avg(), down.avg())
	}
	st = sv.Streams(run)
	var early, late mean
	for i, hr := range st.HeartRate {
		early.add(float64(hr), i < 60)
		late.add(float64(hr), i > 600)
	}
	if late.avg() < early.avg()+15 {
		t.Errorf("run heart rate %.0f in the first minute, %.0f after ten", early.avg(), late.avg())
	}
	token, _ := sv.IssueToken(ProviderStrava, "1001", sv.Athletes()[0], "activity:read_all")
	var list []map[string]any
	sv.get(t, "/api/v3/activities/"+itoa(run.ID)+"/streams?keys=heartrate,watts", token, http.StatusOK, &list)
	if len(list) != 2 || list[0]["type"] != "distance" || list[1]["type"] != "heartrate" {
		t.Errorf("array form: %d streams, %v %v", len(list), list[0]["type"], list[len(list)-1]["type"])
	}
}

// TestRateLimits walks Strava's windows on a fake clock: headers exact,
// 429 past a limit, refused calls still counted, reset at :15 and at
// UTC midnight, one application's usage apart from another's.
func TestRateLimits(t *testing.T) {
	clk := newClock(time.Date(2026, 3, 1, 23, 44, 50, 0, time.UTC))
	sv := newServer(t, Config{Seed: 1, Now: clk.Now, Limits: Limits{Short: 4, Daily: 6, ReadShort: 3, ReadDaily: 100},
		StravaApps: []App{{"1001", "strava-secret"}, {"2002", "other-secret"}}})
	ath := sv.Athletes()[0]
	token, _ := sv.IssueToken(ProviderStrava, "1001", ath, "read")
	other, _ := sv.IssueToken(ProviderStrava, "2002", ath, "read")
	expect := func(token string, status int, usage, read string) {
		t.Helper()
		hdr := sv.get(t, "/api/v3/athlete", token, status, nil)
		if hdr.Get("X-RateLimit-Limit") != "4,6" || hdr.Get("X-ReadRateLimit-Limit") != "3,100" ||
			hdr.Get("X-RateLimit-Usage") != usage || hdr.Get("X-ReadRateLimit-Usage") != read {
			t.Errorf("at %s: usage %q read %q, want %q %q", clk.Now().Format(time.TimeOnly),
				hdr.Get("X-RateLimit-Usage"), hdr.Get("X-ReadRateLimit-Usage"), usage, read)
		}
	}
	expect(token, 200, "1,1", "1,1")
	expect(token, 200, "2,2", "2,2")
	expect(token, 200, "3,3", "3,3")
	expect(token, 429, "4,4", "4,4") // the read limit binds first
	expect(other, 200, "1,1", "1,1")
	clk.Add(9 * time.Second) // 23:44:59
	expect(token, 429, "5,5", "5,5")
	clk.Add(time.Second) // 23:45:00: a new 15-minute window
	expect(token, 200, "1,6", "1,6")
	expect(token, 429, "2,7", "2,7") // the daily overall limit
	clk.Add(15 * time.Minute)        // 00:00:00 UTC: a new day
	expect(token, 200, "1,1", "1,1")

}

// TestRateLimitNeverExceeded: a client calling every 20 seconds for 40
// minutes gets exactly the 15-minute limit's worth of answers a window.
func TestRateLimitNeverExceeded(t *testing.T) {
	clk := newClock(time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC))
	sv := newServer(t, Config{Seed: 1, Now: clk.Now, Limits: Limits{Short: 10, Daily: 1000, ReadShort: 5, ReadDaily: 1000}})
	token, _ := sv.IssueToken(ProviderStrava, "1001", sv.Athletes()[0], "read")
	ok := map[time.Time]int{}
	for range 120 {
		resp, _ := sv.call(t, http.MethodGet, "/api/v3/athlete", token, nil)
		if resp.StatusCode == http.StatusOK {
			ok[clk.Now().Truncate(15*time.Minute)]++
		}
		clk.Add(20 * time.Second)
	}
	if len(ok) != 3 {
		t.Fatalf("answers in %d windows, want 3", len(ok))
	}
	for w, n := range ok {
		if n != 5 {
			t.Errorf("window %s answered %d calls, want the limit of 5", w.Format(time.TimeOnly), n)
		}
	}
}

// TestPushSubscription: the hub.challenge handshake against a real
// callback server, then event delivery with Strava's retries.
func TestPushSubscription(t *testing.T) {
	sv := newServer(t, Config{Seed: 2})
	cb := newCallback(t)
	ath := sv.Athletes()[0]
	token, _ := sv.IssueToken(ProviderStrava, "1001", ath, "activity:read")
	app := url.Values{"client_id": {"1001"}, "client_secret": {"strava-secret"}}
	create := func(verify string) (*http.Response, []byte) {
		form := url.Values{"client_id": {"1001"}, "client_secret": {"strava-secret"}, "callback_url": {cb.URL + "/hook"},
			"verify_token": {verify}}
		return sv.call(t, http.MethodPost, "/api/v3/push_subscriptions", "", form)
	}
	if resp, b := create("wrong"); resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(b), "callback") {
		t.Fatalf("unvalidated callback: %d %s", resp.StatusCode, b)
	}
	resp, b := create("right")
	var sub map[string]int64
	if resp.StatusCode != http.StatusCreated || json.Unmarshal(b, &sub) != nil || sub["id"] == 0 {
		t.Fatalf("create: %d %s", resp.StatusCode, b)
	}
	if resp, _ := create("right"); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("second subscription: %d", resp.StatusCode)
	}
	var subs []map[string]any
	sv.get(t, "/api/v3/push_subscriptions?"+app.Encode(), "", http.StatusOK, &subs)
	if len(subs) != 1 || subs[0]["callback_url"] != cb.URL+"/hook" || subs[0]["application_id"] != 1001.0 {
		t.Errorf("list: %v", subs)
	}

	a := sv.AddActivity(ath)
	if n := sv.Deliver(t.Context()); n != 1 {
		t.Fatalf("delivered %d", n)
	}
	var ev map[string]any
	_ = json.Unmarshal(cb.received()[0], &ev)
	requireKeys(t, "event", ev, "object_type", "object_id", "aspect_type", "owner_id", "subscription_id", "event_time", "updates")
	if ev["object_id"] != float64(a.ID) || ev["aspect_type"] != "create" || ev["owner_id"] != float64(ath.ID) ||
		ev["subscription_id"] != float64(sub["id"]) {
		t.Errorf("event %v", ev)
	}
	sv.get(t, "/api/v3/activities/"+itoa(a.ID), token, http.StatusOK, nil)

	cb.mu.Lock()
	cb.status = http.StatusInternalServerError
	cb.mu.Unlock()
	sv.PushStravaEvent(StravaEvent{ObjectType: "activity", ObjectID: a.ID, AspectType: "update", OwnerID: ath.ID,
		Updates: map[string]string{"title": "Renamed"}})
	for range 4 {
		sv.Deliver(t.Context())
	}
	if got := sv.Stats().Deliveries["strava_event"]["500"]; got != 3 || sv.Pending() != 0 {
		t.Errorf("a failing callback got %d attempts, %d pending; Strava makes three", got, sv.Pending())
	}
	resp, _ = sv.call(t, http.MethodDelete, "/api/v3/push_subscriptions/"+itoa(sub["id"])+"?"+app.Encode(), "", nil)
	if resp.StatusCode != http.StatusNoContent {
		t.Errorf("delete: %d", resp.StatusCode)
	}
}
