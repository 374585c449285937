package fit

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cairn-fit/cairn"
	"github.com/muktihari/fit/decoder"
	"github.com/muktihari/fit/profile/untyped/mesgnum"
	"github.com/muktihari/fit/proto"
)

// reference is what muktihari/fit itself reports for a file, decoded
// without our code: the session messages' fields by name and the number
// of records.
type reference struct {
	sessions []map[string]float64
	records  int
}

func (r *reference) OnMesg(m proto.Message) {
	switch m.Num {
	case mesgnum.Record:
		r.records++
	case mesgnum.Session:
		fields := map[string]float64{}
		for i := range m.Fields {
			// An enhanced_ field expanded from its plain field is a lossy
			// copy of it: the plain field is the device's record.
			if m.Fields[i].IsExpandedField {
				continue
			}
			if v := scaled(&m.Fields[i]); !math.IsNaN(v) {
				fields[m.Fields[i].Name] = v
			}
		}
		r.sessions = append(r.sessions, fields)
	}
}

func libraryReference(t *testing.T, path string) *reference {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ref := &reference{}
	dec := decoder.New(f, decoder.WithIgnoreChecksum(), decoder.WithBroadcastOnly(), decoder.WithMesgListener(ref))
	for dec.Next() {
		if _, err := dec.Decode(); err != nil {
			break
		}
	}
	slices.SortStableFunc(ref.sessions, func(a, b map[string]float64) int {
		return int(a["start_time"] - b["start_time"])
	})
	return ref
}

// expectedTotals are the device totals as the library reports the session.
func expectedTotals(s map[string]float64) map[string]*float64 {
	get := func(names ...string) *float64 {
		for _, n := range names {
			if v, ok := s[n]; ok {
				return &v
			}
		}
		return nil
	}
	add := func(a *float64, b *float64) *float64 {
		if a == nil || b == nil {
			return a
		}
		v := *a + *b
		return &v
	}
	want := map[string]*float64{
		"distance":    get("total_distance"),
		"elapsed":     get("total_elapsed_time"),
		"timer":       get("total_timer_time"),
		"calories":    get("total_calories"),
		"avg_hr":      get("avg_heart_rate"),
		"max_hr":      get("max_heart_rate"),
		"ascent":      get("total_ascent"),
		"descent":     get("total_descent"),
		"avg_speed":   get("enhanced_avg_speed", "avg_speed"),
		"max_speed":   get("enhanced_max_speed", "max_speed"),
		"avg_power":   get("avg_power"),
		"avg_cadence": add(get("avg_cadence"), get("avg_fractional_cadence")),
	}
	if sport := s["sport"]; sport == 1 || sport == 11 { // running, walking: cycles are strides
		if c := get("total_cycles"); c != nil {
			v := 2 * *c
			want["steps"] = &v
		}
	}
	return want
}

func gotTotals(t cairn.DeviceTotals) map[string]*float64 {
	return map[string]*float64{
		"distance": t.DistanceM, "elapsed": t.ElapsedS, "timer": t.TimerS,
		"calories": t.Calories, "avg_hr": t.AvgHR, "max_hr": t.MaxHR,
		"ascent": t.AscentM, "descent": t.DescentM, "avg_speed": t.AvgSpeed,
		"max_speed": t.MaxSpeed, "avg_power": t.AvgPower, "avg_cadence": t.AvgCadence,
		"steps": t.Steps,
	}
}

func decodeFile(t *testing.T, path string) (*cairn.DecodedFile, error) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return Decode(f)
}

func TestFixtures(t *testing.T) {
	valid := 0
	for _, path := range fixtures(t) {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			file, err := decodeFile(t, path)
			switch {
			case strings.HasPrefix(name, "Settings") || name == "nametest.FIT":
				e := wantCode(t, err, cairn.EUNSUPPORTEDFILE)
				if e.Message != "FIT file type settings is not supported" {
					t.Errorf("message %q", e.Message)
				}
			case brokenOnPurpose(name):
				checkBroken(t, file, err)
			case strings.HasPrefix(name, "MonitoringFile"), strings.HasPrefix(name, "WeightScale"):
				checkHealthFile(t, file, err)
			case strings.HasPrefix(name, "Workout"):
				checkWorkoutFile(t, file, err)
			case cutShort[name] != "":
				checkBroken(t, file, err)
				if file == nil || len(file.Activities) == 0 || len(file.Activities[0].Records) == 0 {
					t.Errorf("%s: want the records before the break", cutShort[name])
				}
			default:
				valid++
				checkActivityFile(t, path, file, err)
			}
		})
	}
	t.Logf("%d valid activity fixtures decoded", valid)
}

// checkBroken: a broken file fails with EINVALIDFILE or decodes partially.
func checkBroken(t *testing.T, file *cairn.DecodedFile, err error) {
	t.Helper()
	if err != nil {
		wantCode(t, err, cairn.EINVALIDFILE)
		return
	}
	if !file.Partial || len(file.Warnings) == 0 {
		t.Errorf("decoded a broken file as complete: partial %v, warnings %q", file.Partial, file.Warnings)
	}
	checkJSON(t, file)
}

func checkActivityFile(t *testing.T, path string, file *cairn.DecodedFile, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if file.Kind != cairn.KindActivity || file.Format != cairn.FormatFIT || file.Partial {
		t.Errorf("kind %s format %s partial %v, want a complete FIT activity", file.Kind, file.Format, file.Partial)
	}
	for _, w := range file.Warnings {
		if strings.Contains(w, "CRC") {
			t.Errorf("warning %q on a valid file", w)
		}
	}
	if file.Device == nil || file.Device.Manufacturer == "" {
		t.Errorf("device %+v, want at least a manufacturer", file.Device)
	}
	ref := libraryReference(t, path)
	want := len(ref.sessions)
	if want == 0 {
		want = 1 // built from the records
	}
	if len(file.Activities) != want {
		t.Fatalf("%d activities, want %d (one per session)", len(file.Activities), want)
	}
	records := 0
	for i, a := range file.Activities {
		records += len(a.Records)
		if i < len(ref.sessions) {
			compareTotals(t, i, gotTotals(a.Totals), expectedTotals(ref.sessions[i]))
		}
		if a.Metadata["session_index"] != i {
			t.Errorf("activity %d: session_index %v", i, a.Metadata["session_index"])
		}
		checkRecords(t, a)
	}
	if records != ref.records {
		t.Errorf("%d records, the library decodes %d", records, ref.records)
	}
	checkJSON(t, file)
}

func compareTotals(t *testing.T, i int, got, want map[string]*float64) {
	t.Helper()
	for k, w := range want {
		g := got[k]
		switch {
		case w == nil && g == nil:
		case w == nil || g == nil:
			t.Errorf("session %d %s: got %v, library says %v", i, k, deref(g), deref(w))
		case math.Abs(*g-*w) > 1e-9:
			t.Errorf("session %d %s: got %v, library says %v", i, k, *g, *w)
		}
	}
}

func deref(p *float64) any {
	if p == nil {
		return "nil"
	}
	return *p
}

func checkRecords(t *testing.T, a cairn.DecodedActivity) {
	t.Helper()
	for j, r := range a.Records {
		if math.IsNaN(r.Lat) != math.IsNaN(r.Lon) {
			t.Fatalf("record %d: lat %v lon %v: both or neither must be NaN", j, r.Lat, r.Lon)
		}
		if !math.IsNaN(r.Lat) && (math.Abs(r.Lat) > 90 || math.Abs(r.Lon) > 180) {
			t.Fatalf("record %d: position %v,%v off the globe", j, r.Lat, r.Lon)
		}
		if r.HeartRate < 0 || r.HeartRate > 255 || r.Speed < 0 {
			t.Fatalf("record %d: impossible values %+v", j, r)
		}
	}
}

// checkJSON: metadata and workout definitions must be storable as JSON.
func checkJSON(t *testing.T, file *cairn.DecodedFile) {
	t.Helper()
	for i, a := range file.Activities {
		if _, err := cairn.MarshalMetadata(a.Metadata); err != nil {
			t.Errorf("activity %d: metadata does not encode: %v", i, err)
		}
		if _, err := json.Marshal(a.Laps); err != nil {
			t.Errorf("activity %d: laps do not encode: %v", i, err)
		}
	}
	for i, w := range file.Workouts {
		if !json.Valid(w.Definition) {
			t.Errorf("workout %d: definition %q is not JSON", i, w.Definition)
		}
	}
}

func checkHealthFile(t *testing.T, file *cairn.DecodedFile, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if file.Kind != cairn.KindHealth || len(file.HealthMetrics) == 0 || file.Partial {
		t.Fatalf("kind %s, %d metrics, partial %v: want health metrics", file.Kind, len(file.HealthMetrics), file.Partial)
	}
	seen := map[[2]any]bool{}
	for _, m := range file.HealthMetrics {
		k := [2]any{m.Type, m.Time}
		if seen[k] {
			t.Errorf("two %s metrics at %v", m.Type, m.Time)
		}
		seen[k] = true
		if m.Time.IsZero() || math.IsNaN(m.Value) || m.Unit == "" {
			t.Errorf("metric %+v", m)
		}
	}
}

func checkWorkoutFile(t *testing.T, file *cairn.DecodedFile, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if file.Kind != cairn.KindWorkout || len(file.Workouts) != 1 {
		t.Fatalf("kind %s, %d workouts: want one workout", file.Kind, len(file.Workouts))
	}
	var steps []cairn.WorkoutStep
	if err := json.Unmarshal(file.Workouts[0].Definition, &steps); err != nil || len(steps) == 0 {
		t.Fatalf("definition %s: %v", file.Workouts[0].Definition, err)
	}
	if file.Workouts[0].Name == "" {
		t.Error("workout without name")
	}
}

func fixture(t *testing.T, name string) *cairn.DecodedFile {
	t.Helper()
	file, err := decodeFile(t, filepath.Join(fixtureDir(t), name))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return file
}

func TestFixtureMultisport(t *testing.T) {
	file := fixture(t, "activity-large-fenxi2-multisport.fit")
	types := []cairn.ActivityType{cairn.ActivityOther, cairn.ActivityTransition, cairn.ActivityRun,
		cairn.ActivityTransition, cairn.ActivityRun, cairn.ActivityTransition, cairn.ActivityRide}
	if len(file.Activities) != len(types) {
		t.Fatalf("%d activities, want %d", len(file.Activities), len(types))
	}
	for i, a := range file.Activities {
		if a.Type != types[i] || a.Metadata["session_count"] != len(types) {
			t.Errorf("leg %d: type %s, metadata %v", i, a.Type, a.Metadata)
		}
		var next time.Time
		if i+1 < len(file.Activities) {
			next = file.Activities[i+1].Start
		}
		for _, r := range a.Records {
			if r.Time.Before(a.Start) || (!next.IsZero() && !r.Time.Before(next)) {
				t.Fatalf("leg %d [%v, %v): holds a record at %v", i, a.Start, next, r.Time)
			}
		}
		if a.End.Before(a.Start) || (!next.IsZero() && a.End.After(next)) {
			t.Errorf("leg %d: ends %v, starts %v, next starts %v", i, a.End, a.Start, next)
		}
	}
}

func TestFixtureChained(t *testing.T) {
	file := fixture(t, "sample_mulitple_header.fit")
	if file.Partial || len(file.Activities) != 5 {
		t.Fatalf("partial %v, %d activities: want the 5 legs of the triathlon", file.Partial, len(file.Activities))
	}
	if file.Activities[0].Type != cairn.ActivityOpenWaterSwim || file.Activities[4].Type != cairn.ActivityRun {
		t.Errorf("legs %s … %s", file.Activities[0].Type, file.Activities[4].Type)
	}
	file = fixture(t, "activity-settings.fit")
	if file.Partial || len(file.Activities) != 1 || len(file.Warnings) != 1 {
		t.Errorf("activity + settings chain: partial %v, %d activities, warnings %q", file.Partial, len(file.Activities), file.Warnings)
	}
}

func TestFixtureTruncated(t *testing.T) {
	file := fixture(t, "activity-unexpected-eof.fit")
	if !file.Partial || !slices.ContainsFunc(file.Warnings, func(w string) bool { return strings.HasPrefix(w, "unexpected end of file") }) {
		t.Errorf("partial %v, warnings %q", file.Partial, file.Warnings)
	}
	if len(file.Activities) != 1 || len(file.Activities[0].Records) != 14 {
		t.Errorf("want the 14 records before the break")
	}
	file = fixture(t, "activity-filecrc.fit")
	if !file.Partial || !slices.Contains(file.Warnings, "FIT file CRC mismatch") {
		t.Errorf("partial %v, warnings %q", file.Partial, file.Warnings)
	}
	file = fixture(t, "nick.fit")
	a := file.Activities[0]
	if a.Type != cairn.ActivityRide || a.Start.IsZero() || !a.End.After(a.Start) {
		t.Errorf("activity without session: type %s (from the sport message), %v – %v", a.Type, a.Start, a.End)
	}
}

func TestFixtureDeveloperFields(t *testing.T) {
	file := fixture(t, "developer-types-sample.fit")
	dev, ok := file.Activities[0].Metadata["developer_fields"].(map[string]map[string]DeveloperField)
	if !ok {
		t.Fatalf("developer_fields %T", file.Activities[0].Metadata["developer_fields"])
	}
	power := dev["record"]["Form Power"]
	if power.Units != "Watts" || power.Count != 3424 || power.Mean == nil || *power.Mean <= 0 {
		t.Errorf("Form Power %+v", power)
	}
	file = fixture(t, "strava-android-app-201.10-b1218918.fit")
	dev = file.Activities[0].Metadata["developer_fields"].(map[string]map[string]DeveloperField)
	if got := dev["session"]["activity_type"].Last; got != "Run" {
		t.Errorf("session activity_type %v", got)
	}
}

func TestFixtureHealth(t *testing.T) {
	file := fixture(t, "MonitoringFile.fit")
	first := file.HealthMetrics[0]
	// timestamp_16 29412 after monitoring_info's full timestamp 788594400.
	want := time.Date(2014, 12, 27, 14, 15, 0, 0, time.UTC)
	if first.Type != cairn.HealthSteps || !first.Time.Equal(want) || first.Value != 100 {
		t.Errorf("first metric %+v, want 100 steps at %v", first, want)
	}
	file = fixture(t, "WeightScaleSingleUser.fit")
	got := map[string][]float64{}
	for _, m := range file.HealthMetrics {
		got[m.Type] = append(got[m.Type], m.Value)
	}
	if !slices.Equal(got[cairn.HealthWeight], []float64{75.8, 76.09}) || !slices.Equal(got[cairn.HealthBodyFat], []float64{22.3, 25.1}) {
		t.Errorf("body composition %v", got)
	}
}

func TestFixtureWorkout(t *testing.T) {
	var steps []cairn.WorkoutStep
	file := fixture(t, "WorkoutRepeatSteps.fit")
	if err := json.Unmarshal(file.Workouts[0].Definition, &steps); err != nil {
		t.Fatal(err)
	}
	rep := steps[3]
	if len(steps) != 5 || rep.DurationType != "repeat_until_steps_cmplt" || *rep.RepeatFrom != 1 || *rep.RepeatCount != 3 {
		t.Errorf("steps %+v", steps)
	}
	file = fixture(t, "WorkoutCustomTargetValues.fit")
	if err := json.Unmarshal(file.Workouts[0].Definition, &steps); err != nil {
		t.Fatal(err)
	}
	if s := steps[0]; s.DurationType != "time" || *s.DurationValue != 60 || s.TargetType != "heart_rate_percent" || *s.TargetLow != 50 || *s.TargetHigh != 60 {
		t.Errorf("step 0 %+v", s)
	}
	if s := steps[1]; s.DurationType != "distance" || *s.DurationValue != 500 || s.TargetType != "power" || *s.TargetLow != 300 || *s.TargetHigh != 310 {
		t.Errorf("step 1 %+v", s)
	}
}
