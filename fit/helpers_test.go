package fit

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"path/filepath"
	"testing"
	"time"

	"github.com/cairn-fit/cairn"
	fx "github.com/cairn-fit/cairn/fixtures"
	"github.com/muktihari/fit/encoder"
	"github.com/muktihari/fit/profile/mesgdef"
	"github.com/muktihari/fit/profile/typedef"
	"github.com/muktihari/fit/proto"
)

// fixtureRoot returns the shared FIT fixtures folder and whether it is there.
func fixtureRoot() (string, bool) {
	root, ok := fx.Root()
	return filepath.Join(root, "fit"), ok
}

// fixtureDir returns the fixtures folder or skips the test when it is missing.
func fixtureDir(t testing.TB) string {
	t.Helper()
	return fx.Dir(t, "fit")
}

// fixturePaths lists the FIT fixtures, none when the folder is missing.
func fixturePaths() []string { return fx.Paths("fit", ".fit") }

// fixtures returns the paths of the FIT fixtures, skipping the test when
// there are none.
func fixtures(t testing.TB) []string {
	t.Helper()
	fixtureDir(t)
	return fixturePaths()
}

// brokenOnPurpose reports whether a fixture is broken by design (SOURCES.md).
func brokenOnPurpose(name string) bool { return fx.BrokenOnPurpose(name) }

// cutShort lists the fixtures whose names do not say so but which are
// recordings cut short: they must decode partially.
var cutShort = map[string]string{
	"nick.fit":                               "the last message runs past the end of the file and the CRC does not match",
	"strava-android-app-201.10-b1218918.fit": "a crashing app: the header's data size exceeds the file and a message has no definition",
}

func decodeBytes(t testing.TB, b []byte) (*cairn.DecodedFile, error) {
	t.Helper()
	return Decode(bytes.NewReader(b))
}

func mustDecode(t testing.TB, b []byte) *cairn.DecodedFile {
	t.Helper()
	f, err := decodeBytes(t, b)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	return f
}

// wantCode checks that err is a *cairn.Error with the given code.
func wantCode(t testing.TB, err error, code string) *cairn.Error {
	t.Helper()
	var e *cairn.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not a *cairn.Error", err, err)
	}
	if e.Code != code {
		t.Fatalf("error code %s (%v), want %s", e.Code, err, code)
	}
	return e
}

// tb is what the synthetic file builders need of a test: *testing.T,
// *testing.F, *testing.B and *rapid.T all have it.
type tb interface {
	Helper()
	Fatalf(format string, args ...any)
}

// encode writes messages as one FIT file (protocol 2.0, developer fields
// allowed) with muktihari/fit's encoder: a 14-byte header with its CRC.
func encode(t tb, mesgs ...proto.Message) []byte {
	t.Helper()
	var buf bytes.Buffer
	fit := &proto.FIT{FileHeader: proto.FileHeader{ProtocolVersion: proto.V2}, Messages: mesgs}
	if err := encoder.New(&buf).Encode(fit); err != nil {
		t.Fatalf("encode: %v", err)
	}
	return buf.Bytes()
}

var epoch2024 = time.Date(2024, 5, 1, 7, 0, 0, 0, time.UTC)

func fileID(typ typedef.File) proto.Message {
	return mesgdef.NewFileId(nil).SetType(typ).
		SetManufacturer(typedef.ManufacturerGarmin).
		SetProduct(uint16(typedef.GarminProductFenix5)).
		SetSerialNumber(123456).
		SetTimeCreated(epoch2024).ToMesg(nil)
}

// record is a synthetic record message; NaN leaves a field out.
func record(t time.Time, lat, lon, alt, hr, speed, dist float64) proto.Message {
	r := mesgdef.NewRecord(nil).SetTimestamp(t).
		SetEnhancedAltitudeScaled(alt).
		SetSpeedScaled(speed).
		SetDistanceScaled(dist)
	if !math.IsNaN(lat) {
		r.SetPositionLatDegrees(lat).SetPositionLongDegrees(lon)
	}
	if !math.IsNaN(hr) {
		r.SetHeartRate(uint8(hr))
	}
	return r.ToMesg(nil)
}

func session(start time.Time, elapsed time.Duration, sport typedef.Sport, sub typedef.SubSport, distM float64) proto.Message {
	return mesgdef.NewSession(nil).
		SetTimestamp(start.Add(elapsed)).
		SetStartTime(start).
		SetTotalElapsedTime(uint32(elapsed.Milliseconds())).
		SetTotalTimerTime(uint32(elapsed.Milliseconds())).
		SetTotalDistance(uint32(distM * 100)).
		SetTotalCalories(321).
		SetAvgHeartRate(140).
		SetMaxHeartRate(171).
		SetSport(sport).
		SetSubSport(sub).ToMesg(nil)
}

// simpleActivity is a 60-record run with one session.
func simpleActivity(t tb) []byte {
	t.Helper()
	mesgs := []proto.Message{fileID(typedef.FileActivity)}
	for i := range 60 {
		mesgs = append(mesgs, record(epoch2024.Add(time.Duration(i)*time.Second),
			46.05+float64(i)*1e-4, 14.5, 300+float64(i)/5, 120+float64(i%30), 3.1, float64(i)*3.1))
	}
	mesgs = append(mesgs, session(epoch2024, 59*time.Second, typedef.SportRunning, typedef.SubSportTrail, 182.9))
	return encode(t, mesgs...)
}

// withHeader rewrites a 14-byte-header FIT file as the legacy 12-byte
// header (size 12) or as a 14-byte header whose CRC is 0x0000 (size 0),
// and recomputes the file CRC as the protocol defines it: over the whole
// header and the data.
func withHeader(t tb, b []byte, size int) []byte {
	t.Helper()
	if b[0] != 14 {
		t.Fatalf("header size %d, want 14", b[0])
	}
	data := b[14 : len(b)-2]
	var out []byte
	if size == 12 {
		out = append([]byte{12}, b[1:12]...)
	} else {
		out = append([]byte{14}, b[1:12]...)
		out = append(out, 0, 0)
	}
	out = append(out, data...)
	return binary.LittleEndian.AppendUint16(out, checksum(0, out))
}
