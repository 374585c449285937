package fit

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/cairn-fit/cairn"
	"github.com/muktihari/fit/profile/basetype"
	"github.com/muktihari/fit/profile/mesgdef"
	"github.com/muktihari/fit/profile/typedef"
	"github.com/muktihari/fit/proto"
)

func TestDecodeSynthetic(t *testing.T) {
	file := mustDecode(t, simpleActivity(t))
	if file.Kind != cairn.KindActivity || file.Partial || len(file.Warnings) != 0 {
		t.Fatalf("kind %s partial %v warnings %q", file.Kind, file.Partial, file.Warnings)
	}
	want := cairn.DeviceInfo{Manufacturer: "garmin", Model: "fenix5", SerialNumber: "123456"}
	if *file.Device != want {
		t.Errorf("device %+v, want %+v", *file.Device, want)
	}
	a := file.Activities[0]
	if a.Type != cairn.ActivityTrailRun || a.Sport != "running/trail" || len(a.Records) != 60 {
		t.Errorf("type %s sport %q records %d", a.Type, a.Sport, len(a.Records))
	}
	if !a.Start.Equal(epoch2024) || !a.End.Equal(epoch2024.Add(59*time.Second)) {
		t.Errorf("span %v – %v", a.Start, a.End)
	}
	if *a.Totals.DistanceM != 182.9 || *a.Totals.Calories != 321 || *a.Totals.MaxHR != 171 || a.Totals.AvgPower != nil {
		t.Errorf("totals %+v", a.Totals)
	}
	r := a.Records[10]
	if math.Abs(r.Lat-46.051) > 1e-7 || r.HeartRate != 130 || !math.IsNaN(r.Power) || !math.IsNaN(r.Temperature) {
		t.Errorf("record %+v", r)
	}
}

func TestDecodeUTCOffset(t *testing.T) {
	act := mesgdef.NewActivity(nil).SetTimestamp(epoch2024).SetLocalTimestamp(epoch2024.Add(2 * time.Hour))
	file := mustDecode(t, encode(t, fileID(typedef.FileActivity), record(epoch2024, 1, 2, 3, 4, 5, 6), act.ToMesg(nil)))
	if got := file.Activities[0].Metadata["utc_offset_s"]; got != 7200 {
		t.Errorf("utc_offset_s %v, want 7200", got)
	}
}

// TestDecodeExactSpeed: the decoder expands speed into enhanced_speed
// through float64 and loses a unit (1.001 m/s becomes 1.000); the plain
// field is the one to trust.
func TestDecodeExactSpeed(t *testing.T) {
	r := mesgdef.NewRecord(nil).SetTimestamp(epoch2024).SetSpeed(1001).SetAltitude(2503)
	file := mustDecode(t, encode(t, fileID(typedef.FileActivity), r.ToMesg(nil)))
	got := file.Activities[0].Records[0]
	if got.Speed != 1.001 || math.Abs(got.Altitude-0.6) > 1e-9 {
		t.Errorf("speed %v altitude %v, want 1.001 and 0.6", got.Speed, got.Altitude)
	}
}

// TestDecodeLegacyHeaders is the trap of muktihari/fit v0.28.1: files with
// a 12-byte header, or a 14-byte header whose CRC is 0x0000, are valid.
func TestDecodeLegacyHeaders(t *testing.T) {
	full := simpleActivity(t)
	for _, size := range []int{12, 0} {
		b := withHeader(t, full, size)
		file := mustDecode(t, b)
		if file.Partial || len(file.Warnings) != 0 || len(file.Activities[0].Records) != 60 {
			t.Errorf("header %d: partial %v warnings %q", size, file.Partial, file.Warnings)
		}
		// Reading one byte at a time changes nothing.
		file, err := Decode(iotest.OneByteReader(bytes.NewReader(b)))
		if err != nil || file.Partial {
			t.Errorf("header %d, one-byte reads: %v", size, err)
		}
	}
}

func TestDecodeCRCMismatch(t *testing.T) {
	b := simpleActivity(t)
	b[len(b)-1] ^= 0xFF // the trailer
	file := mustDecode(t, b)
	if !file.Partial || !slices.Contains(file.Warnings, "FIT file CRC mismatch") || len(file.Activities[0].Records) != 60 {
		t.Errorf("partial %v warnings %q", file.Partial, file.Warnings)
	}
}

func TestDecodeTruncated(t *testing.T) {
	b := simpleActivity(t)
	for _, n := range []int{len(b) - 1, len(b) - 40, len(b) / 2} {
		file := mustDecode(t, b[:n])
		if !file.Partial || len(file.Activities) != 1 || len(file.Activities[0].Records) == 0 {
			t.Fatalf("cut at %d: partial %v", n, file.Partial)
		}
		if !slices.ContainsFunc(file.Warnings, func(w string) bool { return strings.HasPrefix(w, "unexpected end of file") }) {
			t.Errorf("cut at %d: warnings %q", n, file.Warnings)
		}
	}
	// Cut before the session: the activity spans its records.
	file := mustDecode(t, b[:len(b)/2])
	a := file.Activities[0]
	if a.Type != cairn.ActivityOther || !a.Start.Equal(epoch2024) || a.End.IsZero() {
		t.Errorf("no session: %s %v – %v", a.Type, a.Start, a.End)
	}
}

func TestDecodeErrors(t *testing.T) {
	full := simpleActivity(t)
	tests := []struct {
		name string
		in   []byte
		code string
		msg  string
	}{
		{"empty", nil, cairn.EINVALIDFILE, "FIT file is empty"},
		{"not FIT", []byte("<?xml version='1.0'?><gpx></gpx>"), cairn.EINVALIDFILE, "FIT header invalid"},
		{"header only", full[:14], cairn.EINVALIDFILE, "unexpected end of file"},
		{"half a header", full[:7], cairn.EINVALIDFILE, "unexpected end of file"},
		{"file_id only", encode(t, fileID(typedef.FileActivity)), cairn.EINVALIDFILE, "FIT file holds no activity, health or workout data"},
		{"settings", encode(t, fileID(typedef.FileSettings), mesgdef.NewUserProfile(nil).SetAge(40).ToMesg(nil)), cairn.EUNSUPPORTEDFILE, "FIT file type settings is not supported"},
		{"course", encode(t, fileID(typedef.FileCourse), record(epoch2024, 1, 2, 3, 4, 5, 6)), cairn.EUNSUPPORTEDFILE, "FIT file type course is not supported"},
	}
	for _, tt := range tests {
		_, err := decodeBytes(t, tt.in)
		e := wantCode(t, err, tt.code)
		if e.Message != tt.msg {
			t.Errorf("%s: message %q, want %q", tt.name, e.Message, tt.msg)
		}
	}
}

type failingReader struct{ err error }

func (r failingReader) Read([]byte) (int, error) { return 0, r.err }

type panickingReader struct{}

func (panickingReader) Read([]byte) (int, error) { panic("boom") }

func TestDecodeReaderFailures(t *testing.T) {
	// A failing reader is not a broken file: its error comes back as is.
	cause := errors.New("disk on fire")
	_, err := Decode(failingReader{cause})
	if !errors.Is(err, cause) || cairn.ErrorCode(err) != cairn.EINTERNAL {
		t.Errorf("error %v (code %s), want the reader's error", err, cairn.ErrorCode(err))
	}
	tooLarge := cairn.Errorf(cairn.ETOOLARGE, "upload too large")
	_, err = Decode(io.MultiReader(bytes.NewReader(simpleActivity(t)[:100]), failingReader{tooLarge}))
	if cairn.ErrorCode(err) != cairn.ETOOLARGE {
		t.Errorf("error %v, want the reader's ETOOLARGE", err)
	}
	// Panics never escape.
	_, err = Decode(panickingReader{})
	wantCode(t, err, cairn.EINVALIDFILE)
}

func TestDecodeChained(t *testing.T) {
	first := simpleActivity(t)
	second := withHeader(t, simpleActivity(t), 12)
	file := mustDecode(t, append(bytes.Clone(first), second...))
	if file.Partial || len(file.Activities) != 2 {
		t.Errorf("partial %v, %d activities: want one per chained file", file.Partial, len(file.Activities))
	}
	// Trailing garbage after a complete file keeps the file, flagged.
	file = mustDecode(t, append(bytes.Clone(first), "garbage"...))
	if !file.Partial || len(file.Activities) != 1 || !strings.HasPrefix(file.Warnings[0], "FIT header invalid (FIT file 2 of the chain)") {
		t.Errorf("partial %v warnings %q", file.Partial, file.Warnings)
	}
}

func TestDecodeMultisport(t *testing.T) {
	swim, bike := epoch2024, epoch2024.Add(10*time.Minute)
	mesgs := []proto.Message{fileID(typedef.FileActivity)}
	for i := range 20 {
		mesgs = append(mesgs, record(epoch2024.Add(time.Duration(i)*time.Minute), math.NaN(), 0, 10, 100, 1, float64(i)))
	}
	mesgs = append(mesgs,
		session(swim, 10*time.Minute, typedef.SportSwimming, typedef.SubSportOpenWater, 500),
		session(bike, 10*time.Minute, typedef.SportCycling, typedef.SubSportRoad, 5000))
	file := mustDecode(t, encode(t, mesgs...))
	if len(file.Activities) != 2 {
		t.Fatalf("%d activities", len(file.Activities))
	}
	for i, want := range []cairn.ActivityType{cairn.ActivityOpenWaterSwim, cairn.ActivityRide} {
		a := file.Activities[i]
		if a.Type != want || len(a.Records) != 10 || a.Metadata["session_index"] != i || a.Metadata["session_count"] != 2 {
			t.Errorf("leg %d: %s, %d records, %v", i, a.Type, len(a.Records), a.Metadata)
		}
		if !math.IsNaN(a.Records[0].Lat) || !math.IsNaN(a.Records[0].Lon) {
			t.Errorf("leg %d: position %v,%v, want NaN", i, a.Records[0].Lat, a.Records[0].Lon)
		}
	}
}

func TestDecodeMonitoring(t *testing.T) {
	base := epoch2024 // its low 16 bits: the timestamp_16 below roll over
	baseFIT := uint32(base.Unix() - fitEpoch)
	info := mesgdef.NewMonitoringInfo(nil).SetTimestamp(base).ToMesg(nil)
	mon := func(ts16 uint16, act typedef.ActivityType, cycles uint32, hr uint8) proto.Message {
		m := mesgdef.NewMonitoring(nil).SetTimestamp16(ts16).SetActivityType(act).SetHeartRate(hr)
		if cycles != basetype.Uint32Invalid {
			m.SetCycles(cycles)
		}
		return m.ToMesg(nil)
	}
	low := uint16(baseFIT)
	file := mustDecode(t, encode(t, fileID(typedef.FileMonitoringB), info,
		mon(low+60, typedef.ActivityTypeWalking, 100, 80),
		mon(low+120, typedef.ActivityTypeRunning, 50, 150),
		mon(low+65535, typedef.ActivityTypeWalking, 300, 90),    // 65535 s later: wraps
		mon(low+65535+120, typedef.ActivityTypeWalking, 20, 85), // a new day: counters reset
	))
	if file.Kind != cairn.KindHealth {
		t.Fatalf("kind %s", file.Kind)
	}
	var steps []float64
	var hrTimes []time.Time
	for _, m := range file.HealthMetrics {
		switch m.Type {
		case cairn.HealthSteps:
			steps = append(steps, m.Value)
		case cairn.HealthHeartRate:
			hrTimes = append(hrTimes, m.Time)
		}
	}
	if !slices.Equal(steps, []float64{100, 150, 350, 20}) {
		t.Errorf("steps %v", steps)
	}
	want := []time.Time{base.Add(60 * time.Second), base.Add(120 * time.Second),
		base.Add(65535 * time.Second), base.Add((65535 + 120) * time.Second)}
	if !slices.EqualFunc(hrTimes, want, time.Time.Equal) {
		t.Errorf("times %v, want %v", hrTimes, want)
	}
}

func TestDecodeWeight(t *testing.T) {
	ws := mesgdef.NewWeightScale(nil).SetTimestamp(epoch2024).
		SetWeightScaled(72.5).SetPercentFatScaled(18.2).SetPercentHydrationScaled(55.1).
		SetMuscleMassScaled(33.3).SetBoneMassScaled(3.2).SetBmiScaled(22.4).SetVisceralFatRating(6)
	file := mustDecode(t, encode(t, fileID(typedef.FileWeight), ws.ToMesg(nil)))
	got := map[string]float64{}
	for _, m := range file.HealthMetrics {
		got[m.Type] = m.Value
	}
	want := map[string]float64{cairn.HealthWeight: 72.5, cairn.HealthBodyFat: 18.2, cairn.HealthBodyWater: 55.1,
		cairn.HealthMuscleMass: 33.3, cairn.HealthBoneMass: 3.2, cairn.HealthBMI: 22.4, cairn.HealthVisceralFat: 6}
	for k, w := range want {
		if math.Abs(got[k]-w) > 0.01 { // the setters truncate to the field's scale
			t.Errorf("%s = %v, want %v", k, got[k], w)
		}
	}
}

func TestDecodeWorkout(t *testing.T) {
	step := func(i uint16, name string) *mesgdef.WorkoutStep {
		return mesgdef.NewWorkoutStep(nil).SetMessageIndex(typedef.MessageIndex(i)).SetWktStepName(name)
	}
	file := mustDecode(t, encode(t, fileID(typedef.FileWorkout),
		mesgdef.NewWorkout(nil).SetWktName("Tempo").SetSport(typedef.SportRunning).SetNumValidSteps(3).ToMesg(nil),
		step(0, "warm up").SetDurationType(typedef.WktStepDurationTime).SetDurationValue(600_000).
			SetTargetType(typedef.WktStepTargetHeartRate).SetTargetValue(2).SetIntensity(typedef.IntensityWarmup).ToMesg(nil),
		step(1, "tempo").SetDurationType(typedef.WktStepDurationDistance).SetDurationValue(100_000).
			SetTargetType(typedef.WktStepTargetSpeed).SetTargetValue(0).
			SetCustomTargetValueLow(3500).SetCustomTargetValueHigh(3800).ToMesg(nil),
		step(2, "again").SetDurationType(typedef.WktStepDurationRepeatUntilStepsCmplt).SetDurationValue(1).
			SetTargetValue(4).ToMesg(nil),
	))
	w := file.Workouts[0]
	if w.Name != "Tempo" || w.Sport != cairn.ActivityRun {
		t.Errorf("workout %q %s", w.Name, w.Sport)
	}
	var steps []cairn.WorkoutStep
	if err := json.Unmarshal(w.Definition, &steps); err != nil {
		t.Fatal(err)
	}
	if s := steps[0]; *s.DurationValue != 600 || s.TargetType != "heart_rate_zone" || *s.TargetLow != 2 || s.Intensity != "warmup" {
		t.Errorf("step 0 %+v", s)
	}
	if s := steps[1]; *s.DurationValue != 1000 || s.TargetType != "speed" || *s.TargetLow != 3.5 || *s.TargetHigh != 3.8 {
		t.Errorf("step 1 %+v", s)
	}
	if s := steps[2]; *s.RepeatFrom != 1 || *s.RepeatCount != 4 || s.TargetType != "" {
		t.Errorf("step 2 %+v", s)
	}
}

func TestDecodeDeveloperFields(t *testing.T) {
	mesgs := []proto.Message{
		fileID(typedef.FileActivity),
		mesgdef.NewDeveloperDataId(nil).SetDeveloperDataIndex(0).SetApplicationId(make([]byte, 16)).ToMesg(nil),
		mesgdef.NewFieldDescription(nil).SetDeveloperDataIndex(0).SetFieldDefinitionNumber(1).
			SetFitBaseTypeId(basetype.Uint16).SetFieldName([]string{"Form Power"}).SetUnits([]string{"W"}).ToMesg(nil),
	}
	for i := range 4 {
		r := mesgdef.NewRecord(nil).SetTimestamp(epoch2024.Add(time.Duration(i) * time.Second)).SetHeartRate(100)
		r.SetDeveloperFields(proto.DeveloperField{Num: 1, DeveloperDataIndex: 0, Value: proto.Uint16(uint16(200 + i))})
		mesgs = append(mesgs, r.ToMesg(nil))
	}
	mesgs = append(mesgs, session(epoch2024, 3*time.Second, typedef.SportRunning, typedef.SubSportGeneric, 10))
	file := mustDecode(t, encode(t, mesgs...))
	dev := file.Activities[0].Metadata["developer_fields"].(map[string]map[string]DeveloperField)
	f := dev["record"]["Form Power"]
	if f.Units != "W" || f.Count != 4 || *f.Min != 200 || *f.Max != 203 || *f.Mean != 201.5 || f.Last != 203.0 {
		t.Errorf("Form Power %+v", f)
	}
	if _, err := cairn.MarshalMetadata(file.Activities[0].Metadata); err != nil {
		t.Error(err)
	}
}
