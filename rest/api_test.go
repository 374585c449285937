package rest_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/rest/client"
	"github.com/cairn-fit/cairn/sqldb/dbtest"
)

// The HTTP suite: every route through the client generated from the
// OpenAPI document, on SQLite and PostgreSQL.

var bg = context.Background()

// client returns a generated client that sends token.
func (e *env) client(token string) *client.ClientWithResponses {
	e.t.Helper()
	c, err := client.NewClientWithResponses(e.srv.URL, client.WithRequestEditorFn(
		func(_ context.Context, req *http.Request) error {
			req.Header.Set("Authorization", "Bearer "+token)
			return nil
		}))
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

type response interface{ StatusCode() int }

// check fails the test unless a call answered want.
func check(t *testing.T, what string, want int, resp response, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if resp.StatusCode() != want {
		body := ""
		if b, ok := resp.(interface{ Bytes() []byte }); ok {
			body = string(b.Bytes())
		}
		t.Fatalf("%s: status %d, want %d %s", what, resp.StatusCode(), want, body)
	}
}

// wantFields checks an error answer's status, code and offending field.
func wantFields(t *testing.T, what string, status int, code string, field string, resp response, body []byte, err error) {
	t.Helper()
	check(t, what, status, resp, err)
	s := string(body)
	if !strings.Contains(s, `"code":"`+code+`"`) || (field != "" && !strings.Contains(s, `"`+field+`":`)) {
		t.Errorf("%s: %s, want %s naming %q", what, s, code, field)
	}
}

func ptr[T any](v T) *T { return &v }

func TestDevicesAPI(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *dbtest.DB) {
		e := newEnv(t, db)
		ada, bob := e.user("ada@example.com"), e.user("bob@example.com")
		c := e.client(e.token(ada, time.Hour, cairn.ScopeActivityRead, cairn.ScopeActivityWrite))
		bc := e.client(e.token(bob, time.Hour, cairn.ScopeActivityRead, cairn.ScopeActivityWrite))
		var ids []string
		for i, model := range []string{"fenix 7", "edge 540", "fenix 7"} {
			r, err := c.CreateDeviceWithResponse(bg, ada.ID, nil, client.DeviceInput{Model: model,
				Manufacturer: ptr("garmin"), SerialNumber: ptr(fmt.Sprint(i))})
			check(t, "create device", 201, r, err)
			ids = append(ids, r.JSON201.Id)
		}
		r, err := c.CreateDeviceWithResponse(bg, ada.ID, nil, client.DeviceInput{Model: ""})
		wantFields(t, "device without model", 400, cairn.EVALIDATION, "model", r, r.Body, err)
		r, err = c.CreateDeviceWithResponse(bg, ada.ID, nil, client.DeviceInput{Model: "x", Status: ptr(client.DeviceStatus("lost"))})
		wantFields(t, "bad status", 400, cairn.EVALIDATION, "status", r, r.Body, err)
		r, err = bc.CreateDeviceWithResponse(bg, ada.ID, nil, client.DeviceInput{Model: "x"})
		check(t, "device for another user", 404, r, err)

		l, err := c.ListDevicesWithResponse(bg, ada.ID, &client.ListDevicesParams{Model: ptr("fenix 7"), Limit: ptr(1)})
		check(t, "list by model", 200, l, err)
		if l.JSON200.Total != 2 || len(l.JSON200.Data) != 1 || l.JSON200.Data[0].Id != ids[2] || l.JSON200.NextCursor == nil || l.JSON200.PrevCursor != nil {
			t.Fatalf("list by model: %+v", l.JSON200)
		}
		l, err = c.ListDevicesWithResponse(bg, ada.ID, &client.ListDevicesParams{Model: ptr("fenix 7"), Limit: ptr(1), Cursor: l.JSON200.NextCursor})
		check(t, "next page", 200, l, err)
		if len(l.JSON200.Data) != 1 || l.JSON200.Data[0].Id != ids[0] || l.JSON200.NextCursor != nil || l.JSON200.PrevCursor == nil {
			t.Fatalf("next page: %+v", l.JSON200)
		}

		synced := time.Date(2025, 3, 1, 6, 0, 0, 0, time.UTC)
		u, err := c.UpdateDeviceWithResponse(bg, ids[1], nil, client.DevicePatch{FirmwareVersion: ptr("27.1"),
			Status: ptr(client.DeviceStatusRetired), LastSyncAt: &synced})
		check(t, "patch device", 200, u, err)
		if u.JSON200.FirmwareVersion != "27.1" || u.JSON200.Status != client.DeviceStatusRetired || !u.JSON200.LastSyncAt.Equal(synced) || u.JSON200.Model != "edge 540" {
			t.Errorf("patched device: %+v", u.JSON200)
		}
		l, _ = c.ListDevicesWithResponse(bg, ada.ID, &client.ListDevicesParams{Status: ptr(client.DeviceStatusRetired)})
		if l.JSON200.Total != 1 || l.JSON200.Data[0].Id != ids[1] {
			t.Errorf("list by status: %+v", l.JSON200)
		}
		g, err := c.GetDeviceWithResponse(bg, ids[1], nil)
		check(t, "get device", 200, g, err)
		u, err = bc.UpdateDeviceWithResponse(bg, ids[1], nil, client.DevicePatch{FirmwareVersion: ptr("1")})
		check(t, "patch another user's device", 404, u, err)
		g, err = bc.GetDeviceWithResponse(bg, ids[1], nil)
		check(t, "get another user's device", 404, g, err)
		lb, err := bc.ListDevicesWithResponse(bg, ada.ID, nil)
		check(t, "list another user's devices", 404, lb, err)
	})
}

func TestActivitiesAPI(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *dbtest.DB) {
		e := newEnv(t, db)
		ada, bob, root := e.user("ada@example.com"), e.user("bob@example.com"), e.user("root@example.com", cairn.RoleAdmin)
		rw := []cairn.Scope{cairn.ScopeActivityRead, cairn.ScopeActivityWrite}
		c := e.client(e.token(ada, time.Hour, rw...))
		bc := e.client(e.token(bob, time.Hour, rw...))
		admin := e.client(e.token(root, time.Hour, append(rw, cairn.ScopeAdmin)...))
		dev, _ := c.CreateDeviceWithResponse(bg, ada.ID, nil, client.DeviceInput{Model: "edge"})

		start := time.Date(2025, 3, 1, 6, 0, 0, 0, time.UTC)
		end := start.Add(time.Hour)
		cr, err := c.CreateActivityWithResponse(bg, nil, client.ActivityInput{Type: client.Ride, StartTime: start,
			EndTime: &end, Name: ptr("Morning ride"), Timezone: ptr("Europe/Paris"), DeviceId: &dev.JSON201.Id,
			Source: ptr(client.ActivityInputSourceManual), Rpe: ptr(6), Metadata: &map[string]any{"note": "windy"}})
		check(t, "create activity", 201, cr, err)
		ride := cr.JSON201
		if ride.UserId != ada.ID || ride.Source != client.ActivitySourceManual || ride.Links.Self != "/v1/activities/"+ride.Id ||
			cr.HTTPResponse.Header.Get("Location") != ride.Links.Self || ride.Summary != nil || ride.Links.Route != nil ||
			len(ride.Metrics) != 0 || (*ride.Metadata)["note"] != "windy" {
			t.Errorf("created: %+v", ride)
		}
		for i := range 59 {
			r, err := c.CreateActivityWithResponse(bg, nil, client.ActivityInput{Type: client.Run,
				StartTime: start.Add(time.Duration(i+1) * 24 * time.Hour)})
			check(t, "create run", 201, r, err)
			if r.JSON201.Source != client.ActivitySourceApi || r.JSON201.Timezone != "UTC" {
				t.Fatalf("defaults: %+v", r.JSON201)
			}
		}
		// Another user's id in the body: only admins may.
		cr, err = bc.CreateActivityWithResponse(bg, nil, client.ActivityInput{Type: client.Run, StartTime: start, UserId: &ada.ID})
		check(t, "create for another user", 404, cr, err)
		cr, err = admin.CreateActivityWithResponse(bg, nil, client.ActivityInput{Type: client.Walk, StartTime: start.Add(-time.Hour), UserId: &ada.ID})
		check(t, "admin creates for a user", 201, cr, err)
		walk := cr.JSON201.Id
		cr, err = c.CreateActivityWithResponse(bg, nil, client.ActivityInput{Type: client.Run, StartTime: start, DeviceId: ptr("nope")})
		wantFields(t, "unknown device", 400, cairn.EVALIDATION, "device_id", cr, cr.Body, err)
		for field, in := range map[string]client.ActivityInput{
			"type":       {Type: "skydive", StartTime: start},
			"start_time": {Type: client.Run},
			"end_time":   {Type: client.Run, StartTime: start, EndTime: ptr(start.Add(-time.Second))},
			"timezone":   {Type: client.Run, StartTime: start, Timezone: ptr("Mars/Olympus")},
			"rpe":        {Type: client.Run, StartTime: start, Rpe: ptr(11)},
			"source":     {Type: client.Run, StartTime: start, Source: ptr(client.ActivityInputSource("strava"))},
		} {
			cr, err = c.CreateActivityWithResponse(bg, nil, in)
			wantFields(t, "invalid "+field, 400, cairn.EVALIDATION, field, cr, cr.Body, err)
		}

		// Lists: the default page is 50 of 61, newest first.
		l, err := c.ListActivitiesWithResponse(bg, ada.ID, nil)
		check(t, "list", 200, l, err)
		if l.JSON200.Total != 61 || len(l.JSON200.Data) != 50 || l.JSON200.Data[0].StartTime.Before(l.JSON200.Data[1].StartTime) {
			t.Fatalf("default page: total %d, %d rows", l.JSON200.Total, len(l.JSON200.Data))
		}
		l2, err := c.ListActivitiesWithResponse(bg, ada.ID, &client.ListActivitiesParams{Cursor: l.JSON200.NextCursor})
		check(t, "second page", 200, l2, err)
		if len(l2.JSON200.Data) != 11 || l2.JSON200.NextCursor != nil || l2.JSON200.Data[10].Id != walk {
			t.Fatalf("second page: %d rows", len(l2.JSON200.Data))
		}
		back, err := c.ListActivitiesWithResponse(bg, ada.ID, &client.ListActivitiesParams{Cursor: l2.JSON200.PrevCursor})
		check(t, "back", 200, back, err)
		if len(back.JSON200.Data) != 50 || back.JSON200.Data[0].Id != l.JSON200.Data[0].Id {
			t.Errorf("back to the first page: %d rows", len(back.JSON200.Data))
		}
		day2, day5 := start.Add(24*time.Hour), start.Add(5*24*time.Hour)
		for name, c2 := range map[string]struct {
			p    client.ListActivitiesParams
			want int
		}{
			"type":      {client.ListActivitiesParams{Type: ptr(client.Ride)}, 1},
			"device":    {client.ListActivitiesParams{DeviceId: &dev.JSON201.Id}, 1},
			"source":    {client.ListActivitiesParams{Source: ptr(client.ActivitySourceManual)}, 1},
			"dates":     {client.ListActivitiesParams{StartDate: &day2, EndDate: &day5}, 4},
			"start":     {client.ListActivitiesParams{StartDate: &day5}, 55},
			"run range": {client.ListActivitiesParams{Type: ptr(client.Run), EndDate: &day5}, 4},
		} {
			r, err := c.ListActivitiesWithResponse(bg, ada.ID, &c2.p)
			check(t, name, 200, r, err)
			if r.JSON200.Total != c2.want || len(r.JSON200.Data) != min(c2.want, 50) {
				t.Errorf("%s: total %d, %d rows, want %d", name, r.JSON200.Total, len(r.JSON200.Data), c2.want)
			}
		}
		// A cursor is bound to its list, its filter and its user.
		bad, err := c.ListActivitiesWithResponse(bg, ada.ID, &client.ListActivitiesParams{Cursor: l.JSON200.NextCursor, Type: ptr(client.Run)})
		wantFields(t, "cursor under another filter", 400, cairn.EVALIDATION, "cursor", bad, bad.Body, err)
		bl, err := bc.ListActivitiesWithResponse(bg, bob.ID, &client.ListActivitiesParams{Cursor: l.JSON200.NextCursor})
		wantFields(t, "another user's cursor", 400, cairn.EVALIDATION, "cursor", bl, bl.Body, err)
		bl, err = bc.ListActivitiesWithResponse(bg, ada.ID, nil)
		check(t, "another user's list", 404, bl, err)
		al, err := admin.ListActivitiesWithResponse(bg, ada.ID, &client.ListActivitiesParams{Limit: ptr(200)})
		check(t, "admin lists a user's activities", 200, al, err)
		if len(al.JSON200.Data) != 61 {
			t.Errorf("admin list: %d rows", len(al.JSON200.Data))
		}

		// Get, patch, delete.
		g, err := c.GetActivityWithResponse(bg, ride.Id, nil)
		check(t, "get", 200, g, err)
		gb, err := bc.GetActivityWithResponse(bg, ride.Id, nil)
		check(t, "get another user's activity", 404, gb, err)
		u, err := c.UpdateActivityWithResponse(bg, ride.Id, nil, client.ActivityPatch{Name: ptr("Gravel"), Type: ptr(client.GravelRide), Rpe: ptr(8)})
		check(t, "patch", 200, u, err)
		if u.JSON200.Name != "Gravel" || u.JSON200.Type != client.GravelRide || *u.JSON200.Rpe != 8 || u.JSON200.Timezone != "Europe/Paris" ||
			!u.JSON200.UpdatedAt.After(g.JSON200.UpdatedAt) {
			t.Errorf("patched: %+v", u.JSON200)
		}
		u, err = c.UpdateActivityWithResponse(bg, ride.Id, nil, client.ActivityPatch{EndTime: ptr(start.Add(-time.Minute))})
		wantFields(t, "patch end before start", 400, cairn.EVALIDATION, "end_time", u, u.Body, err)
		u, err = bc.UpdateActivityWithResponse(bg, ride.Id, nil, client.ActivityPatch{Name: ptr("x")})
		check(t, "patch another user's activity", 404, u, err)
		d, err := bc.DeleteActivityWithResponse(bg, ride.Id)
		check(t, "delete another user's activity", 404, d, err)
		d, err = c.DeleteActivityWithResponse(bg, ride.Id)
		check(t, "delete", 204, d, err)
		d, err = c.DeleteActivityWithResponse(bg, ride.Id)
		check(t, "delete again", 404, d, err)
		g, err = c.GetActivityWithResponse(bg, ride.Id, nil)
		check(t, "get deleted", 404, g, err)
		g, err = c.GetActivityWithResponse(bg, ride.Id, &client.GetActivityParams{IncludeDeleted: ptr(true)})
		check(t, "get deleted with include_deleted", 200, g, err)
		if g.JSON200.DeletedAt == nil {
			t.Error("deleted_at is not set")
		}
		l, _ = c.ListActivitiesWithResponse(bg, ada.ID, &client.ListActivitiesParams{Type: ptr(client.GravelRide)})
		if l.JSON200.Total != 0 {
			t.Errorf("a deleted activity is listed: %d", l.JSON200.Total)
		}
		l, _ = c.ListActivitiesWithResponse(bg, ada.ID, &client.ListActivitiesParams{Type: ptr(client.GravelRide), IncludeDeleted: ptr(true)})
		if l.JSON200.Total != 1 || len(l.JSON200.Data) != 1 || l.JSON200.Data[0].DeletedAt == nil {
			t.Errorf("include_deleted: %+v", l.JSON200)
		}
		u, err = c.UpdateActivityWithResponse(bg, ride.Id, nil, client.ActivityPatch{Name: ptr("x")})
		check(t, "patch a deleted activity", 404, u, err)
	})
}
