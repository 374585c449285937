package fit

import (
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/cairn-fit/cairn"
	"github.com/muktihari/fit/profile/basetype"
	"github.com/muktihari/fit/profile/mesgdef"
	"github.com/muktihari/fit/profile/typedef"
	"github.com/muktihari/fit/profile/untyped/fieldnum"
	"github.com/muktihari/fit/profile/untyped/mesgnum"
	"github.com/muktihari/fit/proto"
)

// activityBuilder keeps the records, sessions and laps of an activity
// file. Sessions usually come last (a multisport file writes all of them
// at the end), so records are kept in file order and split by session when
// the file is complete.
type activityBuilder struct {
	records  []cairn.Record
	sessions []sessionInfo
	laps     []cairn.Lap
	dev      devCollector
	// sport and subSport come from the sport message, for a file cut short
	// before its session message.
	sport, subSport string
	// utcOffset is local time minus UTC in seconds, from the activity
	// message; nil when the file does not say.
	utcOffset *int

	droppedRecords, droppedLaps, droppedSessions int
}

// sessionInfo is what an activity needs of a session message, copied out
// of the message while it is valid.
type sessionInfo struct {
	start, end      time.Time
	sport, subSport string
	totals          cairn.DeviceTotals
	dev             map[string]DeveloperField
}

func (a *activityBuilder) usable() bool { return len(a.records) > 0 || len(a.sessions) > 0 }

// add takes a record, session, lap, sport or field_description message;
// now is the message's timestamp or the last one seen before it.
func (a *activityBuilder) add(m *proto.Message, now uint32) {
	switch m.Num {
	case mesgnum.Record:
		a.addRecord(m)
	case mesgnum.Session:
		a.addSession(m)
		return // its developer fields belong to the session itself
	case mesgnum.Lap:
		a.addLap(m)
	case mesgnum.Sport:
		s := mesgdef.NewSport(m)
		a.sport, a.subSport = sportName(s.Sport), subSportName(s.SubSport)
	case mesgnum.Activity:
		a.activityMesg(mesgdef.NewActivity(m))
	case mesgnum.FieldDescription:
		a.dev.describe(m)
		return
	}
	if len(m.DeveloperFields) > 0 {
		a.dev.add(m, now)
	}
}

// activityMesg keeps the time zone offset of the activity message: its
// local_timestamp is its timestamp in local time.
func (a *activityBuilder) activityMesg(m *mesgdef.Activity) {
	if m.Timestamp.IsZero() || m.LocalTimestamp.IsZero() {
		return
	}
	// Offsets run from -12 to +14 hours; anything else is a device without
	// its clock set.
	if off := int(m.LocalTimestamp.Sub(m.Timestamp).Seconds()); off >= -12*3600 && off <= 14*3600 {
		a.utcOffset = &off
	}
}

func (a *activityBuilder) addRecord(m *proto.Message) {
	if len(a.records) >= maxRecords {
		a.droppedRecords++
		return
	}
	a.records = append(a.records, recordOf(m))
}

// recordOf reads a record message's fields directly rather than through
// mesgdef.NewRecord: records are most of a file and this is the hot path.
func recordOf(m *proto.Message) cairn.Record {
	r := cairn.Record{Altitude: nan, HeartRate: nan, Cadence: nan, Power: nan,
		Speed: nan, Distance: nan, Temperature: nan}
	lat, lon := basetype.Sint32Invalid, basetype.Sint32Invalid
	var alt, ealt, speed, espeed *proto.Field
	fraction := nan
	for i := range m.Fields {
		f := &m.Fields[i]
		switch f.Num {
		case fieldnum.RecordTimestamp:
			r.Time = fitTime(f.Value.Uint32())
		case fieldnum.RecordPositionLat:
			lat = f.Value.Int32()
		case fieldnum.RecordPositionLong:
			lon = f.Value.Int32()
		case fieldnum.RecordAltitude:
			alt = f
		case fieldnum.RecordEnhancedAltitude:
			ealt = f
		case fieldnum.RecordHeartRate:
			r.HeartRate = scaled(f)
		case fieldnum.RecordCadence:
			r.Cadence = scaled(f)
		case fieldnum.RecordFractionalCadence:
			fraction = scaled(f)
		case fieldnum.RecordDistance:
			r.Distance = scaled(f)
		case fieldnum.RecordSpeed:
			speed = f
		case fieldnum.RecordEnhancedSpeed:
			espeed = f
		case fieldnum.RecordPower:
			r.Power = scaled(f)
		case fieldnum.RecordTemperature:
			r.Temperature = scaled(f)
		}
	}
	r.Lat, r.Lon = degrees(lat, lon)
	r.Altitude = enhanced(ealt, alt)
	r.Speed = enhanced(espeed, speed)
	if !math.IsNaN(fraction) {
		r.Cadence += fraction
	}
	return r
}

// enhanced returns the value of an enhanced_ field, or of its plain
// field when the enhanced one is missing or merely the decoder's
// expansion of the plain one: the expansion goes through float64 and can
// lose a unit of the last place (1.001 m/s expands to 1.000).
func enhanced(enh, plain *proto.Field) float64 {
	v := nan
	if enh != nil && !enh.IsExpandedField {
		v = scaled(enh)
	}
	if math.IsNaN(v) && plain != nil {
		v = scaled(plain)
	}
	if math.IsNaN(v) && enh != nil {
		v = scaled(enh)
	}
	return v
}

func (a *activityBuilder) addSession(m *proto.Message) {
	if len(a.sessions) >= maxSessions {
		a.droppedSessions++
		return
	}
	s := mesgdef.NewSession(m)
	info := sessionInfo{
		sport:    sportName(s.Sport),
		subSport: subSportName(s.SubSport),
		totals:   sessionTotals(s),
		dev:      a.dev.own(m),
	}
	info.start, info.end = span(s.StartTime, s.Timestamp, s.TotalElapsedTimeScaled())
	a.sessions = append(a.sessions, info)
}

// span returns the start and end of a session or lap: its start_time and
// its timestamp (the end, in FIT), either one derived from the other and
// the elapsed seconds when missing.
func span(start, end time.Time, elapsed float64) (time.Time, time.Time) {
	if !math.IsNaN(elapsed) {
		d := time.Duration(elapsed * float64(time.Second))
		if start.IsZero() && !end.IsZero() {
			start = end.Add(-d)
		}
		if end.IsZero() && !start.IsZero() {
			end = start.Add(d)
		}
	}
	if end.Before(start) {
		end = start
	}
	return start, end
}

// sessionTotals copies the totals the device wrote into the session.
func sessionTotals(s *mesgdef.Session) cairn.DeviceTotals {
	t := cairn.DeviceTotals{
		DistanceM:  ptr(s.TotalDistanceScaled()),
		ElapsedS:   ptr(s.TotalElapsedTimeScaled()),
		TimerS:     ptr(s.TotalTimerTimeScaled()),
		Calories:   ptr(u16(s.TotalCalories)),
		AvgHR:      ptr(u8(s.AvgHeartRate)),
		MaxHR:      ptr(u8(s.MaxHeartRate)),
		AscentM:    ptr(u16(s.TotalAscent)),
		DescentM:   ptr(u16(s.TotalDescent)),
		AvgSpeed:   ptr(enhancedTotal(s, fieldnum.SessionEnhancedAvgSpeed, s.EnhancedAvgSpeedScaled(), s.AvgSpeedScaled())),
		MaxSpeed:   ptr(enhancedTotal(s, fieldnum.SessionEnhancedMaxSpeed, s.EnhancedMaxSpeedScaled(), s.MaxSpeedScaled())),
		AvgPower:   ptr(u16(s.AvgPower)),
		AvgCadence: ptr(withFraction(u8(s.AvgCadence), s.AvgFractionalCadenceScaled())),
	}
	// For running and walking total_cycles counts strides, two steps each.
	if name, _ := s.GetTotalCycles(); name == "total_strides" && s.TotalCycles != basetype.Uint32Invalid {
		t.Steps = ptr(2 * float64(s.TotalCycles))
	}
	return t
}

// enhancedTotal prefers a session's enhanced_ speed to the plain one,
// unless it only is the decoder's expansion of it (see enhanced).
func enhancedTotal(s *mesgdef.Session, num byte, enh, plain float64) float64 {
	if s.IsExpandedField(num) {
		return prefer(plain, enh)
	}
	return prefer(enh, plain)
}

// prefer returns v, or fallback when v is NaN.
func prefer(v, fallback float64) float64 {
	if math.IsNaN(v) {
		return fallback
	}
	return v
}

// withFraction adds a FIT fractional_ field to its integer field.
func withFraction(whole, fraction float64) float64 {
	if math.IsNaN(fraction) {
		return whole
	}
	return whole + fraction
}

func (a *activityBuilder) addLap(m *proto.Message) {
	if len(a.laps) >= maxLaps {
		a.droppedLaps++
		return
	}
	l := mesgdef.NewLap(m)
	start, _ := span(l.StartTime, l.Timestamp, l.TotalElapsedTimeScaled())
	a.laps = append(a.laps, cairn.Lap{
		Start:     start,
		ElapsedS:  zeroNaN(l.TotalElapsedTimeScaled()),
		TimerS:    zeroNaN(l.TotalTimerTimeScaled()),
		DistanceM: zeroNaN(l.TotalDistanceScaled()),
		Calories:  zeroNaN(u16(l.TotalCalories)),
		AvgHR:     zeroNaN(u8(l.AvgHeartRate)),
		MaxHR:     zeroNaN(u8(l.MaxHeartRate)),
	})
}

// finish splits the records and laps by session and returns one activity
// per session, with the warnings to pass on and whether data was dropped.
func (a *activityBuilder) finish() ([]cairn.DecodedActivity, []string, bool) {
	warnings, partial := a.dropWarnings()
	sessions := a.sessions
	if len(sessions) == 0 {
		sessions = []sessionInfo{a.sessionFromRecords()}
		warnings = append(warnings, "FIT file has no session message: the activity spans its records")
	}
	// Zero (unknown) starts sort first, so that sessionAt sees them as
	// starting before anything.
	sort.SliceStable(sessions, func(i, j int) bool { return sessions[i].start.Before(sessions[j].start) })
	records := a.splitRecords(sessions)
	laps := a.splitLaps(sessions)
	dev := a.dev.summarize(len(sessions), func(t time.Time, prev int) int { return sessionAt(sessions, t, prev) })
	acts := make([]cairn.DecodedActivity, len(sessions))
	for i, s := range sessions {
		acts[i] = s.activity(records[i], laps[i])
		acts[i].Metadata["session_index"] = i
		if len(sessions) > 1 {
			acts[i].Metadata["session_count"] = len(sessions)
		}
		if a.utcOffset != nil {
			acts[i].Metadata["utc_offset_s"] = *a.utcOffset
		}
		if fields := mergeDev(dev[i], s.dev); len(fields) > 0 {
			acts[i].Metadata["developer_fields"] = fields
		}
	}
	return acts, warnings, partial
}

func (a *activityBuilder) dropWarnings() ([]string, bool) {
	var w []string
	if a.droppedRecords > 0 {
		w = append(w, fmt.Sprintf("kept the first %d records of the file, dropped %d", maxRecords, a.droppedRecords))
	}
	if a.droppedLaps > 0 {
		w = append(w, fmt.Sprintf("kept the first %d laps of the file, dropped %d", maxLaps, a.droppedLaps))
	}
	if a.droppedSessions > 0 {
		w = append(w, fmt.Sprintf("kept the first %d sessions of the file, dropped %d", maxSessions, a.droppedSessions))
	}
	if a.dev.dropped > 0 {
		w = append(w, fmt.Sprintf("kept the first %d developer field values, dropped %d", maxDevSamples, a.dev.dropped))
	}
	return w, len(w) > 0
}

// sessionFromRecords stands in for the session message of a file cut short.
func (a *activityBuilder) sessionFromRecords() sessionInfo {
	s := sessionInfo{sport: a.sport, subSport: a.subSport}
	for _, r := range a.records {
		if r.Time.IsZero() {
			continue
		}
		if s.start.IsZero() {
			s.start = r.Time
		}
		s.end = r.Time
	}
	return s
}

// sessionAt returns the index of the session a sample taken at t belongs
// to: the last one starting at or before t, the first when t precedes
// them all. A sample without time stays with the one before it (prev).
func sessionAt(sessions []sessionInfo, t time.Time, prev int) int {
	if t.IsZero() {
		return prev
	}
	i := sort.Search(len(sessions), func(i int) bool { return sessions[i].start.After(t) })
	return max(i-1, 0)
}

// splitRecords gives each session its records. Records in time order fall
// into consecutive runs, which share the records' backing array.
func (a *activityBuilder) splitRecords(sessions []sessionInfo) [][]cairn.Record {
	out := make([][]cairn.Record, len(sessions))
	if len(sessions) == 1 {
		out[0] = a.records
		return out
	}
	idx := make([]int32, len(a.records))
	prev, ordered := 0, true
	for i, r := range a.records {
		k := sessionAt(sessions, r.Time, prev)
		ordered = ordered && k >= prev
		idx[i], prev = int32(k), k
	}
	if !ordered {
		for i, r := range a.records {
			out[idx[i]] = append(out[idx[i]], r)
		}
		return out
	}
	for lo := 0; lo < len(idx); {
		hi := lo
		for hi < len(idx) && idx[hi] == idx[lo] {
			hi++
		}
		out[idx[lo]] = a.records[lo:hi:hi]
		lo = hi
	}
	return out
}

func (a *activityBuilder) splitLaps(sessions []sessionInfo) [][]cairn.Lap {
	out := make([][]cairn.Lap, len(sessions))
	prev := 0
	for _, l := range a.laps {
		prev = sessionAt(sessions, l.Start, prev)
		out[prev] = append(out[prev], l)
	}
	return out
}

// activity builds the DecodedActivity of one session.
func (s sessionInfo) activity(records []cairn.Record, laps []cairn.Lap) cairn.DecodedActivity {
	act := cairn.DecodedActivity{
		Type:     cairn.MapSport(cairn.FormatFIT, s.sport, s.subSport),
		Sport:    sportLabel(s.sport, s.subSport),
		Start:    s.start,
		End:      s.end,
		Records:  records,
		Laps:     laps,
		Totals:   s.totals,
		Metadata: map[string]any{},
	}
	act.Indoor = indoor(act.Type, s.subSport)
	// An activity spans its records: a Fenix 2 writes its first leg's
	// start_time 45 minutes after the leg's first record.
	if first, last, ok := timeRange(records); ok {
		if act.Start.IsZero() || first.Before(act.Start) {
			act.Start = first
		}
		if act.End.IsZero() {
			act.End = last
		}
	}
	return act
}

// timeRange returns the first and last timestamps of records.
func timeRange(records []cairn.Record) (first, last time.Time, ok bool) {
	for _, r := range records {
		if r.Time.IsZero() {
			continue
		}
		if first.IsZero() {
			first = r.Time
		}
		last = r.Time
	}
	return first, last, !first.IsZero()
}

func sportName(s typedef.Sport) string {
	return enumName(s, s == typedef.SportInvalid, "sport", int(s))
}

func subSportName(s typedef.SubSport) string {
	return enumName(s, s == typedef.SubSportInvalid, "sub_sport", int(s))
}

// sportLabel is the source's own sport name: "running/trail", or just
// "running" when the sub-sport says nothing more.
func sportLabel(sport, subSport string) string {
	if subSport == "" || subSport == "generic" || sport == "" {
		return sport
	}
	return sport + "/" + subSport
}

// indoorSubSports are the FIT sub-sports recorded on a machine or in a
// gym: no route to expect.
var indoorSubSports = map[string]bool{
	"treadmill": true, "indoor_running": true, "indoor_cycling": true, "spin": true,
	"virtual_activity": true, "indoor_rowing": true, "indoor_walking": true,
	"elliptical": true, "stair_climbing": true, "indoor_skiing": true,
	"indoor_climbing": true, "indoor_hand_cycling": true,
	"indoor_wheelchair_walk": true, "indoor_wheelchair_run": true,
	"strength_training": true, "yoga": true, "pilates": true,
}

func indoor(t cairn.ActivityType, subSport string) bool {
	return t == cairn.ActivityTreadmillRun || t == cairn.ActivityIndoorRide || indoorSubSports[subSport]
}
