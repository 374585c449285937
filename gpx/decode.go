// Package gpx decodes GPX 1.0 and 1.1 files into cairn's decoded types and
// encodes activities as GPX 1.1.
//
// Decode streams the XML token by token and keeps only the points. Each
// <trk> becomes one activity (its <trkseg>s are pauses of one recording;
// Metadata["segment_starts"] gives the record index where each segment
// begins when there are several), each <rte> one activity whose records
// usually have no time. A file with neither, only waypoints, gives one
// activity of its waypoints, with a warning: some apps (Runkeeper) export a
// recording that way. Tracks without points are skipped.
//
// Point data: lat/lon, <ele>, <time>, GPX 1.0 <speed>, and in
// <extensions> the Garmin TrackPointExtension (gpxtpx:hr, cad, atemp,
// speed), Garmin's PowerExtension and the unnamespaced variants other apps
// write (hr, heartrate, cad, cadence, temp, power). Namespaces
// are ignored: elements are matched by local name. A <distance> there is
// not read: apps use the name for different things (GraphHopper's is the
// distance to the next turn). The track's <type>
// gives the sport (see cairn.MapSport), <name> its name.
//
// Input may be gzip-compressed (detected by its magic bytes) and encoded
// in UTF-8, US-ASCII, ISO-8859-1 or windows-1252. A file that breaks part
// way keeps the points before the break (DecodedFile.Partial, with a
// warning); a file with no point fails with a *cairn.Error of code
// EINVALIDFILE.
package gpx

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/xmlfile"
)

// Caps that bound the memory one file may take.
const (
	maxPoints = 2_000_000 // per track
	maxTracks = 10_000
	maxDepth  = 256 // nesting of elements; real files need under 10
)

// Decode reads a GPX file from r. Errors are *cairn.Error (EINVALIDFILE,
// ETOOLARGE for a gzip bomb) except a failure of r itself, which is
// returned wrapped.
func Decode(r io.Reader) (*cairn.DecodedFile, error) {
	src, in, err := xmlfile.Open(r, "GPX")
	if err != nil {
		return nil, err
	}
	p := newParser(in)
	err = p.run()
	switch {
	case src.Err != nil:
		return nil, fmt.Errorf("gpx: read: %w", src.Err)
	case src.N == 0:
		return nil, cairn.Errorf(cairn.EINVALIDFILE, "GPX: file is empty")
	}
	return p.finish(err)
}

// track is a <trk>, a <rte> or the file's waypoints, as it is read.
type track struct {
	kind     string // "track", "route" or "waypoints"
	name     string
	sport    string
	records  []cairn.Record
	segments []int // record index where each <trkseg> starts
	dropped  int
}

type parser struct {
	dec      *xml.Decoder
	stack    []string // lower-case local names of the open elements
	text     []byte   // character data of the innermost element
	creator  string
	name     string    // the file's <name>, for tracks without one
	time     time.Time // the file's <time>
	tracks   []*track
	cur      *track
	wpts     *track
	pt       *cairn.Record // the open trkpt, rtept or wpt
	ptDepth  int           // len(stack) with the point open
	charset  string        // an encoding we do not read
	root     bool          // <gpx> seen
	warnings []string
	partial  bool
}

func newParser(r io.Reader) *parser {
	p := &parser{dec: xml.NewDecoder(r), wpts: &track{kind: "waypoints"}}
	// Lenient: GPX in the wild has HTML entities in descriptions and the
	// odd unquoted attribute; a truncated file still fails.
	p.dec.Strict = false
	p.dec.Entity = xml.HTMLEntity
	p.dec.CharsetReader = func(label string, r io.Reader) (io.Reader, error) {
		cr, err := charsetReader(label, r)
		if err != nil {
			p.charset = label
		}
		return cr, err
	}
	return p
}

// run reads tokens to the end of the file; it returns nil at a clean end.
func (p *parser) run() error {
	for {
		tok, err := p.dec.Token()
		if err == io.EOF {
			switch {
			case len(p.stack) > 0:
				return io.ErrUnexpectedEOF
			case !p.root:
				return errNotGPX
			}
			return nil
		}
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if err := p.start(t); err != nil {
				return err
			}
		case xml.EndElement:
			p.end()
		case xml.CharData:
			if p.pt != nil || len(p.stack) <= 3 { // text we may keep is near the root or in a point
				p.text = append(p.text, t...)
			}
		}
	}
}

var (
	errNotGPX    = errors.New("gpx: root element is not <gpx>")
	errAfterRoot = errors.New("gpx: element after </gpx>")
)

func (p *parser) start(t xml.StartElement) error {
	if len(p.stack) >= maxDepth {
		return xmlfile.ErrTooDeep
	}
	name := strings.ToLower(t.Name.Local)
	p.stack = append(p.stack, name)
	parent := p.parent()
	p.text = p.text[:0]
	if len(p.stack) == 1 {
		if p.root {
			return errAfterRoot
		}
		if name != "gpx" {
			return errNotGPX
		}
		p.root = true
		p.creator = xmlfile.Attr(t, "creator")
		return nil
	}
	switch {
	case p.pt != nil:
	case (name == "trk" || name == "rte") && parent == "gpx":
		p.openTrack(name)
	case name == "trkseg" && parent == "trk" && p.cur != nil:
		p.cur.segments = append(p.cur.segments, len(p.cur.records))
	case name == "trkpt" && parent == "trkseg", name == "rtept" && parent == "rte", name == "wpt" && parent == "gpx":
		p.openPoint(t)
	}
	return nil
}

func (p *parser) openTrack(name string) {
	p.cur = nil
	if len(p.tracks) >= maxTracks {
		p.warn(fmt.Sprintf("GPX: kept the first %d tracks and routes", maxTracks))
		p.partial = true
		return
	}
	kind := "track"
	if name == "rte" {
		kind = "route"
	}
	p.cur = &track{kind: kind}
	p.tracks = append(p.tracks, p.cur)
}

func (p *parser) openPoint(t xml.StartElement) {
	r := cairn.Record{Lat: math.NaN(), Lon: math.NaN(), Altitude: math.NaN(), HeartRate: math.NaN(),
		Cadence: math.NaN(), Power: math.NaN(), Speed: math.NaN(), Distance: math.NaN(), Temperature: math.NaN()}
	lat, lon := xmlfile.Number(xmlfile.Attr(t, "lat")), xmlfile.Number(xmlfile.Attr(t, "lon"))
	if math.Abs(lat) <= 90 && math.Abs(lon) <= 180 { // false for NaN
		r.Lat, r.Lon = lat, lon
	}
	p.pt, p.ptDepth = &r, len(p.stack)
}

func (p *parser) end() {
	if len(p.stack) == 0 {
		return
	}
	name, parent := p.stack[len(p.stack)-1], p.parent()
	switch {
	case p.pt != nil && len(p.stack) == p.ptDepth:
		p.closePoint(name)
	case p.pt != nil:
		p.pointField(name, parent)
	case p.cur != nil && (parent == "trk" || parent == "rte"):
		p.trackField(name)
	case parent == "gpx" || parent == "metadata":
		p.fileField(name)
	}
	if (name == "trk" || name == "rte") && len(p.stack) == 2 {
		p.cur = nil
	}
	p.stack = p.stack[:len(p.stack)-1]
	p.text = p.text[:0]
}

func (p *parser) parent() string {
	if len(p.stack) < 2 {
		return ""
	}
	return p.stack[len(p.stack)-2]
}

func (p *parser) closePoint(name string) {
	t := p.cur
	if name == "wpt" {
		t = p.wpts
	}
	if t != nil {
		if len(t.records) < maxPoints {
			t.records = append(t.records, *p.pt)
		} else {
			t.dropped++
		}
	}
	p.pt = nil
}

// pointField sets a point's value from one of its child elements, or
// from an element of its <extensions>, whatever the namespace.
func (p *parser) pointField(name, parent string) {
	text := string(p.text)
	direct := len(p.stack) == p.ptDepth+1
	switch {
	case direct && name == "ele":
		p.pt.Altitude = xmlfile.Number(text)
	case direct && name == "time":
		p.pt.Time = xmlfile.ParseTime(text)
	case direct && name == "speed": // GPX 1.0
		p.pt.Speed = xmlfile.Number(text)
	case direct || !p.inExtensions():
	case name == "hr" || name == "heartrate" || name == "heartratebpm":
		p.pt.HeartRate = xmlfile.Number(text)
	case name == "cad" || name == "cadence":
		p.pt.Cadence = xmlfile.Number(text)
	case name == "atemp" || name == "temp" || name == "temperature":
		p.pt.Temperature = xmlfile.Number(text)
	case name == "power" || name == "watts" || name == "powerinwatts":
		p.pt.Power = xmlfile.Number(text)
	case name == "speed":
		p.pt.Speed = xmlfile.Number(text)
	}
}

func (p *parser) inExtensions() bool {
	for _, n := range p.stack[p.ptDepth:] {
		if n == "extensions" {
			return true
		}
	}
	return false
}

func (p *parser) trackField(name string) {
	switch name {
	case "name":
		p.cur.name = strings.TrimSpace(string(p.text))
	case "type":
		p.cur.sport = strings.TrimSpace(string(p.text))
	}
}

func (p *parser) fileField(name string) {
	switch name {
	case "name":
		p.name = strings.TrimSpace(string(p.text))
	case "time":
		p.time = xmlfile.ParseTime(string(p.text))
	}
}

func (p *parser) warn(msg string) {
	for _, w := range p.warnings {
		if w == msg {
			return
		}
	}
	p.warnings = append(p.warnings, msg)
}
