// Package synth makes synthetic recordings as real FIT files (with
// muktihari/fit's encoder), so that tests, benchmarks and demos need no
// device files.
package synth

import (
	"bytes"
	"math"
	"time"

	"github.com/muktihari/fit/encoder"
	"github.com/muktihari/fit/profile/mesgdef"
	"github.com/muktihari/fit/profile/typedef"
	"github.com/muktihari/fit/proto"
)

// Leg is one session of an activity: a sport, its start relative to the
// file's start, and its length in one-second records.
type Leg struct {
	Sport   typedef.Sport
	Offset  time.Duration
	Seconds int
}

// Totals are the session totals FIT writes for a leg of n records.
func Totals(n int) (distanceM, elapsedS float64) { return float64(n-1) * 3.2, float64(n - 1) }

// FIT returns an activity file starting at start, recorded by a device
// with the serial number, with one session per leg (several legs make a
// multisport file). Records move north at 3.2 m/s with a heart rate of
// 120–159 bpm and a rolling altitude; each session carries device totals:
// distance as Totals says, 250 kcal, avg/max HR 139/159, 42 m ascent.
func FIT(start time.Time, serial uint32, legs ...Leg) ([]byte, error) {
	mesgs := []proto.Message{mesgdef.NewFileId(nil).SetType(typedef.FileActivity).
		SetManufacturer(typedef.ManufacturerGarmin).SetProduct(uint16(typedef.GarminProductFenix5)).
		SetSerialNumber(serial).SetTimeCreated(start).ToMesg(nil)}
	for _, l := range legs {
		mesgs = append(mesgs, leg(start.Add(l.Offset), l)...)
	}
	var buf bytes.Buffer
	err := encoder.New(&buf).Encode(&proto.FIT{FileHeader: proto.FileHeader{ProtocolVersion: proto.V2}, Messages: mesgs})
	return buf.Bytes(), err
}

func leg(t0 time.Time, l Leg) []proto.Message {
	out := make([]proto.Message, 0, l.Seconds+1)
	for i := range l.Seconds {
		out = append(out, mesgdef.NewRecord(nil).SetTimestamp(t0.Add(time.Duration(i)*time.Second)).
			SetPositionLatDegrees(46.05+float64(i)*3e-5*0.9).SetPositionLongDegrees(14.5).
			SetEnhancedAltitudeScaled(300+20*math.Sin(float64(i)/60)).SetHeartRate(uint8(120+i%40)).
			SetCadence(uint8(85)).SetSpeedScaled(3.2).SetDistanceScaled(float64(i)*3.2).ToMesg(nil))
	}
	dist, elapsed := Totals(l.Seconds)
	ms := uint32(elapsed * 1000)
	return append(out, mesgdef.NewSession(nil).SetTimestamp(t0.Add(time.Duration(ms)*time.Millisecond)).
		SetStartTime(t0).SetTotalElapsedTime(ms).SetTotalTimerTime(ms).SetTotalDistance(uint32(dist*100)).
		SetTotalCalories(250).SetAvgHeartRate(139).SetMaxHeartRate(159).SetTotalAscent(42).
		SetSport(l.Sport).ToMesg(nil))
}
