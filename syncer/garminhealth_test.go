package syncer_test

import (
	"context"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/sim"
	"github.com/cairn-fit/cairn/sqldb/dbtest"
	"github.com/cairn-fit/cairn/syncer"
)

var healthTypes = []string{"dailies", "sleeps", "hrv", "bodyComps"}

// garminNotices points the simulator's callback of typ at a recorder,
// has it notify the athlete's summaries of [from, to) and returns the
// bodies it delivered.
func (e *env) garminNotices(typ, mode string, ath *sim.Athlete, from, to time.Time) [][]byte {
	e.t.Helper()
	var mu sync.Mutex
	var bodies [][]byte
	rec := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, b)
		mu.Unlock()
	}))
	defer rec.Close()
	if err := e.sim.SetGarminEndpoint(typ, sim.Endpoint{URL: rec.URL, Mode: mode}); err != nil {
		e.t.Fatal(err)
	}
	e.sim.NotifyGarmin(ath, typ, from, to)
	e.sim.Deliver(context.Background())
	if len(bodies) == 0 {
		e.t.Fatalf("the simulator delivered no %s", typ)
	}
	return bodies
}

// entries are the summaries of notification bodies.
func entries(t *testing.T, typ string, bodies [][]byte) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, b := range bodies {
		var n map[string][]map[string]any
		if err := json.Unmarshal(b, &n); err != nil {
			t.Fatal(err)
		}
		out = append(out, n[typ]...)
	}
	return out
}

func notification(t *testing.T, typ string, es ...map[string]any) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{typ: es})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// handle runs one notification through the service.
func (e *env) handle(typ string, body []byte) syncer.GarminOutcome {
	e.t.Helper()
	o, err := e.svc.HandleGarmin(context.Background(), typ, body)
	if err != nil {
		e.t.Fatalf("%s: %v", typ, err)
	}
	return o
}

// healthWindow is a week of the athlete's health history.
func healthWindow() (time.Time, time.Time) {
	until := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	return until.AddDate(0, 0, -8), until.AddDate(0, 0, -1)
}

// metricsOf returns the user's metrics of typ, oldest first.
func metricsOf(t *testing.T, db *dbtest.DB, userID, typ string) []cairn.HealthMetric {
	t.Helper()
	ctx := cairn.WithActor(context.Background(), cairn.Actor{UserID: userID})
	var out []cairn.HealthMetric
	page := cairn.PageRequest{Limit: 200}
	for {
		p, err := db.ListHealthMetrics(ctx, cairn.HealthFilter{UserID: userID, Type: typ, Page: page})
		if err != nil {
			t.Fatal(err)
		}
		out = append(p.Data, out...)
		if p.NextCursor == nil {
			break
		}
		page.Cursor = *p.NextCursor
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}

// allMetrics counts the user's health metrics.
func allMetrics(t *testing.T, db *dbtest.DB, userID string) int {
	t.Helper()
	ctx := cairn.WithActor(context.Background(), cairn.Actor{UserID: userID})
	p, err := db.ListHealthMetrics(ctx, cairn.HealthFilter{UserID: userID, Page: cairn.PageRequest{Limit: 1}})
	if err != nil {
		t.Fatal(err)
	}
	return p.Total
}

// metricAt is the user's metric of typ at t (nil: none).
func metricAt(t *testing.T, db *dbtest.DB, userID, typ string, at time.Time) *cairn.HealthMetric {
	t.Helper()
	ctx := cairn.WithActor(context.Background(), cairn.Actor{UserID: userID})
	end := at.Add(time.Second)
	p, err := db.ListHealthMetrics(ctx, cairn.HealthFilter{UserID: userID, Type: typ, Start: &at, End: &end,
		Page: cairn.PageRequest{Limit: 5}})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Data) > 1 {
		t.Fatalf("%d %s metrics at %v", len(p.Data), typ, at)
	}
	if len(p.Data) == 0 {
		return nil
	}
	return &p.Data[0]
}

func dayOf(t *testing.T, db *dbtest.DB, userID, date string) *cairn.DailyMetric {
	t.Helper()
	ctx := cairn.WithActor(context.Background(), cairn.Actor{UserID: userID})
	d, _ := time.Parse(time.DateOnly, date)
	p, err := db.ListDailyMetrics(ctx, cairn.DailyFilter{UserID: userID, Start: date,
		End: d.AddDate(0, 0, 1).Format(time.DateOnly), Page: cairn.PageRequest{Limit: 5}})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Data) != 1 {
		t.Fatalf("%d days %s", len(p.Data), date)
	}
	return &p.Data[0]
}

func num(v any) float64 {
	f, ok := v.(float64)
	if !ok {
		return math.NaN()
	}
	return f
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-6 }

// checkStored reads back the values of the simulator's summaries of typ
// (the JSON Garmin sends) from the store.
func checkStored(t *testing.T, db *dbtest.DB, userID, typ string, es []map[string]any) {
	t.Helper()
	at := func(key string, e map[string]any) time.Time { return time.Unix(int64(num(e[key])), 0).UTC() }
	want := func(mtype string, ts time.Time, v float64) {
		t.Helper()
		m := metricAt(t, db, userID, mtype, ts)
		if m == nil || !near(m.Value, v) || m.Source != cairn.SourceGarmin || m.UserID != userID {
			t.Errorf("%s %s at %v: %+v, want %v from garmin", typ, mtype, ts, m, v)
		}
	}
	for _, e := range es {
		switch typ {
		case "dailies":
			ts := at("startTimeInSeconds", e)
			want(cairn.HealthSteps, ts, num(e["steps"]))
			want(cairn.HealthDistance, ts, num(e["distanceInMeters"]))
			want(cairn.HealthActiveCalories, ts, num(e["activeKilocalories"]))
			want(cairn.HealthCalories, ts, num(e["activeKilocalories"])+num(e["bmrKilocalories"]))
			want(cairn.HealthFloors, ts, num(e["floorsClimbed"]))
			want(cairn.HealthRestingHeartRate, ts, num(e["restingHeartRateInBeatsPerMinute"]))
			want(cairn.HealthMinHeartRate, ts, num(e["minHeartRateInBeatsPerMinute"]))
			want(cairn.HealthAvgHeartRate, ts, num(e["averageHeartRateInBeatsPerMinute"]))
			want(cairn.HealthMaxHeartRate, ts, num(e["maxHeartRateInBeatsPerMinute"]))
			want(cairn.HealthAvgStress, ts, num(e["averageStressLevel"]))
			want(cairn.HealthMaxStress, ts, num(e["maxStressLevel"]))
			want(cairn.HealthIntensityMinutes, ts, (num(e["moderateIntensityDurationInSeconds"])+2*num(e["vigorousIntensityDurationInSeconds"]))/60)
			want(cairn.HealthBodyBatteryCharged, ts, num(e["bodyBatteryChargedValue"]))
			want(cairn.HealthBodyBatteryDrained, ts, num(e["bodyBatteryDrainedValue"]))
			d := dayOf(t, db, userID, e["calendarDate"].(string))
			if d.RestingHR == nil || *d.RestingHR != num(e["restingHeartRateInBeatsPerMinute"]) ||
				d.Stress == nil || float64(*d.Stress) != num(e["averageStressLevel"]) {
				t.Errorf("day %+v of %v", d, e["calendarDate"])
			}
		case "sleeps":
			ts := at("startTimeInSeconds", e)
			want(cairn.HealthSleep, ts, num(e["durationInSeconds"])/3600)
			want(cairn.HealthSleepDeep, ts, num(e["deepSleepDurationInSeconds"])/3600)
			want(cairn.HealthSleepLight, ts, num(e["lightSleepDurationInSeconds"])/3600)
			want(cairn.HealthSleepREM, ts, num(e["remSleepInSeconds"])/3600)
			want(cairn.HealthSleepAwake, ts, num(e["awakeDurationInSeconds"])/3600)
			want(cairn.HealthSleepScore, ts, num(e["overallSleepScore"].(map[string]any)["value"]))
			if d := dayOf(t, db, userID, e["calendarDate"].(string)); d.SleepH == nil || !near(*d.SleepH, num(e["durationInSeconds"])/3600) {
				t.Errorf("day %+v of %v", d, e["calendarDate"])
			}
		case "hrv":
			ts := at("startTimeInSeconds", e)
			want(cairn.HealthHRV, ts, num(e["lastNightAvg"]))
			want(cairn.HealthHRV5MinHigh, ts, num(e["lastNight5MinHigh"]))
			readings := e["hrvValues"].(map[string]any)
			if len(readings) == 0 {
				t.Fatal("the simulator's HRV summary has no readings")
			}
			for off, v := range readings {
				s, _ := strconv.Atoi(off)
				want(cairn.HealthHRVReading, ts.Add(time.Duration(s)*time.Second), num(v))
			}
			if d := dayOf(t, db, userID, e["calendarDate"].(string)); d.HRVRMSSD == nil || *d.HRVRMSSD != num(e["lastNightAvg"]) {
				t.Errorf("day %+v of %v", d, e["calendarDate"])
			}
		case "bodyComps":
			ts := at("measurementTimeInSeconds", e)
			want(cairn.HealthWeight, ts, num(e["weightInGrams"])/1000)
			want(cairn.HealthBMI, ts, num(e["bodyMassIndex"]))
			want(cairn.HealthBodyFat, ts, num(e["bodyFatInPercent"]))
			want(cairn.HealthBodyWater, ts, num(e["bodyWaterInPercent"]))
			want(cairn.HealthMuscleMass, ts, num(e["muscleMassInGrams"])/1000)
			want(cairn.HealthBoneMass, ts, num(e["boneMassInGrams"])/1000)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
}

func summaries(t *testing.T, db *dbtest.DB, userID string) []cairn.HealthSummary {
	t.Helper()
	s, err := db.FindHealthSummaries(cairn.WithActor(context.Background(), cairn.Actor{UserID: userID}), userID, cairn.SourceGarmin)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestGarminHealthPush: pushed dailies, sleeps, HRV and body
// compositions are stored with every value of the simulator's summaries;
// the same push again changes nothing; an updated daily (Garmin's new
// summary id, more steps, a value gone) replaces the day's rows.
func TestGarminHealthPush(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *dbtest.DB) {
		e := newEnv(t, db, envOptions{sim: sim.Config{Seed: 41, StravaActivities: 4}})
		e.connect(cairn.ProviderGarmin)
		ath := e.sim.Athletes()[0]
		from, to := healthWindow()
		all := map[string][][]byte{}
		total := 0
		for _, typ := range healthTypes {
			all[typ] = e.garminNotices(typ, sim.ModePush, ath, from, to)
			es := entries(t, typ, all[typ])
			stored := 0
			for _, b := range all[typ] {
				o := e.handle(typ, b)
				if o.Failed != 0 || o.Skipped != 0 {
					t.Fatalf("%s: %+v", typ, o)
				}
				stored += o.Stored
			}
			if stored != len(es) {
				t.Errorf("%s: %d stored of %d", typ, stored, len(es))
			}
			total += len(es)
			checkStored(t, db, e.user.ID, typ, es)
		}
		if n := len(summaries(t, db, e.user.ID)); n != total {
			t.Fatalf("%d summaries, want %d", n, total)
		}

		metrics := allMetrics(t, db, e.user.ID)
		for _, typ := range healthTypes {
			for _, b := range all[typ] {
				e.handle(typ, b)
			}
		}
		if n, m := len(summaries(t, db, e.user.ID)), allMetrics(t, db, e.user.ID); n != total || m != metrics {
			t.Errorf("after the same pushes again: %d summaries, %d metrics; want %d, %d", n, m, total, metrics)
		}

		daily := entries(t, "dailies", all["dailies"])[0]
		daily["summaryId"] = daily["summaryId"].(string) + "-later"
		daily["steps"] = num(daily["steps"]) + 1234
		delete(daily, "bodyBatteryChargedValue")
		if o := e.handle("dailies", notification(t, "dailies", daily)); o.Stored != 1 {
			t.Fatalf("updated daily: %+v", o)
		}
		start := time.Unix(int64(num(daily["startTimeInSeconds"])), 0).UTC()
		if m := metricAt(t, db, e.user.ID, cairn.HealthSteps, start); m == nil || m.Value != num(daily["steps"]) {
			t.Errorf("steps after the update: %+v, want %v", m, daily["steps"])
		}
		if m := metricAt(t, db, e.user.ID, cairn.HealthBodyBatteryCharged, start); m != nil {
			t.Errorf("a value the update no longer carries is still there: %+v", m)
		}
		ss := summaries(t, db, e.user.ID)
		if n, m := len(ss), allMetrics(t, db, e.user.ID); n != total || m != metrics-1 {
			t.Errorf("after the update: %d summaries, %d metrics; want %d, %d", n, m, total, metrics-1)
		}
		found := false
		for _, s := range ss {
			found = found || (s.Kind == "dailies" && s.Start.Equal(start) && s.SummaryID == daily["summaryId"])
		}
		if !found {
			t.Errorf("the daily's summary id is not the latest: %+v", ss)
		}
	})
}

// TestGarminHealthPingPull: pings of each health type are followed
// with the user's token and what they announce is stored, the same
// values the simulator serves.
func TestGarminHealthPingPull(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *dbtest.DB) {
		e := newEnv(t, db, envOptions{sim: sim.Config{Seed: 42, StravaActivities: 4}})
		e.connect(cairn.ProviderGarmin)
		ath := e.sim.Athletes()[0]
		access, _ := e.sim.IssueToken(sim.ProviderGarmin, "garmin-client", ath, "")
		from, to := healthWindow()
		for _, typ := range healthTypes {
			pings := entries(t, typ, e.garminNotices(typ, sim.ModePing, ath, from, to))
			var want []map[string]any
			for _, p := range pings {
				want = append(want, e.pull(access, p["callbackURL"].(string))...)
			}
			if len(want) == 0 {
				t.Fatalf("%s: the pings announce nothing", typ)
			}
			o := e.handle(typ, notification(t, typ, pings...))
			if o.Stored != len(want) || o.Failed != 0 {
				t.Errorf("%s: %+v, want %d stored", typ, o, len(want))
			}
			checkStored(t, db, e.user.ID, typ, want)
		}
		if n := e.sim.Stats().CallCount("GET /wellness-api/rest/{type}", 200); n == 0 {
			t.Error("nothing was pulled")
		}
	})
}

// pull fetches a ping's callbackURL from the simulator itself.
func (e *env) pull(access, u string) []map[string]any {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	req.Header.Set("Authorization", "Bearer "+access)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out []map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK {
		e.t.Fatalf("pull %s: %d %v", u, resp.StatusCode, err)
	}
	return out
}

// TestGarminHealthPlacement: a pushed summary without userId is placed
// by its userAccessToken, also the token before a refresh; one whose
// token (and user) cairn does not know is skipped; a malformed entry
// fails alone; another user's data is untouched.
func TestGarminHealthPlacement(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *dbtest.DB) {
		e := newEnv(t, db, envOptions{sim: sim.Config{Seed: 43, StravaActivities: 4, Athletes: 2}})
		e.connect(cairn.ProviderGarmin)
		ada, bob := e.sim.Athletes()[0], e.sim.Athletes()[1]
		other := e.connectAs("bob@example.com", bob)
		from, to := healthWindow()

		bobs := entries(t, "dailies", e.garminNotices("dailies", sim.ModePush, bob, from, to))
		e.handle("dailies", notification(t, "dailies", bobs...))
		checkStored(t, db, other, "dailies", bobs)
		bobMetrics := allMetrics(t, db, other)

		es := entries(t, "dailies", e.garminNotices("dailies", sim.ModePush, ada, from, to))
		if len(es) < 4 {
			t.Fatalf("%d dailies", len(es))
		}
		for _, x := range es {
			if x["userAccessToken"] == nil || x["userId"] != ada.GarminUserID {
				t.Fatalf("a push without the user's id and token: %v", x)
			}
			delete(x, "userId")
		}
		if o := e.handle("dailies", notification(t, "dailies", es[0])); o.Stored != 1 {
			t.Fatalf("placed by token: %+v", o)
		}
		checkStored(t, db, e.user.ID, "dailies", es[:1])

		// The connection's token is refreshed: a push sent before with
		// the old one still finds it.
		conn, err := db.FindConnection(e.ctx, e.user.ID, cairn.ProviderGarmin)
		if err != nil {
			t.Fatal(err)
		}
		e.sim.ExpireTokens()
		for _, b := range e.garminNotices("sleeps", sim.ModePing, ada, from, to) {
			e.handle("sleeps", b) // the pull is refused, the token refreshed
		}
		fresh, err := db.FindConnection(e.ctx, e.user.ID, cairn.ProviderGarmin)
		if err != nil || fresh.AccessTokenHash == conn.AccessTokenHash || fresh.AccessTokenHash == "" {
			t.Fatalf("the token was not refreshed: %v", err)
		}
		if o := e.handle("dailies", notification(t, "dailies", es[1])); o.Stored != 1 {
			t.Fatalf("placed by the token before the refresh: %+v", o)
		}

		unknown := es[2]
		unknown["userAccessToken"] = "not-a-token-cairn-knows"
		broken := []map[string]any{{"summaryId": "x", "calendarDate": "2025-12-28"}, // no start
			{"summaryId": "y", "startTimeInSeconds": 1766880000, "calendarDate": "2025-12-28", "steps": "many"}}
		for _, b := range broken {
			b["userAccessToken"] = es[3]["userAccessToken"]
		}
		before := allMetrics(t, db, e.user.ID)
		o := e.handle("dailies", notification(t, "dailies", unknown, broken[0], es[3], broken[1]))
		if o.Stored != 1 || o.Skipped != 1 || o.Failed != 2 {
			t.Errorf("outcome %+v, want 1 stored, 1 skipped, 2 failed", o)
		}
		checkStored(t, db, e.user.ID, "dailies", es[3:4])
		if m := metricAt(t, db, e.user.ID, cairn.HealthSteps, time.Unix(int64(num(unknown["startTimeInSeconds"])), 0)); m != nil {
			t.Errorf("the unknown token's daily was stored: %+v", m)
		}
		if after := allMetrics(t, db, e.user.ID); after-before != 14 {
			t.Errorf("%d metrics more, want one daily's 14", after-before)
		}
		if n := allMetrics(t, db, other); n != bobMetrics {
			t.Errorf("bob has %d metrics, had %d", n, bobMetrics)
		}
		checkStored(t, db, other, "dailies", bobs)
		bobCtx := cairn.WithActor(context.Background(), cairn.Actor{UserID: other})
		if _, err := db.ListHealthMetrics(bobCtx, cairn.HealthFilter{UserID: e.user.ID}); cairn.ErrorCode(err) != cairn.ENOTFOUND {
			t.Errorf("bob lists ada's health metrics: %v", err)
		}
		if _, err := db.FindHealthSummaries(bobCtx, e.user.ID, cairn.SourceGarmin); cairn.ErrorCode(err) != cairn.ENOTFOUND {
			t.Errorf("bob lists ada's summaries: %v", err)
		}
		sum := &cairn.HealthSummary{UserID: e.user.ID, Source: cairn.SourceGarmin, Kind: "dailies", Start: from, SummaryID: "z"}
		m := []cairn.HealthMetric{{UserID: e.user.ID, Type: cairn.HealthSteps, Time: from, Value: 1, Source: cairn.SourceGarmin}}
		if err := db.StoreHealthSummary(bobCtx, sum, m, nil); cairn.ErrorCode(err) != cairn.ENOTFOUND {
			t.Errorf("bob stores a summary for ada: %v", err)
		}
	})
}

// connectAs creates a user and connects them to the athlete's Garmin
// account; it returns the user's id.
func (e *env) connectAs(email string, ath *sim.Athlete) string {
	e.t.Helper()
	u := &cairn.User{Email: email, Name: email}
	if err := e.db.CreateUser(cairn.SystemContext(context.Background()), u); err != nil {
		e.t.Fatal(err)
	}
	ctx := cairn.WithActor(context.Background(), cairn.Actor{UserID: u.ID})
	au, err := e.svc.AuthorizeURL(ctx, u.ID, cairn.ProviderGarmin)
	if err != nil {
		e.t.Fatal(err)
	}
	pu, _ := url.Parse(au)
	q := pu.Query()
	q.Set("athlete", strconv.FormatInt(ath.ID, 10)) // the simulator's pick of who logs in
	pu.RawQuery = q.Encode()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(pu.String())
	if err != nil {
		e.t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	c, err := e.svc.Callback(context.Background(), cairn.ProviderGarmin, loc.Query().Get("code"), loc.Query().Get("state"))
	if err != nil || c.ExternalUserID != ath.GarminUserID {
		e.t.Fatalf("connect %s: %+v %v", email, c, err)
	}
	return u.ID
}

// TestGarminHealthJob: a push to cairn's webhook is answered at once and
// stored by its job.
func TestGarminHealthJob(t *testing.T) {
	db := dbtest.Open(t, "sqlite")
	e := newEnv(t, db, envOptions{sim: sim.Config{Seed: 44, StravaActivities: 2}})
	hooks := e.withJobs()
	if err := e.sim.SetGarminEndpoint("sleeps", sim.Endpoint{URL: hooks + "/webhooks/garmin/sleeps", Mode: sim.ModePush}); err != nil {
		t.Fatal(err)
	}
	e.connect(cairn.ProviderGarmin)
	from, to := healthWindow()
	e.sim.NotifyGarmin(e.sim.Athletes()[0], "sleeps", from, to)
	if n := e.sim.Deliver(context.Background()); n == 0 {
		t.Fatal("no notification was acknowledged")
	}
	// A night begins on each of the window's seven days.
	e.waitFor("the pushed sleeps", func() bool { return len(metricsOf(t, db, e.user.ID, cairn.HealthSleep)) == 7 })
}
