// Package tcx decodes Garmin Training Center (TCX v2) files into cairn's
// decoded types and encodes activities as TCX.
//
// Decode streams the XML token by token. Each <Activity> (also inside a
// <MultiSportSession>, whose legs get Metadata["session_index"]) and each
// <Course> becomes one activity: Sport attribute, Id (the start), Laps
// (StartTime, TotalTimeSeconds, DistanceMeters, MaximumSpeed, Calories,
// average and maximum heart rate) and Trackpoints (Time, Position,
// AltitudeMeters, DistanceMeters, HeartRateBpm, Cadence and the
// ActivityExtension's Speed, Watts and RunCadence). Elements are matched by
// local name, whatever their namespace prefix.
//
// TCX has no activity name: <Notes> serves as one, both ways. Its laps
// hold the only device totals: distance, timer time and calories are their
// sums (and steps, from Garmin's lap extension), the maximum heart rate
// and speed their maxima, the average heart rate their time-weighted
// average. TCX records timer time only, which is also the laps' ElapsedS.
//
// Input may be gzip-compressed (detected by its magic bytes). A file that
// breaks part way keeps what came before the break (DecodedFile.Partial,
// with a warning); a file with nothing usable fails with a *cairn.Error of
// code EINVALIDFILE.
package tcx

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
	maxPoints     = 2_000_000 // per activity
	maxLaps       = 100_000   // per activity
	maxActivities = 10_000
	maxDepth      = 256 // nesting of elements; real files need under 10
)

// Decode reads a TCX file from r. Errors are *cairn.Error (EINVALIDFILE,
// ETOOLARGE for a gzip bomb) except a failure of r itself, which is
// returned wrapped.
func Decode(r io.Reader) (*cairn.DecodedFile, error) {
	src, in, err := xmlfile.Open(r, "TCX")
	if err != nil {
		return nil, err
	}
	p := newParser(in)
	err = p.run()
	switch {
	case src.Err != nil:
		return nil, fmt.Errorf("tcx: read: %w", src.Err)
	case src.N == 0:
		return nil, cairn.Errorf(cairn.EINVALIDFILE, "TCX: file is empty")
	}
	return p.finish(err)
}

// activity is an <Activity> or <Course> as it is read.
type activity struct {
	kind    string // "activity" or "course"
	sport   string
	id      time.Time
	name    string
	records []cairn.Record
	laps    []lap
	session int // position in a MultiSportSession, -1 outside one
	creator creator
	dropped int
}

// lap is a <Lap>; a missing value is NaN.
type lap struct {
	start                     time.Time
	timer, distance, calories float64
	avgHR, maxHR, maxSpeed    float64
	steps                     float64
}

type creator struct {
	name, unitID, major, minor string
}

type parser struct {
	dec       *xml.Decoder
	stack     []string // lower-case local names of the open elements
	text      []byte
	root      bool
	acts      []*activity
	cur       *activity
	curDepth  int
	lap       *lap
	pt        *cairn.Record
	ptDepth   int
	runCad    float64 // the open point's RunCadence
	inSession bool    // inside a MultiSportSession
	legs      int     // activities seen in the current MultiSportSession
	warnings  []string
	partial   bool
}

func newParser(r io.Reader) *parser {
	p := &parser{dec: xml.NewDecoder(r)}
	p.dec.Strict = false // tolerate HTML entities and unquoted attributes; truncation still fails
	p.dec.Entity = xml.HTMLEntity
	p.dec.CharsetReader = func(label string, r io.Reader) (io.Reader, error) {
		switch strings.ToLower(label) {
		case "utf-8", "utf8", "us-ascii", "ascii":
			return r, nil
		}
		return nil, unsupportedCharset(label)
	}
	return p
}

type unsupportedCharset string

func (e unsupportedCharset) Error() string { return "unsupported encoding " + string(e) }

var (
	errNotTCX    = errors.New("tcx: root element is not <TrainingCenterDatabase>")
	errAfterRoot = errors.New("tcx: element after the root")
)

// run reads tokens to the end of the file; it returns nil at a clean end.
func (p *parser) run() error {
	for {
		tok, err := p.dec.Token()
		if err == io.EOF {
			switch {
			case len(p.stack) > 0:
				return io.ErrUnexpectedEOF
			case !p.root:
				return errNotTCX
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
			if p.cur != nil {
				p.text = append(p.text, t...)
			}
		}
	}
}

func (p *parser) start(t xml.StartElement) error {
	if len(p.stack) >= maxDepth {
		return xmlfile.ErrTooDeep
	}
	name := strings.ToLower(t.Name.Local)
	p.stack = append(p.stack, name)
	p.text = p.text[:0]
	if len(p.stack) == 1 {
		if p.root {
			return errAfterRoot
		}
		if name != "trainingcenterdatabase" {
			return errNotTCX
		}
		p.root = true
		return nil
	}
	parent := p.up(1)
	switch {
	case p.pt != nil:
	case name == "multisportsession":
		p.inSession, p.legs = true, 0
	case p.cur == nil && (name == "activity" && p.within("activities") || name == "course" && parent == "courses"):
		p.openActivity(name, xmlfile.Attr(t, "Sport"))
	case p.cur == nil:
	case name == "lap" && len(p.stack) == p.curDepth+1:
		p.lap = &lap{start: xmlfile.ParseTime(xmlfile.Attr(t, "StartTime")),
			timer: math.NaN(), distance: math.NaN(), calories: math.NaN(),
			avgHR: math.NaN(), maxHR: math.NaN(), maxSpeed: math.NaN(), steps: math.NaN()}
	case name == "trackpoint":
		p.pt = &cairn.Record{Lat: math.NaN(), Lon: math.NaN(), Altitude: math.NaN(), HeartRate: math.NaN(),
			Cadence: math.NaN(), Power: math.NaN(), Speed: math.NaN(), Distance: math.NaN(), Temperature: math.NaN()}
		p.ptDepth, p.runCad = len(p.stack), math.NaN()
	}
	return nil
}

func (p *parser) openActivity(name, sport string) {
	if len(p.acts) >= maxActivities {
		p.partial = true
		p.warn(fmt.Sprintf("TCX: kept the first %d activities", maxActivities))
		return
	}
	a := &activity{kind: name, sport: strings.TrimSpace(sport), session: -1}
	if p.inSession && name == "activity" {
		a.session = p.legs
		p.legs++
	}
	p.cur, p.curDepth = a, len(p.stack)
	p.acts = append(p.acts, a)
}

func (p *parser) end() {
	if len(p.stack) == 0 {
		return
	}
	name, depth := p.up(0), len(p.stack)
	switch {
	case p.pt != nil && depth == p.ptDepth:
		p.closePoint()
	case p.pt != nil:
		p.pointField(name)
	case p.lap != nil && name == "lap":
		if len(p.cur.laps) < maxLaps {
			p.cur.laps = append(p.cur.laps, *p.lap)
		}
		p.lap = nil
	case p.lap != nil:
		p.lapField(name)
	case p.cur != nil && depth == p.curDepth:
		p.cur = nil
	case p.cur != nil:
		p.activityField(name)
	case name == "multisportsession":
		p.inSession = false
	}
	p.stack = p.stack[:len(p.stack)-1]
	p.text = p.text[:0]
}

// up returns the name of the element n levels above the innermost one.
func (p *parser) up(n int) string {
	if len(p.stack) <= n {
		return ""
	}
	return p.stack[len(p.stack)-1-n]
}

func (p *parser) within(name string) bool {
	for _, n := range p.stack {
		if n == name {
			return true
		}
	}
	return false
}

func (p *parser) closePoint() {
	r := *p.pt
	if math.IsNaN(r.Cadence) {
		r.Cadence = p.runCad
	}
	if !(math.Abs(r.Lat) <= 90 && math.Abs(r.Lon) <= 180) { // also catches NaN
		r.Lat, r.Lon = math.NaN(), math.NaN()
	}
	if len(p.cur.records) < maxPoints {
		p.cur.records = append(p.cur.records, r)
	} else {
		p.cur.dropped++
	}
	p.pt = nil
}

// pointField sets a trackpoint's value from one of its elements.
func (p *parser) pointField(name string) {
	v := string(p.text)
	direct := len(p.stack) == p.ptDepth+1
	switch {
	case direct && name == "time":
		p.pt.Time = xmlfile.ParseTime(v)
	case name == "latitudedegrees":
		p.pt.Lat = xmlfile.Number(v)
	case name == "longitudedegrees":
		p.pt.Lon = xmlfile.Number(v)
	case direct && name == "altitudemeters":
		p.pt.Altitude = xmlfile.Number(v)
	case direct && name == "distancemeters":
		p.pt.Distance = xmlfile.Number(v)
	case direct && name == "cadence":
		p.pt.Cadence = xmlfile.Number(v)
	case name == "value" && p.up(1) == "heartratebpm":
		p.pt.HeartRate = xmlfile.Number(v)
	case direct:
	case name == "speed":
		p.pt.Speed = xmlfile.Number(v)
	case name == "watts":
		p.pt.Power = xmlfile.Number(v)
	case name == "runcadence":
		p.runCad = xmlfile.Number(v)
	}
}

// lapField sets a lap's value from one of its elements (not those of
// its track, nor of its extensions).
func (p *parser) lapField(name string) {
	v := xmlfile.Number(string(p.text))
	switch {
	case p.up(1) == "lap" && name == "totaltimeseconds":
		p.lap.timer = v
	case p.up(1) == "lap" && name == "distancemeters":
		p.lap.distance = v
	case p.up(1) == "lap" && name == "calories":
		p.lap.calories = v
	case p.up(1) == "lap" && name == "maximumspeed":
		p.lap.maxSpeed = v
	case name == "value" && p.up(2) == "lap" && p.up(1) == "averageheartratebpm":
		p.lap.avgHR = v
	case name == "value" && p.up(2) == "lap" && p.up(1) == "maximumheartratebpm":
		p.lap.maxHR = v
	case name == "steps" && p.up(1) == "lx": // ActivityExtension's lap extension
		p.lap.steps = v
	}
}

// activityField sets the activity's Id, Notes (Name for a course) and
// Creator.
func (p *parser) activityField(name string) {
	v := strings.TrimSpace(string(p.text))
	direct := len(p.stack) == p.curDepth+1
	c := &p.cur.creator
	switch {
	case direct && name == "id":
		p.cur.id = xmlfile.ParseTime(v)
	case direct && (name == "notes" || name == "name"):
		p.cur.name = v
	case p.up(1) == "creator" && name == "name":
		c.name = v
	case p.up(1) == "creator" && name == "unitid":
		c.unitID = v
	case p.up(2) == "creator" && name == "versionmajor":
		c.major = v
	case p.up(2) == "creator" && name == "versionminor":
		c.minor = v
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
