package gpx

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
<gpx version="1.1" creator="cairn" xmlns="http://www.topografix.com/GPX/1/1"` +
	` xmlns:gpxtpx="http://www.garmin.com/xmlschemas/TrackPointExtension/v2"` +
	` xmlns:gpxpx="http://www.garmin.com/xmlschemas/PowerExtension/v1"` +
	` xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"` +
	` xsi:schemaLocation="http://www.topografix.com/GPX/1/1 http://www.topografix.com/GPX/1/1/gpx.xsd` +
	` http://www.garmin.com/xmlschemas/TrackPointExtension/v2 https://www8.garmin.com/xmlschemas/TrackPointExtensionv2.xsd` +
	` http://www.garmin.com/xmlschemas/PowerExtension/v1 https://www8.garmin.com/xmlschemas/PowerExtensionv1.xsd">
`

// Encode writes a as a GPX 1.1 file with one track. Heart rate, cadence,
// temperature and speed go into Garmin's TrackPointExtension v2, power
// into Garmin's PowerExtension. The track's <type> is a's cairn activity
// type, which Decode maps back. GPX has no place for a point without a
// position or for cumulative distance: such records, and distances, are
// left out. Heart rate and cadence are rounded to whole numbers, as the
// extension's schema wants.
func Encode(w io.Writer, a cairn.DecodedActivity) error {
	bw := bufio.NewWriter(w)
	e := &encoder{w: bw}
	e.str(header)
	e.str("  <metadata>")
	if a.Name != "" {
		e.elem("name", a.Name)
	}
	if !a.Start.IsZero() {
		e.elem("time", formatTime(a.Start))
	}
	e.str("</metadata>\n  <trk>")
	if a.Name != "" {
		e.elem("name", a.Name)
	}
	e.elem("type", string(a.Type))
	e.str("\n    <trkseg>\n")
	for _, r := range a.Records {
		e.point(r)
	}
	e.str("    </trkseg>\n  </trk>\n</gpx>\n")
	if e.err != nil {
		return e.err
	}
	return bw.Flush()
}

// encoder writes XML text, keeping the first write error.
type encoder struct {
	w   *bufio.Writer
	err error
}

func (e *encoder) str(s string) {
	if e.err == nil {
		_, e.err = e.w.WriteString(s)
	}
}

// elem writes <name>escaped text</name>.
func (e *encoder) elem(name, text string) {
	e.str("<" + name + ">")
	if e.err == nil {
		e.err = xml.EscapeText(e.w, []byte(text))
	}
	e.str("</" + name + ">")
}

func (e *encoder) point(r cairn.Record) {
	if math.IsNaN(r.Lat) || math.IsNaN(r.Lon) {
		return
	}
	e.str(`      <trkpt lat="` + formatFloat(r.Lat) + `" lon="` + formatFloat(r.Lon) + `">`)
	if !math.IsNaN(r.Altitude) {
		e.elem("ele", formatFloat(r.Altitude))
	}
	if !r.Time.IsZero() {
		e.elem("time", formatTime(r.Time))
	}
	e.extensions(r)
	e.str("</trkpt>\n")
}

func (e *encoder) extensions(r cairn.Record) {
	tpx := !math.IsNaN(r.Temperature) || !math.IsNaN(r.HeartRate) || !math.IsNaN(r.Cadence) || !math.IsNaN(r.Speed)
	if !tpx && math.IsNaN(r.Power) {
		return
	}
	e.str("<extensions>")
	if tpx {
		// The schema fixes the order: atemp, wtemp, depth, hr, cad, speed.
		e.str("<gpxtpx:TrackPointExtension>")
		if !math.IsNaN(r.Temperature) {
			e.elem("gpxtpx:atemp", formatFloat(r.Temperature))
		}
		if !math.IsNaN(r.HeartRate) {
			e.elem("gpxtpx:hr", strconv.Itoa(int(math.Round(r.HeartRate))))
		}
		if !math.IsNaN(r.Cadence) {
			e.elem("gpxtpx:cad", strconv.Itoa(int(math.Round(r.Cadence))))
		}
		if !math.IsNaN(r.Speed) {
			e.elem("gpxtpx:speed", formatFloat(r.Speed))
		}
		e.str("</gpxtpx:TrackPointExtension>")
	}
	if !math.IsNaN(r.Power) {
		e.str("<gpxpx:PowerExtension>")
		e.elem("gpxpx:PowerInWatts", strconv.Itoa(int(math.Round(r.Power))))
		e.str("</gpxpx:PowerExtension>")
	}
	e.str("</extensions>")
}

// formatFloat writes the shortest decimal that reads back as v.
func formatFloat(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

func formatTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }
