package fit

import (
	"encoding/json"
	"fmt"
	"math"
	"time"

	"github.com/muktihari/fit/profile/basetype"
	"github.com/muktihari/fit/profile/mesgdef"
	"github.com/muktihari/fit/profile/typedef"
	"github.com/muktihari/fit/proto"
)

// DeveloperField summarises one developer field (data that a Connect IQ
// app or a sensor adds to FIT messages) over one activity. An activity's
// Metadata["developer_fields"] is a map[string]map[string]DeveloperField:
// FIT message name ("record", "session", "lap", "device_info", …) → field
// name (as its field_description gives it) → summary. Min, Max and Mean
// are set for numbers seen more than once; Last is the last value, scale
// and offset applied (a number, a string or an array).
type DeveloperField struct {
	Units string   `json:"units,omitempty"`
	Count int      `json:"count"`
	Min   *float64 `json:"min,omitempty"`
	Max   *float64 `json:"max,omitempty"`
	Mean  *float64 `json:"mean,omitempty"`
	Last  any      `json:"last"`
}

// devCollector keeps the developer field values of an activity file until
// the sessions are known and the values can be summarised per session.
// Numbers take 16 bytes each and are capped at maxDevSamples.
type devCollector struct {
	descs   map[uint16]devDesc // developer_data_index<<8 | field number
	index   map[devKey]int32   // into series
	series  []devSeries
	taken   map[string]bool // "message/name" pairs in use
	samples []devSample     // numbers
	others  []devOther      // strings and arrays
	dropped int
}

type devDesc struct {
	name, units   string
	baseType      basetype.BaseType
	scale, offset float64
}

type devKey struct {
	mesg       typedef.MesgNum
	index, num uint8
}

type devSeries struct {
	mesg, name string
	desc       devDesc
}

type devSample struct {
	v      float64
	t      uint32 // FIT time, 0 when unknown
	series int32
}

type devOther struct {
	v      any
	t      uint32
	series int32
}

// describe takes a field_description message.
func (c *devCollector) describe(m *proto.Message) {
	fd := mesgdef.NewFieldDescription(m)
	d := devDesc{
		name:     first(fd.FieldName),
		units:    first(fd.Units),
		baseType: fd.FitBaseTypeId,
		scale:    1,
	}
	if d.name == "" {
		d.name = fmt.Sprintf("field_%d_%d", fd.DeveloperDataIndex, fd.FieldDefinitionNumber)
	}
	if fd.Scale != basetype.Uint8Invalid && fd.Scale != 0 {
		d.scale = float64(fd.Scale)
	}
	if fd.Offset != basetype.Sint8Invalid {
		d.offset = float64(fd.Offset)
	}
	if c.descs == nil {
		c.descs = map[uint16]devDesc{}
	}
	c.descs[uint16(fd.DeveloperDataIndex)<<8|uint16(fd.FieldDefinitionNumber)] = d
}

func first(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

// seriesOf returns the series of a developer field of a message type,
// creating it on first sight.
func (c *devCollector) seriesOf(mesg typedef.MesgNum, f *proto.DeveloperField) int32 {
	k := devKey{mesg, f.DeveloperDataIndex, f.Num}
	if i, ok := c.index[k]; ok {
		return i
	}
	d, ok := c.descs[uint16(f.DeveloperDataIndex)<<8|uint16(f.Num)]
	if !ok {
		d = devDesc{name: fmt.Sprintf("field_%d_%d", f.DeveloperDataIndex, f.Num), scale: 1}
	}
	s := devSeries{mesg: mesgName(mesg), name: d.name, desc: d}
	if c.taken[s.mesg+"/"+s.name] { // two apps chose the same name
		s.name = fmt.Sprintf("%s_%d_%d", d.name, f.DeveloperDataIndex, f.Num)
	}
	if c.index == nil {
		c.index, c.taken = map[devKey]int32{}, map[string]bool{}
	}
	c.taken[s.mesg+"/"+s.name] = true
	c.index[k] = int32(len(c.series))
	c.series = append(c.series, s)
	return c.index[k]
}

func mesgName(n typedef.MesgNum) string {
	return enumName(n, false, "mesg", int(n))
}

// value returns a developer field's value in its units, and whether it is
// a number; ok is false for the invalid value.
func (d devDesc) value(v proto.Value) (num float64, other any, ok bool) {
	if x, isNum := number(v, d.baseType); isNum {
		return x/d.scale - d.offset, nil, true
	}
	if !v.Valid(d.baseType) {
		return 0, nil, false
	}
	switch v.Type() {
	case proto.TypeFloat32, proto.TypeFloat64:
		return 0, nil, false // a NaN or infinity
	}
	return 0, v.Any(), true
}

// add keeps the developer fields of m, a message of time now.
func (c *devCollector) add(m *proto.Message, now uint32) {
	for i := range m.DeveloperFields {
		f := &m.DeveloperFields[i]
		s := c.seriesOf(m.Num, f)
		num, other, ok := c.series[s].desc.value(f.Value)
		switch {
		case !ok:
		case len(c.samples)+len(c.others) >= maxDevSamples:
			c.dropped++
		case other == nil:
			c.samples = append(c.samples, devSample{v: num, t: now, series: s})
		default:
			c.others = append(c.others, devOther{v: other, t: now, series: s})
		}
	}
}

// own summarises the developer fields of a single message (a session).
func (c *devCollector) own(m *proto.Message) map[string]DeveloperField {
	if len(m.DeveloperFields) == 0 {
		return nil
	}
	out := map[string]DeveloperField{}
	for i := range m.DeveloperFields {
		f := &m.DeveloperFields[i]
		s := c.series[c.seriesOf(m.Num, f)]
		num, other, ok := s.desc.value(f.Value)
		if !ok {
			continue
		}
		if other == nil {
			other = num
			if s.desc.scale == 1 && s.desc.offset == 0 {
				other = f.Value.Any() // keeps 64-bit ids exact
			}
		}
		out[s.name] = DeveloperField{Units: s.desc.units, Count: 1, Last: jsonSafe(other)}
	}
	return out
}

// devAcc accumulates one series over one activity.
type devAcc struct {
	count         int
	sum, min, max float64
	last          any
	numeric       bool
}

// summarize returns, for each of n activities, its developer fields by
// message and name; at maps a sample's time to its activity.
func (c *devCollector) summarize(n int, at func(t time.Time, prev int) int) []map[string]map[string]DeveloperField {
	accs := make([]map[int32]*devAcc, n)
	acc := func(act int, series int32) *devAcc {
		if accs[act] == nil {
			accs[act] = map[int32]*devAcc{}
		}
		a := accs[act][series]
		if a == nil {
			a = &devAcc{min: math.Inf(1), max: math.Inf(-1)}
			accs[act][series] = a
		}
		return a
	}
	prev := 0
	for _, s := range c.samples {
		prev = at(sampleTime(s.t), prev)
		a := acc(prev, s.series)
		a.count++
		a.sum += s.v
		a.min, a.max = math.Min(a.min, s.v), math.Max(a.max, s.v)
		a.last, a.numeric = s.v, true
	}
	prev = 0
	for _, s := range c.others {
		prev = at(sampleTime(s.t), prev)
		a := acc(prev, s.series)
		a.count++
		a.last = s.v
	}
	out := make([]map[string]map[string]DeveloperField, n)
	for i, m := range accs {
		for series, a := range m {
			out[i] = addDev(out[i], c.series[series], a.field(c.series[series].desc.units))
		}
	}
	return out
}

func (a *devAcc) field(units string) DeveloperField {
	f := DeveloperField{Units: units, Count: a.count, Last: jsonSafe(a.last)}
	if a.numeric && a.count > 1 {
		mean := a.sum / float64(a.count)
		f.Min, f.Max, f.Mean = ptr(a.min), ptr(a.max), ptr(mean)
	}
	return f
}

func addDev(m map[string]map[string]DeveloperField, s devSeries, f DeveloperField) map[string]map[string]DeveloperField {
	if m == nil {
		m = map[string]map[string]DeveloperField{}
	}
	if m[s.mesg] == nil {
		m[s.mesg] = map[string]DeveloperField{}
	}
	m[s.mesg][s.name] = f
	return m
}

// mergeDev adds a session's own developer fields to its activity's.
func mergeDev(m map[string]map[string]DeveloperField, session map[string]DeveloperField) map[string]map[string]DeveloperField {
	if len(session) == 0 {
		return m
	}
	if m == nil {
		m = map[string]map[string]DeveloperField{}
	}
	m["session"] = session
	return m
}

func sampleTime(t uint32) time.Time {
	if t == 0 {
		return time.Time{}
	}
	return fitTime(t)
}

// jsonSafe returns v, or nil when it would not encode as JSON (an array
// holding a NaN, say): metadata is stored as JSON.
func jsonSafe(v any) any {
	if _, err := json.Marshal(v); err != nil {
		return nil
	}
	return v
}
