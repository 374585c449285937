package sim

import "strconv"

// encodeStreams writes a StreamSet by hand: streams are most of the
// bytes the simulator serves, and appending numbers beats reflection.
func encodeStreams(st *Streams, want map[string]bool, series string, byType bool) []byte {
	b := make([]byte, 0, 64+st.Len()*8*len(want))
	open, close := byte('['), byte(']')
	if byType {
		open, close = '{', '}'
	}
	b = append(b, open)
	first := true
	for _, key := range streamKeys {
		if !want[key] || !hasStream(st, key) {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		if byType {
			b = strconv.AppendQuote(b, key)
			b = append(b, `:{`...)
		} else {
			b = append(b, `{"type":`...)
			b = strconv.AppendQuote(b, key)
			b = append(b, ',')
		}
		b = append(b, `"data":`...)
		b = appendStream(b, st, key)
		b = append(b, `,"series_type":`...)
		b = strconv.AppendQuote(b, series)
		b = append(b, `,"original_size":`...)
		b = strconv.AppendInt(b, int64(st.Len()), 10)
		b = append(b, `,"resolution":"high"}`...)
	}
	return append(b, close)
}

func hasStream(st *Streams, key string) bool {
	switch key {
	case "latlng":
		return st.LatLng != nil
	case "altitude":
		return st.Altitude != nil
	case "heartrate":
		return st.HeartRate != nil
	case "watts":
		return st.Watts != nil
	case "temp":
		return st.Temp != nil
	case "grade_smooth":
		return st.Grade != nil
	}
	return true
}

func appendStream(b []byte, st *Streams, key string) []byte {
	switch key {
	case "time":
		return appendInts(b, st.Time)
	case "latlng":
		return appendLatLng(b, st.LatLng)
	case "distance":
		return appendFloats(b, st.Distance)
	case "altitude":
		return appendFloats(b, st.Altitude)
	case "velocity_smooth":
		return appendFloats(b, st.Velocity)
	case "heartrate":
		return appendInts(b, st.HeartRate)
	case "cadence":
		return appendInts(b, st.Cadence)
	case "watts":
		return appendInts(b, st.Watts)
	case "temp":
		return appendInts(b, st.Temp)
	case "moving":
		return appendBools(b, st.Moving)
	}
	return appendFloats(b, st.Grade)
}

func appendInts(b []byte, vs []int) []byte {
	b = append(b, '[')
	for i, v := range vs {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, int64(v), 10)
	}
	return append(b, ']')
}

func appendFloats(b []byte, vs []float64) []byte {
	b = append(b, '[')
	for i, v := range vs {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendFloat(b, v, 'f', -1, 64)
	}
	return append(b, ']')
}

func appendLatLng(b []byte, vs [][2]float64) []byte {
	b = append(b, '[')
	for i, v := range vs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '[')
		b = strconv.AppendFloat(b, v[0], 'f', -1, 64)
		b = append(b, ',')
		b = strconv.AppendFloat(b, v[1], 'f', -1, 64)
		b = append(b, ']')
	}
	return append(b, ']')
}

func appendBools(b []byte, vs []bool) []byte {
	b = append(b, '[')
	for i, v := range vs {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendBool(b, v)
	}
	return append(b, ']')
}
