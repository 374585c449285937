package ingest_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/fixtures"
	"github.com/cairn-fit/cairn/ingest"
	"github.com/cairn-fit/cairn/series"
	"github.com/cairn-fit/cairn/sqldb/dbtest"
	"github.com/muktihari/fit/decoder"
	"github.com/muktihari/fit/profile/untyped/mesgnum"
	"github.com/muktihari/fit/proto"
	"gocloud.dev/blob"
	"gocloud.dev/blob/fileblob"
)

// fixtureDir returns the shared real-device files folder, skipping when absent.
func fixtureDir(t testing.TB) string {
	t.Helper()
	return fixtures.Dir(t, ".")
}

func broken(name string) bool { return fixtures.BrokenOnPurpose(name) }

type fixture struct {
	db     *dbtest.DB
	bucket *blob.Bucket
	svc    *ingest.Service
	user   *cairn.User
	ctx    context.Context
}

func setup(t testing.TB, db *dbtest.DB) *fixture {
	t.Helper()
	b, err := fileblob.OpenBucket(t.TempDir(), &fileblob.Options{NoTempDir: true, Metadata: fileblob.MetadataDontWrite})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	u := &cairn.User{Email: "ada@example.com"}
	if err := db.CreateUser(cairn.SystemContext(context.Background()), u); err != nil {
		t.Fatal(err)
	}
	return &fixture{db: db, bucket: b, svc: &ingest.Service{DB: db.DB, Bucket: b}, user: u,
		ctx: cairn.WithActor(context.Background(), cairn.Actor{UserID: u.ID})}
}

var all = ingest.Allowed{Activity: true, Health: true}

func (f *fixture) importFile(t testing.TB, path string) (*ingest.Result, error) {
	t.Helper()
	file, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	return f.svc.Import(f.ctx, f.user.ID, all, file)
}

func (f *fixture) count(t testing.TB, table string) int {
	t.Helper()
	var n int
	if err := f.db.Reader().QueryRow("SELECT count(*) FROM " + table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// sessionTotals reads the session messages with the FIT library itself,
// independently of cairn's decoder: the device's own totals.
func sessionTotals(t *testing.T, path string) []map[string]float64 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []map[string]float64
	dec := decoder.New(f, decoder.WithIgnoreChecksum(), decoder.WithBroadcastOnly(),
		decoder.WithMesgListener(listener(func(m proto.Message) {
			if m.Num != mesgnum.Session {
				return
			}
			s := map[string]float64{}
			for _, fd := range m.Fields {
				if fd.IsExpandedField {
					continue
				}
				if v, ok := scaled(fd); ok {
					s[fd.Name] = v
				}
			}
			out = append(out, s)
		})))
	for dec.Next() {
		if _, err := dec.Decode(); err != nil {
			break
		}
	}
	return out
}

type listener func(proto.Message)

func (l listener) OnMesg(m proto.Message) { l(m) }

func scaled(fd proto.Field) (float64, bool) {
	var v float64
	switch x := fd.Value.Any().(type) {
	case uint8, uint16, uint32, uint64, int8, int16, int32, int64, float32, float64:
		v = toFloat(x)
	default:
		return 0, false
	}
	if !fd.Value.Valid(fd.BaseType) {
		return 0, false
	}
	return v/fd.Scale - fd.Offset, true
}

func toFloat(x any) float64 {
	switch v := x.(type) {
	case uint8:
		return float64(v)
	case uint16:
		return float64(v)
	case uint32:
		return float64(v)
	case uint64:
		return float64(v)
	case int8:
		return float64(v)
	case int16:
		return float64(v)
	case int32:
		return float64(v)
	case int64:
		return float64(v)
	case float32:
		return float64(v)
	case float64:
		return v
	}
	return math.NaN()
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-6*math.Max(1, math.Abs(b)) }

// TestFixtures imports every real file: activities carry their device's
// session totals, broken files fail cleanly or import partially, and a
// second import creates nothing.
func TestFixtures(t *testing.T) {
	dir := fixtureDir(t)
	dbtest.Each(t, func(t *testing.T, db *dbtest.DB) {
		f := setup(t, db)
		var paths []string
		for _, sub := range []string{"fit", "gpx", "tcx"} {
			entries, _ := os.ReadDir(filepath.Join(dir, sub))
			for _, e := range entries {
				paths = append(paths, filepath.Join(dir, sub, e.Name()))
			}
		}
		created := 0
		for _, p := range paths {
			name := filepath.Base(p)
			res, err := f.importFile(t, p)
			switch {
			case err != nil:
				code := cairn.ErrorCode(err)
				t.Logf("%s: failed: %v", name, err)
				if code != cairn.EINVALIDFILE && code != cairn.EUNSUPPORTEDFILE {
					t.Errorf("%s: error %v is not a clean file error", name, err)
				}
				// A valid file fails only when its type is refused, by name.
				if !broken(name) && (code != cairn.EUNSUPPORTEDFILE || !strings.Contains(cairn.ErrorMessage(err), "FIT file type")) {
					t.Errorf("%s: a valid file failed: %v", name, err)
				}
				continue
			case broken(name) && !res.Partial && res.Status == ingest.Created:
				t.Logf("%s: imported fully (its break may lie past the data)", name)
			}
			t.Logf("%s: %s %s, %d activities, partial %v, warnings %q", name, res.Status, res.Kind, len(res.ActivityIDs), res.Partial, res.Warnings)
			if res.Status == ingest.Created {
				created++
			}
			if res.Kind == cairn.KindActivity && res.Status == ingest.Created && strings.HasSuffix(strings.ToLower(name), ".fit") && !res.Partial {
				checkTotals(t, f, name, p, res)
			}
		}
		if created < 30 {
			t.Errorf("only %d files created", created)
		}
		before := map[string]int{}
		tables := []string{"activities", "metrics", "routes", "summaries", "health_metrics", "workouts", "devices"}
		for _, tb := range tables {
			before[tb] = f.count(t, tb)
		}
		for _, p := range paths {
			res, err := f.importFile(t, p)
			if err == nil && res.Status != ingest.Duplicate {
				t.Errorf("%s: second import is %s, want duplicate", filepath.Base(p), res.Status)
			}
		}
		for _, tb := range tables {
			if n := f.count(t, tb); n != before[tb] {
				t.Errorf("second import changed %s: %d → %d rows", tb, before[tb], n)
			}
		}
	})
}

func checkTotals(t *testing.T, f *fixture, name, path string, res *ingest.Result) {
	t.Helper()
	sessions := sessionTotals(t, path)
	if len(sessions) == 0 {
		return // no session message: nothing recorded by the device to compare
	}
	ids := res.ActivityIDs
	if len(ids) > 1 {
		ids = ids[1:] // the multisport parent comes first
	}
	if len(sessions) != len(ids) {
		t.Errorf("%s: %d sessions, %d activities", name, len(sessions), len(ids))
		return
	}
	for i, id := range ids {
		sum, err := f.db.FindSummary(f.ctx, id)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		s := sessions[i]
		for field, want := range map[string]string{
			"distance_m": "total_distance", "duration_s": "total_elapsed_time", "timer_time_s": "total_timer_time",
			"calories": "total_calories", "avg_hr": "avg_heart_rate", "max_hr": "max_heart_rate",
			"elevation_gain": "total_ascent",
		} {
			v, ok := s[want]
			if !ok {
				continue
			}
			got := summaryField(sum, field)
			if got == nil || !near(*got, v) || sum.Sources[field] != cairn.SummaryFromDevice {
				t.Errorf("%s session %d: %s = %v (%s), device says %v", name, i, field, deref(got), sum.Sources[field], v)
			}
		}
	}
}

func summaryField(s *cairn.Summary, name string) *float64 {
	return map[string]*float64{"distance_m": s.DistanceM, "duration_s": s.DurationS, "timer_time_s": s.TimerTimeS,
		"calories": s.Calories, "avg_hr": s.AvgHR, "max_hr": s.MaxHR, "elevation_gain": s.ElevationGain}[name]
}

func deref(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

func TestSeriesStoredLosslessly(t *testing.T) {
	dir := fixtureDir(t)
	f := setup(t, dbtest.Open(t, "sqlite"))
	res, err := f.importFile(t, filepath.Join(dir, "fit", "garmin-fenix-5-run.fit"))
	if err != nil {
		t.Fatal(err)
	}
	page, err := f.db.ListMetrics(f.ctx, cairn.MetricFilter{ActivityID: res.ActivityIDs[0]})
	if err != nil {
		t.Fatal(err)
	}
	types := map[cairn.MetricType]cairn.Metric{}
	for _, m := range page.Data {
		types[m.Type] = m
	}
	for _, want := range []cairn.MetricType{cairn.MetricHeartRate, cairn.MetricPosition, cairn.MetricDistance} {
		if _, ok := types[want]; !ok {
			t.Errorf("no %s series (have %v)", want, page.Data)
		}
	}
	hr := types[cairn.MetricHeartRate]
	key, part := series.SplitRef(hr.BlobKey)
	bundle, err := f.bucket.ReadAll(f.ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	data, err := series.Part(bundle, part)
	if err != nil {
		t.Fatal(err)
	}
	ts, cols, err := series.Decode(data)
	if err != nil || len(ts) != hr.Count || len(cols) != 1 {
		t.Fatalf("decode: %d points, %d columns, %v; metadata says %d", len(ts), len(cols), err, hr.Count)
	}
	lo, hi := slices.Min(cols[0]), slices.Max(cols[0])
	if lo != *hr.Min || hi != *hr.Max {
		t.Errorf("min/max %v/%v, metadata %v/%v", lo, hi, *hr.Min, *hr.Max)
	}
	route, err := f.db.FindRoute(f.ctx, res.ActivityIDs[0])
	if err != nil || route.Polyline == "" || route.PointCount == 0 || route.Start == nil {
		t.Fatalf("route: %+v, %v", route, err)
	}
}

func TestGzipAndTenancy(t *testing.T) {
	dir := fixtureDir(t)
	dbtest.Each(t, func(t *testing.T, db *dbtest.DB) {
		f := setup(t, db)
		raw, err := os.ReadFile(filepath.Join(dir, "tcx", "test.tcx"))
		if err != nil {
			t.Fatal(err)
		}
		var gz bytes.Buffer
		zw := gzip.NewWriter(&gz)
		zw.Write(raw)
		zw.Close()
		first, err := f.svc.Import(f.ctx, f.user.ID, all, bytes.NewReader(gz.Bytes()))
		if err != nil || first.Status != ingest.Created {
			t.Fatalf("gzip import: %+v %v", first, err)
		}
		// The same content uncompressed is the same file.
		again, err := f.svc.Import(f.ctx, f.user.ID, all, bytes.NewReader(raw))
		if err != nil || again.Status != ingest.Duplicate || again.ActivityIDs[0] != first.ActivityIDs[0] {
			t.Fatalf("plain import after gzip: %+v %v", again, err)
		}
		// Another user's import of the same file is their own activity.
		bob := &cairn.User{Email: "bob@example.com"}
		if err := db.CreateUser(cairn.SystemContext(context.Background()), bob); err != nil {
			t.Fatal(err)
		}
		bctx := cairn.WithActor(context.Background(), cairn.Actor{UserID: bob.ID})
		theirs, err := f.svc.Import(bctx, bob.ID, all, bytes.NewReader(raw))
		if err != nil || theirs.Status != ingest.Created || theirs.ActivityIDs[0] == first.ActivityIDs[0] {
			t.Fatalf("other user's import: %+v %v", theirs, err)
		}
		if _, err := db.FindActivity(bctx, first.ActivityIDs[0]); cairn.ErrorCode(err) != cairn.ENOTFOUND {
			t.Errorf("bob reads ada's activity: %v", err)
		}
		// And nobody imports into someone else's account.
		if _, err := f.svc.Import(bctx, f.user.ID, all, bytes.NewReader(raw)); cairn.ErrorCode(err) != cairn.ENOTFOUND {
			t.Errorf("import into another user: %v", err)
		}
	})
}

func TestBadInput(t *testing.T) {
	f := setup(t, dbtest.Open(t, "sqlite"))
	for name, data := range map[string][]byte{
		"empty":       {},
		"text":        []byte("hello, world"),
		"bad gzip":    {0x1f, 0x8b, 0, 0, 0},
		"bad xml gpx": []byte("<gpx><trk><trkseg><trkpt lat=\"x\""),
		"fit header":  {14, 0x10, 0, 0, 0, 0, 0, 0, '.', 'F', 'I', 'T', 0, 0},
	} {
		_, err := f.svc.Import(f.ctx, f.user.ID, all, bytes.NewReader(data))
		code := cairn.ErrorCode(err)
		if code != cairn.EINVALIDFILE && code != cairn.EUNSUPPORTEDFILE {
			t.Errorf("%s: %v", name, err)
		}
	}
	if n := f.count(t, "activities"); n != 0 {
		t.Errorf("bad input wrote %d activities", n)
	}
	f.svc.MaxFileSize = 10
	if _, err := f.svc.Import(f.ctx, f.user.ID, all, strings.NewReader(strings.Repeat("x", 11))); cairn.ErrorCode(err) != cairn.ETOOLARGE {
		t.Errorf("too large: %v", err)
	}
}
