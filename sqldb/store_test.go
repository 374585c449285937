package sqldb_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/sqldb"
	"github.com/cairn-fit/cairn/sqldb/dbtest"
	"github.com/google/go-cmp/cmp"
)

// The storage conformance suite: every case runs on SQLite and PostgreSQL.

var sys = cairn.SystemContext(context.Background())

func as(userID string, scopes ...cairn.Scope) context.Context {
	return cairn.WithActor(context.Background(), cairn.Actor{UserID: userID, Scopes: scopes})
}

func mustUser(t *testing.T, db *dbtest.DB, email string) *cairn.User {
	t.Helper()
	u := &cairn.User{Email: email, Name: email}
	if err := db.CreateUser(sys, u); err != nil {
		t.Fatal(err)
	}
	return u
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := cairn.ErrorCode(err); got != code {
		t.Fatalf("error code = %q (%v), want %q", got, err, code)
	}
}

func TestUsers(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *dbtest.DB) {
		u := mustUser(t, db, "Ada@Example.com")
		if u.Email != "ada@example.com" {
			t.Errorf("email not normalized: %q", u.Email)
		}
		wantCode(t, db.CreateUser(sys, &cairn.User{Email: "ada@example.com"}), cairn.ECONFLICT)

		got, err := db.FindUser(as(u.ID), u.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(u, got); diff != "" {
			t.Errorf("round trip (-want +got):\n%s", diff)
		}
		other := mustUser(t, db, "bob@example.com")
		_, err = db.FindUser(as(other.ID), u.ID)
		wantCode(t, err, cairn.ENOTFOUND)
		_, err = db.FindUser(context.Background(), u.ID)
		wantCode(t, err, cairn.EINTERNAL)
		wantCode(t, db.CreateUser(as(u.ID), &cairn.User{Email: "x@example.com"}), cairn.EFORBIDDEN)

		byEmail, err := db.FindUserByEmail(sys, " ADA@example.com ")
		if err != nil || byEmail.ID != u.ID {
			t.Fatalf("FindUserByEmail = %v, %v", byEmail, err)
		}
		page, err := db.ListUsers(sys, cairn.UserFilter{Query: "bob"})
		if err != nil || page.Total != 1 || page.Data[0].ID != other.ID {
			t.Fatalf("ListUsers(bob) = %+v, %v", page, err)
		}
		page, err = db.ListUsers(as(u.ID), cairn.UserFilter{})
		if err != nil || page.Total != 1 || page.Data[0].ID != u.ID {
			t.Fatalf("a user lists only itself: %+v, %v", page, err)
		}
	})
}

func TestTokens(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *dbtest.DB) {
		u := mustUser(t, db, "ada@example.com")
		exp := time.Date(2030, 1, 2, 3, 4, 5, 123456000, time.UTC)
		tok := &cairn.PersonalAccessToken{UserID: u.ID, Hash: []byte{1, 2, 3}, Scopes: []cairn.Scope{cairn.ScopeProfileRead, cairn.ScopeActivityRead}, ExpiresAt: &exp}
		if err := db.CreateToken(sys, tok); err != nil {
			t.Fatal(err)
		}
		got, err := db.FindTokenByHash(context.Background(), []byte{1, 2, 3})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(tok, got); diff != "" {
			t.Errorf("round trip (-want +got):\n%s", diff)
		}
		_, err = db.FindTokenByHash(context.Background(), []byte{9})
		wantCode(t, err, cairn.ENOTFOUND)
		wantCode(t, db.CreateToken(sys, &cairn.PersonalAccessToken{UserID: u.ID, Hash: []byte{1, 2, 3}}), cairn.ECONFLICT)
	})
}

// TestTouchToken: last_used_at is written on first use and then at most
// once per cairn.TokenTouchInterval, whatever the calls in between.
func TestTouchToken(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *dbtest.DB) {
		u := mustUser(t, db, "ada@example.com")
		tok := &cairn.PersonalAccessToken{UserID: u.ID, Hash: []byte{4, 5, 6}}
		if err := db.CreateToken(sys, tok); err != nil {
			t.Fatal(err)
		}
		lastUsed := func() *time.Time {
			t.Helper()
			got, err := db.FindTokenByHash(context.Background(), tok.Hash)
			if err != nil {
				t.Fatal(err)
			}
			return got.LastUsedAt
		}
		t0 := time.Date(2030, 1, 1, 10, 0, 0, 0, time.UTC)
		steps := []struct {
			at, want time.Time
		}{
			{t0, t0},                               // first use
			{t0.Add(59 * time.Minute), t0},         // within the interval: kept
			{t0.Add(time.Hour), t0.Add(time.Hour)}, // an interval later: written
		}
		for _, st := range steps {
			if err := db.TouchToken(context.Background(), tok.ID, st.at); err != nil {
				t.Fatal(err)
			}
			if got := lastUsed(); got == nil || !got.Equal(st.want) {
				t.Fatalf("after a use at %v: last_used_at %v, want %v", st.at, got, st.want)
			}
		}
	})
}

func TestDevices(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *dbtest.DB) {
		u := mustUser(t, db, "ada@example.com")
		other := mustUser(t, db, "bob@example.com")
		ctx := as(u.ID)
		for i := range 3 {
			d := &cairn.Device{UserID: u.ID, Model: fmt.Sprintf("fenix %d", i%2), SerialNumber: fmt.Sprint(i)}
			if err := db.CreateDevice(ctx, d); err != nil {
				t.Fatal(err)
			}
		}
		wantCode(t, db.CreateDevice(as(other.ID), &cairn.Device{UserID: u.ID, Model: "x"}), cairn.ENOTFOUND)
		page, err := db.ListDevices(ctx, cairn.DeviceFilter{UserID: u.ID, Model: "fenix 0"})
		if err != nil || page.Total != 2 || len(page.Data) != 2 {
			t.Fatalf("filter by model: %+v, %v", page, err)
		}
		d := page.Data[0]
		sync := time.Now().UTC().Truncate(time.Microsecond)
		d.FirmwareVersion, d.Status, d.LastSyncAt = "12.3", cairn.DeviceRetired, &sync
		if err := db.UpdateDevice(ctx, &d, d.UpdatedAt); err != nil {
			t.Fatal(err)
		}
		got, err := db.FindDevice(ctx, d.ID)
		if err != nil || got.FirmwareVersion != "12.3" || !got.LastSyncAt.Equal(sync) {
			t.Fatalf("after update: %+v, %v", got, err)
		}
		_, err = db.FindDevice(as(other.ID), d.ID)
		wantCode(t, err, cairn.ENOTFOUND)
		d.UserID = other.ID
		wantCode(t, db.UpdateDevice(as(other.ID), &d, d.UpdatedAt), cairn.ENOTFOUND)
		_, err = db.ListDevices(as(other.ID), cairn.DeviceFilter{UserID: u.ID})
		wantCode(t, err, cairn.ENOTFOUND)
	})
}

func createActivities(t *testing.T, db *dbtest.DB, ctx context.Context, userID string, n int, start time.Time) []cairn.Activity {
	t.Helper()
	var out []cairn.Activity
	for i := range n {
		a := cairn.Activity{UserID: userID, Type: cairn.ActivityRun, Source: cairn.SourceManual,
			StartTime: start.Add(time.Duration(i) * time.Hour)}
		if err := db.CreateActivity(ctx, &a); err != nil {
			t.Fatal(err)
		}
		out = append(out, a)
	}
	return out
}

func TestActivityPagination(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *dbtest.DB) {
		u := mustUser(t, db, "ada@example.com")
		ctx := as(u.ID)
		start := time.Date(2025, 3, 1, 6, 0, 0, 0, time.UTC)
		created := createActivities(t, db, ctx, u.ID, 25, start)
		// Two activities at the same instant: ties are broken by id.
		createActivities(t, db, ctx, u.ID, 1, start)

		var seen []string
		f := cairn.ActivityFilter{UserID: u.ID, Page: cairn.PageRequest{Limit: 10}}
		var pages []*cairn.Page[cairn.Activity]
		for {
			p, err := db.ListActivities(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			if want := 26 + 2*min(len(pages), 1); p.Total != want {
				t.Fatalf("total = %d, want %d", p.Total, want)
			}
			pages = append(pages, p)
			for _, a := range p.Data {
				seen = append(seen, a.ID)
			}
			if len(pages) == 1 {
				// Rows inserted while paging (newer than the first page)
				// do not disturb the pages that follow.
				createActivities(t, db, ctx, u.ID, 2, start.Add(100*time.Hour))
			}
			if p.NextCursor == nil {
				break
			}
			f.Page.Cursor = *p.NextCursor
		}
		if len(seen) != 26 || len(pages) != 3 {
			t.Fatalf("saw %d rows in %d pages, want 26 in 3", len(seen), len(pages))
		}
		uniq := map[string]bool{}
		for _, id := range seen {
			uniq[id] = true
		}
		if len(uniq) != 26 {
			t.Fatalf("duplicate rows across pages")
		}
		if seen[0] != created[24].ID {
			t.Errorf("first row is not the newest")
		}
		if pages[0].PrevCursor != nil {
			t.Errorf("first page has a prev cursor")
		}
		// Backwards from the last page gives the middle page again.
		f.Page.Cursor = *pages[2].PrevCursor
		back, err := db.ListActivities(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(pages[1].Data, back.Data); diff != "" {
			t.Errorf("prev page differs (-want +got):\n%s", diff)
		}
		// A cursor is bound to its filter.
		f.Type = cairn.ActivityRide
		_, err = db.ListActivities(ctx, f)
		wantCode(t, err, cairn.EVALIDATION)
		f.Type, f.Page.Cursor = "", "garbage"
		_, err = db.ListActivities(ctx, f)
		wantCode(t, err, cairn.EVALIDATION)
		f.Page = cairn.PageRequest{Limit: 201}
		_, err = db.ListActivities(ctx, f)
		wantCode(t, err, cairn.EVALIDATION)
	})
}

func TestActivityFiltersAndSoftDelete(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *dbtest.DB) {
		u := mustUser(t, db, "ada@example.com")
		other := mustUser(t, db, "bob@example.com")
		ctx := as(u.ID)
		dev := &cairn.Device{UserID: u.ID, Model: "edge"}
		if err := db.CreateDevice(ctx, dev); err != nil {
			t.Fatal(err)
		}
		start := time.Date(2025, 3, 1, 6, 0, 0, 0, time.UTC)
		end := start.Add(time.Hour)
		rpe := 7
		ride := cairn.Activity{UserID: u.ID, DeviceID: &dev.ID, Type: cairn.ActivityRide, Source: cairn.SourceFile,
			Name: "Morning ride", StartTime: start, EndTime: &end, RPE: &rpe, Metadata: []byte(`{"k":1}`)}
		if err := db.CreateActivity(ctx, &ride); err != nil {
			t.Fatal(err)
		}
		got, err := db.FindActivity(ctx, ride.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(&ride, got); diff != "" {
			t.Errorf("round trip (-want +got):\n%s", diff)
		}
		createActivities(t, db, ctx, u.ID, 3, start.Add(24*time.Hour))
		count := func(f cairn.ActivityFilter) int {
			t.Helper()
			f.UserID = u.ID
			p, err := db.ListActivities(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			return p.Total
		}
		day2 := start.Add(24 * time.Hour)
		for name, c := range map[string]struct {
			f    cairn.ActivityFilter
			want int
		}{
			"all":    {cairn.ActivityFilter{}, 4},
			"type":   {cairn.ActivityFilter{Type: cairn.ActivityRide}, 1},
			"device": {cairn.ActivityFilter{DeviceID: dev.ID}, 1},
			"source": {cairn.ActivityFilter{Source: cairn.SourceManual}, 3},
			"start":  {cairn.ActivityFilter{Start: &day2}, 3},
			"end":    {cairn.ActivityFilter{End: &day2}, 1},
		} {
			if got := count(c.f); got != c.want {
				t.Errorf("%s: total %d, want %d", name, got, c.want)
			}
		}
		// Tenancy: another user sees nothing and deletes nothing.
		_, err = db.FindActivity(as(other.ID), ride.ID)
		wantCode(t, err, cairn.ENOTFOUND)
		wantCode(t, db.SoftDeleteActivity(as(other.ID), ride.ID), cairn.ENOTFOUND)
		_, err = db.ListActivities(as(other.ID), cairn.ActivityFilter{UserID: u.ID})
		wantCode(t, err, cairn.ENOTFOUND)
		otherDev := &cairn.Device{UserID: other.ID, Model: "x"}
		if err := db.CreateDevice(as(other.ID), otherDev); err != nil {
			t.Fatal(err)
		}
		wantCode(t, db.CreateActivity(ctx, &cairn.Activity{UserID: u.ID, DeviceID: &otherDev.ID,
			Type: cairn.ActivityRun, Source: cairn.SourceManual, StartTime: start}), cairn.EVALIDATION)
		// Admins reach everyone's rows.
		if _, err := db.FindActivity(cairn.WithActor(context.Background(), cairn.Actor{UserID: other.ID, Admin: true}), ride.ID); err != nil {
			t.Errorf("admin cannot read: %v", err)
		}

		if err := db.SoftDeleteActivity(ctx, ride.ID); err != nil {
			t.Fatal(err)
		}
		wantCode(t, db.SoftDeleteActivity(ctx, ride.ID), cairn.ENOTFOUND)
		if got := count(cairn.ActivityFilter{}); got != 3 {
			t.Errorf("after delete: %d, want 3", got)
		}
		if got := count(cairn.ActivityFilter{IncludeDeleted: true}); got != 4 {
			t.Errorf("include_deleted: %d, want 4", got)
		}
		deleted, err := db.FindActivity(ctx, ride.ID)
		if err != nil || deleted.DeletedAt == nil {
			t.Errorf("deleted activity: %+v, %v", deleted, err)
		}
	})
}

func TestTransactions(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *dbtest.DB) {
		u := mustUser(t, db, "ada@example.com")
		ctx := as(u.ID)
		start := time.Date(2025, 3, 1, 6, 0, 0, 0, time.UTC)
		err := db.InTx(ctx, func(tx *sqldb.Tx) error {
			if err := tx.CreateDevice(ctx, &cairn.Device{UserID: u.ID, Model: "edge"}); err != nil {
				return err
			}
			a := &cairn.Activity{UserID: u.ID, Type: cairn.ActivityRun, Source: cairn.SourceFile, StartTime: start}
			if err := tx.CreateActivity(ctx, a); err != nil {
				return err
			}
			// The same id again fails: the whole transaction rolls back.
			return tx.CreateActivity(ctx, &cairn.Activity{ID: a.ID, UserID: u.ID, Type: cairn.ActivityRun,
				Source: cairn.SourceFile, StartTime: start})
		})
		wantCode(t, err, cairn.ECONFLICT)
		devs, _ := db.ListDevices(ctx, cairn.DeviceFilter{UserID: u.ID})
		acts, _ := db.ListActivities(ctx, cairn.ActivityFilter{UserID: u.ID})
		if devs.Total != 0 || acts.Total != 0 {
			t.Fatalf("rolled back transaction left rows: %d devices, %d activities", devs.Total, acts.Total)
		}
	})
}

func TestSameRecording(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *dbtest.DB) {
		u := mustUser(t, db, "ada@example.com")
		ctx := as(u.ID)
		start := time.Date(2025, 3, 1, 6, 0, 0, 0, time.UTC)
		end := start.Add(time.Hour)
		a := &cairn.Activity{UserID: u.ID, Type: cairn.ActivityRun, Source: cairn.SourceFile, StartTime: start, EndTime: &end}
		err := db.InTx(ctx, func(tx *sqldb.Tx) error {
			if err := tx.CreateActivity(ctx, a); err != nil {
				return err
			}
			return tx.AddActivitySource(ctx, &cairn.ActivitySource{ActivityID: a.ID, UserID: u.ID, Source: cairn.SourceFile, FileHash: "abc"})
		})
		if err != nil {
			t.Fatal(err)
		}
		_ = db.InTx(ctx, func(tx *sqldb.Tx) error {
			for _, c := range []struct {
				start time.Duration
				found bool
			}{{30 * time.Second, true}, {-59 * time.Second, true}, {61 * time.Second, false}, {2 * time.Hour, false}} {
				s := start.Add(c.start)
				_, err := tx.FindSameRecording(ctx, u.ID, s, s.Add(time.Hour))
				if (err == nil) != c.found {
					t.Errorf("start %+v: err %v, want found=%v", c.start, err, c.found)
				}
			}
			got, err := tx.FindActivityByFileHash(ctx, u.ID, "abc")
			if err != nil || got.ID != a.ID {
				t.Errorf("by file hash: %v, %v", got, err)
			}
			return nil
		})
	})
}
