package gpx

import (
	"errors"
	"fmt"
	"strings"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/xmlfile"
)

// finish builds the decoded file from what the parser kept; failure is
// the error that stopped it, nil at a clean end.
func (p *parser) finish(failure error) (*cairn.DecodedFile, error) {
	if errors.Is(failure, xmlfile.ErrTooLarge) {
		return nil, xmlfile.TooLarge("GPX")
	}
	acts := p.activities()
	if failure != nil {
		msg := p.failureMessage(failure)
		if len(acts) == 0 {
			return nil, cairn.Wrap(cairn.EINVALIDFILE, failure, msg)
		}
		p.partial = true
		p.warn(msg + ": kept the points before it")
	}
	if len(acts) == 0 {
		return nil, cairn.Errorf(cairn.EINVALIDFILE, "GPX: no track points")
	}
	f := &cairn.DecodedFile{
		Format:     cairn.FormatGPX,
		Kind:       cairn.KindActivity,
		Activities: acts,
		Partial:    p.partial,
		Warnings:   p.warnings,
	}
	if p.creator != "" {
		f.Device = &cairn.DeviceInfo{Model: strings.TrimSpace(p.creator)}
	}
	return f, nil
}

// failureMessage says safely what stopped the parser.
func (p *parser) failureMessage(err error) string {
	switch {
	case p.charset != "":
		return fmt.Sprintf("GPX: unsupported encoding %q", p.charset)
	case errors.Is(err, errNotGPX):
		return "GPX: not a GPX file (the root element is not <gpx>)"
	case errors.Is(err, errAfterRoot):
		return "GPX: data after the end of </gpx>"
	}
	return xmlfile.Failure("GPX", err)
}

// activities returns one activity per track or route with points, or the
// waypoints' when there is none.
func (p *parser) activities() []cairn.DecodedActivity {
	var acts []cairn.DecodedActivity
	empty := 0
	for _, t := range p.tracks {
		if len(t.records) == 0 {
			empty++
			continue
		}
		acts = append(acts, p.activity(t))
	}
	if empty > 0 {
		p.warn(fmt.Sprintf("GPX: skipped %d tracks or routes without points", empty))
	}
	if len(acts) == 0 && len(p.wpts.records) > 0 {
		p.warn("GPX: no track or route: the activity is made of the file's waypoints")
		acts = append(acts, p.activity(p.wpts))
	}
	return acts
}

func (p *parser) activity(t *track) cairn.DecodedActivity {
	if t.dropped > 0 {
		p.partial = true
		p.warn(fmt.Sprintf("GPX: kept the first %d points of a track, dropped %d", maxPoints, t.dropped))
	}
	a := cairn.DecodedActivity{
		Type:     cairn.MapSport(cairn.FormatGPX, t.sport, ""),
		Sport:    t.sport,
		Name:     t.name,
		Records:  t.records,
		Metadata: map[string]any{"gpx": t.kind},
	}
	if a.Name == "" {
		a.Name = p.name
	}
	a.Start, a.End = xmlfile.TimeRange(t.records)
	if a.Start.IsZero() {
		a.Start = p.time // a route or a track without times: the file's date
	}
	if len(t.segments) > 1 {
		a.Metadata["segment_starts"] = t.segments
	}
	return a
}
