package account_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/account"
	"github.com/cairn-fit/cairn/argon2id"
	"github.com/cairn-fit/cairn/jobs"
	"github.com/cairn-fit/cairn/mail"
	"github.com/cairn-fit/cairn/ratelimit"
	"github.com/cairn-fit/cairn/sqldb/dbtest"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"gocloud.dev/blob"
	"gocloud.dev/blob/memblob"
)

type fixture struct {
	db     *dbtest.DB
	svc    *account.Service
	worker *account.PurgeWorker
	bucket *blob.Bucket
	admin  context.Context
	mails  *bytes.Buffer
}

var sys = cairn.SystemContext(context.Background())

func setup(t *testing.T, db *dbtest.DB) *fixture {
	t.Helper()
	bucket := memblob.OpenBucket(nil)
	t.Cleanup(func() { bucket.Close() })
	f := &fixture{db: db, bucket: bucket, mails: &bytes.Buffer{}}
	f.worker = &account.PurgeWorker{DB: db.DB, Bucket: bucket}
	workers := river.NewWorkers()
	river.AddWorker(workers, f.worker)
	q, err := jobs.New(db.DB, db.Pool, jobs.Config{Workers: workers})
	if err != nil {
		t.Fatal(err)
	}
	adm := user(t, db, "root@example.com", cairn.RoleAdmin)
	f.admin = cairn.WithActor(context.Background(), cairn.Actor{UserID: adm.ID, Admin: true, Scopes: []cairn.Scope{cairn.ScopeAdmin}})
	f.svc = &account.Service{DB: db.DB, Queue: q, Mailer: mail.Log{Log: slog.New(slog.NewJSONHandler(f.mails, nil))},
		ResetURL: "https://cairn.example/reset", Password: argon2id.Params{Memory: 1024, Time: 1, Threads: 1, KeyLen: 32}}
	return f
}

func user(t *testing.T, db *dbtest.DB, email string, roles ...string) *cairn.User {
	t.Helper()
	u := &cairn.User{Email: email, Roles: roles}
	if err := db.CreateUser(sys, u); err != nil {
		t.Fatal(err)
	}
	return u
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := cairn.ErrorCode(err); got != code {
		t.Fatalf("error code %q (%v), want %q", got, err, code)
	}
}

func auditCount(t *testing.T, db *dbtest.DB, userID, action string) int {
	t.Helper()
	p, err := db.SearchAudit(sys, cairn.AuditFilter{UserID: userID, Action: action})
	if err != nil {
		t.Fatal(err)
	}
	return p.Total
}

func TestFreeze(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *dbtest.DB) {
		f := setup(t, db)
		ada := user(t, db, "ada@example.com")
		u, err := f.svc.Freeze(f.admin, ada.ID)
		if err != nil || u.Status != cairn.UserFrozen {
			t.Fatalf("freeze: %+v %v", u, err)
		}
		_, err = f.svc.Freeze(cairn.WithActor(context.Background(), cairn.Actor{UserID: ada.ID}), ada.ID)
		wantCode(t, err, cairn.EVALIDATION)
		bob := user(t, db, "bob@example.com")
		_, err = f.svc.Freeze(cairn.WithActor(context.Background(), cairn.Actor{UserID: bob.ID}), ada.ID)
		wantCode(t, err, cairn.EFORBIDDEN)
		a, _ := cairn.ActorFrom(f.admin)
		_, err = f.svc.Freeze(f.admin, a.UserID)
		wantCode(t, err, cairn.EVALIDATION)
		if u, err = f.svc.Unfreeze(f.admin, ada.ID); err != nil || u.Status != cairn.UserActive {
			t.Fatalf("unfreeze: %+v %v", u, err)
		}
		if auditCount(t, db, ada.ID, cairn.AuditUserFreeze) != 1 || auditCount(t, db, ada.ID, cairn.AuditUserUnfreeze) != 1 {
			t.Fatal("freezing is not audited")
		}
		// A refused change leaves no audit entry.
		if auditCount(t, db, bob.ID, cairn.AuditUserFreeze) != 0 {
			t.Fatal("an audit entry for a refused freeze")
		}
	})
}

// purgeJobs returns the purge jobs waiting in River's table.
func purgeJobs(t *testing.T, db *dbtest.DB) []account.PurgeArgs {
	t.Helper()
	rows, err := db.Reader().Query("SELECT args FROM river_job WHERE kind = 'purge_user' ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []account.PurgeArgs
	for rows.Next() {
		var raw []byte
		if err := rows.Scan(&raw); err != nil {
			t.Fatal(err)
		}
		var a account.PurgeArgs
		if err := json.Unmarshal(raw, &a); err != nil {
			t.Fatal(err)
		}
		out = append(out, a)
	}
	return out
}

func (f *fixture) blobs(t *testing.T, prefix string) []string {
	t.Helper()
	var keys []string
	it := f.bucket.List(&blob.ListOptions{Prefix: prefix})
	for {
		obj, err := it.Next(context.Background())
		if err != nil {
			break
		}
		keys = append(keys, obj.Key)
	}
	return keys
}

func (f *fixture) seed(t *testing.T, u *cairn.User, blobs int) {
	t.Helper()
	ctx := cairn.WithActor(context.Background(), cairn.Actor{UserID: u.ID})
	for i := range 3 {
		a := cairn.Activity{UserID: u.ID, Type: cairn.ActivityRun, Source: cairn.SourceManual,
			StartTime: time.Date(2030, 1, 1, i, 0, 0, 0, time.UTC)}
		if err := f.db.CreateActivity(ctx, &a); err != nil {
			t.Fatal(err)
		}
	}
	for i := range blobs {
		key := "users/" + u.ID + "/activities/" + strings.Repeat("a", i+1) + "/streams"
		if err := f.bucket.WriteAll(context.Background(), key, []byte("x"), nil); err != nil {
			t.Fatal(err)
		}
	}
}

func TestDeleteAndPurge(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *dbtest.DB) {
		f := setup(t, db)
		f.svc.PurgeAfter = 24 * time.Hour
		ada, bob := user(t, db, "ada@example.com"), user(t, db, "bob@example.com")
		f.seed(t, ada, 1100) // more blobs than one listing page
		f.seed(t, bob, 2)

		a, _ := cairn.ActorFrom(f.admin)
		wantCode(t, f.svc.Delete(f.admin, a.UserID), cairn.EVALIDATION)
		wantCode(t, f.svc.Delete(f.admin, "no-such-user"), cairn.ENOTFOUND)
		wantCode(t, f.svc.Delete(cairn.WithActor(context.Background(), cairn.Actor{UserID: bob.ID}), ada.ID), cairn.EFORBIDDEN)
		if len(purgeJobs(t, db)) != 0 {
			t.Fatal("a refused deletion enqueued a purge")
		}
		before := time.Now()
		if err := f.svc.Delete(f.admin, ada.ID); err != nil {
			t.Fatal(err)
		}
		_, err := db.FindUser(sys, ada.ID)
		wantCode(t, err, cairn.ENOTFOUND)
		js := purgeJobs(t, db)
		if len(js) != 1 || js[0].UserID != ada.ID || js[0].DeletedAt.Before(before.Add(-time.Second)) {
			t.Fatalf("purge jobs: %+v", js)
		}
		var deletedEvents int
		if err := db.Reader().QueryRow("SELECT count(*) FROM events WHERE type = 'user.deleted' AND user_id = $1", ada.ID).Scan(&deletedEvents); err != nil || deletedEvents != 1 {
			t.Errorf("user.deleted events: %d, %v", deletedEvents, err)
		}
		// River's own notion of time on each database.
		later := "datetime('now', '+23 hours')"
		if db.Dialect() == "postgres" {
			later = "now() + interval '23 hours'"
		}
		var scheduled int
		if err := db.Reader().QueryRow("SELECT count(*) FROM river_job WHERE kind = 'purge_user' AND scheduled_at > " + later).Scan(&scheduled); err != nil {
			t.Fatal(err)
		}
		if scheduled != 1 {
			t.Fatal("the purge is not scheduled a day after the deletion")
		}

		job := &river.Job[account.PurgeArgs]{Args: js[0]}
		if err := f.worker.Work(context.Background(), job); err != nil {
			t.Fatal(err)
		}
		var rows int
		if err := db.Reader().QueryRow("SELECT count(*) FROM activities WHERE user_id = $1", ada.ID).Scan(&rows); err != nil || rows != 0 {
			t.Fatalf("activities left: %d %v", rows, err)
		}
		if err := db.Reader().QueryRow("SELECT count(*) FROM users WHERE id = $1", ada.ID).Scan(&rows); err != nil || rows != 0 {
			t.Fatalf("user row left: %d %v", rows, err)
		}
		if left := f.blobs(t, "users/"+ada.ID+"/"); len(left) != 0 {
			t.Fatalf("%d blobs left", len(left))
		}
		if left := f.blobs(t, "users/"+bob.ID+"/"); len(left) != 2 {
			t.Fatalf("another user's blobs: %v", left)
		}
		if err := db.Reader().QueryRow("SELECT count(*) FROM activities WHERE user_id = $1", bob.ID).Scan(&rows); err != nil || rows != 3 {
			t.Fatalf("another user's activities: %d %v", rows, err)
		}
		p, _ := db.SearchAudit(sys, cairn.AuditFilter{UserID: ada.ID, Action: cairn.AuditUserPurge})
		if p.Total != 1 || !strings.Contains(string(p.Data[0].Details), `"blobs":1100`) || p.Data[0].ActorID != cairn.AuditSystem {
			t.Fatalf("purge audit: %+v", p.Data)
		}
		if auditCount(t, db, ada.ID, cairn.AuditUserDelete) != 1 {
			t.Fatal("the deletion is not audited")
		}
		// Again: nothing to do, nothing recorded.
		if err := f.worker.Work(context.Background(), job); err != nil {
			t.Fatal(err)
		}
		if auditCount(t, db, ada.ID, cairn.AuditUserPurge) != 1 {
			t.Fatal("an empty purge was audited")
		}

		// A restored user is not purged by the job of its deletion.
		if err := f.svc.Delete(f.admin, bob.ID); err != nil {
			t.Fatal(err)
		}
		if u, err := f.svc.Restore(f.admin, bob.ID); err != nil || u.DeletedAt != nil {
			t.Fatalf("restore: %+v %v", u, err)
		}
		js = purgeJobs(t, db)
		err = f.worker.Work(context.Background(), &river.Job[account.PurgeArgs]{Args: js[len(js)-1]})
		var cancel *rivertype.JobCancelError
		if !errors.As(err, &cancel) {
			t.Fatalf("the purge of a restored user: %v, want the job cancelled", err)
		}
		if left := f.blobs(t, "users/"+bob.ID+"/"); len(left) != 2 {
			t.Fatalf("a restored user's blobs: %v", left)
		}
		if _, err := db.FindUser(sys, bob.ID); err != nil {
			t.Fatal(err)
		}
		f.svc.Queue = nil
		wantCode(t, f.svc.Delete(f.admin, bob.ID), cairn.EUNAVAILABLE)
	})
}

var tokenPattern = regexp.MustCompile(`https://cairn\.example/reset\?token=(cairn_prt_[A-Za-z0-9_-]{43})`)

func (f *fixture) lastToken(t *testing.T) string {
	t.Helper()
	m := tokenPattern.FindAllStringSubmatch(f.mails.String(), -1)
	if len(m) == 0 {
		t.Fatalf("no reset link was mailed: %s", f.mails.String())
	}
	return m[len(m)-1][1]
}

func TestPasswordReset(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *dbtest.DB) {
		f := setup(t, db)
		ada := user(t, db, "ada@example.com")
		anon := cairn.WithClient(context.Background(), cairn.Client{IP: "198.51.100.4", UserAgent: "browser"})

		if err := f.svc.RequestPasswordReset(anon, " ADA@example.com "); err != nil {
			t.Fatal(err)
		}
		token := f.lastToken(t)
		if !strings.Contains(f.mails.String(), `"to":"ada@example.com"`) {
			t.Fatalf("mail: %s", f.mails.String())
		}
		// No account, no mail, and the same answer.
		n := f.mails.Len()
		if err := f.svc.RequestPasswordReset(anon, "nobody@example.com"); err != nil {
			t.Fatal(err)
		}
		if f.mails.Len() != n {
			t.Fatal("a mail for an address without an account")
		}

		wantCode(t, f.svc.ResetPassword(anon, token, "short"), cairn.EVALIDATION)
		wantCode(t, f.svc.ResetPassword(anon, "cairn_prt_forged", "correct horse battery"), cairn.ENOTFOUND)
		wantCode(t, f.svc.ResetPassword(anon, "garbage", "correct horse battery"), cairn.ENOTFOUND)
		if err := f.svc.ResetPassword(anon, token, "correct horse battery"); err != nil {
			t.Fatal(err)
		}
		u, _ := db.FindUser(sys, ada.ID)
		if ok, err := argon2id.Verify("correct horse battery", u.PasswordHash); !ok || err != nil {
			t.Fatalf("the new password does not verify: %v", err)
		}
		wantCode(t, f.svc.ResetPassword(anon, token, "another horse battery"), cairn.ENOTFOUND)
		p, _ := db.SearchAudit(sys, cairn.AuditFilter{UserID: ada.ID, Action: cairn.AuditPasswordReset})
		if p.Total != 1 || p.Data[0].ActorID != ada.ID || p.Data[0].IP != "198.51.100.4" {
			t.Fatalf("reset audit: %+v", p.Data)
		}
		if auditCount(t, db, ada.ID, cairn.AuditPasswordResetAsked) != 1 {
			t.Fatal("the request is not audited")
		}

		// An expired token does not work.
		f.svc.ResetTTL = -time.Minute
		if err := f.svc.RequestPasswordReset(anon, "ada@example.com"); err != nil {
			t.Fatal(err)
		}
		wantCode(t, f.svc.ResetPassword(anon, f.lastToken(t), "yet another battery"), cairn.ENOTFOUND)
		f.svc.ResetTTL = 0

		// A frozen account gets no mail.
		if _, err := f.svc.Freeze(f.admin, ada.ID); err != nil {
			t.Fatal(err)
		}
		n = f.mails.Len()
		if err := f.svc.RequestPasswordReset(anon, "ada@example.com"); err != nil || f.mails.Len() != n {
			t.Fatalf("frozen: %v, mailed %v", err, f.mails.Len() != n)
		}

		// Mail floods are limited per address.
		clock := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
		f.svc.Limiter = ratelimit.New(nil, func() time.Time { return clock })
		for i := range 3 {
			if err := f.svc.RequestPasswordReset(cairn.WithClient(context.Background(), cairn.Client{IP: "192.0.2." + string(rune('1'+i))}), "bob@example.com"); err != nil {
				t.Fatal(err)
			}
		}
		err := f.svc.RequestPasswordReset(cairn.WithClient(context.Background(), cairn.Client{IP: "192.0.2.9"}), "BOB@example.com")
		wantCode(t, err, cairn.ERATELIMITED)
		clock = clock.Add(cairn.ErrorRetryAfter(err))
		if err := f.svc.RequestPasswordReset(cairn.WithClient(context.Background(), cairn.Client{IP: "192.0.2.9"}), "bob@example.com"); err != nil {
			t.Fatal(err)
		}
	})
}
