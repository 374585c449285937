package series

import (
	"encoding/binary"
	"math"
	"testing"

	"github.com/cairn-fit/cairn"
)

// FuzzDecode: no input may crash Decode, errors are EINVALIDFILE, and
// whatever decodes re-encodes to the same series.
func FuzzDecode(f *testing.F) {
	for _, b := range validBlobs(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		ts, cols, err := Decode(b)
		if err != nil {
			if cairn.ErrorCode(err) != cairn.EINVALIDFILE {
				t.Fatalf("err = %v, want %s", err, cairn.EINVALIDFILE)
			}
			return
		}
		again, err := Encode(ts, cols...)
		if err != nil {
			t.Fatalf("re-encoding a decoded series: %v", err)
		}
		assertRoundTrip(t, again, ts, cols)
	})
}

// FuzzRoundTrip reads the input as a column count and then records of a
// timestamp and that many float bit patterns, and checks they round-trip.
func FuzzRoundTrip(f *testing.F) {
	f.Add([]byte{1})
	f.Add(fuzzRecords(1, 1000, 50, 121.5))
	f.Add(fuzzRecords(2, 1000, 30, math.NaN()))
	f.Add(fuzzRecords(3, -7, 20, math.Inf(-1)))
	f.Add(fuzzRecords(1, 3, 20, 0.001))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		ncols := 1 + int(data[0])%3
		data = data[1:]
		rec := 8 * (1 + ncols)
		n := len(data) / rec
		ts := make([]int64, n)
		cols := make([][]float64, ncols)
		for c := range cols {
			cols[c] = make([]float64, n)
		}
		for i := range n {
			r := data[i*rec:]
			ts[i] = int64(binary.LittleEndian.Uint64(r))
			for c := range cols {
				cols[c][i] = math.Float64frombits(binary.LittleEndian.Uint64(r[8*(1+c):]))
			}
		}
		blob, err := Encode(ts, cols...)
		if err != nil {
			t.Fatal(err)
		}
		assertRoundTrip(t, blob, ts, cols)
	})
}

// fuzzRecords makes FuzzRoundTrip input of n records of ncols (1..3)
// columns, t stepping by step and every value v plus its index.
func fuzzRecords(ncols byte, step int64, n int, v float64) []byte {
	b := []byte{ncols - 1}
	for i := range n {
		b = binary.LittleEndian.AppendUint64(b, uint64(int64(i)*step))
		for range ncols {
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v+float64(i)))
		}
	}
	return b
}
