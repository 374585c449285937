package tcx

import (
	"bufio"
	"encoding/xml"
	"io"
	"math"
	"strconv"
	"time"

	"github.com/cairn-fit/cairn"
)

const header = `<?xml version="1.0" encoding="UTF-8"?>
<TrainingCenterDatabase xmlns="http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2"` +
	` xmlns:ns3="http://www.garmin.com/xmlschemas/ActivityExtension/v2"` +
	` xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"` +
	` xsi:schemaLocation="http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2 http://www.garmin.com/xmlschemas/TrainingCenterDatabasev2.xsd">
  <Activities>
`

// Encode writes a as a TCX v2 file with one activity. Its laps become
// <Lap>s holding the records from their start to the next lap's; an
// activity without laps gets one lap from its totals. The Sport attribute
// can only say Running, Biking or Other, so the activity type comes back
// coarser; the name goes into <Notes>. Temperature has no place in TCX.
// Heart rate, cadence and calories are rounded to whole numbers, as the
// schema wants; running cadence goes into the RunCadence extension.
func Encode(w io.Writer, a cairn.DecodedActivity) error {
	bw := bufio.NewWriter(w)
	e := &encoder{w: bw, running: sportAttr(a.Type) == "Running"}
	e.str(header)
	e.str(`    <Activity Sport="` + sportAttr(a.Type) + `">` + "\n")
	e.elem("      ", "Id", formatTime(start(a)))
	laps := a.Laps
	if len(laps) == 0 {
		laps = []cairn.Lap{wholeLap(a)}
	}
	for i, l := range laps {
		e.lap(l, lapRecords(a.Records, laps, i))
	}
	if a.Name != "" {
		e.elem("      ", "Notes", a.Name)
	}
	e.str("    </Activity>\n  </Activities>\n</TrainingCenterDatabase>\n")
	if e.err != nil {
		return e.err
	}
	return bw.Flush()
}

// sportAttr maps a type to one of the three sports TCX knows.
func sportAttr(t cairn.ActivityType) string {
	switch t {
	case cairn.ActivityRun, cairn.ActivityTrailRun, cairn.ActivityTreadmillRun:
		return "Running"
	case cairn.ActivityRide, cairn.ActivityMountainBike, cairn.ActivityIndoorRide, cairn.ActivityGravelRide:
		return "Biking"
	}
	return "Other"
}

func start(a cairn.DecodedActivity) time.Time {
	if !a.Start.IsZero() {
		return a.Start
	}
	for _, r := range a.Records {
		if !r.Time.IsZero() {
			return r.Time
		}
	}
	return time.Unix(0, 0)
}

// wholeLap is the one lap of an activity that has none.
func wholeLap(a cairn.DecodedActivity) cairn.Lap {
	l := cairn.Lap{Start: start(a)}
	if a.Totals.TimerS != nil {
		l.TimerS = *a.Totals.TimerS
	} else if !a.End.IsZero() && a.End.After(l.Start) {
		l.TimerS = a.End.Sub(l.Start).Seconds()
	}
	if a.Totals.DistanceM != nil {
		l.DistanceM = *a.Totals.DistanceM
	}
	if a.Totals.Calories != nil {
		l.Calories = *a.Totals.Calories
	}
	if a.Totals.AvgHR != nil {
		l.AvgHR = *a.Totals.AvgHR
	}
	if a.Totals.MaxHR != nil {
		l.MaxHR = *a.Totals.MaxHR
	}
	return l
}

// lapRecords returns the records of lap i: from its start to the next
// lap's (the first lap also takes earlier ones, the last the rest). A
// record without time stays with the record before it.
func lapRecords(records []cairn.Record, laps []cairn.Lap, i int) []cairn.Record {
	var out []cairn.Record
	k := 0
	for _, r := range records {
		for !r.Time.IsZero() && k+1 < len(laps) && !r.Time.Before(laps[k+1].Start) {
			k++
		}
		if k == i {
			out = append(out, r)
		}
	}
	return out
}

// encoder writes XML text, keeping the first write error.
type encoder struct {
	w       *bufio.Writer
	err     error
	running bool
}

func (e *encoder) str(s string) {
	if e.err == nil {
		_, e.err = e.w.WriteString(s)
	}
}

// elem writes indent<name>escaped text</name> and a newline.
func (e *encoder) elem(indent, name, text string) {
	e.str(indent + "<" + name + ">")
	if e.err == nil {
		e.err = xml.EscapeText(e.w, []byte(text))
	}
	e.str("</" + name + ">\n")
}

func (e *encoder) lap(l cairn.Lap, records []cairn.Record) {
	e.str(`      <Lap StartTime="` + formatTime(l.Start) + `">` + "\n")
	e.elem("        ", "TotalTimeSeconds", formatFloat(l.TimerS))
	e.elem("        ", "DistanceMeters", formatFloat(l.DistanceM))
	e.elem("        ", "Calories", whole(l.Calories))
	if l.AvgHR > 0 {
		e.str("        <AverageHeartRateBpm>")
		e.elem("", "Value", whole(l.AvgHR))
		e.str("        </AverageHeartRateBpm>\n")
	}
	if l.MaxHR > 0 {
		e.str("        <MaximumHeartRateBpm>")
		e.elem("", "Value", whole(l.MaxHR))
		e.str("        </MaximumHeartRateBpm>\n")
	}
	e.str("        <Intensity>Active</Intensity>\n        <TriggerMethod>Manual</TriggerMethod>\n")
	if len(records) > 0 {
		e.str("        <Track>\n")
		for _, r := range records {
			e.point(r)
		}
		e.str("        </Track>\n")
	}
	e.str("      </Lap>\n")
}

// point writes a Trackpoint, its elements in the schema's order.
func (e *encoder) point(r cairn.Record) {
	e.str("          <Trackpoint>")
	if !r.Time.IsZero() {
		e.elem("", "Time", formatTime(r.Time))
	}
	if !math.IsNaN(r.Lat) && !math.IsNaN(r.Lon) {
		e.str("<Position><LatitudeDegrees>" + formatFloat(r.Lat) + "</LatitudeDegrees><LongitudeDegrees>" +
			formatFloat(r.Lon) + "</LongitudeDegrees></Position>")
	}
	e.optional("AltitudeMeters", r.Altitude, formatFloat)
	e.optional("DistanceMeters", r.Distance, formatFloat)
	if !math.IsNaN(r.HeartRate) {
		e.str("<HeartRateBpm><Value>" + whole(r.HeartRate) + "</Value></HeartRateBpm>")
	}
	if !e.running {
		e.optional("Cadence", r.Cadence, whole)
	}
	e.extensions(r)
	e.str("</Trackpoint>\n")
}

func (e *encoder) optional(name string, v float64, format func(float64) string) {
	if !math.IsNaN(v) {
		e.str("<" + name + ">" + format(v) + "</" + name + ">")
	}
}

func (e *encoder) extensions(r cairn.Record) {
	runCad := e.running && !math.IsNaN(r.Cadence)
	if math.IsNaN(r.Speed) && math.IsNaN(r.Power) && !runCad {
		return
	}
	e.str("<Extensions><ns3:TPX>")
	e.optional("ns3:Speed", r.Speed, formatFloat)
	if runCad {
		e.optional("ns3:RunCadence", r.Cadence, whole)
	}
	e.optional("ns3:Watts", r.Power, whole)
	e.str("</ns3:TPX></Extensions>")
}

// formatFloat writes the shortest decimal that reads back as v.
func formatFloat(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

func whole(v float64) string { return strconv.Itoa(int(math.Round(v))) }

func formatTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }
