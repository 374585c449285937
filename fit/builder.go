package fit

import (
	"cmp"
	"fmt"

	"github.com/cairn-fit/cairn"
	"github.com/muktihari/fit/profile/mesgdef"
	"github.com/muktihari/fit/profile/typedef"
	"github.com/muktihari/fit/profile/untyped/mesgnum"
	"github.com/muktihari/fit/proto"
)

// builder receives the decoder's messages one by one (it is the decoder's
// MesgListener) and keeps only what the decoded file needs.
type builder struct {
	groups   []*group
	segment  int    // index of the FIT file of the chain being decoded
	lastTime uint32 // last full timestamp seen, the base of timestamp_16
	warnings []string
	partial  bool
}

// group is the data of one FIT file: a file_id and what follows it. The
// FIT files of a chain that lack a file_id (e.g. the HR-only files a Garmin
// appends to a swim) continue the group before them.
type group struct {
	fileType  typedef.File
	hasFileID bool
	device    deviceBuilder
	act       activityBuilder
	health    healthBuilder
	wkt       workoutBuilder
}

func newBuilder() *builder { return &builder{} }

func (b *builder) warn(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	for _, w := range b.warnings {
		if w == msg {
			return
		}
	}
	b.warnings = append(b.warnings, msg)
}

// where names the FIT file of a chain in a warning.
func (b *builder) where() string {
	if b.segment == 0 {
		return ""
	}
	return fmt.Sprintf(" (FIT file %d of the chain)", b.segment+1)
}

// checkIntegrity records the CRC verdict of the FIT file just decoded.
func (b *builder) checkIntegrity(cr *crcReader, seq int) {
	res, ok := cr.result(seq)
	if !ok || !res.fileOK {
		b.partial = true
		b.warn("FIT file CRC mismatch%s", b.where())
	}
	if ok && !res.headerOK {
		b.partial = true
		b.warn("FIT header CRC mismatch%s", b.where())
	}
}

func (b *builder) current() *group {
	if len(b.groups) == 0 {
		b.groups = append(b.groups, newGroup())
	}
	return b.groups[len(b.groups)-1]
}

func newGroup() *group {
	return &group{fileType: typedef.FileInvalid, device: newDeviceBuilder()}
}

// OnMesg implements decoder.MesgListener. m and its fields are only valid
// during the call: everything kept is copied out.
func (b *builder) OnMesg(m proto.Message) {
	if m.Num == mesgnum.FileId {
		b.fileID(&m)
		return
	}
	g := b.current()
	if t := m.FieldValueByNum(proto.FieldNumTimestamp).Uint32(); t != invalidTime {
		b.lastTime = t
	}
	if g.unsupported() {
		return // nothing of it is kept
	}
	g.device.add(&m)
	switch m.Num {
	case mesgnum.Record, mesgnum.Session, mesgnum.Lap, mesgnum.Sport, mesgnum.Activity, mesgnum.FieldDescription:
		g.act.add(&m, b.lastTime)
	case mesgnum.Monitoring:
		b.lastTime = g.health.monitoring(&m, b.lastTime)
	case mesgnum.WeightScale, mesgnum.StressLevel, mesgnum.MonitoringHrData, mesgnum.HrvStatusSummary:
		g.health.add(&m)
	case mesgnum.Workout, mesgnum.WorkoutStep:
		g.wkt.add(&m)
	default:
		if len(m.DeveloperFields) > 0 {
			g.act.dev.add(&m, b.lastTime)
		}
	}
}

// invalidTime is the FIT date_time invalid value.
const invalidTime = 0xFFFFFFFF

func (b *builder) fileID(m *proto.Message) {
	id := mesgdef.NewFileId(m)
	g := b.current()
	if g.hasFileID || g.act.usable() || g.health.usable() || g.wkt.usable() {
		g = newGroup()
		b.groups = append(b.groups, g)
	}
	g.hasFileID = true
	g.fileType = id.Type
	g.device.fileID(id)
	if t := id.TimeCreated; !t.IsZero() && b.lastTime == 0 {
		b.lastTime = uint32(t.Unix() - fitEpoch)
	}
}

// fitEpoch is 1989-12-31T00:00:00Z in Unix seconds.
const fitEpoch = 631065600

// kindOf maps a file_id type to what cairn makes of it, "" when cairn
// does not import that type.
func kindOf(t typedef.File) string {
	switch t {
	case typedef.FileActivity:
		return cairn.KindActivity
	case typedef.FileMonitoringA, typedef.FileMonitoringB, typedef.FileMonitoringDaily, typedef.FileWeight:
		return cairn.KindHealth
	case typedef.FileWorkout:
		return cairn.KindWorkout
	}
	return ""
}

// typed reports whether g's file_id gives its type.
func (g *group) typed() bool { return g.hasFileID && g.fileType != typedef.FileInvalid }

// unsupported reports whether g's file type is one cairn does not import.
func (g *group) unsupported() bool { return g.typed() && kindOf(g.fileType) == "" }

// kind is what g decodes to: its file type's kind, or for a file that
// does not say the kind of what it holds.
func (g *group) kind() string {
	if g.typed() {
		return kindOf(g.fileType)
	}
	switch {
	case g.act.usable():
		return cairn.KindActivity
	case g.health.usable():
		return cairn.KindHealth
	case g.wkt.usable():
		return cairn.KindWorkout
	}
	return ""
}

func (g *group) usable() bool {
	switch g.kind() {
	case cairn.KindActivity:
		return g.act.usable()
	case cairn.KindHealth:
		return g.health.usable()
	case cairn.KindWorkout:
		return g.wkt.usable()
	}
	return false
}

func typeName(t typedef.File) string {
	return enumName(t, t == typedef.FileInvalid, "type", int(t))
}

// finish assembles the decoded file once the decoder stopped: n bytes
// read, failure the error that stopped the decoder (nil at a clean end).
func (b *builder) finish(n int64, failure error) (*cairn.DecodedFile, error) {
	primary := b.primary()
	if primary == nil {
		return nil, b.noData(n, failure)
	}
	if failure != nil {
		b.partial = true
		b.warn("%s%s: kept the data decoded before it", failureMessage(failure), b.where())
	}
	f := &cairn.DecodedFile{Format: cairn.FormatFIT, Kind: primary.kind(), Device: primary.device.info()}
	for _, g := range b.groups {
		if !g.usable() {
			if g.unsupported() {
				b.warn("skipped a chained FIT file of type %s", typeName(g.fileType))
			}
			continue
		}
		if g.kind() != f.Kind {
			b.warn("skipped a chained FIT file of type %s", cmp.Or(typeName(g.fileType), g.kind()))
			continue
		}
		b.emit(f, g)
	}
	f.Partial, f.Warnings = b.partial, b.warnings
	return f, nil
}

// primary is the first group with usable data of a kind cairn imports.
func (b *builder) primary() *group {
	for _, g := range b.groups {
		if g.usable() {
			return g
		}
	}
	return nil
}

// noData explains why a file gave nothing to import.
func (b *builder) noData(n int64, failure error) error {
	for _, g := range b.groups {
		if g.unsupported() {
			return cairn.Errorf(cairn.EUNSUPPORTEDFILE, "FIT file type %s is not supported", typeName(g.fileType))
		}
	}
	switch {
	case n == 0:
		return cairn.Errorf(cairn.EINVALIDFILE, "FIT file is empty")
	case failure != nil:
		return cairn.Wrap(cairn.EINVALIDFILE, failure, failureMessage(failure))
	}
	return cairn.Errorf(cairn.EINVALIDFILE, "FIT file holds no activity, health or workout data")
}

func (b *builder) emit(f *cairn.DecodedFile, g *group) {
	switch f.Kind {
	case cairn.KindActivity:
		acts, warnings, partial := g.act.finish()
		f.Activities = append(f.Activities, acts...)
		b.absorb(warnings, partial)
	case cairn.KindHealth:
		metrics, warnings, partial := g.health.finish()
		f.HealthMetrics = append(f.HealthMetrics, metrics...)
		b.absorb(warnings, partial)
	case cairn.KindWorkout:
		w, warnings, partial := g.wkt.finish()
		f.Workouts = append(f.Workouts, w)
		b.absorb(warnings, partial)
	}
}

func (b *builder) absorb(warnings []string, partial bool) {
	for _, w := range warnings {
		b.warn("%s", w)
	}
	b.partial = b.partial || partial
}
