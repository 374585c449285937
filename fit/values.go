package fit

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/muktihari/fit/kit/datetime"
	"github.com/muktihari/fit/kit/semicircles"
	"github.com/muktihari/fit/profile/basetype"
	"github.com/muktihari/fit/proto"
)

var nan = math.NaN()

// scaled returns a field's value in profile units (scale and offset
// applied), NaN when the value is the base type's invalid value or not a
// single finite number.
func scaled(f *proto.Field) float64 {
	v, ok := number(f.Value, f.BaseType)
	if !ok {
		return nan
	}
	if f.Scale != 0 {
		v /= f.Scale
	}
	return v - f.Offset
}

// number returns v as a float64 when it is a single valid finite number.
func number(v proto.Value, bt basetype.BaseType) (float64, bool) {
	if !v.Valid(bt) {
		return 0, false
	}
	var x float64
	switch v.Type() {
	case proto.TypeInt8:
		x = float64(v.Int8())
	case proto.TypeUint8:
		x = float64(v.Uint8())
	case proto.TypeInt16:
		x = float64(v.Int16())
	case proto.TypeUint16:
		x = float64(v.Uint16())
	case proto.TypeInt32:
		x = float64(v.Int32())
	case proto.TypeUint32:
		x = float64(v.Uint32())
	case proto.TypeInt64:
		x = float64(v.Int64())
	case proto.TypeUint64:
		x = float64(v.Uint64())
	case proto.TypeFloat32:
		x = float64(v.Float32())
	case proto.TypeFloat64:
		x = v.Float64()
	default:
		return 0, false
	}
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return 0, false
	}
	return x, true
}

// fitTime converts a FIT date_time (seconds since 1989-12-31 UTC); the
// invalid value gives the zero time.
func fitTime(v uint32) time.Time {
	if v == basetype.Uint32Invalid {
		return time.Time{}
	}
	return datetime.ToTime(v)
}

// degrees converts a semicircle position, NaN when invalid or off the globe.
func degrees(lat, lon int32) (float64, float64) {
	la, lo := semicircles.ToDegrees(lat), semicircles.ToDegrees(lon)
	if math.IsNaN(la) || math.IsNaN(lo) || math.Abs(la) > 90 || math.Abs(lo) > 180 {
		return nan, nan
	}
	return la, lo
}

// ptr returns &v, nil when v is NaN: DeviceTotals says "unknown" with nil.
func ptr(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

func u8(v uint8) float64 {
	if v == basetype.Uint8Invalid {
		return nan
	}
	return float64(v)
}

func u16(v uint16) float64 {
	if v == basetype.Uint16Invalid {
		return nan
	}
	return float64(v)
}

// zeroNaN returns 0 for NaN: cairn.Lap has plain floats that must stay
// JSON-encodable.
func zeroNaN(v float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0
	}
	return v
}

// enumName returns a profile enum's name, "" for the invalid value and
// prefix_N for a value the profile does not know (whose String() is
// "XInvalid(N)").
func enumName(s fmt.Stringer, invalid bool, prefix string, n int) string {
	if invalid {
		return ""
	}
	name := s.String()
	if strings.Contains(name, "Invalid(") {
		return fmt.Sprintf("%s_%d", prefix, n)
	}
	return name
}
