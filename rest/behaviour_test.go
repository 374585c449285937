package rest_test

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/rest/client"
	"github.com/cairn-fit/cairn/sqldb/dbtest"
)

// Cross-cutting behaviour: Idempotency-Key, ETags and preconditions,
// validation of parameters and bodies, body limits.

func TestIdempotencyKeys(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *dbtest.DB) {
		e := newEnv(t, db)
		ada, bob := e.user("ada@example.com"), e.user("bob@example.com")
		rw := []cairn.Scope{cairn.ScopeActivityRead, cairn.ScopeActivityWrite}
		c, bc := e.client(e.token(ada, time.Hour, rw...)), e.client(e.token(bob, time.Hour, rw...))
		start := time.Date(2025, 3, 1, 6, 0, 0, 0, time.UTC)
		in := client.ActivityInput{Type: client.Run, StartTime: start, Name: ptr("once")}
		key := &client.CreateActivityParams{IdempotencyKey: ptr("k-1")}

		first, err := c.CreateActivityWithResponse(bg, key, in)
		check(t, "first", 201, first, err)
		if first.HTTPResponse.Header.Get("Idempotent-Replayed") != "" {
			t.Error("the first response is marked replayed")
		}
		again, err := c.CreateActivityWithResponse(bg, key, in)
		check(t, "retry", 201, again, err)
		if !bytes.Equal(first.Body, again.Body) || again.HTTPResponse.Header.Get("Idempotent-Replayed") != "true" ||
			again.HTTPResponse.Header.Get("Location") != first.HTTPResponse.Header.Get("Location") {
			t.Errorf("retry did not replay: %s / %s", first.Body, again.Body)
		}
		l, _ := c.ListActivitiesWithResponse(bg, ada.ID, nil)
		if l.JSON200.Total != 1 {
			t.Errorf("retry created another activity: %d", l.JSON200.Total)
		}
		// The key with another request.
		other := in
		other.Name = ptr("twice")
		r, err := c.CreateActivityWithResponse(bg, key, other)
		wantFields(t, "same key, other body", 422, cairn.EUNPROCESSABLE, "", r, r.Body, err)
		// Keys are the user's own.
		r, err = bc.CreateActivityWithResponse(bg, key, in)
		check(t, "another user's same key", 201, r, err)
		if r.HTTPResponse.Header.Get("Idempotent-Replayed") != "" || r.JSON201.UserId != bob.ID {
			t.Errorf("another user's key replayed: %s", r.Body)
		}
		// A retry while the first request still runs.
		if _, err := db.Writer().Exec("UPDATE idempotency_requests SET state = 'running' WHERE owner = $1 AND idem_key = $2", ada.ID, "k-1"); err != nil {
			t.Fatal(err)
		}
		r, err = c.CreateActivityWithResponse(bg, key, in)
		wantFields(t, "retry while running", 409, cairn.ECONFLICT, "", r, r.Body, err)
		// Refusals are replayed too; a quoted key is the same key.
		bad := client.ActivityInput{Type: "skydive", StartTime: start}
		r, err = c.CreateActivityWithResponse(bg, &client.CreateActivityParams{IdempotencyKey: ptr(`"k-2"`)}, bad)
		wantFields(t, "invalid with a key", 400, cairn.EVALIDATION, "type", r, r.Body, err)
		r, err = c.CreateActivityWithResponse(bg, &client.CreateActivityParams{IdempotencyKey: ptr("k-2")}, bad)
		check(t, "invalid again", 400, r, err)
		if r.HTTPResponse.Header.Get("Idempotent-Replayed") != "true" {
			t.Error("a refusal was not replayed")
		}
		r, err = c.CreateActivityWithResponse(bg, &client.CreateActivityParams{IdempotencyKey: ptr(strings.Repeat("k", 256))}, in)
		wantFields(t, "key too long", 400, cairn.EVALIDATION, "Idempotency-Key", r, r.Body, err)

		// PATCH: the change is made once.
		a := first.JSON201
		pk := &client.UpdateActivityParams{IdempotencyKey: ptr("p-1")}
		u1, err := c.UpdateActivityWithResponse(bg, a.Id, pk, client.ActivityPatch{Name: ptr("renamed")})
		check(t, "patch", 200, u1, err)
		u2, err := c.UpdateActivityWithResponse(bg, a.Id, pk, client.ActivityPatch{Name: ptr("renamed")})
		check(t, "patch retry", 200, u2, err)
		g, _ := c.GetActivityWithResponse(bg, a.Id, nil)
		if u2.HTTPResponse.Header.Get("Idempotent-Replayed") != "true" || !g.JSON200.UpdatedAt.Equal(u1.JSON200.UpdatedAt) ||
			u2.HTTPResponse.Header.Get("ETag") != u1.HTTPResponse.Header.Get("ETag") {
			t.Errorf("patch retry changed the activity again: %v then %v", u1.JSON200.UpdatedAt, g.JSON200.UpdatedAt)
		}
	})
}

func TestETags(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *dbtest.DB) {
		e := newEnv(t, db)
		ada := e.user("ada@example.com")
		tok := e.token(ada, time.Hour, cairn.ScopeActivityRead, cairn.ScopeActivityWrite, cairn.ScopeProfileRead)
		c := e.client(tok)
		a := newActivity(t, c, time.Date(2025, 3, 1, 6, 0, 0, 0, time.UTC))
		path := "/v1/activities/" + a.Id

		g, err := c.GetActivityWithResponse(bg, a.Id, nil)
		check(t, "get", 200, g, err)
		tag := g.HTTPResponse.Header.Get("ETag")
		if !strings.HasPrefix(tag, `"`) || g.HTTPResponse.Header.Get("Cache-Control") != "private, no-cache" {
			t.Fatalf("headers: %v", g.HTTPResponse.Header)
		}
		for _, inm := range []string{tag, "W/" + tag, `"other", ` + tag, "*"} {
			nm, err := c.GetActivityWithResponse(bg, a.Id, &client.GetActivityParams{IfNoneMatch: &inm})
			check(t, "If-None-Match "+inm, 304, nm, err)
			if len(nm.Body) != 0 || nm.HTTPResponse.Header.Get("ETag") != tag {
				t.Errorf("304 with a body or without the tag: %q %v", nm.Body, nm.HTTPResponse.Header)
			}
		}
		nm, err := c.GetActivityWithResponse(bg, a.Id, &client.GetActivityParams{IfNoneMatch: ptr(`"stale"`)})
		check(t, "stale If-None-Match", 200, nm, err)
		// Every GET has one: lists and the profile too.
		for _, p := range []string{"/v1/users/" + ada.ID, "/v1/users/" + ada.ID + "/activities", path + "/metrics"} {
			resp, _ := e.raw("GET", p, tok, "", nil)
			if resp.StatusCode != 200 || resp.Header.Get("ETag") == "" {
				t.Errorf("GET %s: %d without an ETag", p, resp.StatusCode)
			}
			resp, _ = e.raw("GET", p, tok, "", map[string]string{"If-None-Match": resp.Header.Get("ETag")})
			if resp.StatusCode != 304 {
				t.Errorf("GET %s revalidated: %d", p, resp.StatusCode)
			}
		}

		// If-Match: a stale tag fails, the current one (or *) changes.
		u, err := c.UpdateActivityWithResponse(bg, a.Id, &client.UpdateActivityParams{IfMatch: ptr(`"stale"`)}, client.ActivityPatch{Name: ptr("x")})
		wantFields(t, "stale If-Match", 412, cairn.EPRECONDITION, "", u, u.Body, err)
		u, err = c.UpdateActivityWithResponse(bg, a.Id, &client.UpdateActivityParams{IfMatch: &tag}, client.ActivityPatch{Name: ptr("first")})
		check(t, "current If-Match", 200, u, err)
		newTag := u.HTTPResponse.Header.Get("ETag")
		g, _ = c.GetActivityWithResponse(bg, a.Id, nil)
		if newTag == tag || g.HTTPResponse.Header.Get("ETag") != newTag {
			t.Errorf("tags: before %s, patch %s, get %s", tag, newTag, g.HTTPResponse.Header.Get("ETag"))
		}
		u, err = c.UpdateActivityWithResponse(bg, a.Id, &client.UpdateActivityParams{IfMatch: &tag}, client.ActivityPatch{Name: ptr("lost update")})
		check(t, "If-Match of the old version", 412, u, err)
		u, err = c.UpdateActivityWithResponse(bg, a.Id, &client.UpdateActivityParams{IfMatch: ptr("*")}, client.ActivityPatch{Name: ptr("any")})
		check(t, "If-Match *", 200, u, err)

		// Devices and workouts too.
		d, _ := c.CreateDeviceWithResponse(bg, ada.ID, nil, client.DeviceInput{Model: "edge"})
		gd, _ := c.GetDeviceWithResponse(bg, d.JSON201.Id, nil)
		dtag := gd.HTTPResponse.Header.Get("ETag")
		ud, err := c.UpdateDeviceWithResponse(bg, d.JSON201.Id, &client.UpdateDeviceParams{IfMatch: &dtag}, client.DevicePatch{FirmwareVersion: ptr("2")})
		check(t, "device If-Match", 200, ud, err)
		ud, err = c.UpdateDeviceWithResponse(bg, d.JSON201.Id, &client.UpdateDeviceParams{IfMatch: &dtag}, client.DevicePatch{FirmwareVersion: ptr("3")})
		check(t, "device stale If-Match", 412, ud, err)
		w, _ := c.CreateWorkoutWithResponse(bg, ada.ID, nil, client.WorkoutInput{Name: "w"})
		gw, _ := c.GetWorkoutWithResponse(bg, w.JSON201.Id, nil)
		wtag := gw.HTTPResponse.Header.Get("ETag")
		uw, err := c.UpdateWorkoutWithResponse(bg, w.JSON201.Id, &client.UpdateWorkoutParams{IfMatch: &wtag}, client.WorkoutPatch{Name: ptr("w2")})
		check(t, "workout If-Match", 200, uw, err)
		uw, err = c.UpdateWorkoutWithResponse(bg, w.JSON201.Id, &client.UpdateWorkoutParams{IfMatch: &wtag}, client.WorkoutPatch{Name: ptr("w3")})
		check(t, "workout stale If-Match", 412, uw, err)
	})
}

func TestValidation(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *dbtest.DB) {
		e := newEnv(t, db)
		ada := e.user("ada@example.com")
		tok := e.token(ada, time.Hour, cairn.ScopeActivityRead, cairn.ScopeActivityWrite, cairn.ScopeHealthRead)
		list := "/v1/users/" + ada.ID + "/activities?"
		for query, field := range map[string]string{
			"limit=0": "limit", "limit=201": "limit", "limit=many": "limit", "start_date=yesterday": "start_date",
			"end_date=2025-13-01": "end_date", "include_deleted=maybe": "include_deleted", "type=skydive": "type",
			"source=fax": "source", "cursor=forged": "cursor",
			"start_date=2025-03-02&end_date=2025-03-01": "end_date",
		} {
			var body errorShape
			resp := e.do("GET", list+query, tok, &body)
			if resp.StatusCode != 400 || body.Error.Code != cairn.EVALIDATION || body.Error.Fields[field] == "" {
				t.Errorf("?%s: %d %+v, want 400 naming %s", query, resp.StatusCode, body, field)
			}
		}
		// ISO 8601 dates and date-times are both accepted.
		for _, q := range []string{"start_date=2025-03-01", "start_date=2025-03-01T06:00:00%2B02:00&limit=200"} {
			if resp := e.do("GET", list+q, tok, nil); resp.StatusCode != 200 {
				t.Errorf("?%s: %d", q, resp.StatusCode)
			}
		}
		var wrong errorShape
		if resp := e.do("GET", "/v1/users/"+ada.ID+"/daily-metrics?start_date=2025-03-01T00:00:00Z", tok, &wrong); resp.StatusCode != 400 || wrong.Error.Fields["start_date"] == "" {
			t.Errorf("a date-time for a date: %d %+v", resp.StatusCode, wrong)
		}

		for body, field := range map[string]string{
			`{"type":"run","start_time":"2025-03-01T06:00:00Z","colour":"red"}`: "colour",
			`{"type":"run","start_time":"2025-03-01T06:00:00Z","rpe":"high"}`:   "rpe",
			`{"type":"run","start_time":"yesterday"}`:                           "start_time",
			`{"type":"run","start_time":"2025-03-01T06:00:00Z","end_time":"x"}`: "end_time",
			`{"start_time":"2025-03-01T06:00:00Z"}`:                             "type",
			`{"type":"run"`:                                                     "body",
			`{"type":"run","start_time":"2025-03-01T06:00:00Z"} {}`:             "body",
			`[1,2]`: "body",
			`   `:   "body",
		} {
			var out errorShape
			resp := e.doJSON("POST", "/v1/activities", tok, body, &out)
			if resp.StatusCode != 400 || out.Error.Code != cairn.EVALIDATION || out.Error.Fields[field] == "" {
				t.Errorf("POST %s: %d %+v, want 400 naming %s", body, resp.StatusCode, out, field)
			}
		}
		a := newActivity(t, e.client(tok), time.Date(2025, 3, 1, 6, 0, 0, 0, time.UTC))
		var out errorShape
		resp := e.doJSON("POST", "/v1/activities/"+a.Id+"/metrics", tok, `{"type":"power","points":[{"t":1,"v":1},{"t":2}]}`, &out)
		if resp.StatusCode != 400 || out.Error.Fields["points[1].v"] != "is required" {
			t.Errorf("a point without v: %d %+v", resp.StatusCode, out)
		}
		resp = e.doJSON("POST", "/v1/activities/"+a.Id+"/metrics", tok, `{"type":"power","points":[{"t":1,"v":1,"w":2}]}`, &out)
		if resp.StatusCode != 400 || out.Error.Fields["w"] == "" {
			t.Errorf("an unknown field in a point: %d %+v", resp.StatusCode, out)
		}
	})
}

func TestBodyLimits(t *testing.T) {
	e := newEnv(t, dbtest.Open(t, "sqlite"))
	ada := e.user("ada@example.com")
	tok := e.token(ada, time.Hour, cairn.ScopeActivityWrite)
	big := `{"type":"run","start_time":"2025-03-01T06:00:00Z","name":"` + strings.Repeat("x", 1<<20) + `"}`
	var out errorShape
	if resp := e.doJSON("POST", "/v1/activities", tok, big, &out); resp.StatusCode != 413 || out.Error.Code != cairn.ETOOLARGE {
		t.Errorf("1 MiB body with a length: %d %+v", resp.StatusCode, out)
	}
	// Without Content-Length (chunked), the limit holds while reading.
	req, _ := http.NewRequest("POST", e.srv.URL+"/v1/activities", io.MultiReader(strings.NewReader(big)))
	req.Header.Set("Authorization", "Bearer "+tok)
	req.ContentLength = -1
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	_ = json.NewDecoder(resp.Body).Decode(&out)
	if resp.StatusCode != 413 || out.Error.Code != cairn.ETOOLARGE {
		t.Errorf("chunked 1 MiB body: %d %+v", resp.StatusCode, out)
	}
	// Series may be larger: 16 MiB.
	a := newActivity(t, e.client(e.token(ada, time.Hour, cairn.ScopeActivityRead, cairn.ScopeActivityWrite)), time.Date(2025, 3, 1, 6, 0, 0, 0, time.UTC))
	var sb strings.Builder
	sb.WriteString(`{"type":"power","points":[`)
	for i := range 100_000 {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(`{"t":` + strconv.Itoa(1_700_000_000_000+i*1000) + `,"v":250}`)
	}
	sb.WriteString(`]}`)
	if resp := e.doJSON("POST", "/v1/activities/"+a.Id+"/metrics", tok, sb.String(), nil); resp.StatusCode != 201 {
		t.Errorf("a %d-byte series: %d", sb.Len(), resp.StatusCode)
	}
}

func TestUploadIdempotency(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *dbtest.DB) {
		e := newEnv(t, db)
		ada := e.user("ada@example.com")
		c := e.client(e.token(ada, time.Hour, cairn.ScopeActivityWrite, cairn.ScopeActivityRead))
		upload := func(key, content string) *client.CreateUploadResponse {
			t.Helper()
			var body bytes.Buffer
			w := multipart.NewWriter(&body)
			f, _ := w.CreateFormFile("file", "ride.fit")
			f.Write([]byte(content))
			w.Close()
			// The same bytes each time: a fixed boundary.
			raw := bytes.ReplaceAll(body.Bytes(), []byte(w.Boundary()), []byte("cairn-boundary"))
			var params *client.CreateUploadParams
			if key != "" {
				params = &client.CreateUploadParams{IdempotencyKey: &key}
			}
			r, err := c.CreateUploadWithBodyWithResponse(bg, ada.ID, params, "multipart/form-data; boundary=cairn-boundary", bytes.NewReader(raw))
			if err != nil {
				t.Fatal(err)
			}
			return r
		}
		first := upload("u-1", "not really a FIT file")
		check(t, "upload", 202, first, nil)
		again := upload("u-1", "not really a FIT file")
		check(t, "upload retry", 202, again, nil)
		if again.JSON202.Id != first.JSON202.Id || again.HTTPResponse.Header.Get("Idempotent-Replayed") != "true" {
			t.Errorf("retry made upload %s after %s", again.JSON202.Id, first.JSON202.Id)
		}
		other := upload("u-1", "another file")
		wantFields(t, "the key with another file", 422, cairn.EUNPROCESSABLE, "", other, other.Body, nil)
		if fresh := upload("", "not really a FIT file"); fresh.StatusCode() != 202 || fresh.JSON202.Id == first.JSON202.Id {
			t.Errorf("without a key: %d", fresh.StatusCode())
		}
	})
}
