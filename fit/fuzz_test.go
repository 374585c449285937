package fit

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"os"
	"testing"
	"time"

	"github.com/cairn-fit/cairn"
	"github.com/muktihari/fit/profile/basetype"
	"github.com/muktihari/fit/profile/mesgdef"
	"github.com/muktihari/fit/profile/typedef"
	"github.com/muktihari/fit/proto"
)

// maxSeedSize keeps the largest fixtures out of the fuzz corpus: each run
// of a megabyte file is slow and mutates worse; the fixture tests cover
// them.
const maxSeedSize = 160 << 10

// FuzzDecode checks that no input makes Decode panic (a recovered panic is
// reported as a failure here) or return anything but a clean *cairn.Error
// or a well-formed file.
func FuzzDecode(f *testing.F) {
	for _, seed := range syntheticSeeds(f) {
		f.Add(seed)
	}
	for _, path := range fixturePaths() {
		if b, err := os.ReadFile(path); err == nil && len(b) <= maxSeedSize {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Decode(bytes.NewReader(data))
		if err != nil {
			checkFuzzError(t, err)
			return
		}
		checkFuzzFile(t, file)
	})
}

func checkFuzzError(t *testing.T, err error) {
	var p *panicError
	if errors.As(err, &p) {
		t.Fatalf("Decode panicked: %v", p)
	}
	var e *cairn.Error
	if !errors.As(err, &e) || (e.Code != cairn.EINVALIDFILE && e.Code != cairn.EUNSUPPORTEDFILE) || e.Message == "" {
		t.Fatalf("error %v (%T) is not a clean EINVALIDFILE or EUNSUPPORTEDFILE", err, err)
	}
}

func checkFuzzFile(t *testing.T, file *cairn.DecodedFile) {
	switch file.Kind {
	case cairn.KindActivity:
		if len(file.Activities) == 0 {
			t.Fatal("activity file without activities")
		}
	case cairn.KindHealth:
		if len(file.HealthMetrics) == 0 {
			t.Fatal("health file without metrics")
		}
	case cairn.KindWorkout:
		if len(file.Workouts) == 0 {
			t.Fatal("workout file without workouts")
		}
	default:
		t.Fatalf("kind %q", file.Kind)
	}
	if file.Partial && len(file.Warnings) == 0 {
		t.Fatal("partial without a warning")
	}
	for _, a := range file.Activities {
		if _, err := cairn.MarshalMetadata(a.Metadata); err != nil {
			t.Fatalf("metadata: %v", err)
		}
		if _, err := json.Marshal(a.Laps); err != nil {
			t.Fatalf("laps: %v", err)
		}
		if !a.Type.Valid() {
			t.Fatalf("type %q", a.Type)
		}
		for _, r := range a.Records {
			if math.IsNaN(r.Lat) != math.IsNaN(r.Lon) || math.Abs(r.Lat) > 90 || math.Abs(r.Lon) > 180 {
				t.Fatalf("position %v,%v", r.Lat, r.Lon)
			}
		}
	}
	for _, m := range file.HealthMetrics {
		if math.IsNaN(m.Value) || math.IsInf(m.Value, 0) || m.Time.IsZero() {
			t.Fatalf("metric %+v", m)
		}
	}
	for _, w := range file.Workouts {
		if !json.Valid(w.Definition) {
			t.Fatalf("definition %q", w.Definition)
		}
	}
}

// syntheticSeeds are small files of every kind the decoder handles, so the
// fuzzer starts from all code paths even without the fixtures.
func syntheticSeeds(t tb) [][]byte {
	act := simpleActivity(t)
	mon := encode(t, fileID(typedef.FileMonitoringB),
		mesgdef.NewMonitoringInfo(nil).SetTimestamp(epoch2024).ToMesg(nil),
		mesgdef.NewMonitoring(nil).SetTimestamp16(100).SetActivityType(typedef.ActivityTypeWalking).SetCycles(10).SetHeartRate(70).ToMesg(nil),
		mesgdef.NewStressLevel(nil).SetStressLevelTime(epoch2024).SetStressLevelValue(30).ToMesg(nil))
	weight := encode(t, fileID(typedef.FileWeight),
		mesgdef.NewWeightScale(nil).SetTimestamp(epoch2024).SetWeightScaled(70).SetPercentFatScaled(20).ToMesg(nil))
	wkt := encode(t, fileID(typedef.FileWorkout),
		mesgdef.NewWorkout(nil).SetWktName("w").SetSport(typedef.SportCycling).ToMesg(nil),
		mesgdef.NewWorkoutStep(nil).SetDurationType(typedef.WktStepDurationTime).SetDurationValue(60000).
			SetTargetType(typedef.WktStepTargetPower).SetCustomTargetValueLow(1200).SetCustomTargetValueHigh(1250).ToMesg(nil))
	r := mesgdef.NewRecord(nil).SetTimestamp(epoch2024).SetHeartRate(90)
	r.SetDeveloperFields(proto.DeveloperField{Num: 0, DeveloperDataIndex: 0, Value: proto.Float32(1.5)})
	dev := encode(t, fileID(typedef.FileActivity),
		mesgdef.NewDeveloperDataId(nil).SetDeveloperDataIndex(0).ToMesg(nil),
		mesgdef.NewFieldDescription(nil).SetDeveloperDataIndex(0).SetFieldDefinitionNumber(0).SetFitBaseTypeId(basetype.Float32).
			SetFieldName([]string{"x"}).ToMesg(nil),
		r.ToMesg(nil),
		session(epoch2024, time.Minute, typedef.SportSwimming, typedef.SubSportLapSwimming, 50),
		session(epoch2024.Add(time.Minute), time.Minute, typedef.SportRunning, typedef.SubSportTreadmill, 50))
	return [][]byte{act, withHeader(t, act, 12), act[:len(act)/2], mon, weight, wkt, dev, append(bytes.Clone(act), dev...)}
}
