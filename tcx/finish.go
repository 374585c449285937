package tcx

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/xmlfile"
)

// finish builds the decoded file from what the parser kept; failure is
// the error that stopped it, nil at a clean end.
func (p *parser) finish(failure error) (*cairn.DecodedFile, error) {
	if errors.Is(failure, xmlfile.ErrTooLarge) {
		return nil, xmlfile.TooLarge("TCX")
	}
	var acts []cairn.DecodedActivity
	var device *cairn.DeviceInfo
	for _, a := range p.acts {
		if len(a.records) == 0 && len(a.laps) == 0 {
			continue
		}
		acts = append(acts, p.activity(a))
		if device == nil {
			device = a.creator.device()
		}
	}
	if failure != nil {
		msg := failureMessage(failure)
		if len(acts) == 0 {
			return nil, cairn.Wrap(cairn.EINVALIDFILE, failure, msg)
		}
		p.partial = true
		p.warn(msg + ": kept the data before it")
	}
	if len(acts) == 0 {
		return nil, cairn.Errorf(cairn.EINVALIDFILE, "TCX: no activities")
	}
	return &cairn.DecodedFile{
		Format:     cairn.FormatTCX,
		Kind:       cairn.KindActivity,
		Device:     device,
		Activities: acts,
		Partial:    p.partial,
		Warnings:   p.warnings,
	}, nil
}

// failureMessage says safely what stopped the parser.
func failureMessage(err error) string {
	var charset unsupportedCharset
	switch {
	case errors.As(err, &charset):
		return fmt.Sprintf("TCX: unsupported encoding %q", string(charset))
	case errors.Is(err, errNotTCX):
		return "TCX: not a TCX file (the root element is not <TrainingCenterDatabase>)"
	case errors.Is(err, errAfterRoot):
		return "TCX: data after the end of </TrainingCenterDatabase>"
	}
	return xmlfile.Failure("TCX", err)
}

func (p *parser) activity(a *activity) cairn.DecodedActivity {
	if a.dropped > 0 {
		p.partial = true
		p.warn(fmt.Sprintf("TCX: kept the first %d trackpoints of an activity, dropped %d", maxPoints, a.dropped))
	}
	act := cairn.DecodedActivity{
		Type:     cairn.MapSport(cairn.FormatTCX, a.sport, ""),
		Sport:    a.sport,
		Name:     a.name,
		Records:  a.records,
		Laps:     laps(a.laps),
		Totals:   totals(a.laps),
		Metadata: map[string]any{"tcx": a.kind},
	}
	if a.session >= 0 {
		act.Metadata["session_index"] = a.session
	}
	act.Start, act.End = span(a)
	return act
}

// span returns an activity's start (its Id, else its first lap or point)
// and end (its last point, else the end of its last lap).
func span(a *activity) (start, end time.Time) {
	first, last := xmlfile.TimeRange(a.records)
	start = a.id
	if start.IsZero() && len(a.laps) > 0 {
		start = a.laps[0].start
	}
	if start.IsZero() {
		start = first
	}
	end = last
	if n := len(a.laps); n > 0 && !a.laps[n-1].start.IsZero() && !math.IsNaN(a.laps[n-1].timer) {
		if lapEnd := a.laps[n-1].start.Add(seconds(a.laps[n-1].timer)); lapEnd.After(end) {
			end = lapEnd
		}
	}
	return start, end
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

func laps(in []lap) []cairn.Lap {
	out := make([]cairn.Lap, 0, len(in))
	for _, l := range in {
		out = append(out, cairn.Lap{
			Start:     l.start,
			ElapsedS:  zeroNaN(l.timer), // TCX records timer time only
			TimerS:    zeroNaN(l.timer),
			DistanceM: zeroNaN(l.distance),
			Calories:  zeroNaN(l.calories),
			AvgHR:     zeroNaN(l.avgHR),
			MaxHR:     zeroNaN(l.maxHR),
		})
	}
	return out
}

// totals sums the laps: TCX has no session summary.
func totals(laps []lap) cairn.DeviceTotals {
	var t cairn.DeviceTotals
	var hrSum, hrTime float64
	for _, l := range laps {
		t.DistanceM = add(t.DistanceM, l.distance)
		t.TimerS = add(t.TimerS, l.timer)
		t.Calories = add(t.Calories, l.calories)
		t.Steps = add(t.Steps, l.steps)
		t.MaxHR = maxOf(t.MaxHR, l.maxHR)
		t.MaxSpeed = maxOf(t.MaxSpeed, l.maxSpeed)
		if !math.IsNaN(l.avgHR) && l.timer > 0 {
			hrSum += l.avgHR * l.timer
			hrTime += l.timer
		}
	}
	if hrTime > 0 {
		avg := hrSum / hrTime
		t.AvgHR = &avg
	}
	// Absurd values in a broken file can add up to infinity.
	for _, p := range []**float64{&t.DistanceM, &t.TimerS, &t.Calories, &t.Steps, &t.MaxHR, &t.MaxSpeed, &t.AvgHR} {
		if *p != nil && (math.IsInf(**p, 0) || math.IsNaN(**p)) {
			*p = nil
		}
	}
	return t
}

// add adds v to a running total; a NaN v leaves it alone.
func add(total *float64, v float64) *float64 {
	if math.IsNaN(v) {
		return total
	}
	if total == nil {
		return &v
	}
	s := *total + v
	return &s
}

func maxOf(m *float64, v float64) *float64 {
	if math.IsNaN(v) || (m != nil && *m >= v) {
		return m
	}
	return &v
}

func zeroNaN(v float64) float64 {
	if math.IsNaN(v) {
		return 0
	}
	return v
}

// device returns the Creator as a device, nil when there is none.
func (c creator) device() *cairn.DeviceInfo {
	if c.name == "" && c.unitID == "" {
		return nil
	}
	d := &cairn.DeviceInfo{Model: c.name, SerialNumber: c.unitID}
	if c.major != "" {
		d.FirmwareVersion = c.major
		if c.minor != "" {
			d.FirmwareVersion += "." + c.minor
		}
	}
	return d
}
